package qr

import (
	"bytes"
	"compress/zlib"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/emmansun/gmsm/sm2"

	"github.com/tongban/tongban/credentials"
	smcrypto "github.com/tongban/tongban/sm-crypto"
	"github.com/tongban/tongban/sm-crypto/smcose"
)

// signRawStatusList signs a status-list payload with lst and bits as given (no packing, no
// checks), as an attacker holding a listed key (or a buggy issuer) could.
func signRawStatusList(t *testing.T, key *sm2.PrivateKey, iat time.Time, bits uint64, lst []byte) []byte {
	t.Helper()
	w := statusListWire{Exp: unixSeconds(iat.Add(time.Hour)), Iat: unixSeconds(iat),
		StatusList: statusListInner{Bits: bits, Lst: lst}, TTL: 300}
	payload, err := encMode.Marshal(&w)
	if err != nil {
		t.Fatal(err)
	}
	signer, err := smcose.NewSigner(key)
	if err != nil {
		t.Fatal(err)
	}
	data, err := sign1(signer, smcrypto.KeyID(&key.PublicKey), StatusListType, payload, nil)
	if err != nil {
		t.Fatal(err)
	}
	return data
}

func zlibOf(t *testing.T, raw []byte) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw, _ := zlib.NewWriterLevel(&buf, zlib.BestCompression)
	zw.Write(raw)
	zw.Close()
	return buf.Bytes()
}

// TestStatusListBombsAndBits: a zlib bomb (a few KiB inflating past the 1 MiB limit) is
// refused while inflating; the limit is per bits (1-bit lists hold at most 2^22 entries too);
// bits 3, 0 and status 3 are refused; a list at exactly the limit parses.
func TestStatusListBombsAndBits(t *testing.T) {
	trust := parsedGoldenList(t)
	bomb := zlibOf(t, make([]byte, 64<<20)) // 64 MiB of zeros
	if len(bomb) > MaxStatusListSize {
		t.Fatalf("bomb is %d bytes", len(bomb))
	}
	if _, err := ParseStatusList(signRawStatusList(t, codeKey(t), goldenNow, 2, bomb), trust); !errors.Is(err, ErrBadStatusList) || !strings.Contains(err.Error(), "more than") {
		t.Errorf("zlib bomb: %v", err)
	}
	// 1-bit: 2^22 entries are 512 KiB; one byte more is refused.
	if _, err := ParseStatusList(signRawStatusList(t, codeKey(t), goldenNow, 1, zlibOf(t, make([]byte, MaxStatusEntries/8+1))), trust); !errors.Is(err, ErrBadStatusList) {
		t.Errorf("1-bit list over the limit: %v", err)
	}
	l, err := ParseStatusList(signRawStatusList(t, codeKey(t), goldenNow, 2, zlibOf(t, make([]byte, MaxStatusEntries/4))), trust)
	if err != nil || len(l.Statuses) != MaxStatusEntries {
		t.Errorf("list at the limit: %v", err)
	}
	for _, tc := range []struct {
		name string
		bits uint64
		lst  []byte
	}{
		{"bits 3", 3, zlibOf(t, []byte{0})},
		{"bits 0", 0, zlibOf(t, []byte{0})},
		{"bits 8", 8, zlibOf(t, []byte{0})},
		{"status 3", 2, zlibOf(t, []byte{0b11})},
		{"not zlib", 2, []byte{0, 1, 2, 3}},
		{"truncated zlib", 2, zlibOf(t, []byte{1, 2, 3, 4})[:6]},
	} {
		if _, err := ParseStatusList(signRawStatusList(t, codeKey(t), goldenNow, tc.bits, tc.lst), trust); !errors.Is(err, ErrBadStatusList) {
			t.Errorf("%s: %v", tc.name, err)
		}
	}
	// 1 bit vs 2 bits: the same byte 0b0000_0100 is index 2 INVALID at 1 bit and index 1
	// INVALID at 2 bits; each list is read with its own bits.
	l1, err := ParseStatusList(signRawStatusList(t, codeKey(t), goldenNow, 1, zlibOf(t, []byte{0b100})), trust)
	if err != nil || l1.Statuses[2] != StatusInvalid || l1.Statuses[1] != StatusValid || len(l1.Statuses) != 8 {
		t.Errorf("1-bit: %v %v", err, l1)
	}
	l2, err := ParseStatusList(signRawStatusList(t, codeKey(t), goldenNow, 2, zlibOf(t, []byte{0b100})), trust)
	if err != nil || l2.Statuses[1] != StatusInvalid || l2.Statuses[2] != StatusValid || len(l2.Statuses) != 4 {
		t.Errorf("2-bit: %v %v", err, l2)
	}
	// A pre-fetched code is refused with a trust list as its status list, and an expired
	// status list is refused whatever it says.
	if _, err := ParseStatusList(mustSignTrustList(t), trust); !errors.Is(err, ErrBadStatusList) {
		t.Errorf("trust list as status list: %v", err)
	}
}

