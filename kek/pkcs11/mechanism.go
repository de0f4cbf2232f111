package pkcs11kek

import (
	"fmt"
	"strconv"
	"strings"
)

// PKCS#11 mechanism numbers used here (PKCS#11 v2.40 and 3.x, pkcs11t.h).
const (
	ckmAESKeyWrap    = 0x00002109 // CKM_AES_KEY_WRAP: RFC 3394
	ckmAESKeyWrapPad = 0x0000210A // CKM_AES_KEY_WRAP_PAD: RFC 5649 in SoftHSM2 (see Mechanism)
	ckmVendorDefined = 0x80000000 // CKM_VENDOR_DEFINED
)

// Mechanism is the PKCS#11 mechanism that wraps keys with the key-encryption key, with no
// parameter.
//
//   - "aes-key-wrap-pad" (DefaultMechanism): CKM_AES_KEY_WRAP_PAD, 0x210A. SoftHSM2 implements
//     it as AES Key Wrap with Padding (RFC 5649); PKCS#11 3.1 names that CKM_AES_KEY_WRAP_KWP
//     (0x210B) and gives 0x210A to a PKCS#7-padded variant, so on another module check which
//     one 0x210A is before relying on it. The tests use it on SoftHSM2.
//   - "aes-key-wrap": CKM_AES_KEY_WRAP, 0x2109, AES Key Wrap (RFC 3394).
//   - "0x8000xxxx": a vendor-defined mechanism (CKM_VENDOR_DEFINED and up), for the SM4
//     mechanism of a Chinese 密码机. PKCS#11 up to 3.1 defines no SM4 mechanism, and vendors
//     number theirs differently (CKM_VENDOR_DEFINED+41 for SM4-ECB in some, +0xA100 in
//     others), so take the number of the vendor's parameterless SM4 wrapping mechanism (an ECB
//     or key-wrap mode; a CBC mode needs an IV, which this package does not pass) from the
//     vendor's pkcs11 header or manual. Integrity then comes from the check value inside the
//     wrapped bytes (see KEK.Wrap), not from the mechanism.
type Mechanism struct {
	Type uint   // CKM_* number
	Name string // "aes-key-wrap-pad", "aes-key-wrap", or "" for a vendor number
}

// DefaultMechanism is aes-key-wrap-pad.
var DefaultMechanism = Mechanism{Type: ckmAESKeyWrapPad, Name: "aes-key-wrap-pad"}

// ParseMechanism parses a mechanism name or a vendor number in hexadecimal with "0x" (see
// Mechanism). Errors: unknown names, numbers below 0x80000000 (standard mechanisms go by
// name) or above 0xffffffff.
func ParseMechanism(s string) (Mechanism, error) {
	switch s {
	case "aes-key-wrap-pad":
		return DefaultMechanism, nil
	case "aes-key-wrap":
		return Mechanism{Type: ckmAESKeyWrap, Name: s}, nil
	}
	hex, ok := strings.CutPrefix(strings.ToLower(s), "0x")
	if !ok {
		return Mechanism{}, fmt.Errorf("mechanism %q: want aes-key-wrap-pad, aes-key-wrap or a vendor number 0x8000xxxx", s)
	}
	n, err := strconv.ParseUint(hex, 16, 32)
	if err != nil || n < ckmVendorDefined {
		return Mechanism{}, fmt.Errorf("mechanism %q: a vendor mechanism is a hexadecimal number from 0x80000000 to 0xffffffff", s)
	}
	return Mechanism{Type: uint(n)}, nil
}

// String returns the name, or the vendor number as 0x%08x.
func (m Mechanism) String() string {
	if m.Name != "" {
		return m.Name
	}
	return fmt.Sprintf("0x%08x", m.Type)
}

// IsVendor reports whether m is a vendor-defined mechanism.
func (m Mechanism) IsVendor() bool { return m.Type >= ckmVendorDefined }
