package pkcs11kek

import "errors"

// Start-up errors. Open returns an error wrapping exactly one of these, with the detail an
// operator needs (the module path, the token labels present, the mechanism name); never the
// PIN.
var (
	// ErrMalformedURI: the pkcs11: URI does not parse, repeats an attribute, names an attribute
	// this package does not know, or lacks token, object or module-path.
	ErrMalformedURI = errors.New("pkcs11kek: malformed PKCS#11 URI")
	// ErrNoPIN: neither pin-source nor pin-value is in the URI and Config.PIN is empty.
	ErrNoPIN = errors.New("pkcs11kek: no PIN")
	// ErrModule: the PKCS#11 module (module-path) cannot be loaded or initialised.
	ErrModule = errors.New("pkcs11kek: cannot load the PKCS#11 module")
	// ErrTokenNotFound: no token with that label (and serial, when given) is present.
	ErrTokenNotFound = errors.New("pkcs11kek: token not found")
	// ErrWrongPIN: the token refused the PIN (CKR_PIN_INCORRECT, CKR_PIN_LEN_RANGE).
	ErrWrongPIN = errors.New("pkcs11kek: wrong PIN")
	// ErrPINLocked: the token locked its user PIN (CKR_PIN_LOCKED); its security officer
	// must unlock it.
	ErrPINLocked = errors.New("pkcs11kek: PIN locked")
	// ErrKeyNotFound: no secret key with that label (and id, when given) in the token, or
	// more than one.
	ErrKeyNotFound = errors.New("pkcs11kek: key not found")
	// ErrKeyCannotWrap: the key exists but its CKA_WRAP or CKA_UNWRAP attribute is false.
	ErrKeyCannotWrap = errors.New("pkcs11kek: key may not wrap")
	// ErrMechanismUnsupported: the token does not offer the wrapping mechanism for both wrap
	// and unwrap (C_GetMechanismInfo).
	ErrMechanismUnsupported = errors.New("pkcs11kek: mechanism not supported by the token")
	// ErrKeyExists: Generate found a key with that label (and id) already in the token.
	ErrKeyExists = errors.New("pkcs11kek: key already exists")
	// ErrUnavailable: the program was built without cgo, so PKCS#11 modules cannot be loaded.
	ErrUnavailable = errors.New("pkcs11kek: built without cgo: PKCS#11 unavailable")
	// ErrClosed: Wrap or Unwrap after Close.
	ErrClosed = errors.New("pkcs11kek: closed")
)
