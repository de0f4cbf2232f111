//go:build cgo

package pkcs11kek

import (
	"encoding/hex"
	"fmt"
	"sync"

	"github.com/miekg/pkcs11"

	smcrypto "github.com/tongban/tongban/sm-crypto"
)

// KEK is a key-encryption key held in a PKCS#11 token. It satisfies keyring.KeyWrapper; the
// key never leaves the token. It holds one session, guarded by a mutex, so it is safe for
// concurrent use (calls are serialised; a wrap or unwrap takes well under a millisecond on
// SoftHSM2, and the keyring unwraps only at start-up and when signing keys change).
type KEK struct {
	uri  URI
	mod  *module
	slot uint
	id   [IDSize]byte

	mu      sync.Mutex
	session pkcs11.SessionHandle
	key     pkcs11.ObjectHandle
	closed  bool
}

// Open loads the module named by cfg.URI, finds the token, logs in with the PIN (pin-value,
// else pin-source, else cfg.PIN), finds the key and checks that it may wrap and unwrap with
// the configured mechanism. Close the KEK when done.
//
// Errors wrap, in the order they are checked: ErrMalformedURI, ErrNoPIN (or the error reading
// the pin-source file), ErrModule, ErrTokenNotFound, ErrMechanismUnsupported, ErrWrongPIN or
// ErrPINLocked, ErrKeyNotFound, ErrKeyCannotWrap. Their messages never hold the PIN.
func Open(cfg Config) (*KEK, error) {
	u, err := ParseURI(cfg.URI)
	if err != nil {
		return nil, err
	}
	pin, err := u.readPIN(cfg.PIN)
	if err != nil {
		return nil, err
	}
	mod, err := loadModule(u.ModulePath)
	if err != nil {
		return nil, err
	}
	k := &KEK{uri: u, mod: mod}
	ok := false
	defer func() {
		if !ok {
			mod.release()
		}
	}()
	if k.slot, err = mod.findSlot(u.Token, u.Serial); err != nil {
		return nil, err
	}
	if err := mod.checkMechanism(k.slot, u.Mechanism.Type, u.Mechanism.String(), pkcs11.CKF_WRAP|pkcs11.CKF_UNWRAP); err != nil {
		return nil, err
	}
	if k.session, err = mod.ctx.OpenSession(k.slot, pkcs11.CKF_SERIAL_SESSION); err != nil {
		return nil, fmt.Errorf("pkcs11kek: C_OpenSession: %w", err)
	}
	if err := mod.login(k.slot, k.session, pin); err != nil {
		_ = mod.ctx.CloseSession(k.session)
		return nil, err
	}
	fail := func(err error) (*KEK, error) {
		mod.logout(k.slot, k.session)
		_ = mod.ctx.CloseSession(k.session)
		return nil, err
	}
	if k.key, err = mod.findKey(k.session, u.Object, u.ID); err != nil {
		return fail(err)
	}
	attrs, err := mod.ctx.GetAttributeValue(k.session, k.key, []*pkcs11.Attribute{
		pkcs11.NewAttribute(pkcs11.CKA_WRAP, nil),
		pkcs11.NewAttribute(pkcs11.CKA_UNWRAP, nil),
		pkcs11.NewAttribute(pkcs11.CKA_ID, nil),
	})
	if err != nil {
		return fail(fmt.Errorf("pkcs11kek: read key attributes: %w", err))
	}
	for _, a := range attrs[:2] {
		if len(a.Value) != 1 || a.Value[0] == 0 {
			name := "CKA_WRAP"
			if a.Type == pkcs11.CKA_UNWRAP {
				name = "CKA_UNWRAP"
			}
			return fail(fmt.Errorf("%w: key %q has %s false; create a key with CKA_WRAP and CKA_UNWRAP true", ErrKeyCannotWrap, u.Object, name))
		}
	}
	k.id = keyID(u.Token, u.Object, attrs[2].Value)
	ok = true
	return k, nil
}

// ID returns the KEK ID in lower-case hex, 16 characters: the first 8 bytes of SM3 over the
// token label, the key label and the key's CKA_ID (format.go). It is recorded in every blob
// Wrap writes and is safe to log. It does not change when the module restarts or the token
// serial changes (a key restored into a new token with the same labels keeps its ID).
func (k *KEK) ID() string { return hex.EncodeToString(k.id[:]) }

