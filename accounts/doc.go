// Package accounts holds the people who log in to tongban's identity provider — citizens
// (自然人) and enterprise agents (法人) — their credentials and their administration: person
// registration and validation, TOTP enrolment, and the credential checks a login page makes
// (identifier normalisation, password, TOTP) and the lockout every login method shares
// (CheckAttempt). It is the home of the authentication methods and the self-service still to
// come (passkeys, recovery codes, password change and recovery).
//
// It knows nothing of HTTP or OAuth: package oidc renders the login page, calls
// AuthenticatePassword with what was typed and turns the result into an SSO session, an acr
// and an amr. accounts imports neither net/http nor fosite.
//
// # Using it
//
//	svc, err := accounts.New(accounts.Config{
//		Store:          store,          // a storage.Storage
//		Keyring:        kr,
//		PasswordParams: smcrypto.DefaultPasswordParams,
//	})
//	p, err := svc.CreatePerson(ctx, accounts.NewPerson{IDNumber: "11010519491231002X",
//		Name: "张三", Password: pw})
//	uri, err := svc.EnrollTOTP(ctx, p.ID)   // otpauth://totp/…, shown to the person once
//	a, err := svc.AuthenticatePassword(ctx, accounts.PasswordLogin{
//		Identifier: "13800138000", Password: pw, ClientIP: "203.0.113.7"})
//
// oidc.NewServer builds its own Service from oidc.Config (the same password parameters and
// lockout settings); `idp people add` builds one on the operator's storage. A Service keeps
// no state outside storage, so any number of them, in any number of replicas, may work on
// one database.
//
// # People
//
// CreatePerson validates every field and reports every problem at once (errors.Join of the
// Err* sentinels; errors.Is). Resident ID numbers (GB 11643-1999) and unified social credit
// codes (GB 32100-2015) are checked by package idnumber, whose error names the failed rule.
//
// Stored data conventions: the ID number, phone number and TOTP secret are sealed with
// keyring.SealField (SM4-GCM) under the additional data "person/<person ID>/id_number",
// ".../phone" and ".../otp", binding each ciphertext to its row and column; IDNumber and
// PhoneNumber open the first two. Person.IDNumberIndex is keyring.BlindIndex of the normalised
// number (upper-case, ASCII), Person.PhoneIndex of the 11 digits (NormalizeIdentifier gives
// both forms). Person IDs are 128 random bits, base64url (22 characters): opaque, stable, and
// the OIDC "sub" of public-subject clients. Passwords are PBKDF2-HMAC-SM3 hash strings
// (smcrypto.HashPassword) made with Config.PasswordParams.
//
// # Login checks
//
// AuthenticatePassword looks like this from outside: ErrLoginFailed for an unknown identifier,
// a disabled person, a wrong password or a wrong TOTP code alike — with the same PBKDF2 work,
// against a dummy hash for unknown identifiers. A TOTP code (RFC 6238: 6 digits, 30-second
// steps, one step of skew) is accepted once per time step: the step is recorded in
// storage.Nonces (namespace "totp"), so a code seen by someone else cannot be replayed.
//
// # Lockout
//
// Brute force is slowed without letting anyone lock the owner out (OWASP, "Slow Down Online
// Guessing Attacks with Device Cookies"). Counters live in storage.Throttle, so every replica
// sees the same counts:
//
//   - A device that logged in to the person before — a valid device cookie, which the
//     caller checks and hands over as a Device — is judged by its own failures
//     ("login-device:"+ID): failures from elsewhere do not touch it, nor does the lock of its
//     address. After Config.DeviceLockThreshold failures within Config.AccountLockWindow its
//     cookie is ignored and it is an untrusted client like any other.
//   - Failures from untrusted clients count against the account ("login-person:"+person ID
//     whichever identifier was typed; "login:"+hex blind index for an identifier nobody has,
//     so unknown identifiers look exactly like known ones). Past Config.AccountLockThreshold
//     of them each further untrusted attempt must wait — Config.AccountDelay (1 s), doubling
//     per failure, up to Config.AccountMaxDelay (15 min) — from the newest failure
//     (Service.Delay). An attempt before the wait is over is refused with ErrLoginThrottled
//     and the time left, without checking anything and without counting against the account.
//     LoginError.Remaining warns of the failures left before a wait.
//   - Every refused attempt — failed or paused — counts against its source address
//     ("login-ip:"+address); at Config.IPLockThreshold within Config.IPLockWindow untrusted
//     attempts from that address are refused (ErrLoginLocked) before any other work.
//   - An attempt let through is counted before its secret is checked and cleared on success,
//     so concurrent guesses cannot slip past a threshold; a success of a trusted device
//     clears only the device's counter.
//
// Other login methods use the same counters where a wrong answer is a guess — a TOTP or
// recovery code, a passkey assertion, a device user code:
//
//	g, err := svc.CheckAttempt(ctx, accounts.Attempt{PersonID: id, ClientIP: ip,
//		Device: dev, ClientID: clientID, Method: "otp"})
//	if err != nil {
//		return err // *LoginError: ErrLoginThrottled or ErrLoginLocked, RetryAfter
//	}
//	if !codeIsRight {
//		return g.Fail(ctx) // *LoginError wrapping ErrLoginFailed: Remaining, RetryAfter
//	}
//	g.Succeed(ctx)
//
// Lockouts (a wait starting or growing, a device no longer trusted, an address locked) are
// logged at WARN with the client ID, the source address and the opaque person ID, and a wait
// starting or a device losing trust is audited as "login.lockout" (detail "untrusted_paused"
// or "device_untrusted"). PurgeFailures deletes failures older than the lockout windows.
//
// # Logs and audit
//
// Logs (Config.Logger) carry opaque person IDs, client IDs, source addresses, reasons and
// counts, never names, numbers, phone numbers, passwords or codes. storage.Audit receives
// "person.create" and "person.totp" (actor "operator"), "login.failure" (actor the person,
// detail "bad_credentials") and "login.lockout" (see Lockout); a
// successful login is audited by the caller, which knows the client and the session it
// starts.
//
// # One-time passwords and recovery codes
//
// A person enrols their own OTP devices (otp.go): BeginOTPEnrolment makes a pending device —
// TOTP (RFC 6238) or SM3-OTP (GM/T 0021-2012, package sm-crypto/sm3otp) — with a sealed secret
// ("person/<ID>/otp/<device ID>"); ConfirmOTPDevice, with a code from it within
// OTPEnrolmentTTL, makes it count, and the first one brings RecoveryCodeCount single-use
// recovery codes (recovery.go, stored as HMAC-SM3). With PasswordLogin.WantMFA a code of any
// confirmed device (each time step once, storage.Nonces namespace "otp") or an unused recovery
// code is the second factor. The secret set by EnrollTOTP is listed and checked as the device
// LegacyOTPDeviceID. Audited: "otp.enrol", "otp.enrol_failed", "otp.remove",
// "otp.recovery_codes", "otp.recovery_use", "otp.recovery_reuse" (actor the person).
package accounts
