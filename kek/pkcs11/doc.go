// Package pkcs11kek is a key-encryption key (a keyring.KeyWrapper) that lives in a
// cryptographic module reached through PKCS#11: a 密码机 (server cipher machine) in
// production, SoftHSM2 in the tests. The key never leaves the module: every data key and
// private key of the keyring is wrapped and unwrapped by the module (C_WrapKey, C_UnwrapKey)
// with a configurable mechanism — AES key wrap with padding (RFC 5649) by default, AES key
// wrap (RFC 3394), or a vendor's SM4 mechanism given by number (see Mechanism).
//
// The key is named by a PKCS#11 URI (RFC 7512; see URI), for example
//
//	pkcs11:token=tongban;object=tongban-kek?module-path=/usr/lib/softhsm/libsofthsm2.so&pin-source=file:/etc/tongban/hsm-pin
//
// No Go module for RFC 7512 URIs is available to this project (none in the list of served
// modules), so ParseURI is a small strict parser of the subset tongban needs: it refuses
// attributes it does not know instead of ignoring them.
//
// Open's start-up errors are distinct (ErrModule, ErrTokenNotFound, ErrWrongPIN,
// ErrKeyNotFound, ErrKeyCannotWrap, ErrMechanismUnsupported) so that the commands can tell
// the operator what to fix. Generate creates the key in the token (`idp kek pkcs11-generate`).
//
// The package needs cgo (it loads the module with dlopen through github.com/miekg/pkcs11).
// Built with CGO_ENABLED=0, Open and Generate return ErrUnavailable and everything else
// (ParseURI, WrappedID) still works.
package pkcs11kek
