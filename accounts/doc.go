// Package accounts holds the people who log in to tongban's identity provider — citizens
// (自然人) and enterprise agents (法人) — their credentials and their administration: person
// registration and validation, TOTP enrolment, and the credential checks a login page makes
// (identifier normalisation, password, TOTP, lockout). It is the home of the authentication
// methods and the self-service still to come (passkeys, recovery codes, password change and
// recovery).
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
// against a dummy hash for unknown identifiers — and ErrLoginLocked past a lockout threshold.
// Attempts are counted per account (the person, whichever identifier was typed, or the blind
// index of an unknown identifier) and failures per client IP address, in storage.Throttle, so
// every replica sees the same counts. A TOTP code (RFC 6238: 6 digits, 30-second steps, one
// step of skew) is accepted once per time step: the step is recorded in storage.Nonces
// (namespace "totp"), so a code seen by someone else cannot be replayed. PurgeFailures deletes
// failures older than the lockout windows.
//
// # Logs and audit
//
// Logs (Config.Logger) carry opaque person IDs, reasons and counts, never names, numbers,
// phone numbers, passwords or codes. storage.Audit receives "person.create" and "person.totp"
// (actor "operator") and "login.failure" (actor the person, detail "bad_credentials"); a
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
