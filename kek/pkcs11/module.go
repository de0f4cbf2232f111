//go:build cgo

package pkcs11kek

import (
	"errors"
	"fmt"
	"os"
	"slices"
	"strings"
	"sync"

	"github.com/miekg/pkcs11"
)

// A PKCS#11 module may be initialised once per process, and a token's login state is shared by
// every session of the process. module counts its users so that closing one KEK neither
// finalises the module nor logs out the token under another.
type module struct {
	path   string
	ctx    *pkcs11.Ctx
	refs   int
	logins map[uint]int // slot → users logged in
}

var (
	modulesMu sync.Mutex
	modules   = map[string]*module{}
)

// loadModule loads and initialises the module at path, or returns the one already loaded.
// Errors wrap ErrModule.
func loadModule(path string) (*module, error) {
	modulesMu.Lock()
	defer modulesMu.Unlock()
	if m := modules[path]; m != nil {
		m.refs++
		return m, nil
	}
	if _, err := os.Stat(path); err != nil {
		return nil, fmt.Errorf("%w %s: %v", ErrModule, path, err)
	}
	ctx := pkcs11.New(path)
	if ctx == nil {
		return nil, fmt.Errorf("%w %s: not a loadable PKCS#11 module (dlopen or C_GetFunctionList failed)", ErrModule, path)
	}
	if err := ctx.Initialize(); err != nil && !isRV(err, pkcs11.CKR_CRYPTOKI_ALREADY_INITIALIZED) {
		ctx.Destroy()
		return nil, fmt.Errorf("%w %s: C_Initialize: %v", ErrModule, path, err)
	}
	m := &module{path: path, ctx: ctx, refs: 1, logins: map[uint]int{}}
	modules[path] = m
	return m, nil
}

// release drops one user; the last finalises the module.
func (m *module) release() {
	modulesMu.Lock()
	defer modulesMu.Unlock()
	m.refs--
	if m.refs > 0 {
		return
	}
	_ = m.ctx.Finalize()
	m.ctx.Destroy()
	delete(modules, m.path)
}

// login logs the user into slot through sh, unless another user of the process already did.
// Errors wrap ErrWrongPIN or ErrPINLocked, or carry the module's return value.
func (m *module) login(slot uint, sh pkcs11.SessionHandle, pin string) error {
	modulesMu.Lock()
	defer modulesMu.Unlock()
	err := m.ctx.Login(sh, pkcs11.CKU_USER, pin)
	switch {
	case err == nil, isRV(err, pkcs11.CKR_USER_ALREADY_LOGGED_IN):
		m.logins[slot]++
		return nil
	case isRV(err, pkcs11.CKR_PIN_INCORRECT), isRV(err, pkcs11.CKR_PIN_LEN_RANGE):
		return fmt.Errorf("%w: the token refused the user PIN (%v)", ErrWrongPIN, err)
	case isRV(err, pkcs11.CKR_PIN_LOCKED):
		return fmt.Errorf("%w: the token locked the user PIN after failed logins; its security officer must unlock it", ErrPINLocked)
	}
	return fmt.Errorf("pkcs11kek: C_Login: %w", err)
}

// logout undoes one login; the last logs the token out.
func (m *module) logout(slot uint, sh pkcs11.SessionHandle) {
	modulesMu.Lock()
	defer modulesMu.Unlock()
	m.logins[slot]--
	if m.logins[slot] <= 0 {
		delete(m.logins, slot)
		_ = m.ctx.Logout(sh)
	}
}

