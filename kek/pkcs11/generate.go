//go:build cgo

package pkcs11kek

import (
	"encoding/hex"
	"fmt"

	"github.com/miekg/pkcs11"
)

// Generate creates the key-encryption key named by cfg.URI in its token: a secret key with
// CKA_TOKEN, CKA_PRIVATE, CKA_SENSITIVE, CKA_WRAP and CKA_UNWRAP true and CKA_EXTRACTABLE,
// CKA_ENCRYPT and CKA_DECRYPT false, labelled with the URI's object (and its id as CKA_ID),
// generated inside the token by opts (zero value: AES-256). It returns the ID Open will
// report for the key.
//
// Errors wrap: ErrMalformedURI, ErrNoPIN, ErrModule, ErrTokenNotFound,
// ErrMechanismUnsupported (the wrapping mechanism or the key-generation mechanism),
// ErrWrongPIN, ErrPINLocked, ErrKeyExists (a secret key with that label, and id when given,
// is already there: Generate never replaces a key), or the module's error.
func Generate(cfg Config, opts GenerateOptions) (string, error) {
	u, err := ParseURI(cfg.URI)
	if err != nil {
		return "", err
	}
	pin, err := u.readPIN(cfg.PIN)
	if err != nil {
		return "", err
	}
	genMech, keyType, valueLen := opts.KeyGenMechanism, opts.KeyType, opts.ValueLen
	if genMech == 0 {
		genMech = pkcs11.CKM_AES_KEY_GEN
	}
	if keyType == 0 {
		keyType = pkcs11.CKK_AES
	}
	if valueLen == 0 && keyType == pkcs11.CKK_AES {
		valueLen = 32
	}
	mod, err := loadModule(u.ModulePath)
	if err != nil {
		return "", err
	}
	defer mod.release()
	slot, err := mod.findSlot(u.Token, u.Serial)
	if err != nil {
		return "", err
	}
	if err := mod.checkMechanism(slot, u.Mechanism.Type, u.Mechanism.String(), pkcs11.CKF_WRAP|pkcs11.CKF_UNWRAP); err != nil {
		return "", err
	}
	if err := mod.checkMechanism(slot, genMech, fmt.Sprintf("key generation 0x%08x", genMech), pkcs11.CKF_GENERATE); err != nil {
		return "", err
	}
	sh, err := mod.ctx.OpenSession(slot, pkcs11.CKF_SERIAL_SESSION|pkcs11.CKF_RW_SESSION)
	if err != nil {
		return "", fmt.Errorf("pkcs11kek: C_OpenSession: %w", err)
	}
	defer mod.ctx.CloseSession(sh)
	if err := mod.login(slot, sh, pin); err != nil {
		return "", err
	}
	defer mod.logout(slot, sh)
	if _, err := mod.findKey(sh, u.Object, u.ID); err == nil {
		return "", fmt.Errorf("%w: a secret key labelled %q%s is already in token %q", ErrKeyExists, u.Object, idNote(u.ID), u.Token)
	}
	tmpl := []*pkcs11.Attribute{
		pkcs11.NewAttribute(pkcs11.CKA_CLASS, pkcs11.CKO_SECRET_KEY),
		pkcs11.NewAttribute(pkcs11.CKA_KEY_TYPE, keyType),
		pkcs11.NewAttribute(pkcs11.CKA_TOKEN, true),
		pkcs11.NewAttribute(pkcs11.CKA_PRIVATE, true),
		pkcs11.NewAttribute(pkcs11.CKA_SENSITIVE, true),
		pkcs11.NewAttribute(pkcs11.CKA_EXTRACTABLE, false),
		pkcs11.NewAttribute(pkcs11.CKA_WRAP, true),
		pkcs11.NewAttribute(pkcs11.CKA_UNWRAP, true),
		pkcs11.NewAttribute(pkcs11.CKA_ENCRYPT, false),
		pkcs11.NewAttribute(pkcs11.CKA_DECRYPT, false),
		pkcs11.NewAttribute(pkcs11.CKA_LABEL, u.Object),
	}
	if u.ID != nil {
		tmpl = append(tmpl, pkcs11.NewAttribute(pkcs11.CKA_ID, u.ID))
	}
	if valueLen != 0 {
		tmpl = append(tmpl, pkcs11.NewAttribute(pkcs11.CKA_VALUE_LEN, valueLen))
	}
	obj, err := mod.ctx.GenerateKey(sh, []*pkcs11.Mechanism{pkcs11.NewMechanism(genMech, nil)}, tmpl)
	if err != nil {
		return "", fmt.Errorf("pkcs11kek: C_GenerateKey: %w", err)
	}
	attrs, err := mod.ctx.GetAttributeValue(sh, obj, []*pkcs11.Attribute{pkcs11.NewAttribute(pkcs11.CKA_ID, nil)})
	if err != nil {
		return "", fmt.Errorf("pkcs11kek: read CKA_ID: %w", err)
	}
	id := keyID(u.Token, u.Object, attrs[0].Value)
	return hex.EncodeToString(id[:]), nil
}
