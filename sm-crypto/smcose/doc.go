// Package smcose adapts SM2 signatures (GB/T 32918.2-2016 with SM3, user ID
// "1234567812345678") to github.com/veraison/go-cose v1.3.0.
//
// go-cose hands a custom cose.Signer or cose.Verifier the whole ToBeSigned
// byte string (the CBOR Sig_structure of RFC 9052 §4.4), which is what SM2
// needs: SM2 hashes Z_A ‖ message with SM3 itself, so it must see the
// message, not a digest. The signature is raw r ‖ s, 64 bytes, big-endian,
// each half 32 bytes (RFC 9053 §2.1 layout, as DESIGN §3 fixes for COSE).
//
// No COSE algorithm is registered for SM2, so this package uses the
// private-use value AlgorithmSM2 (-66037; see its comment and
// docs/formats/qr-payload.md). go-cose v1.3.0 has no algorithm registry:
// an unknown value needs no registration, because a custom Signer or
// Verifier reports its own Algorithm and go-cose only compares it with the
// protected header's alg.
package smcose
