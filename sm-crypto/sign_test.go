package smcrypto

import (
	"bytes"
	"crypto/ecdsa"
	"errors"
	"io"
	"math/big"
	"strings"
	"testing"

	"github.com/emmansun/gmsm/sm2"
)

// TestSM2KnownAnswer checks the example of GM/T 0003.5-2012 Annex A.2
// (also GB/T 32918.5-2017) step by step: public key from d, Z_A, e, the
// signature (r, s) from the standard's k, and that Verify accepts it.
func TestSM2KnownAnswer(t *testing.T) {
	priv := katKey(t)

	if got := MarshalPublicKey(&priv.PublicKey); !bytes.Equal(got, mustHex(t, katPub)) {
		t.Fatalf("public key = %x, want %s", got, katPub)
	}
	za, err := sm2.CalculateZA(&priv.PublicKey, []byte(DefaultUID))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(za, mustHex(t, katZA)) {
		t.Fatalf("Z_A = %x, want %s", za, katZA)
	}
	e, err := sm2.CalculateSM2Hash(&priv.PublicKey, []byte(katMsg), []byte(DefaultUID))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(e, mustHex(t, katE)) {
		t.Fatalf("e = %x, want %s", e, katE)
	}

	// GB/T 32918.2-2016 §6.1 A4–A6 with the standard's k:
	// (x1, y1) = [k]G, r = (e + x1) mod n, s = ((1 + d)⁻¹ · (k − r·d)) mod n.
	n := sm2.P256().Params().N
	k := new(big.Int).SetBytes(mustHex(t, katK))
	d := priv.D
	x1, _ := sm2.P256().ScalarBaseMult(k.Bytes())
	r := new(big.Int).Add(new(big.Int).SetBytes(e), x1)
	r.Mod(r, n)
	s := new(big.Int).Mul(r, d)
	s.Sub(k, s)
	inv := new(big.Int).ModInverse(new(big.Int).Add(d, big.NewInt(1)), n)
	s.Mul(s, inv).Mod(s, n)
	if got := rawFromInts(r, s); !bytes.Equal(got, katSig(t)) {
		t.Fatalf("signature from k = %x, want %s%s", got, katR, katS)
	}

	pub, err := ParsePublicKey(mustHex(t, katPub))
	if err != nil {
		t.Fatal(err)
	}
	if err := Verify(pub, []byte(katMsg), katSig(t)); err != nil {
		t.Fatalf("Verify(standard vector) = %v", err)
	}
	if err := VerifyWithUID(pub, []byte(DefaultUID), []byte(katMsg), katSig(t)); err != nil {
		t.Fatalf("VerifyWithUID(standard vector) = %v", err)
	}
	der, err := RawToASN1(katSig(t))
	if err != nil {
		t.Fatal(err)
	}
	if err := VerifyASN1(pub, []byte(katMsg), der); err != nil {
		t.Fatalf("VerifyASN1(standard vector) = %v", err)
	}
}

