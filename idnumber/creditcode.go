package idnumber

import (
	"fmt"
	"strings"
	"unicode/utf8"
)

// CreditCodeLength is the length of a unified social credit code, GB 32100-2015.
const CreditCodeLength = 18

// creditCharset is the code character set of GB 32100-2015 in value order: digits, then the
// uppercase letters without I, O, S, V and Z (31 characters, values 0 to 30).
const creditCharset = "0123456789ABCDEFGHJKLMNPQRTUWXY"

// creditWeights are 3^(i-1) mod 31 for characters i = 1 to 17 (GB 32100-2015 §4.3).
var creditWeights = [17]int{1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28}

// orgWeights are the weights of the 8 body characters of an organisation code (GB 11714-1997).
var orgWeights = [8]int{3, 7, 9, 10, 5, 8, 4, 2}

// organisationTypes maps each registration authority code (character 1 of a credit code) to
// the organisation type codes (character 2) it assigns: GB 32100-2015 Table 1 with the
// authorities added since. A new assignment is one line here.
var organisationTypes = map[byte]string{
	'1': "1239",   // 机构编制: 机关, 事业单位, 中央编办直接管理机构编制的群众团体, 其他
	'2': "19",     // 外交: 外国常驻新闻机构, 其他
	'3': "123459", // 司法行政: 律师执业机构, 公证处, 基层法律服务所, 司法鉴定机构, 仲裁委员会, 其他
	'4': "19",     // 文化: 外国在华文化中心, 其他
	'5': "1239",   // 民政: 社会团体, 民办非企业单位, 基金会, 其他
	'6': "129",    // 旅游: 外国旅游部门常驻代表机构, 港澳台地区旅游部门常驻内地代表机构, 其他
	'7': "129",    // 宗教: 宗教活动场所, 宗教院校, 其他
	'8': "19",     // 工会: 基层工会, 其他
	'9': "123",    // 工商 (市场监督管理): 企业, 个体工商户, 农民专业合作社
	'A': "19",     // 中央军委改革和编制办公室: 军队事业单位, 其他
	'N': "1239",   // 农业: 组级, 村级, 乡镇级集体经济组织, 其他
	'Y': "1",      // 其他
}

// CreditCodeCheckChar returns the check character of a unified social credit code whose first
// 17 characters are first17: C18 = 31 − (Σ value(Ci) × 3^(i−1) mod 31) mod 31, written in the
// code character set, value 31 written 0 (GB 32100-2015 §4.3, after GB/T 17710). ErrLength or
// ErrCharacter when first17 is not 17 characters of that set.
func CreditCodeCheckChar(first17 string) (byte, error) {
	if len(first17) != CreditCodeLength-1 {
		return 0, fmt.Errorf("%w: %d characters before the check character, want 17", ErrLength, utf8.RuneCountInString(first17))
	}
	sum := 0
	for i := range CreditCodeLength - 1 {
		v := strings.IndexByte(creditCharset, first17[i])
		if v < 0 {
			return 0, fmt.Errorf("%w: character %d is not one of 0-9 A-H J-N P-R T U W-Y", ErrCharacter, i+1)
		}
		sum += v * creditWeights[i]
	}
	return creditCharset[(31-sum%31)%31], nil
}

// OrganisationCodeCheckChar returns the check character of an organisation code (GB
// 11714-1997) whose 8 body characters are body: C9 = 11 − (Σ value(Ci) × Wi mod 11) with
// W = 3, 7, 9, 10, 5, 8, 4, 2, digits worth 0-9 and letters A-Z worth 10-35; 10 is written X
// and 11 is written 0. ErrLength or ErrCharacter when body is not 8 digits or uppercase letters.
func OrganisationCodeCheckChar(body string) (byte, error) {
	if len(body) != 8 {
		return 0, fmt.Errorf("%w: organisation code body has %d characters, want 8", ErrLength, utf8.RuneCountInString(body))
	}
	sum := 0
	for i := range 8 {
		c := body[i]
		var v int
		switch {
		case c >= '0' && c <= '9':
			v = int(c - '0')
		case c >= 'A' && c <= 'Z':
			v = int(c-'A') + 10
		default:
			return 0, fmt.Errorf("%w: organisation code character %d must be a digit or an uppercase letter", ErrCharacter, i+1)
		}
		sum += v * orgWeights[i]
	}
	switch c := 11 - sum%11; c {
	case 10:
		return 'X', nil
	case 11:
		return '0', nil
	default:
		return byte('0' + c), nil
	}
}

// ValidateCreditCode reports whether s is a valid unified social credit code (GB 32100-2015).
// The rules, checked in this order, each with its own error:
//
//  1. ErrLength: 18 characters.
//  2. ErrCharacter: every character is one of 0-9 A-H J-N P-R T U W-Y (no I, O, S, V, Z).
//  3. ErrAuthority: character 1 is an assigned registration authority code and character 2
//     a type code that authority assigns: GB 32100-2015 Table 1 and the authorities
//     added since (2 外交, 3 司法行政, 4 文化, 6 旅游, 7 宗教, 8 工会, A 军队, N 农业).
//  4. ErrRegion: characters 3-8 are digits whose first two are a province-level code (as for
//     resident identity numbers) or 10 (national registration: 100000).
//  5. ErrChecksum (a *ChecksumError): character 18 is the mod-31 check character.
//  6. ErrOrgCode (a *ChecksumError): characters 9-17, the organisation code, end in their own
//     GB 11714-1997 check character.
//
// A few codes issued in early pilot regions before the standard do not satisfy it and are
// rejected. s must already be in canonical form (uppercase); see NormalizeCreditCode.
func ValidateCreditCode(s string) error {
	if err := checkLength(s); err != nil {
		return err
	}
	for i := range CreditCodeLength {
		if strings.IndexByte(creditCharset, s[i]) < 0 {
			return fmt.Errorf("%w: character %d is not one of 0-9 A-H J-N P-R T U W-Y", ErrCharacter, i+1)
		}
	}
	types, ok := organisationTypes[s[0]]
	if !ok {
		return fmt.Errorf("%w: %c is not a registration authority code", ErrAuthority, s[0])
	}
	if strings.IndexByte(types, s[1]) < 0 {
		return fmt.Errorf("%w: %c is not an organisation type of registration authority %c", ErrAuthority, s[1], s[0])
	}
	region := s[2:8]
	if !isDigits(region) {
		return fmt.Errorf("%w: characters 3-8 must be digits", ErrRegion)
	}
	if !provinces[region[:2]] && region != "100000" {
		return fmt.Errorf("%w: %s is not a province-level code", ErrRegion, region[:2])
	}
	want, _ := CreditCodeCheckChar(s[:17]) // charset checked above
	if s[17] != want {
		return &ChecksumError{Got: s[17], Want: want}
	}
	want, _ = OrganisationCodeCheckChar(s[8:16]) // charset ⊂ digits and uppercase letters
	if s[16] != want {
		return &ChecksumError{Got: s[16], Want: want, orgCode: true}
	}
	return nil
}

// NormalizeCreditCode returns s in the canonical form ValidateCreditCode accepts: spaces
// (ASCII and ideographic) removed, full-width characters turned into ASCII, letters made
// uppercase. It does not validate.
func NormalizeCreditCode(s string) string {
	return normalize(s)
}