// findSlot returns the slot holding the token labelled label (and with that serial, unless
// serial is ""). Errors wrap ErrTokenNotFound and list the labels present.
func (m *module) findSlot(label, serial string) (uint, error) {
	slots, err := m.ctx.GetSlotList(true)
	if err != nil {
		return 0, fmt.Errorf("pkcs11kek: C_GetSlotList: %w", err)
	}
	var found []uint
	var labels []string
	for _, s := range slots {
		info, err := m.ctx.GetTokenInfo(s)
		if err != nil {
			continue
		}
		l := trimPadded(info.Label)
		if info.Flags&pkcs11.CKF_TOKEN_INITIALIZED == 0 {
			continue
		}
		labels = append(labels, fmt.Sprintf("%q (serial %s)", l, trimPadded(info.SerialNumber)))
		if l == label && (serial == "" || trimPadded(info.SerialNumber) == serial) {
			found = append(found, s)
		}
	}
	switch len(found) {
	case 1:
		return found[0], nil
	case 0:
		slices.Sort(labels)
		present := "none"
		if len(labels) > 0 {
			present = strings.Join(labels, ", ")
		}
		return 0, fmt.Errorf("%w: no initialised token labelled %q in %s; tokens present: %s", ErrTokenNotFound, label, m.path, present)
	}
	return 0, fmt.Errorf("%w: %d tokens labelled %q in %s; add serial= to the URI to pick one", ErrTokenNotFound, len(found), label, m.path)
}

// checkMechanism returns an error wrapping ErrMechanismUnsupported unless the token in slot
// offers mech with every flag of need (CKF_WRAP|CKF_UNWRAP, CKF_GENERATE).
func (m *module) checkMechanism(slot uint, mech uint, name string, need uint) error {
	info, err := m.ctx.GetMechanismInfo(slot, []*pkcs11.Mechanism{pkcs11.NewMechanism(mech, nil)})
	if err != nil {
		return fmt.Errorf("%w: %s (0x%08x): %v", ErrMechanismUnsupported, name, mech, err)
	}
	if info.Flags&need != need {
		return fmt.Errorf("%w: the token offers %s (0x%08x) but not for this use (flags 0x%x, need 0x%x)", ErrMechanismUnsupported, name, mech, info.Flags, need)
	}
	return nil
}

// findKey returns the one secret key labelled object (with CKA_ID id, unless id is nil)
// visible in session sh. Errors wrap ErrKeyNotFound.
func (m *module) findKey(sh pkcs11.SessionHandle, object string, id []byte) (pkcs11.ObjectHandle, error) {
	tmpl := []*pkcs11.Attribute{
		pkcs11.NewAttribute(pkcs11.CKA_CLASS, pkcs11.CKO_SECRET_KEY),
		pkcs11.NewAttribute(pkcs11.CKA_LABEL, object),
	}
	if id != nil {
		tmpl = append(tmpl, pkcs11.NewAttribute(pkcs11.CKA_ID, id))
	}
	if err := m.ctx.FindObjectsInit(sh, tmpl); err != nil {
		return 0, fmt.Errorf("pkcs11kek: C_FindObjectsInit: %w", err)
	}
	objs, _, err := m.ctx.FindObjects(sh, 2)
	if ferr := m.ctx.FindObjectsFinal(sh); err == nil {
		err = ferr
	}
	if err != nil {
		return 0, fmt.Errorf("pkcs11kek: C_FindObjects: %w", err)
	}
	switch len(objs) {
	case 1:
		return objs[0], nil
	case 0:
		return 0, fmt.Errorf("%w: no secret key labelled %q%s in the token (create one with `idp kek pkcs11-generate`)", ErrKeyNotFound, object, idNote(id))
	}
	return 0, fmt.Errorf("%w: more than one secret key labelled %q%s; add id= to the URI", ErrKeyNotFound, object, idNote(id))
}

func idNote(id []byte) string {
	if id == nil {
		return ""
	}
	return fmt.Sprintf(" with id %x", id)
}

// trimPadded removes the blank (and NUL) padding of CK_TOKEN_INFO text fields.
func trimPadded(s string) string { return strings.TrimRight(s, " \x00") }

// isRV reports whether err is the PKCS#11 return value rv.
func isRV(err error, rv uint) bool {
	var e pkcs11.Error
	return errors.As(err, &e) && uint(e) == rv
}