func TestVerifyOneByteChanges(t *testing.T) {
	pub, err := ParsePublicKey(mustHex(t, katPub))
	if err != nil {
		t.Fatal(err)
	}
	other := newKey(t)
	msg := []byte(katMsg)
	sig := katSig(t)
	uid := []byte(DefaultUID)
	n := sm2.P256().Params().N
	s := new(big.Int).SetBytes(sig[32:])
	r := new(big.Int).SetBytes(sig[:32])

	tests := []struct {
		name    string
		pubSEC1 []byte
		pub     *ecdsa.PublicKey
		uid     []byte
		msg     []byte
		sig     []byte
		wantErr error
	}{
		{name: "ok/standard vector", msg: msg, sig: sig},
		{name: "fail/message first byte", msg: flip(msg, 0), sig: sig, wantErr: ErrInvalidSignature},
		{name: "fail/message last byte", msg: flip(msg, len(msg)-1), sig: sig, wantErr: ErrInvalidSignature},
		{name: "fail/message extra byte", msg: append(bytes.Clone(msg), 0), sig: sig, wantErr: ErrInvalidSignature},
		{name: "fail/signature r last byte", msg: msg, sig: flip(sig, 31), wantErr: ErrInvalidSignature},
		{name: "fail/signature s last byte", msg: msg, sig: flip(sig, 63), wantErr: ErrInvalidSignature},
		{name: "fail/signature r first byte", msg: msg, sig: flip(sig, 0), wantErr: ErrInvalidSignature},
		{name: "fail/public key x byte", pubSEC1: flip(mustHex(t, katPub), 10), msg: msg, sig: sig, wantErr: ErrWrongCurve},
		{name: "fail/public key y byte", pubSEC1: flip(mustHex(t, katPub), 64), msg: msg, sig: sig, wantErr: ErrWrongCurve},
		{name: "fail/public key prefix byte", pubSEC1: flip(mustHex(t, katPub), 0), msg: msg, sig: sig, wantErr: ErrMalformedKey},
		{name: "fail/other valid public key", pub: &other.PublicKey, msg: msg, sig: sig, wantErr: ErrInvalidSignature},
		{name: "fail/user ID first byte", uid: flip(uid, 0), msg: msg, sig: sig, wantErr: ErrInvalidSignature},
		{name: "fail/user ID last byte", uid: flip(uid, 15), msg: msg, sig: sig, wantErr: ErrInvalidSignature},
		{name: "fail/user ID empty", uid: []byte{}, msg: msg, sig: sig, wantErr: ErrUIDLength},
		{name: "fail/user ID 8192 bytes", uid: make([]byte, 8192), msg: msg, sig: sig, wantErr: ErrUIDLength},
		{name: "fail/signature 63 bytes", msg: msg, sig: sig[:63], wantErr: ErrSignatureLength},
		{name: "fail/signature 65 bytes", msg: msg, sig: append(bytes.Clone(sig), 0), wantErr: ErrSignatureLength},
		{name: "fail/signature empty", msg: msg, sig: nil, wantErr: ErrSignatureLength},
		{name: "fail/r zero", msg: msg, sig: rawFromInts(big.NewInt(0), s), wantErr: ErrSignatureRange},
		{name: "fail/s zero", msg: msg, sig: rawFromInts(r, big.NewInt(0)), wantErr: ErrSignatureRange},
		{name: "fail/r equals n", msg: msg, sig: rawFromInts(n, s), wantErr: ErrSignatureRange},
		{name: "fail/s equals n", msg: msg, sig: rawFromInts(r, n), wantErr: ErrSignatureRange},
		{name: "fail/s n plus 1", msg: msg, sig: rawFromInts(r, new(big.Int).Add(n, big.NewInt(1))), wantErr: ErrSignatureRange},
		{name: "fail/all ff", msg: msg, sig: bytes.Repeat([]byte{0xff}, 64), wantErr: ErrSignatureRange},
		{name: "fail/high-S n minus s", msg: msg, sig: rawFromInts(r, new(big.Int).Sub(n, s)), wantErr: ErrInvalidSignature},
		{name: "fail/r plus s equals n", msg: msg, sig: rawFromInts(r, new(big.Int).Sub(n, r)), wantErr: ErrInvalidSignature},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			key := pub
			if tt.pub != nil {
				key = tt.pub
			}
			if tt.pubSEC1 != nil {
				var err error
				key, err = ParsePublicKey(tt.pubSEC1)
				if !errors.Is(err, tt.wantErr) {
					t.Fatalf("ParsePublicKey = %v, want %v", err, tt.wantErr)
				}
				return
			}
			var err error
			if tt.uid != nil {
				err = VerifyWithUID(key, tt.uid, tt.msg, tt.sig)
			} else {
				err = Verify(key, tt.msg, tt.sig)
			}
			if !errors.Is(err, tt.wantErr) || (tt.wantErr == nil) != (err == nil) {
				t.Fatalf("Verify = %v, want %v", err, tt.wantErr)
			}
			if tt.uid == nil {
				vk, err := NewVerifyingKey(key)
				if err != nil {
					t.Fatal(err)
				}
				if err := vk.Verify(tt.msg, tt.sig); !errors.Is(err, tt.wantErr) || (tt.wantErr == nil) != (err == nil) {
					t.Fatalf("VerifyingKey.Verify = %v, want %v", err, tt.wantErr)
				}
			}
		})
	}
}

// TestHighSRejected shows that SM2 has no signature malleability of the
// ECDSA low-S kind: s enters verification through t = r + s (GB/T
// 32918.2-2016 §7.1 B5), so (r, n−s) is a different equation and fails,
// for fresh random signatures as well as the standard's vector.
func TestHighSRejected(t *testing.T) {
	priv := newKey(t)
	n := sm2.P256().Params().N
	for i := range 32 {
		msg := []byte(strings.Repeat("m", i))
		sig, err := Sign(nil, priv, msg)
		if err != nil {
			t.Fatal(err)
		}
		if err := Verify(&priv.PublicKey, msg, sig); err != nil {
			t.Fatalf("Verify(original) = %v", err)
		}
		r, s, _ := intsFromRaw(sig)
		high := rawFromInts(r, new(big.Int).Sub(n, s))
		if err := Verify(&priv.PublicKey, msg, high); !errors.Is(err, ErrInvalidSignature) {
			t.Fatalf("Verify(r, n-s) = %v, want ErrInvalidSignature", err)
		}
		negR := rawFromInts(new(big.Int).Sub(n, r), s)
		if err := Verify(&priv.PublicKey, msg, negR); !errors.Is(err, ErrInvalidSignature) {
			t.Fatalf("Verify(n-r, s) = %v, want ErrInvalidSignature", err)
		}
	}
}