func mustSignTrustList(t *testing.T) []byte {
	data, err := SignTrustList(goldenList(t), listKey(t), nil)
	if err != nil {
		t.Fatal(err)
	}
	return data
}

// TestStatusListOtherIssuer: in a trust list holding the code keys of two issuers (wallets),
// issuer B's status list — whose indexes number B's licences — does not vouch for issuer A's
// pre-fetched code, even when B says VALID at A's index; nor does a list signed by a key of A
// that may not sign the code's profile or kind.
func TestStatusListOtherIssuer(t *testing.T) {
	lic := demoLicences(t)[credentials.ResidentID]
	code, err := prefetchMinter(t, goldenNow, 3, 12*time.Hour).Mint(ProfileMaskedIdentity, lic)
	if err != nil {
		t.Fatal(err)
	}
	later := goldenNow.Add(time.Hour)
	other := allKindsKey(&listKey(t).PublicKey) // issuer B's code key
	other.Issuer = "另一个钱包"
	shared := goldenList(t)
	shared.Keys = append(shared.Keys, other)
	ownRevoked, err := SignStatusList(&StatusList{IssuedAt: later, ExpiresAt: later.Add(time.Hour), Bits: 2,
		Statuses: []uint8{0, 0, 0, StatusInvalid}}, codeKey(t), [8]byte{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	foreignValid, err := SignStatusList(&StatusList{IssuedAt: later, ExpiresAt: later.Add(time.Hour), Bits: 2,
		Statuses: []uint8{0, 0, 0, 0}}, listKey(t), [8]byte{}, nil)
	if err != nil {
		t.Fatal(err)
	}
	verify := func(trust *TrustList, data []byte) error {
		t.Helper()
		sl, err := ParseStatusList(data, trust)
		if err != nil {
			t.Fatal(err)
		}
		v := testVerifier(t, later)
		v.Trust, v.Status = trust, sl
		_, err = v.Verify(code.Text)
		return err
	}
	if err := verify(shared, ownRevoked); !errors.Is(err, ErrStatusRevoked) {
		t.Fatalf("own list: %v", err)
	}
	if err := verify(shared, foreignValid); !errors.Is(err, ErrStatusListMissing) {
		t.Fatalf("another issuer's list accepted for the code: %v", err)
	}
	// Same issuer, but a key scoped to vehicle licences only.
	scoped := allKindsKey(&listKey(t).PublicKey)
	scoped.Kinds = []credentials.Kind{credentials.VehicleLicence}
	narrow := goldenList(t)
	narrow.Keys = append(narrow.Keys, scoped)
	if err := verify(narrow, foreignValid); !errors.Is(err, ErrStatusListMissing) {
		t.Fatalf("list by a key that may not sign the code's kind: %v", err)
	}
	// Same issuer and scope (a rotated key of the same wallet): accepted.
	same := goldenList(t)
	same.Keys = append(same.Keys, allKindsKey(&listKey(t).PublicKey))
	if err := verify(same, foreignValid); err != nil {
		t.Fatalf("list by the issuer's other key: %v", err)
	}
}
