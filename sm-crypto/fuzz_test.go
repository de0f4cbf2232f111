package smcrypto

import (
	"bytes"
	"crypto/x509"
	"errors"
	"strings"
	"testing"
)

// Every fuzzer asserts: no panic, errors are one of the documented
// sentinels, and where a decoder accepts input, encoding it again gives the
// canonical input back.

func FuzzParsePublicKey(f *testing.F) {
	good := mustHex(f, katPub)
	f.Add(good)
	f.Add(flip(good, 64))
	f.Add(good[:33])
	f.Add([]byte{4})
	f.Add([]byte{})
	f.Add(append([]byte{4}, make([]byte, 64)...))
	f.Fuzz(func(t *testing.T, b []byte) {
		pub, err := ParsePublicKey(b)
		if err != nil {
			if !errors.Is(err, ErrMalformedKey) && !errors.Is(err, ErrWrongCurve) {
				t.Fatalf("undocumented error %v", err)
			}
			return
		}
		if !bytes.Equal(MarshalPublicKey(pub), b) {
			t.Fatal("round trip changed the key")
		}
	})
}

func FuzzParsePrivateKeyPEM(f *testing.F) {
	priv := katKey(f)
	good, _ := MarshalPrivateKeyPEM(priv)
	p256DER, _ := x509.MarshalPKCS8PrivateKey(newP256(f))
	f.Add(good)
	f.Add(pemOf("PRIVATE KEY", p256DER))
	f.Add(good[:len(good)/2])
	f.Add([]byte("-----BEGIN PRIVATE KEY-----\n-----END PRIVATE KEY-----\n"))
	f.Add([]byte{})
	f.Fuzz(func(t *testing.T, b []byte) {
		k, err := ParsePrivateKeyPEM(b)
		if err != nil {
			if !errors.Is(err, ErrMalformedPEM) && !errors.Is(err, ErrWrongCurve) && !errors.Is(err, ErrMalformedKey) {
				t.Fatalf("undocumented error %v", err)
			}
			return
		}
		out, err := MarshalPrivateKeyPEM(k)
		if err != nil {
			t.Fatalf("re-marshal: %v", err)
		}
		k2, err := ParsePrivateKeyPEM(out)
		if err != nil || !k2.Equal(k) {
			t.Fatalf("round trip: %v", err)
		}
	})
}

func FuzzParsePublicKeyPEM(f *testing.F) {
	good, _ := MarshalPublicKeyPEM(&katKey(f).PublicKey)
	p256DER, _ := x509.MarshalPKIXPublicKey(&newP256(f).PublicKey)
	f.Add(good)
	f.Add(pemOf("PUBLIC KEY", p256DER))
	f.Add(pemOf("PUBLIC KEY", []byte{0x30, 0x00}))
	f.Add([]byte("-----BEGIN PUBLIC KEY-----"))
	f.Fuzz(func(t *testing.T, b []byte) {
		pub, err := ParsePublicKeyPEM(b)
		if err != nil {
			if !errors.Is(err, ErrMalformedPEM) && !errors.Is(err, ErrWrongCurve) && !errors.Is(err, ErrMalformedKey) {
				t.Fatalf("undocumented error %v", err)
			}
			return
		}
		out, err := MarshalPublicKeyPEM(pub)
		if err != nil {
			t.Fatalf("re-marshal: %v", err)
		}
		if p2, err := ParsePublicKeyPEM(out); err != nil || !p2.Equal(pub) {
			t.Fatalf("round trip: %v", err)
		}
	})
}

func FuzzVerify(f *testing.F) {
	pub, _ := ParsePublicKey(mustHex(f, katPub))
	sig := katSig(f)
	der, _ := RawToASN1(sig)
	f.Add([]byte(katMsg), sig)
	f.Add([]byte(katMsg), flip(sig, 63))
	f.Add([]byte(katMsg), der)
	f.Add([]byte{}, make([]byte, 64))
	f.Add([]byte("x"), bytes.Repeat([]byte{0xff}, 64))
	f.Fuzz(func(t *testing.T, msg, sig []byte) {
		err := Verify(pub, msg, sig)
		if err == nil {
			if string(msg) != katMsg {
				t.Fatalf("forged raw signature accepted for %q", msg)
			}
		} else if !errors.Is(err, ErrSignatureLength) && !errors.Is(err, ErrSignatureRange) && !errors.Is(err, ErrInvalidSignature) {
			t.Fatalf("undocumented raw error %v", err)
		}
		err = VerifyASN1(pub, msg, sig)
		if err == nil {
			if string(msg) != katMsg {
				t.Fatalf("forged DER signature accepted for %q", msg)
			}
		} else if !errors.Is(err, ErrMalformedSignature) && !errors.Is(err, ErrSignatureRange) && !errors.Is(err, ErrInvalidSignature) {
			t.Fatalf("undocumented DER error %v", err)
		}
	})
}