func TestSignVerifyRoundTrip(t *testing.T) {
	priv := newKey(t)
	pub := &priv.PublicKey
	msgs := [][]byte{nil, {}, []byte("a"), bytes.Repeat([]byte("x"), 10000)}
	uid := []byte("alice@example.gov.cn")
	for _, msg := range msgs {
		sig, err := Sign(nil, priv, msg)
		if err != nil {
			t.Fatal(err)
		}
		if len(sig) != SignatureSize {
			t.Fatalf("len(sig) = %d", len(sig))
		}
		if err := Verify(pub, msg, sig); err != nil {
			t.Fatalf("Verify = %v", err)
		}
		der, err := SignASN1(nil, priv, msg)
		if err != nil {
			t.Fatal(err)
		}
		if err := VerifyASN1(pub, msg, der); err != nil {
			t.Fatalf("VerifyASN1 = %v", err)
		}
		raw, err := ASN1ToRaw(der)
		if err != nil {
			t.Fatal(err)
		}
		if err := Verify(pub, msg, raw); err != nil {
			t.Fatalf("Verify(ASN1ToRaw) = %v", err)
		}
		// gmsm's own verifier agrees (DER, default UID).
		if !sm2.VerifyASN1WithSM2(pub, nil, msg, der) {
			t.Fatal("gmsm VerifyASN1WithSM2 rejected our signature")
		}

		usig, err := SignWithUID(nil, priv, uid, msg)
		if err != nil {
			t.Fatal(err)
		}
		if err := VerifyWithUID(pub, uid, msg, usig); err != nil {
			t.Fatalf("VerifyWithUID = %v", err)
		}
		if err := Verify(pub, msg, usig); !errors.Is(err, ErrInvalidSignature) {
			t.Fatalf("Verify(default UID) of a UID signature = %v, want ErrInvalidSignature", err)
		}
		uder, err := SignASN1WithUID(nil, priv, uid, msg)
		if err != nil {
			t.Fatal(err)
		}
		if err := VerifyASN1WithUID(pub, uid, msg, uder); err != nil {
			t.Fatalf("VerifyASN1WithUID = %v", err)
		}
	}
}

func TestSignDeterministicWithFixedReader(t *testing.T) {
	priv := katKey(t)
	a, err := Sign(fixedReader(7), priv, []byte(katMsg))
	if err != nil {
		t.Fatal(err)
	}
	b, err := Sign(fixedReader(7), priv, []byte(katMsg))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(a, b) {
		t.Fatal("same rand stream gave different signatures")
	}
	c, err := Sign(fixedReader(8), priv, []byte(katMsg))
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Equal(a, c) {
		t.Fatal("different rand stream gave the same signature")
	}
}

func TestSignErrors(t *testing.T) {
	p256 := newP256(t)
	wrong := &sm2.PrivateKey{PrivateKey: *p256}
	good := newKey(t)
	n := sm2.P256().Params().N
	outOfRange := &sm2.PrivateKey{PrivateKey: good.PrivateKey}
	outOfRange.D = new(big.Int).Sub(n, big.NewInt(1))
	tests := []struct {
		name    string
		rand    io.Reader
		priv    *sm2.PrivateKey
		uid     []byte
		wantErr error
	}{
		{name: "ok/default", priv: good},
		{name: "fail/nil key", priv: nil, wantErr: ErrMalformedKey},
		{name: "fail/nil scalar", priv: &sm2.PrivateKey{}, wantErr: ErrMalformedKey},
		{name: "fail/P-256 key", priv: wrong, wantErr: ErrWrongCurve},
		{name: "fail/scalar n-1", priv: outOfRange, wantErr: ErrMalformedKey},
		{name: "fail/empty UID", priv: good, uid: []byte{}, wantErr: ErrUIDLength},
		{name: "fail/rand error", priv: good, rand: errReader{}, wantErr: io.ErrUnexpectedEOF},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var err error
			if tt.uid != nil {
				_, err = SignWithUID(tt.rand, tt.priv, tt.uid, []byte("m"))
			} else {
				_, err = Sign(tt.rand, tt.priv, []byte("m"))
			}
			if !errors.Is(err, tt.wantErr) || (tt.wantErr == nil) != (err == nil) {
				t.Fatalf("Sign = %v, want %v", err, tt.wantErr)
			}
			if tt.uid == nil {
				_, err = SignASN1(tt.rand, tt.priv, []byte("m"))
				if !errors.Is(err, tt.wantErr) || (tt.wantErr == nil) != (err == nil) {
					t.Fatalf("SignASN1 = %v, want %v", err, tt.wantErr)
				}
			}
		})
	}
}

