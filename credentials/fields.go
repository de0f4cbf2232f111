package credentials

import (
	"fmt"
	"regexp"
	"strings"
)

// FieldSpec documents one kind-specific field of a Licence (Licence.Fields).
type FieldSpec struct {
	// Name is the key in Licence.Fields and in the import format
	// (lowercase snake case, e.g. "birth_date").
	Name string
	// Code is a small stable integer (1–31) naming the field in compact
	// encodings such as QR display profile 2 (docs/formats/qr-payload.md).
	// Codes are never reused within a kind.
	Code int
	// Label is the field's printed Chinese label, e.g. "出生".
	Label string
	// Required fields must be present and non-empty.
	Required bool
	// Rule describes the accepted values, for documentation.
	Rule string

	check func(l *Licence, v string) error
}

// MaxFieldLength is the longest accepted field value, in bytes of UTF-8.
const MaxFieldLength = 256

// FieldSpecs returns the fields defined for kind k, in Code order, or nil
// for an unknown kind. The returned slice must not be modified.
func FieldSpecs(k Kind) []FieldSpec { return fieldSpecs[k] }

// FieldSpecByName returns the field of kind k called name.
func FieldSpecByName(k Kind, name string) (FieldSpec, bool) {
	for _, f := range fieldSpecs[k] {
		if f.Name == name {
			return f, true
		}
	}
	return FieldSpec{}, false
}

// FieldSpecByCode returns the field of kind k with the given Code.
func FieldSpecByCode(k Kind, code int) (FieldSpec, bool) {
	for _, f := range fieldSpecs[k] {
		if f.Code == code {
			return f, true
		}
	}
	return FieldSpec{}, false
}

// Health code colours (Fields["colour"] of a health-code licence).
const (
	ColourGreen  = "green"  // 绿码
	ColourYellow = "yellow" // 黄码
	ColourRed    = "red"    // 红码
)

var (
	drivingClassRe = regexp.MustCompile(`^(A[123]|B[12]|C[1-6]|D|E|F|M|N|P)+$`)
	vinRe          = regexp.MustCompile(`^[A-HJ-NPR-Z0-9]{17}$`)
	digits12Re     = regexp.MustCompile(`^[0-9]{12}$`)
)

func oneOf(values ...string) func(*Licence, string) error {
	return func(_ *Licence, v string) error {
		for _, ok := range values {
			if v == ok {
				return nil
			}
		}
		return fmt.Errorf("must be one of %s", strings.Join(values, ", "))
	}
}

func matches(re *regexp.Regexp, what string) func(*Licence, string) error {
	return func(_ *Licence, v string) error {
		if !re.MatchString(v) {
			return fmt.Errorf("must be %s", what)
		}
		return nil
	}
}

func isDate(_ *Licence, v string) error {
	_, err := ParseDate(v)
	if err != nil {
		return fmt.Errorf("must be a YYYY-MM-DD date")
	}
	return nil
}

// residentIDBirth: the birth date must equal characters 7–14 of the ID number.
func residentIDBirth(l *Licence, v string) error {
	if err := isDate(l, v); err != nil {
		return err
	}
	if len(l.Holder) == 18 && strings.ReplaceAll(v, "-", "") != l.Holder[6:14] {
		return fmt.Errorf("does not match the birth date in the ID number")
	}
	return nil
}

// residentIDSex: the 17th character of the ID number is odd for men, even
// for women (GB 11643-1999 §5.3).
func residentIDSex(l *Licence, v string) error {
	if v != "男" && v != "女" {
		return fmt.Errorf("must be 男 or 女")
	}
	if len(l.Holder) == 18 && l.Holder[16] >= '0' && l.Holder[16] <= '9' {
		male := (l.Holder[16]-'0')%2 == 1
		if male != (v == "男") {
			return fmt.Errorf("does not match the sequence code of the ID number")
		}
	}
	return nil
}

// notAfterValidFrom: a date that cannot be later than the licence's ValidFrom.
func notAfterValidFrom(l *Licence, v string) error {
	d, err := ParseDate(v)
	if err != nil {
		return fmt.Errorf("must be a YYYY-MM-DD date")
	}
	if l.ValidFrom.Valid() && d.After(l.ValidFrom) {
		return fmt.Errorf("is after valid_from")
	}
	return nil
}

