package accounts

import (
	"context"
	"crypto/rand"
	"encoding/base32"
	"errors"
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/pquerna/otp"
	"github.com/pquerna/otp/totp"

	"github.com/tongban/tongban/internal/textcheck"
	"github.com/tongban/tongban/sm-crypto/sm3otp"
	"github.com/tongban/tongban/storage"
)

// A person's OTP devices (storage.OTPDevices) are their second factor besides the legacy
// secret an operator set with EnrollTOTP (Person.OTPSecretSealed), which is listed and
// checked as the device LegacyOTPDeviceID. A device is enrolled by the person on the account
// page: BeginOTPEnrolment makes an unconfirmed device and the otpauth:// URI to scan;
// ConfirmOTPDevice, with a correct code from it within OTPEnrolmentTTL, makes it usable. The
// first confirmed device brings ten recovery codes (recovery.go).

// Limits of OTP enrolment.
const (
	// OTPEnrolmentTTL is how long an unconfirmed device may be confirmed; after it the device
	// is refused and PurgeOTPEnrolments deletes it.
	OTPEnrolmentTTL = 10 * time.Minute
	// MaxOTPDevices is the most devices, confirmed or pending, a person may have.
	MaxOTPDevices = 5
	// MaxOTPNameLen is the longest device name, in characters.
	MaxOTPNameLen = 32
	// maxConfirmAttempts is the number of wrong confirming codes after which a pending device
	// is deleted (the person starts again with a new secret).
	maxConfirmAttempts = 5
	// otpSecretSize is the size of a new device secret: 160 bits (RFC 4226 §4 R6).
	otpSecretSize = 20
)

// LegacyOTPDeviceID is the device ID of the TOTP secret set by an operator (EnrollTOTP,
// Person.OTPSecretSealed) in ListOTPDevices and RemoveOTPDevice.
const LegacyOTPDeviceID = "legacy"

// Errors of OTP enrolment and device management; test with errors.Is.
var (
	// ErrInvalidOTPName: the device name is empty, longer than MaxOTPNameLen characters or
	// has control characters.
	ErrInvalidOTPName = errors.New("accounts: invalid OTP device name")
	// ErrInvalidOTPAlgorithm: neither storage.OTPAlgTOTP nor storage.OTPAlgSM3.
	ErrInvalidOTPAlgorithm = errors.New("accounts: unknown OTP algorithm")
	// ErrTooManyOTPDevices: the person has MaxOTPDevices devices already.
	ErrTooManyOTPDevices = errors.New("accounts: too many OTP devices")
	// ErrOTPDeviceNotFound: no such device of this person (another person's is not found
	// either).
	ErrOTPDeviceNotFound = errors.New("accounts: no such OTP device")
	// ErrOTPEnrolmentExpired: the device was confirmed already, OTPEnrolmentTTL has passed,
	// or too many wrong codes were typed; the person enrols again.
	ErrOTPEnrolmentExpired = errors.New("accounts: OTP enrolment expired")
	// ErrOTPCodeWrong: the confirming code is not the device's current code (or was used).
	ErrOTPCodeWrong = errors.New("accounts: wrong OTP code")
	// ErrNoSecondFactor: the person has no confirmed OTP device, so recovery codes cannot
	// be made.
	ErrNoSecondFactor = errors.New("accounts: no OTP device enrolled")
)

// OTPEnrolment is a pending device as the enrolment page shows it.
type OTPEnrolment struct {
	DeviceID  string
	Name      string
	Algorithm string // storage.OTPAlgTOTP or storage.OTPAlgSM3
	// Secret is the device secret in base32 (RFC 4648, no padding), for typing into an app
	// by hand.
	Secret string
	// URI is the otpauth:// key URI (the Key Uri Format of Google Authenticator) to show as
	// a QR code. For SM3-OTP it says algorithm=SM3 and period=60, which only apps that know
	// GM/T 0021-2012 understand.
	URI       string
	Period    time.Duration
	ExpiresAt time.Time
}

// OTPDeviceInfo is a confirmed device as the account page lists it.
type OTPDeviceInfo struct {
	ID        string
	Name      string // "" for the legacy device (the page names it)
	Algorithm string
	CreatedAt time.Time // zero for the legacy device
	LastUsed  time.Time // start of the time step of the last accepted code; zero = never
	Legacy    bool
}