// String returns "PKCS#11 KEK " + ID() + " (" + the URI without a PIN + ")".
func (k *KEK) String() string { return "PKCS#11 KEK " + k.ID() + " (" + k.uri.String() + ")" }

// Mechanism returns the wrapping mechanism in use.
func (k *KEK) Mechanism() Mechanism { return k.uri.Mechanism }

// Wrap wraps key (1 to MaxKeySize bytes) under the token's key and binds aad. The module
// wraps, with C_WrapKey and the configured mechanism, a session object (CKA_TOKEN false,
// CKK_GENERIC_SECRET, destroyed at once) whose value is
//
//	check (16) ‖ key ‖ 0x80 ‖ 0x00… (to a multiple of 16 bytes)
//	check = SM3("tongban kek/pkcs11 v1 check" ‖ 0x00 ‖ header ‖ len(aad) (4, big-endian) ‖ aad ‖ key)[:16]
//
// and the output is
//
//	header = 0xB1 (WrapVersion) ‖ KEK ID (8)
//	output = header ‖ the bytes C_WrapKey returned
//
// (with aes-key-wrap-pad or aes-key-wrap, 9 + 8 + 16·⌈(len(key)+17)/16⌉ bytes). Errors: key
// size out of range, ErrClosed, or the module's error.
func (k *KEK) Wrap(key, aad []byte) ([]byte, error) {
	if len(key) == 0 || len(key) > MaxKeySize {
		return nil, fmt.Errorf("pkcs11kek: key is %d bytes, want 1 to %d", len(key), MaxKeySize)
	}
	header := k.header()
	plain := innerPlaintext(header, aad, key)
	defer clear(plain)

	k.mu.Lock()
	defer k.mu.Unlock()
	if k.closed {
		return nil, ErrClosed
	}
	ctx := k.mod.ctx
	obj, err := ctx.CreateObject(k.session, []*pkcs11.Attribute{
		pkcs11.NewAttribute(pkcs11.CKA_CLASS, pkcs11.CKO_SECRET_KEY),
		pkcs11.NewAttribute(pkcs11.CKA_KEY_TYPE, pkcs11.CKK_GENERIC_SECRET),
		pkcs11.NewAttribute(pkcs11.CKA_TOKEN, false),
		pkcs11.NewAttribute(pkcs11.CKA_PRIVATE, true),
		pkcs11.NewAttribute(pkcs11.CKA_SENSITIVE, true),
		pkcs11.NewAttribute(pkcs11.CKA_EXTRACTABLE, true),
		pkcs11.NewAttribute(pkcs11.CKA_VALUE, plain),
	})
	if err != nil {
		return nil, fmt.Errorf("pkcs11kek: wrap: C_CreateObject: %w", err)
	}
	defer ctx.DestroyObject(k.session, obj)
	wrapped, err := ctx.WrapKey(k.session, k.mech(), k.key, obj)
	if err != nil {
		return nil, fmt.Errorf("pkcs11kek: wrap: C_WrapKey (%s): %w", k.uri.Mechanism, err)
	}
	return append(header, wrapped...), nil
}

