package smcrypto_test

import (
	"errors"
	"fmt"

	smcrypto "github.com/tongban/tongban/sm-crypto"
)

func ExampleSign() {
	priv, err := smcrypto.GenerateKey(nil) // nil: crypto/rand
	if err != nil {
		panic(err)
	}
	msg := []byte("licence 91350100M000100Y43 valid until 2030-12-31")

	sig, err := smcrypto.Sign(nil, priv, msg) // message, not a digest
	if err != nil {
		panic(err)
	}
	fmt.Println("signature bytes:", len(sig))

	// A verifier holds only the 65-byte SEC 1 public key.
	pub, err := smcrypto.ParsePublicKey(smcrypto.MarshalPublicKey(&priv.PublicKey))
	if err != nil {
		panic(err)
	}
	fmt.Println("verify:", smcrypto.Verify(pub, msg, sig))

	msg[0] ^= 1
	err = smcrypto.Verify(pub, msg, sig)
	fmt.Println("tampered:", errors.Is(err, smcrypto.ErrInvalidSignature))
	// Output:
	// signature bytes: 64
	// verify: <nil>
	// tampered: true
}

func ExampleKEK() {
	kek, err := smcrypto.ParseKEK("tongban-kek-v1:AAECAwQFBgcICQoLDA0ODw==\n")
	if err != nil {
		panic(err)
	}
	dataKey := []byte("0123456789abcdef")
	wrapped, err := kek.Wrap(dataKey, []byte("field-key/v1"))
	if err != nil {
		panic(err)
	}
	fmt.Println("kek id:", kek.ID())
	fmt.Println("wrapped bytes:", len(wrapped))

	other, _ := smcrypto.GenerateKEK(nil)
	_, err = other.Unwrap(wrapped, []byte("field-key/v1"))
	fmt.Println("other KEK:", errors.Is(err, smcrypto.ErrWrongKEK))
	// Output:
	// kek id: f65c16e869f79670
	// wrapped bytes: 53
	// other KEK: true
}

func ExampleHashPassword() {
	p := smcrypto.PasswordParams{Iterations: 1000, SaltLen: 16, KeyLen: 32} // production: DefaultPasswordParams
	encoded, err := smcrypto.HashPassword([]byte("s3cret"), p)
	if err != nil {
		panic(err)
	}
	fmt.Println(encoded[:19])
	fmt.Println(smcrypto.CheckPassword(encoded, []byte("s3cret")))
	fmt.Println(smcrypto.CheckPassword(encoded, []byte("s3creT")))
	// Output:
	// $pbkdf2-sm3$i=1000$
	// <nil>
	// smcrypto: password does not match
}
