package smcrypto

import (
	"bytes"
	"errors"
	"math/rand"
	"sync"
	"testing"
)

// TestVerifyingKeyMatchesVerify: for fresh signatures over messages of
// every length from 0 to 200 bytes, and each with one chosen byte of the
// message or signature changed, VerifyingKey.Verify and Verify agree.
func TestVerifyingKeyMatchesVerify(t *testing.T) {
	rnd := rand.New(rand.NewSource(7))
	priv := newKey(t)
	vk, err := NewVerifyingKey(&priv.PublicKey)
	if err != nil {
		t.Fatal(err)
	}
	if vk.Public() != &priv.PublicKey {
		t.Fatal("Public() is not the key given")
	}
	for n := 0; n <= 200; n += 7 {
		msg := make([]byte, n)
		rnd.Read(msg)
		sig, err := Sign(rnd, priv, msg)
		if err != nil {
			t.Fatal(err)
		}
		if err := vk.Verify(msg, sig); err != nil {
			t.Fatalf("%d-byte message: %v", n, err)
		}
		for _, c := range []struct {
			msg, sig []byte
		}{
			{msg, flip(sig, rnd.Intn(64))},
			{append(bytes.Clone(msg), 0), sig},
		} {
			if n > 0 {
				c2 := flip(msg, rnd.Intn(n))
				if err := vk.Verify(c2, sig); !errors.Is(err, ErrInvalidSignature) {
					t.Fatalf("changed message: %v", err)
				}
			}
			want := Verify(&priv.PublicKey, c.msg, c.sig)
			got := vk.Verify(c.msg, c.sig)
			if want == nil || got == nil || got.Error() != want.Error() {
				t.Fatalf("VerifyingKey %v, Verify %v", got, want)
			}
		}
	}
}

// TestVerifyingKeyConcurrent: the first verifications race to build the
// table; every one must see it whole (run with -race).
func TestVerifyingKeyConcurrent(t *testing.T) {
	priv := newKey(t)
	vk, err := NewVerifyingKey(&priv.PublicKey)
	if err != nil {
		t.Fatal(err)
	}
	sig, err := Sign(nil, priv, []byte("m"))
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for range 8 {
		wg.Go(func() { errs <- vk.Verify([]byte("m"), sig) })
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
}