var fieldSpecs = map[Kind][]FieldSpec{
	ResidentID: {
		{Name: "sex", Code: 1, Label: "性别", Required: true, Rule: "男 or 女, matching the ID number's sequence code", check: residentIDSex},
		{Name: "ethnicity", Code: 2, Label: "民族", Required: true, Rule: "text, e.g. 汉"},
		{Name: "birth_date", Code: 3, Label: "出生", Required: true, Rule: "YYYY-MM-DD, matching the ID number", check: residentIDBirth},
		{Name: "address", Code: 4, Label: "住址", Required: true, Rule: "text"},
	},
	SocialSecurity: {
		{Name: "region", Code: 1, Label: "参保地", Required: true, Rule: "text, e.g. 北京市"},
		{Name: "bank", Code: 2, Label: "开户银行", Rule: "text"},
	},
	MedicalInsurance: {
		{Name: "region", Code: 1, Label: "参保地", Required: true, Rule: "text"},
		{Name: "insurance_type", Code: 2, Label: "险种类型", Required: true, Rule: "职工基本医疗保险 or 城乡居民基本医疗保险",
			check: oneOf("职工基本医疗保险", "城乡居民基本医疗保险")},
	},
	DrivingLicence: {
		{Name: "class", Code: 1, Label: "准驾车型", Required: true, Rule: "GA/T 947 class codes, e.g. C1 or A2D",
			check: matches(drivingClassRe, "class codes A1–A3, B1–B2, C1–C6, D, E, F, M, N, P")},
		{Name: "first_issue", Code: 2, Label: "初次领证日期", Required: true, Rule: "YYYY-MM-DD, not after valid_from", check: notAfterValidFrom},
		{Name: "file_number", Code: 3, Label: "档案编号", Rule: "12 digits", check: matches(digits12Re, "12 digits")},
	},
	VehicleLicence: {
		{Name: "vehicle_type", Code: 1, Label: "车辆类型", Required: true, Rule: "text, e.g. 小型普通客车"},
		{Name: "vin", Code: 2, Label: "车辆识别代号", Required: true, Rule: "17 characters 0-9 A-Z without I, O, Q (GB 16735)",
			check: matches(vinRe, "17 characters 0-9, A-Z without I, O, Q")},
		{Name: "register_date", Code: 3, Label: "注册日期", Required: true, Rule: "YYYY-MM-DD, not after valid_from", check: notAfterValidFrom},
		{Name: "brand_model", Code: 4, Label: "品牌型号", Rule: "text"},
		{Name: "engine_number", Code: 5, Label: "发动机号码", Rule: "text"},
		{Name: "use_character", Code: 6, Label: "使用性质", Rule: "text, e.g. 非营运"},
	},
	BusinessLicence: {
		{Name: "legal_representative", Code: 1, Label: "法定代表人", Required: true, Rule: "text"},
		{Name: "entity_type", Code: 2, Label: "类型", Required: true, Rule: "text, e.g. 有限责任公司(自然人投资或控股)"},
		{Name: "address", Code: 3, Label: "住所", Required: true, Rule: "text"},
		{Name: "established", Code: 4, Label: "成立日期", Required: true, Rule: "YYYY-MM-DD, not after valid_from", check: notAfterValidFrom},
		{Name: "registered_capital", Code: 5, Label: "注册资本", Rule: "text, e.g. 100万元"},
		{Name: "business_scope", Code: 6, Label: "经营范围", Rule: "text"},
	},
	HealthCode: {
		{Name: "colour", Code: 1, Label: "码色", Required: true, Rule: "green, yellow or red",
			check: oneOf(ColourGreen, ColourYellow, ColourRed)},
	},
	TransitCode: {
		{Name: "city", Code: 1, Label: "城市", Required: true, Rule: "text, e.g. 北京"},
		{Name: "operator", Code: 2, Label: "运营单位", Rule: "text"},
	},
}
