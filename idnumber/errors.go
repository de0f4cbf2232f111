package idnumber

import (
	"errors"
	"fmt"
)

// Sentinel errors, one per rule. The functions of this package wrap them with detail; test
// with errors.Is.
var (
	// ErrLength: the number is not 18 characters long.
	ErrLength = errors.New("idnumber: wrong length")
	// ErrCharacter: a character is outside the set its position allows.
	ErrCharacter = errors.New("idnumber: invalid character")
	// ErrRegion: the administrative region code names no province-level region.
	ErrRegion = errors.New("idnumber: invalid region code")
	// ErrBirthDate: the birth date is not a calendar date, is before 1900-01-01 or is in the
	// future.
	ErrBirthDate = errors.New("idnumber: invalid birth date")
	// ErrChecksum: the check character does not match the rest of the number. The error is a
	// *ChecksumError.
	ErrChecksum = errors.New("idnumber: wrong check character")
	// ErrOrgCode: the organisation code inside a unified social credit code (characters 9 to
	// 17, GB 11714-1997) has a wrong check character. The error is a *ChecksumError.
	ErrOrgCode = errors.New("idnumber: invalid organisation code")
	// ErrAuthority: the registration authority code (character 1) or the organisation type
	// code (character 2) of a unified social credit code is not assigned.
	ErrAuthority = errors.New("idnumber: invalid registration authority or organisation type")
)

// ChecksumError reports a wrong check character. It wraps ErrChecksum, or ErrOrgCode for the
// check character of the organisation code inside a credit code.
type ChecksumError struct {
	Got, Want byte // the check character found and the one the rest of the number gives
	orgCode   bool
}

func (e *ChecksumError) Error() string {
	if e.orgCode {
		return fmt.Sprintf("idnumber: organisation code check character is %c, want %c", e.Got, e.Want)
	}
	return fmt.Sprintf("idnumber: check character is %c, want %c", e.Got, e.Want)
}

// Unwrap returns ErrChecksum or ErrOrgCode.
func (e *ChecksumError) Unwrap() error {
	if e.orgCode {
		return ErrOrgCode
	}
	return ErrChecksum
}