// Unwrap reverses Wrap: the module unwraps into a session object (CKA_TOKEN false,
// CKA_SENSITIVE false, CKA_EXTRACTABLE true), Unwrap reads its CKA_VALUE, destroys it, and
// checks the padding and the check value (in constant time) against aad.
//
// Errors: smcrypto.ErrCiphertextTooShort; smcrypto.ErrWrongKEK when the blob was written by
// smcrypto.KEK (version 0x01) or records another KEK ID; smcrypto.ErrWrongKEK together with
// smcrypto.ErrDecrypt when the module refuses to unwrap (another key with the same ID, or an
// altered blob: the module cannot tell which); smcrypto.ErrDecrypt for an unknown version,
// or when the check value or padding differ (wrong aad, altered blob); ErrClosed; or the
// module's error.
func (k *KEK) Unwrap(wrapped, aad []byte) ([]byte, error) {
	if len(wrapped) < headerSize+blockSize {
		return nil, fmt.Errorf("%w: %d bytes", smcrypto.ErrCiphertextTooShort, len(wrapped))
	}
	header := wrapped[:headerSize]
	switch {
	case header[0] == 0x01:
		id, _ := smcrypto.WrappedKEKID(wrapped)
		return nil, fmt.Errorf("%w: wrapped by the file or environment key-encryption key %s, this is PKCS#11 KEK %s", smcrypto.ErrWrongKEK, id, k.ID())
	case header[0] != WrapVersion:
		return nil, fmt.Errorf("%w: unknown wrap version 0x%02x", smcrypto.ErrDecrypt, header[0])
	case string(header[1:]) != string(k.id[:]):
		return nil, fmt.Errorf("%w: wrapped under KEK %x, this is PKCS#11 KEK %s", smcrypto.ErrWrongKEK, header[1:], k.ID())
	}

	k.mu.Lock()
	defer k.mu.Unlock()
	if k.closed {
		return nil, ErrClosed
	}
	ctx := k.mod.ctx
	obj, err := ctx.UnwrapKey(k.session, k.mech(), k.key, wrapped[headerSize:], []*pkcs11.Attribute{
		pkcs11.NewAttribute(pkcs11.CKA_CLASS, pkcs11.CKO_SECRET_KEY),
		pkcs11.NewAttribute(pkcs11.CKA_KEY_TYPE, pkcs11.CKK_GENERIC_SECRET),
		pkcs11.NewAttribute(pkcs11.CKA_TOKEN, false),
		pkcs11.NewAttribute(pkcs11.CKA_PRIVATE, true),
		pkcs11.NewAttribute(pkcs11.CKA_SENSITIVE, false),
		pkcs11.NewAttribute(pkcs11.CKA_EXTRACTABLE, true),
	})
	if err != nil {
		if refusedUnwrap(err) {
			return nil, fmt.Errorf("%w: %w: the module refused to unwrap with KEK %s (%v): another key under the same labels, or an altered blob", smcrypto.ErrWrongKEK, smcrypto.ErrDecrypt, k.ID(), err)
		}
		return nil, fmt.Errorf("pkcs11kek: unwrap: C_UnwrapKey (%s): %w", k.uri.Mechanism, err)
	}
	defer ctx.DestroyObject(k.session, obj)
	attrs, err := ctx.GetAttributeValue(k.session, obj, []*pkcs11.Attribute{pkcs11.NewAttribute(pkcs11.CKA_VALUE, nil)})
	if err != nil {
		return nil, fmt.Errorf("pkcs11kek: unwrap: read value: %w", err)
	}
	plain := attrs[0].Value
	defer clear(plain)
	key, err := openInner(header, aad, plain)
	if err != nil {
		return nil, err
	}
	return append([]byte(nil), key...), nil
}

// Close logs out (unless another KEK of the process is still logged in to the token), closes
// the session and finalises the module when no other KEK uses it. Later calls do nothing;
// Wrap and Unwrap then return ErrClosed.
func (k *KEK) Close() error {
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.closed {
		return nil
	}
	k.closed = true
	k.mod.logout(k.slot, k.session)
	err := k.mod.ctx.CloseSession(k.session)
	k.mod.release()
	if err != nil {
		return fmt.Errorf("pkcs11kek: C_CloseSession: %w", err)
	}
	return nil
}

func (k *KEK) header() []byte {
	h := make([]byte, headerSize, headerSize+checkSize+MaxKeySize+2*blockSize)
	h[0] = WrapVersion
	copy(h[1:], k.id[:])
	return h
}

func (k *KEK) mech() []*pkcs11.Mechanism {
	return []*pkcs11.Mechanism{pkcs11.NewMechanism(k.uri.Mechanism.Type, nil)}
}

// refusedUnwrap reports whether err is a module's answer to wrapped bytes that do not unwrap
// under the key (as opposed to a failing session). SoftHSM2 2.6 answers CKR_GENERAL_ERROR
// when the integrity check of RFC 3394/5649 fails, so that value counts too; the message
// keeps the module's return value for the rare real general error.
func refusedUnwrap(err error) bool {
	for _, rv := range []uint{
		pkcs11.CKR_GENERAL_ERROR,
		pkcs11.CKR_WRAPPED_KEY_INVALID, pkcs11.CKR_WRAPPED_KEY_LEN_RANGE,
		pkcs11.CKR_ENCRYPTED_DATA_INVALID, pkcs11.CKR_ENCRYPTED_DATA_LEN_RANGE,
		pkcs11.CKR_DATA_INVALID, pkcs11.CKR_DATA_LEN_RANGE,
	} {
		if isRV(err, rv) {
			return true
		}
	}
	return false
}