func TestVerifyKeyErrors(t *testing.T) {
	sig := katSig(t)
	p256 := newP256(t)
	kat, _ := ParsePublicKey(mustHex(t, katPub))
	offCurve := &ecdsa.PublicKey{Curve: sm2.P256(), X: kat.X, Y: new(big.Int).Add(kat.Y, big.NewInt(1))}
	negative := &ecdsa.PublicKey{Curve: sm2.P256(), X: new(big.Int).Neg(kat.X), Y: kat.Y}
	tests := []struct {
		name    string
		pub     *ecdsa.PublicKey
		wantErr error
	}{
		{name: "fail/nil key", pub: nil, wantErr: ErrMalformedKey},
		{name: "fail/nil coordinates", pub: &ecdsa.PublicKey{Curve: sm2.P256()}, wantErr: ErrMalformedKey},
		{name: "fail/P-256 key", pub: &p256.PublicKey, wantErr: ErrWrongCurve},
		{name: "fail/nil curve", pub: &ecdsa.PublicKey{X: kat.X, Y: kat.Y}, wantErr: ErrWrongCurve},
		{name: "fail/point off curve", pub: offCurve, wantErr: ErrWrongCurve},
		{name: "fail/negative coordinate", pub: negative, wantErr: ErrWrongCurve},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := Verify(tt.pub, []byte(katMsg), sig); !errors.Is(err, tt.wantErr) {
				t.Fatalf("Verify = %v, want %v", err, tt.wantErr)
			}
			if err := VerifyASN1(tt.pub, []byte(katMsg), []byte{0x30, 0}); !errors.Is(err, tt.wantErr) {
				t.Fatalf("VerifyASN1 = %v, want %v", err, tt.wantErr)
			}
			if vk, err := NewVerifyingKey(tt.pub); !errors.Is(err, tt.wantErr) || vk != nil {
				t.Fatalf("NewVerifyingKey = %v, %v, want %v", vk, err, tt.wantErr)
			}
		})
	}
}

func TestDEREncoding(t *testing.T) {
	pub, _ := ParsePublicKey(mustHex(t, katPub))
	der, err := RawToASN1(katSig(t))
	if err != nil {
		t.Fatal(err)
	}
	n := sm2.P256().Params().N
	tests := []struct {
		name    string
		der     []byte
		wantErr error
	}{
		{name: "ok/standard", der: der},
		{name: "fail/trailing byte", der: append(bytes.Clone(der), 0), wantErr: ErrMalformedSignature},
		{name: "fail/truncated", der: der[:len(der)-1], wantErr: ErrMalformedSignature},
		{name: "fail/empty", der: nil, wantErr: ErrMalformedSignature},
		{name: "fail/raw instead of DER", der: katSig(t), wantErr: ErrMalformedSignature},
		{name: "fail/non-minimal integer", der: []byte{0x30, 0x08, 0x02, 0x02, 0x00, 0x01, 0x02, 0x02, 0x00, 0x01}, wantErr: ErrMalformedSignature},
		{name: "fail/negative r", der: []byte{0x30, 0x06, 0x02, 0x01, 0xff, 0x02, 0x01, 0x01}, wantErr: ErrSignatureRange},
		{name: "fail/r is n", der: mustDER(t, n, big.NewInt(1)), wantErr: ErrSignatureRange},
		{name: "fail/r 300 bits", der: mustDER(t, new(big.Int).Lsh(big.NewInt(1), 300), big.NewInt(1)), wantErr: ErrSignatureRange},
		{name: "fail/flipped s byte", der: flip(der, len(der)-1), wantErr: ErrInvalidSignature},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := VerifyASN1(pub, []byte(katMsg), tt.der)
			if !errors.Is(err, tt.wantErr) || (tt.wantErr == nil) != (err == nil) {
				t.Fatalf("VerifyASN1 = %v, want %v", err, tt.wantErr)
			}
		})
	}
	if _, err := RawToASN1(make([]byte, 64)); !errors.Is(err, ErrSignatureRange) {
		t.Fatalf("RawToASN1(zeros) = %v, want ErrSignatureRange", err)
	}
	if _, err := RawToASN1(make([]byte, 3)); !errors.Is(err, ErrSignatureLength) {
		t.Fatalf("RawToASN1(3 bytes) = %v, want ErrSignatureLength", err)
	}
	if _, err := ASN1ToRaw([]byte{1, 2}); !errors.Is(err, ErrMalformedSignature) {
		t.Fatalf("ASN1ToRaw(junk) = %v, want ErrMalformedSignature", err)
	}
}

func mustDER(t *testing.T, r, s *big.Int) []byte {
	t.Helper()
	der, err := encodeDER(r, s)
	if err != nil {
		t.Fatal(err)
	}
	return der
}
