package storage

import (
	"context"
	"time"
)

// OTP device algorithms (OTPDevice.Algorithm).
const (
	// OTPAlgTOTP is RFC 6238 TOTP with HMAC-SHA-1, 6 digits and 30-second steps: what
	// authenticator apps implement.
	OTPAlgTOTP = "totp"
	// OTPAlgSM3 is the SM3-based one-time password of GM/T 0021-2012 (package
	// sm-crypto/sm3otp), time factor only, 6 digits and 60-second periods.
	OTPAlgSM3 = "sm3-otp"
)

// OTPDevice is one one-time-password generator of a person (an authenticator app or a
// hardware token). Its secret is sealed by the caller (keyring.SealField, with an AAD that
// names the person and the device); storage only moves the bytes.
type OTPDevice struct {
	ID           string // opaque, random
	PersonID     string // the person it belongs to (people.id; deleted with the person)
	Name         string // chosen by the person, e.g. "我的手机"
	Algorithm    string // OTPAlgTOTP or OTPAlgSM3
	SecretSealed []byte // the sealed secret
	// Confirmed is set once the person has typed a correct code after enrolment; an
	// unconfirmed device logs nobody in and is deleted after a while
	// (DeleteUnconfirmedOTPDevices).
	Confirmed bool
	// LastUsedStep is the time step (Unix time / period) of the last code accepted from the
	// device; 0 when none was.
	LastUsedStep int64
	CreatedAt    time.Time
}

// OTPDevices stores the OTP devices and the recovery codes of people.
type OTPDevices interface {
	// CreateOTPDevice inserts d. ErrConflict when the ID exists; ErrNotFound when the person
	// does not exist.
	CreateOTPDevice(ctx context.Context, d OTPDevice) error
	// GetOTPDevice returns the device or ErrNotFound.
	GetOTPDevice(ctx context.Context, id string) (OTPDevice, error)
	// ListOTPDevices returns the person's devices, confirmed or not, ordered by CreatedAt then
	// ID; none is an empty list.
	ListOTPDevices(ctx context.Context, personID string) ([]OTPDevice, error)
	// UpdateOTPDevice reads the device, applies fn and writes the result in one transaction;
	// fn must not change ID or PersonID. ErrNotFound when missing; fn's error is returned as
	// is and nothing is written.
	UpdateOTPDevice(ctx context.Context, id string, fn func(*OTPDevice) error) error
	// DeleteOTPDevice removes the device; ErrNotFound when missing.
	DeleteOTPDevice(ctx context.Context, id string) error
	// DeleteUnconfirmedOTPDevices removes the unconfirmed devices created before t and
	// returns how many.
	DeleteUnconfirmedOTPDevices(ctx context.Context, before time.Time) (int64, error)

	// SetRecoveryCodes replaces every recovery code of the person with hashes (each a keyed
	// hash of one code, at most 64 bytes), all unused, created at at. Duplicate hashes are
	// ErrConflict and nothing changes; a missing person is ErrNotFound.
	SetRecoveryCodes(ctx context.Context, personID string, hashes [][]byte, at time.Time) error
	// UseRecoveryCode marks the person's unused code with that hash as used at at. A code
	// used before is ErrAlreadyUsed, an unknown one ErrNotFound. Atomic: of concurrent calls
	// for one code exactly one returns nil.
	UseRecoveryCode(ctx context.Context, personID string, hash []byte, at time.Time) error
	// CountRecoveryCodes returns how many of the person's codes are unused.
	CountRecoveryCodes(ctx context.Context, personID string) (int, error)
	// DeleteRecoveryCodes removes every recovery code of the person; returns how many.
	DeleteRecoveryCodes(ctx context.Context, personID string) (int64, error)
}
