package accounts

import "errors"

// Validation errors of New and of the person administration (CreatePerson). They are returned
// wrapped with a message that says what exactly is wrong; test them with errors.Is. A
// command-line tool maps every one of them except ErrPersonExists to exit status 2 ("wrong
// argument"); any other error is an operational failure.
var (
	// ErrInvalidConfig: a Config field is missing or out of range (New). The message lists
	// every problem found, not only the first.
	ErrInvalidConfig = errors.New("accounts: invalid configuration")

	// ErrInvalidPersonKind: NewPerson.Kind is neither storage.NaturalPerson nor storage.LegalPerson.
	ErrInvalidPersonKind = errors.New("accounts: invalid person kind")
	// ErrInvalidIDNumber: the resident ID number (GB 11643-1999) or unified social credit code
	// (GB 32100-2015) failed validation; the wrapped idnumber error says which rule.
	ErrInvalidIDNumber = errors.New("accounts: invalid identity number")
	// ErrInvalidName: the name is empty, longer than 64 characters or contains control characters.
	ErrInvalidName = errors.New("accounts: invalid name")
	// ErrInvalidPhone: the phone number is not a mainland China mobile number (11 digits
	// starting with 1, optionally prefixed by +86 or 0086).
	ErrInvalidPhone = errors.New("accounts: invalid phone number")
	// ErrInvalidPassword: the password is shorter than 8 or longer than 256 bytes.
	ErrInvalidPassword = errors.New("accounts: invalid password")
	// ErrPersonExists: a person with that ID number or phone number is already registered.
	ErrPersonExists = errors.New("accounts: person already registered")
)

// Results of AuthenticatePassword and of the lockout (CheckAttempt, Guess.Fail) other than
// success. They come wrapped in a *LoginError that carries the wait and the failures left;
// test them with errors.Is. A login page shows one message for ErrLoginFailed whatever the
// cause, so it does not tell whether an identifier is registered.
var (
	// ErrLoginFailed: unknown identifier, disabled person, person without a password, wrong
	// password, or a missing, wrong or already used TOTP code.
	ErrLoginFailed = errors.New("accounts: login failed")
	// ErrLoginThrottled: the account had too many failures from untrusted clients and the
	// attempt came before the wait since the newest was over (Config.AccountLockThreshold,
	// Config.AccountDelay); it was refused before the password was checked and not counted
	// against the account. LoginError.RetryAfter says how long is left.
	ErrLoginThrottled = errors.New("accounts: login throttled")
	// ErrLoginLocked: too many refused attempts from the client address within
	// Config.IPLockWindow (Config.IPLockThreshold); the attempt was refused before any other
	// work. LoginError.RetryAfter says when the oldest of them leaves the window.
	ErrLoginLocked = errors.New("accounts: login locked")
	// ErrLoginDisabled: the password (and second factor, when asked) was right but an operator
	// has disabled the person (Person.Disabled); wrapped in a *LoginError. Said only after the
	// password was proven, so it tells an attacker nothing about who is registered.
	ErrLoginDisabled = errors.New("accounts: account disabled")
)