func FuzzSM4GCMOpen(f *testing.F) {
	g, _ := NewSM4GCM(mustHex(f, "0123456789abcdeffedcba9876543210"))
	sealed, _ := g.Seal(fixedReader(1), []byte("plaintext"), []byte("aad"))
	f.Add(sealed, []byte("aad"))
	f.Add(flip(sealed, 20), []byte("aad"))
	f.Add(sealed[:28], []byte{})
	f.Add([]byte{}, []byte{})
	f.Fuzz(func(t *testing.T, sealed, aad []byte) {
		pt, err := g.Open(sealed, aad)
		if err != nil {
			if pt != nil || (!errors.Is(err, ErrCiphertextTooShort) && !errors.Is(err, ErrDecrypt)) {
				t.Fatalf("Open = %q, %v", pt, err)
			}
		}
	})
}

func FuzzCheckPassword(f *testing.F) {
	enc, _ := hashPassword(fixedReader(0x5a), []byte("pw"), fastParams)
	f.Add(enc, []byte("pw"))
	f.Add(enc, []byte("px"))
	f.Add("$pbkdf2-sm3$i=1$AAAAAAAAAAAAAAAAAAAAAA$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", []byte{})
	f.Add("$2a$10$abc", []byte("pw"))
	f.Add("$pbkdf2-sm3$i=0$$", []byte("pw"))
	f.Add("", []byte(nil))
	f.Fuzz(func(t *testing.T, enc string, pw []byte) {
		d, err := parsePasswordHash(enc)
		if err != nil {
			if !errors.Is(err, ErrUnknownHashFormat) && !errors.Is(err, ErrMalformedHash) {
				t.Fatalf("undocumented parse error %v", err)
			}
			return
		}
		if got := encodePasswordHash(d.iter, d.salt, d.dk); got != enc {
			t.Fatalf("decode → encode = %q, want %q", got, enc)
		}
		if d.iter > 2000 {
			return // keep the fuzzer fast; the parser is what is under test
		}
		err = CheckPassword(enc, pw)
		if err != nil && !errors.Is(err, ErrPasswordMismatch) {
			t.Fatalf("CheckPassword = %v", err)
		}
	})
}

func FuzzParseKEK(f *testing.F) {
	f.Add(testKEKText)
	f.Add(testKEKText + "\n")
	f.Add("tongban-kek-v1:")
	f.Add("tongban-kek-v1:AAECAwQFBgcICQoLDA0O")
	f.Add("")
	f.Fuzz(func(t *testing.T, text string) {
		k, err := ParseKEK(text)
		if err != nil {
			if !errors.Is(err, ErrMalformedKEK) {
				t.Fatalf("undocumented error %v", err)
			}
			return
		}
		if k.Encode() != strings.TrimSpace(text) {
			t.Fatalf("Encode = %q, want %q", k.Encode(), strings.TrimSpace(text))
		}
	})
}

func FuzzUnwrap(f *testing.F) {
	kek, _ := ParseKEK(testKEKText)
	w, _ := kek.Wrap([]byte("0123456789abcdef"), []byte("a"))
	f.Add(w, []byte("a"))
	f.Add(flip(w, 3), []byte("a"))
	f.Add(w[:WrapOverhead], []byte{})
	f.Fuzz(func(t *testing.T, wrapped, aad []byte) {
		k, err := kek.Unwrap(wrapped, aad)
		if err != nil {
			if k != nil || (!errors.Is(err, ErrCiphertextTooShort) && !errors.Is(err, ErrDecrypt) && !errors.Is(err, ErrWrongKEK)) {
				t.Fatalf("Unwrap = %x, %v", k, err)
			}
		}
	})
}
