// Package idnumber validates the two numbers that identify people in tongban (DESIGN §2) and
// masks them, and names, for display:
//
//   - the citizen identification number (公民身份号码) of a resident identity card, GB 11643-1999:
//     18 characters, a region code, a birth date, a sequence code whose parity gives the sex,
//     and an ISO 7064 MOD 11-2 check character;
//   - the unified social credit code (统一社会信用代码) of a legal person or other organisation,
//     GB 32100-2015: 18 characters of a 31-character set, with its own mod-31 check character
//     and, inside it, an organisation code (GB 11714-1997) with another check character.
//
// Validation is strict: the Validate functions accept only the canonical form (uppercase X,
// ASCII digits, no spaces), so that the blind index computed over a valid number is the same
// however the person typed it. Run user input through NormalizeResidentID or
// NormalizeCreditCode first.
//
// Each rule that fails has its own sentinel error (ErrLength, ErrCharacter, ErrRegion,
// ErrBirthDate, ErrChecksum, ErrOrgCode, ErrAuthority); test with errors.Is. Messages say which
// rule failed and never repeat the number (at most a province code or a check character),
// for it is personal data and must stay out of logs.
//
// This package depends on nothing else of tongban's: the offline credentials library, the
// identity provider and the wallet all use it.
package idnumber
