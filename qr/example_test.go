package qr_test

import (
	"bytes"
	"crypto/ecdsa"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/emmansun/gmsm/sm2"

	"github.com/tongban/tongban/credentials"
	"github.com/tongban/tongban/qr"
)

// A demo resident ID card in the import format (docs/formats/licences.md).
const residentIDCard = `{"kind":"resident-id","number":"11010119900307002X","issuer":"北京市公安局东城分局","holder":"11010119900307002X","holder_name":"林晓彤","valid_from":"2016-08-01","valid_until":"2036-08-01","status":"valid","fields":{"sex":"女","ethnicity":"汉","birth_date":"1990-03-07","address":"北京市东城区示例胡同12号院3号楼2单元401室"}}`

func ExampleVerifier_Verify() {
	// Fixed keys and clock so the example is reproducible; real keys come
	// from smcrypto.GenerateKey and live in the wallet's key store.
	codeKey, _ := sm2.NewPrivateKey(bytes.Repeat([]byte{0x11}, 32))
	listKey, _ := sm2.NewPrivateKey(bytes.Repeat([]byte{0x22}, 32))
	now := time.Date(2026, 12, 1, 10, 0, 0, 0, credentials.ChinaStandardTime)
	clock := func() time.Time { return now }

	// The publisher signs a trust list naming the code key and its scope.
	listBytes, err := qr.SignTrustList(&qr.TrustList{
		Sequence:  1,
		IssuedAt:  now.Add(-time.Hour),
		ExpiresAt: now.Add(7 * 24 * time.Hour),
		Keys: []qr.TrustedKey{{
			PublicKey: &codeKey.PublicKey,
			Issuer:    "示例政务服务平台",
			Kinds:     []credentials.Kind{credentials.ResidentID},
			Profiles:  []qr.DisplayProfile{qr.ProfileMaskedIdentity},
			NotBefore: now.Add(-24 * time.Hour),
			NotAfter:  now.Add(365 * 24 * time.Hour),
		}},
	}, listKey, nil)
	if err != nil {
		panic(err)
	}

	// The wallet mints a code for the holder's ID card.
	licences, _, _ := credentials.ParseImport(strings.NewReader(residentIDCard))
	minter := qr.Minter{Key: codeKey, Now: clock}
	code, err := minter.Mint(qr.ProfileMaskedIdentity, licences[0])
	if err != nil {
		panic(err)
	}

	// The verifier pins the trust-list key, loads the list, and verifies
	// the scanned text offline.
	store := qr.NewTrustStore([]*ecdsa.PublicKey{&listKey.PublicKey}, clock)
	if _, err := store.Update(listBytes); err != nil {
		panic(err)
	}
	v := qr.Verifier{Trust: store, Now: clock, Replay: &qr.MemoryReplayCache{Now: clock}}
	res, err := v.Verify(code.Text)
	if err != nil {
		fmt.Println("rejected:", err)
		return
	}
	id := res.Identity
	fmt.Println(id.Kind.ChineseName(), id.MaskedName, id.MaskedNumber, "有效期至", id.ValidUntil)
	fmt.Println("signed by", res.KeyIssuer, "valid for", res.ExpiresAt.Sub(res.IssuedAt))

	// The same code scanned again is a replay.
	_, err = v.Verify(code.Text)
	fmt.Println(errors.Is(err, qr.ErrReplayed))
	// Output:
	// 居民身份证 林*彤 110101********002X 有效期至 2036-08-01
	// signed by 示例政务服务平台 valid for 1m0s
	// true
}

func ExampleMinter_Mint() {
	key, _ := sm2.NewPrivateKey(bytes.Repeat([]byte{0x11}, 32))
	now := time.Date(2026, 12, 1, 10, 0, 0, 0, credentials.ChinaStandardTime)
	licences, _, _ := credentials.ParseImport(strings.NewReader(residentIDCard))

	m := qr.Minter{Key: key, Now: func() time.Time { return now }}
	code, err := m.Mint(qr.ProfileMaskedIdentity, licences[0])
	if err != nil {
		panic(err)
	}
	fmt.Println(code.Text[:4], "QR version", qr.Version(code.Text), "expires", code.ExpiresAt.In(credentials.ChinaStandardTime).Format(time.TimeOnly))

	// A revoked licence gets no code.
	revoked := licences[0]
	revoked.Status = credentials.StatusRevoked
	_, err = m.Mint(qr.ProfileMaskedIdentity, revoked)
	fmt.Println(errors.Is(err, credentials.ErrLicenceRevoked))
	// Output:
	// LZ1: QR version 9 expires 10:01:00
	// true
}