// otpPeriod is the time step of an algorithm: 30 s for TOTP, 60 s for SM3-OTP.
func otpPeriod(alg string) time.Duration {
	if alg == storage.OTPAlgSM3 {
		return 60 * time.Second
	}
	return time.Duration(totpOpts.Period) * time.Second
}

// deviceAAD binds a device secret to its person and device: "person/<ID>/otp/<device ID>".
func deviceAAD(personID, deviceID string) string { return personAAD(personID, sealOTP+"/"+deviceID) }

var b32 = base32.StdEncoding.WithPadding(base32.NoPadding)

// checkOTPName trims name and checks it.
func checkOTPName(name string) (string, error) {
	name = strings.TrimSpace(name)
	if name == "" || !utf8.ValidString(name) || utf8.RuneCountInString(name) > MaxOTPNameLen ||
		strings.ContainsFunc(name, textcheck.Invisible) {
		return "", fmt.Errorf("%w: 1 to %d characters, no control or format characters", ErrInvalidOTPName, MaxOTPNameLen)
	}
	return name, nil
}

// BeginOTPEnrolment makes a pending (unconfirmed) device called name with a new 160-bit
// secret for the algorithm alg (storage.OTPAlgTOTP: RFC 6238, HMAC-SHA-1, 6 digits, 30 s;
// storage.OTPAlgSM3: GM/T 0021-2012, 6 digits, 60 s), sealed for the person and the device.
// The device logs nobody in until ConfirmOTPDevice; it expires after OTPEnrolmentTTL.
//
// Errors: ErrInvalidOTPName, ErrInvalidOTPAlgorithm, ErrTooManyOTPDevices; storage.ErrNotFound
// for an unknown person; storage and keyring errors.
func (s *Service) BeginOTPEnrolment(ctx context.Context, personID, name, alg string) (OTPEnrolment, error) {
	name, err := checkOTPName(name)
	if err != nil {
		return OTPEnrolment{}, err
	}
	if alg != storage.OTPAlgTOTP && alg != storage.OTPAlgSM3 {
		return OTPEnrolment{}, fmt.Errorf("%w: %q", ErrInvalidOTPAlgorithm, alg)
	}
	p, err := s.store.GetPerson(ctx, personID)
	if err != nil {
		return OTPEnrolment{}, err
	}
	devs, err := s.store.ListOTPDevices(ctx, personID)
	if err != nil {
		return OTPEnrolment{}, err
	}
	now := s.now().UTC()
	n := 0
	for _, d := range devs {
		if d.Confirmed || now.Sub(d.CreatedAt) < OTPEnrolmentTTL {
			n++
		}
	}
	if n >= MaxOTPDevices {
		return OTPEnrolment{}, fmt.Errorf("%w: at most %d", ErrTooManyOTPDevices, MaxOTPDevices)
	}
	secret := make([]byte, otpSecretSize)
	_, _ = rand.Read(secret)
	d := storage.OTPDevice{ID: newID(), PersonID: personID, Name: name, Algorithm: alg, CreatedAt: now}
	if d.SecretSealed, err = s.kr.SealField(secret, deviceAAD(personID, d.ID)); err != nil {
		return OTPEnrolment{}, err
	}
	if err := s.store.CreateOTPDevice(ctx, d); err != nil {
		return OTPEnrolment{}, err
	}
	s.log.InfoContext(ctx, "OTP enrolment started", "person_id", personID, "device_id", d.ID, "algorithm", alg)
	return s.enrolment(p, d, secret)
}

// enrolment describes the pending device d with its opened secret.
func (s *Service) enrolment(p storage.Person, d storage.OTPDevice, secret []byte) (OTPEnrolment, error) {
	e := OTPEnrolment{DeviceID: d.ID, Name: d.Name, Algorithm: d.Algorithm, Secret: b32.EncodeToString(secret),
		Period: otpPeriod(d.Algorithm), ExpiresAt: d.CreatedAt.Add(OTPEnrolmentTTL)}
	if d.Algorithm == storage.OTPAlgTOTP {
		key, err := totp.Generate(totp.GenerateOpts{Issuer: otpIssuer, AccountName: p.IDNumberMasked, Period: totpOpts.Period,
			Digits: otp.DigitsSix, Algorithm: otp.AlgorithmSHA1, Secret: secret})
		if err != nil {
			return OTPEnrolment{}, err
		}
		e.URI = key.URL()
		return e, nil
	}
	u := url.URL{Scheme: "otpauth", Host: "totp", Path: "/" + otpIssuer + ":" + p.IDNumberMasked}
	u.RawQuery = url.Values{"secret": {e.Secret}, "issuer": {otpIssuer}, "algorithm": {"SM3"}, "digits": {"6"},
		"period": {"60"}}.Encode()
	e.URI = u.String()
	return e, nil
}

