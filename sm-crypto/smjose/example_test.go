package smjose_test

import (
	"fmt"

	"github.com/go-jose/go-jose/v4"
	smcrypto "github.com/tongban/tongban/sm-crypto"
	"github.com/tongban/tongban/sm-crypto/smjose"
)

// An identity provider signs an ID token with SM2; a relying party that
// fetched the provider's JWKS verifies it.
func Example() {
	priv, err := smcrypto.GenerateKey(nil)
	if err != nil {
		panic(err)
	}
	kid := smcrypto.KeyIDString(&priv.PublicKey)

	// Provider: sign through go-jose with the opaque SM2 signer.
	signer, err := jose.NewSigner(
		jose.SigningKey{Algorithm: smjose.AlgSM2, Key: smjose.NewSigner(priv, kid)},
		(&jose.SignerOptions{}).WithType("JWT"),
	)
	if err != nil {
		panic(err)
	}
	jws, err := signer.Sign([]byte(`{"iss":"https://idp.example.gov.cn","sub":"u1"}`))
	if err != nil {
		panic(err)
	}
	token, err := jws.CompactSerialize()
	if err != nil {
		panic(err)
	}
	jwks, err := smjose.MarshalJWKS(nil, []smjose.JWK{{Key: &priv.PublicKey, KeyID: kid, Use: "sig"}})
	if err != nil {
		panic(err)
	}

	// Relying party: parse the JWKS, verify the token.
	set, err := smjose.ParseJWKS(jwks)
	if err != nil {
		panic(err)
	}
	payload, err := set.VerifySM2(token)
	fmt.Println(string(payload), err)

	// The same with plain go-jose and the opaque verifier.
	parsed, err := jose.ParseSignedCompact(token, []jose.SignatureAlgorithm{smjose.AlgSM2})
	if err != nil {
		panic(err)
	}
	payload, err = parsed.Verify(smjose.NewVerifier(set.SM2[0].Key))
	fmt.Println(string(payload), err)
	// Output:
	// {"iss":"https://idp.example.gov.cn","sub":"u1"} <nil>
	// {"iss":"https://idp.example.gov.cn","sub":"u1"} <nil>
}

func ExampleHalfHashSM3() {
	// at_hash of an access token in an ID token signed with SGD_SM3_SM2.
	fmt.Println(smjose.HalfHashSM3([]byte("abc")))
	// Output:
	// Zsfw9GLu7dnR8tRr3BDk4g
}
