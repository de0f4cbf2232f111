package credentials

import "fmt"

// Kind names a kind of licence. The string values are the names used on the
// command line, in the API and in the import format.
type Kind string

// The licence kinds.
const (
	ResidentID       Kind = "resident-id"       // 居民身份证
	SocialSecurity   Kind = "social-security"   // 社会保障卡
	MedicalInsurance Kind = "medical-insurance" // 医保电子凭证
	DrivingLicence   Kind = "driving-licence"   // 机动车驾驶证
	VehicleLicence   Kind = "vehicle-licence"   // 机动车行驶证
	BusinessLicence  Kind = "business-licence"  // 营业执照
	HealthCode       Kind = "health-code"       // 健康码
	TransitCode      Kind = "transit-code"      // 乘车码
)

// Kinds lists every kind in a fixed order (the order of the constants).
var Kinds = []Kind{
	ResidentID, SocialSecurity, MedicalInsurance, DrivingLicence,
	VehicleLicence, BusinessLicence, HealthCode, TransitCode,
}

// HolderType says whether a kind is held by a natural or a legal person.
type HolderType int

const (
	// NaturalPerson (自然人): the holder is a resident ID number (GB 11643-1999).
	NaturalPerson HolderType = iota + 1
	// LegalPerson (法人): the holder is a unified social credit code (GB 32100-2015).
	LegalPerson
)

func (h HolderType) String() string {
	switch h {
	case NaturalPerson:
		return "natural-person"
	case LegalPerson:
		return "legal-person"
	}
	return fmt.Sprintf("HolderType(%d)", int(h))
}

// ParseKind returns the Kind named s (exact, lowercase, e.g. "resident-id"),
// or ErrUnknownKind.
func ParseKind(s string) (Kind, error) {
	k := Kind(s)
	if !k.Valid() {
		return "", fmt.Errorf("%w: %q", ErrUnknownKind, s)
	}
	return k, nil
}

// Valid reports whether k is one of the eight kinds.
func (k Kind) Valid() bool {
	_, ok := kindInfo[k]
	return ok
}

// ChineseName returns the kind's official Chinese name, e.g. "居民身份证",
// or "" for an unknown kind.
func (k Kind) ChineseName() string { return kindInfo[k].chinese }

// EnglishName returns the kind's English name, e.g. "Resident ID card", or "" for an
// unknown kind.
func (k Kind) EnglishName() string { return kindInfo[k].english }

// HolderType returns who holds licences of this kind; 0 for an unknown kind.
func (k Kind) HolderType() HolderType { return kindInfo[k].holder }

// LongTermAllowed reports whether a licence of this kind may have no
// ValidUntil (长期). Health codes and vehicle licences always expire.
func (k Kind) LongTermAllowed() bool { return kindInfo[k].longTerm }

func (k Kind) String() string { return string(k) }

type kindMeta struct {
	chinese  string
	holder   HolderType
	longTerm bool
	english  string
}

var kindInfo = map[Kind]kindMeta{
	ResidentID:       {"居民身份证", NaturalPerson, true, "Resident ID card"},
	SocialSecurity:   {"社会保障卡", NaturalPerson, true, "Social security card"},
	MedicalInsurance: {"医保电子凭证", NaturalPerson, true, "Medical insurance e-voucher"},
	DrivingLicence:   {"机动车驾驶证", NaturalPerson, true, "Driving licence"},
	VehicleLicence:   {"机动车行驶证", NaturalPerson, false, "Vehicle licence"},
	BusinessLicence:  {"营业执照", LegalPerson, true, "Business licence"},
	HealthCode:       {"健康码", NaturalPerson, false, "Health code"},
	TransitCode:      {"乘车码", NaturalPerson, true, "Transit code"},
}