// otpIssuer is the issuer of the otpauth:// URIs, shown by authenticator apps.
const otpIssuer = "tongban"

// pendingDevice returns the person's pending device deviceID, refusing others.
func (s *Service) pendingDevice(ctx context.Context, personID, deviceID string) (storage.OTPDevice, error) {
	d, err := s.store.GetOTPDevice(ctx, deviceID)
	switch {
	case errors.Is(err, storage.ErrNotFound) || (err == nil && d.PersonID != personID):
		return d, ErrOTPDeviceNotFound
	case err != nil:
		return d, err
	case d.Confirmed || !s.now().Before(d.CreatedAt.Add(OTPEnrolmentTTL)):
		return d, ErrOTPEnrolmentExpired
	}
	return d, nil
}

// OTPEnrolment returns the pending device deviceID of the person again (the enrolment page
// shown once more, e.g. after a wrong code). Errors: ErrOTPDeviceNotFound,
// ErrOTPEnrolmentExpired; storage errors; the keyring's when the sealed secret was tampered
// with.
func (s *Service) OTPEnrolment(ctx context.Context, personID, deviceID string) (OTPEnrolment, error) {
	d, err := s.pendingDevice(ctx, personID, deviceID)
	if err != nil {
		return OTPEnrolment{}, err
	}
	p, err := s.store.GetPerson(ctx, personID)
	if err != nil {
		return OTPEnrolment{}, err
	}
	secret, err := s.kr.OpenField(d.SecretSealed, deviceAAD(personID, d.ID))
	if err != nil {
		return OTPEnrolment{}, err
	}
	return s.enrolment(p, d, secret)
}

// ConfirmOTPDevice confirms the pending device deviceID with a code from it (the current
// step or one either side; that step's code is used up, as at login). On the person's first
// confirmed device, when they have no unused recovery codes, it makes RecoveryCodeCount new
// ones and returns them — the only time they are seen in clear. Audited "otp.enrol".
//
// Errors: ErrOTPDeviceNotFound; ErrOTPEnrolmentExpired (confirmed already, expired, or the
// maxConfirmAttempts-th wrong code, which deletes the device); ErrOTPCodeWrong; storage
// errors.
func (s *Service) ConfirmOTPDevice(ctx context.Context, personID, deviceID, code string) ([]string, error) {
	d, err := s.pendingDevice(ctx, personID, deviceID)
	if err != nil {
		return nil, err
	}
	now := s.now()
	if !s.checkDevice(ctx, d, strings.TrimSpace(code), now) {
		n, err := s.store.AddFailure(ctx, "otp-confirm:"+d.ID, now, OTPEnrolmentTTL)
		if err != nil {
			return nil, err
		}
		if n >= maxConfirmAttempts {
			if err := s.store.DeleteOTPDevice(ctx, d.ID); err != nil && !errors.Is(err, storage.ErrNotFound) {
				return nil, err
			}
			s.audit(ctx, storage.AuditEvent{Actor: personID, Action: "otp.enrol_failed", Subject: personID,
				Detail: "device=" + d.ID + " wrong_codes=" + strconv.Itoa(n)})
			return nil, fmt.Errorf("%w: %d wrong codes", ErrOTPEnrolmentExpired, n)
		}
		return nil, ErrOTPCodeWrong
	}
	if err := s.store.ClearFailures(ctx, "otp-confirm:"+d.ID); err != nil {
		s.log.ErrorContext(ctx, "clear OTP confirmation failures", "err", err)
	}
	err = s.store.UpdateOTPDevice(ctx, d.ID, func(q *storage.OTPDevice) error {
		if q.Confirmed {
			return ErrOTPEnrolmentExpired
		}
		q.Confirmed = true
		return nil
	})
	if err != nil {
		return nil, err
	}
	s.audit(ctx, storage.AuditEvent{Actor: personID, Action: "otp.enrol", Subject: personID,
		Detail: "device=" + d.ID + " alg=" + d.Algorithm})
	left, err := s.store.CountRecoveryCodes(ctx, personID)
	if err != nil || left > 0 {
		return nil, err
	}
	return s.newRecoveryCodes(ctx, personID, "first_device")
}

