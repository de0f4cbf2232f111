package credentials

import "errors"

// Sentinel errors. Validation and parsing errors wrap one of them (test with
// errors.Is); the wrapped text names the field and the rule that failed and
// never repeats a value, which may be personal data.
var (
	// ErrUnknownKind: a kind name that is not one of the eight Kind constants.
	ErrUnknownKind = errors.New("credentials: unknown licence kind")
	// ErrUnknownStatus: a status that is not valid, suspended, revoked or expired.
	ErrUnknownStatus = errors.New("credentials: unknown licence status")
	// ErrInvalidHolder: the holder is not a valid resident ID number
	// (natural-person kinds) or unified social credit code (business licence),
	// or an agent is not a valid resident ID number.
	ErrInvalidHolder = errors.New("credentials: invalid holder number")
	// ErrInvalidNumber: the licence number does not fit its kind's format
	// (e.g. a resident ID card whose number differs from its holder's).
	ErrInvalidNumber = errors.New("credentials: invalid licence number")
	// ErrMissingField: a required top-level or kind-specific field is absent
	// or empty.
	ErrMissingField = errors.New("credentials: missing field")
	// ErrUnknownField: a kind-specific field the kind does not define, or an
	// unknown key in an import line.
	ErrUnknownField = errors.New("credentials: unknown field")
	// ErrInvalidField: a field whose value breaks its rule (enumeration,
	// date, pattern, length, control characters).
	ErrInvalidField = errors.New("credentials: invalid field value")
	// ErrInvalidDates: malformed dates, ValidUntil before ValidFrom, or no
	// ValidUntil for a kind that cannot be long-term (长期).
	ErrInvalidDates = errors.New("credentials: invalid validity dates")

	// ErrLicenceRevoked: the licence is revoked (吊销/注销); no code may show it.
	ErrLicenceRevoked = errors.New("credentials: licence revoked")
	// ErrLicenceSuspended: the licence is suspended (暂扣/冻结); no code may show it.
	ErrLicenceSuspended = errors.New("credentials: licence suspended")
	// ErrLicenceExpired: the licence is past its ValidUntil date or marked expired.
	ErrLicenceExpired = errors.New("credentials: licence expired")
	// ErrLicenceNotYetValid: the day is before the licence's ValidFrom date.
	ErrLicenceNotYetValid = errors.New("credentials: licence not yet valid")

	// ErrMalformedLine: an import line that is not one JSON object.
	ErrMalformedLine = errors.New("credentials: malformed import line")
	// ErrLineTooLong: an import line longer than MaxLineLength bytes.
	ErrLineTooLong = errors.New("credentials: import line too long")
	// ErrDuplicateLicence: an import line repeats the kind and number of an
	// earlier good line.
	ErrDuplicateLicence = errors.New("credentials: duplicate licence")
)