// ListOTPDevices returns the person's confirmed devices, the legacy one (LegacyOTPDeviceID)
// first when the person has it, then by enrolment time. Errors: storage errors
// (storage.ErrNotFound for an unknown person).
func (s *Service) ListOTPDevices(ctx context.Context, personID string) ([]OTPDeviceInfo, error) {
	p, err := s.store.GetPerson(ctx, personID)
	if err != nil {
		return nil, err
	}
	devs, err := s.store.ListOTPDevices(ctx, personID)
	if err != nil {
		return nil, err
	}
	var out []OTPDeviceInfo
	if p.OTPSecretSealed != nil {
		out = append(out, OTPDeviceInfo{ID: LegacyOTPDeviceID, Algorithm: storage.OTPAlgTOTP, Legacy: true})
	}
	for _, d := range devs {
		if !d.Confirmed {
			continue
		}
		i := OTPDeviceInfo{ID: d.ID, Name: d.Name, Algorithm: d.Algorithm, CreatedAt: d.CreatedAt}
		if d.LastUsedStep > 0 {
			i.LastUsed = time.Unix(d.LastUsedStep*int64(otpPeriod(d.Algorithm)/time.Second), 0).UTC()
		}
		out = append(out, i)
	}
	return out, nil
}

// RemoveOTPDevice removes the person's device deviceID (LegacyOTPDeviceID: the operator-set
// secret). When it was the last one, the recovery codes go too: they are a stand-in for a
// second factor the person no longer has. Audited "otp.remove" with the person as actor.
//
// Errors: ErrOTPDeviceNotFound; storage errors.
func (s *Service) RemoveOTPDevice(ctx context.Context, personID, deviceID string) error {
	return s.removeOTPDevice(ctx, personID, personID, deviceID)
}

// RemoveOTPDeviceAsOperator is RemoveOTPDevice done by an operator (`idp people otp remove`,
// for a person who lost every device and recovery code and proved who they are otherwise):
// audited with actor "operator".
func (s *Service) RemoveOTPDeviceAsOperator(ctx context.Context, personID, deviceID string) error {
	return s.removeOTPDevice(ctx, "operator", personID, deviceID)
}

func (s *Service) removeOTPDevice(ctx context.Context, actor, personID, deviceID string) error {
	alg := storage.OTPAlgTOTP
	if deviceID == LegacyOTPDeviceID {
		err := s.store.UpdatePerson(ctx, personID, func(q *storage.Person) error {
			if q.OTPSecretSealed == nil {
				return ErrOTPDeviceNotFound
			}
			q.OTPSecretSealed, q.UpdatedAt = nil, s.now().UTC()
			return nil
		})
		if errors.Is(err, storage.ErrNotFound) {
			err = ErrOTPDeviceNotFound
		}
		if err != nil {
			return err
		}
	} else {
		d, err := s.store.GetOTPDevice(ctx, deviceID)
		if errors.Is(err, storage.ErrNotFound) || (err == nil && (d.PersonID != personID || !d.Confirmed)) {
			return ErrOTPDeviceNotFound
		}
		if err != nil {
			return err
		}
		alg = d.Algorithm
		if err := s.store.DeleteOTPDevice(ctx, deviceID); err != nil {
			if errors.Is(err, storage.ErrNotFound) {
				return ErrOTPDeviceNotFound
			}
			return err
		}
	}
	detail := "device=" + deviceID + " alg=" + alg
	left, err := s.ListOTPDevices(ctx, personID)
	if err == nil && len(left) == 0 {
		var n int64
		if n, err = s.store.DeleteRecoveryCodes(ctx, personID); err == nil && n > 0 {
			detail += " recovery_codes_deleted=" + strconv.FormatInt(n, 10)
		}
	}
	s.audit(ctx, storage.AuditEvent{Actor: actor, Action: "otp.remove", Subject: personID, Detail: detail})
	return err
}

// PurgeOTPEnrolments deletes the pending devices whose OTPEnrolmentTTL ended before now;
// returns how many went. Run it periodically (with the other purges).
func (s *Service) PurgeOTPEnrolments(ctx context.Context, now time.Time) (int64, error) {
	return s.store.DeleteUnconfirmedOTPDevices(ctx, now.Add(-OTPEnrolmentTTL))
}

// nsOTP is the storage.Nonces namespace of the time steps of OTP devices already used:
// "<device ID>:<step>".
const nsOTP = "otp"

// checkDevice validates a 6-digit code of device d at now — the current time step or one
// either side — and records the step it matched as used (storage.Nonces), so each step's code
// is accepted once; it then notes the step as the device's last used one. A secret that does
// not open (tampered with, or sealed for another person or device) fails and is logged.
func (s *Service) checkDevice(ctx context.Context, d storage.OTPDevice, code string, now time.Time) bool {
	if len(code) != 6 || strings.ContainsFunc(code, func(r rune) bool { return r < '0' || r > '9' }) {
		return false
	}
	secret, err := s.kr.OpenField(d.SecretSealed, deviceAAD(d.PersonID, d.ID))
	if err != nil {
		s.log.ErrorContext(ctx, "open OTP device secret", "person_id", d.PersonID, "device_id", d.ID, "err", err)
		return false
	}
	period := otpPeriod(d.Algorithm)
	opts := totpOpts
	opts.Skew = 0
	b32secret := b32.EncodeToString(secret)
	for _, k := range totpSteps {
		t := now.Add(time.Duration(k) * period)
		var ok bool
		switch d.Algorithm {
		case storage.OTPAlgTOTP:
			ok, err = totp.ValidateCustom(code, b32secret, t, opts)
		case storage.OTPAlgSM3:
			ok, err = sm3otp.Validate(code, secret, t, sm3otp.Opts{Period: period})
		default:
			err = fmt.Errorf("%w: %q", ErrInvalidOTPAlgorithm, d.Algorithm)
		}
		if err != nil {
			s.log.ErrorContext(ctx, "check OTP code", "device_id", d.ID, "err", err)
			return false
		}
		if !ok {
			continue
		}
		step := t.Unix() / int64(period/time.Second)
		err := s.store.UseNonce(ctx, nsOTP, d.ID+":"+strconv.FormatInt(step, 10), now.Add(3*period))
		if errors.Is(err, storage.ErrAlreadyUsed) {
			continue // the same digits may be another step's code too
		}
		if err != nil {
			s.log.ErrorContext(ctx, "record OTP use", "device_id", d.ID, "err", err)
			return false
		}
		err = s.store.UpdateOTPDevice(ctx, d.ID, func(q *storage.OTPDevice) error {
			q.LastUsedStep = max(q.LastUsedStep, step)
			return nil
		})
		if err != nil {
			s.log.ErrorContext(ctx, "note OTP device use", "device_id", d.ID, "err", err)
		}
		return true
	}
	return false
}

// checkSecondFactor checks the second factor of a password login: a 6-digit code of any of
// the person's confirmed devices (the legacy secret included), or one of their recovery
// codes. enrolled reports whether the person has a second factor at all; ok whether code
// passed (true when not enrolled: the password alone is what the person has). A device list
// that cannot be read fails closed.
func (s *Service) checkSecondFactor(ctx context.Context, p storage.Person, code string, now time.Time) (enrolled, ok bool) {
	devs, err := s.store.ListOTPDevices(ctx, p.ID)
	if err != nil {
		s.log.ErrorContext(ctx, "list OTP devices", "person_id", p.ID, "err", err)
		return true, false
	}
	enrolled = p.OTPSecretSealed != nil
	for _, d := range devs {
		enrolled = enrolled || d.Confirmed
	}
	if !enrolled {
		return false, true
	}
	code = strings.TrimSpace(code)
	if len(code) == 6 {
		if p.OTPSecretSealed != nil && s.checkTOTP(ctx, p, code, now) {
			return true, true
		}
		for _, d := range devs {
			if d.Confirmed && s.checkDevice(ctx, d, code, now) {
				return true, true
			}
		}
		return true, false
	}
	return true, s.useRecoveryCode(ctx, p.ID, code, now)
}
