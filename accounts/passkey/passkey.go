// Package passkey is tongban's WebAuthn relying party: people's passkeys (public key
// credentials of W3C Web Authentication Level 3, kept in storage.Passkeys), registered and
// checked with github.com/go-webauthn/webauthn, with tongban's rules on top:
//
//   - user verification is required at registration and at every login (§6.2.3 "required"),
//     so a passkey login is two factors: something held (the authenticator's key) and
//     something the person is or knows (the fingerprint, face or device PIN that unlocked it);
//   - credentials are discoverable (residentKey "required", §5.4.6), so a login needs no
//     identifier and finds the person by the user handle (storage.Passkeys), a random value
//     that is neither the person ID nor an identity number;
//   - attestation is "none" (§5.4.7): the authenticator's make is not checked, nor collected;
//   - challenges are 32 random bytes carried in a ceremony state that is MACed (HMAC-SM3),
//     bound to the caller's session or browser, valid for Config.ChallengeLifetime and usable
//     once (storage.Nonces, namespace "passkey-challenge"), whatever the outcome;
//   - the signature counter (§6.1.1) must rise whenever it is not zero: otherwise the passkey
//     is flagged as cloned (storage.Passkey.CloneWarning), the login refused and audited, and
//     the flagged passkey never logs in again until the person removes it and enrols anew;
//   - the backup-eligible flag (BE, §6.1.3) must not change; the backup state (BS) may, and
//     is stored;
//   - every refused login counts as a guess (Config.Lockout) and is audited.
//
// It is a package of its own, not part of accounts, because go-webauthn depends on net/http
// and accounts must not.
package passkey

import (
	"bytes"
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/go-webauthn/webauthn/protocol"
	"github.com/go-webauthn/webauthn/webauthn"

	"github.com/tongban/tongban/sm-crypto"
	"github.com/tongban/tongban/storage"
)

// Store is the storage a RelyingParty works on. A storage.Storage satisfies it.
type Store interface {
	storage.Passkeys
	storage.People
	storage.Nonces
	storage.Audit
}

// Lockout counts refused passkey logins as guesses (issue 10, part 5: lockout that protects
// without locking the owner out). IPThrottle is a simple implementation over storage.Throttle.
type Lockout interface {
	// Locked reports whether logins from clientIP are refused now, before any check.
	Locked(ctx context.Context, clientIP string) (bool, error)
	// Failed records a refused login from clientIP; personID is the person the passkey
	// belongs to when it is known, else "".
	Failed(ctx context.Context, clientIP, personID string) error
}

// Config configures a RelyingParty. The zero value of every optional field means the default
// in its comment.
type Config struct {
	// RPID is the RP ID (WebAuthn §5.1.2 "RP ID"): a registrable domain name with no scheme or
	// port, e.g. "idp.example.gov.cn" — the issuer's host. WebAuthn refuses IP addresses.
	// Required.
	RPID string
	// Origin is the one origin ceremonies may come from (§7.1 step 9, §7.2 step 13):
	// "https://" + host [+ ":" + port], whose host is RPID or a subdomain of it ("http://" only
	// for localhost, in development). Required.
	Origin string
	// DisplayName is the relying party's name an authenticator may show ("统一身份认证平台").
	// Required.
	DisplayName string
	// ChallengeLifetime is how long a ceremony's challenge may be answered; the options carry
	// it as the browser's timeout too. Zero means DefaultChallengeLifetime.
	ChallengeLifetime time.Duration

	// Store keeps passkeys, user handles, used challenges and audit events. Required.
	Store Store
	// StateKey is the HMAC-SM3 key of ceremony states (at least 32 bytes), the same on every
	// replica and used for nothing else. Required.
	StateKey []byte
	// Lockout counts refused logins and refuses locked sources. Nil counts nothing (tests
	// only).
	Lockout Lockout
	// Now returns the current time: challenge expiry, registration and last-use times, audit
	// times. Nil means time.Now.
	Now func() time.Time
	// Logger receives logs with opaque person IDs and passkey references (Ref), never names,
	// numbers or credential material. Nil means slog.Default().
	Logger *slog.Logger
}

// DefaultChallengeLifetime is the default Config.ChallengeLifetime.
const DefaultChallengeLifetime = 5 * time.Minute

// nsChallenge is the storage.Nonces namespace of the challenges answered (one use each).
const nsChallenge = "passkey-challenge"

// maxName is the longest passkey name, in characters.
const maxName = 64

// Errors. Each has a page message of its own in oidc; the cause is logged (without personal
// data) and audited where a person is known.
var (
	// ErrConfig: Config is incomplete, or RPID is not a domain name (an IP address, a name
	// with a port), or Origin not on it. New wraps it with every reason.
	ErrConfig = errors.New("passkey: invalid relying party configuration")
	// ErrLocked: too many refused logins from the client's address (Config.Lockout); nothing
	// was checked.
	ErrLocked = errors.New("passkey: login locked")
	// ErrState: the ceremony state is malformed, forged, of another ceremony or person, bound
	// to another session or browser, or expired. The browser should start again.
	ErrState = errors.New("passkey: request expired or invalid")
	// ErrReplay: the ceremony's challenge was answered before (a replayed assertion or
	// attestation, or a second answer to one challenge).
	ErrReplay = errors.New("passkey: challenge already used")
	// ErrOrigin: the response was made for another origin (clientDataJSON.origin) or another
	// relying party (rpIdHash): a phishing site relaying the ceremony, or a misconfiguration.
	ErrOrigin = errors.New("passkey: response made for another site")
	// ErrUserNotVerified: the authenticator did not verify the user (UV flag clear).
	ErrUserNotVerified = errors.New("passkey: user not verified")
	// ErrCloned: the signature counter did not rise (a cloned or broken authenticator), or the
	// passkey was flagged for that before.
	ErrCloned = errors.New("passkey: signature counter did not increase")
	// ErrBackupEligibility: the backup-eligible flag differs from the one registered.
	ErrBackupEligibility = errors.New("passkey: backup eligibility changed")
	// ErrUnknown: no such passkey (removed, or never registered here), or its person is
	// disabled or gone.
	ErrUnknown = errors.New("passkey: unknown passkey")
	// ErrInvalid: any other failed verification (bad signature, malformed response, wrong
	// ceremony type, user handle of someone else, a credential excluded at registration).
	ErrInvalid = errors.New("passkey: response invalid")
	// ErrName: a passkey name is empty, longer than 64 characters or has control characters.
	ErrName = errors.New("passkey: invalid name")
)

// RelyingParty registers and checks the passkeys of one relying party. It keeps no state
// outside Config.Store (replicas may each have their own) and is safe for concurrent use.
type RelyingParty struct {
	cfg      Config
	wa       *webauthn.WebAuthn
	store    Store
	stateKey []byte
	lockout  Lockout
	now      func() time.Time
	log      *slog.Logger
}

// New validates cfg and returns its relying party. Errors: ErrConfig listing every problem.
func New(cfg Config) (*RelyingParty, error) {
	if cfg.ChallengeLifetime == 0 {
		cfg.ChallengeLifetime = DefaultChallengeLifetime
	}
	var problems []string
	if cfg.RPID == "" || cfg.DisplayName == "" || cfg.Origin == "" {
		problems = append(problems, "RPID, Origin and DisplayName are required")
	}
	if cfg.RPID != "" {
		if err := protocol.ValidateRPID(cfg.RPID); err != nil {
			problems = append(problems, fmt.Sprintf("RPID %q: %v", cfg.RPID, err))
		}
	}
	if u, err := url.Parse(cfg.Origin); cfg.Origin != "" && (err != nil || u.Host == "" || u.Path != "" || u.RawQuery != "" ||
		(u.Scheme != "https" && !(u.Scheme == "http" && u.Hostname() == "localhost")) ||
		(u.Hostname() != cfg.RPID && !strings.HasSuffix(u.Hostname(), "."+cfg.RPID))) {
		problems = append(problems, fmt.Sprintf("Origin %q is not an https origin on %q", cfg.Origin, cfg.RPID))
	}
	if cfg.ChallengeLifetime < time.Second {
		problems = append(problems, "ChallengeLifetime is below one second")
	}
	if cfg.Store == nil {
		problems = append(problems, "Store is required")
	}
	if len(cfg.StateKey) < 32 {
		problems = append(problems, "StateKey must have at least 32 bytes")
	}
	if len(problems) > 0 {
		return nil, fmt.Errorf("%w: %s", ErrConfig, strings.Join(problems, "; "))
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	timeouts := webauthn.TimeoutConfig{Timeout: cfg.ChallengeLifetime, TimeoutUVD: cfg.ChallengeLifetime}
	wa, err := webauthn.New(&webauthn.Config{
		RPID:                  cfg.RPID,
		RPDisplayName:         cfg.DisplayName,
		RPOrigins:             []string{cfg.Origin},
		AttestationPreference: protocol.PreferNoAttestation,
		AuthenticatorSelection: protocol.AuthenticatorSelection{
			AuthenticatorAttachment: protocol.Platform,
			RequireResidentKey:      protocol.ResidentKeyRequired(),
			ResidentKey:             protocol.ResidentKeyRequirementRequired,
			UserVerification:        protocol.VerificationRequired,
		},
		// Expiry is checked against Config.Now (the state's Expires), not the library's
		// time.Now: Enforce stays false.
		Timeouts: webauthn.TimeoutsConfig{Login: timeouts, Registration: timeouts},
	})
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrConfig, err)
	}
	return &RelyingParty{cfg: cfg, wa: wa, store: cfg.Store, stateKey: cfg.StateKey, lockout: cfg.Lockout,
		now: cfg.Now, log: cfg.Logger}, nil
}

// Config returns the configuration (with defaults applied).
func (k *RelyingParty) Config() Config { return k.cfg }

// audit appends an audit event stamped with the time; a failure is logged.
func (k *RelyingParty) audit(ctx context.Context, e storage.AuditEvent) {
	e.Time = k.now()
	if _, err := k.store.AppendAudit(ctx, e); err != nil {
		k.log.ErrorContext(ctx, "audit append failed", "action", e.Action, "err", err)
	}
}

// IPThrottle is a Lockout over storage.Throttle that counts refused logins per client address
// under the key "login-ip:"+address, the key accounts.Service counts failed password logins
// under, so both kinds of guess add up. An address with Threshold failures within Window is
// locked.
type IPThrottle struct {
	Store     storage.Throttle
	Threshold int
	Window    time.Duration
	Now       func() time.Time
}

// Locked implements Lockout.
func (t IPThrottle) Locked(ctx context.Context, clientIP string) (bool, error) {
	n, err := t.Store.CountFailures(ctx, "login-ip:"+clientIP, t.Now(), t.Window)
	return n >= t.Threshold, err
}

// Failed implements Lockout.
func (t IPThrottle) Failed(ctx context.Context, clientIP, _ string) error {
	_, err := t.Store.AddFailure(ctx, "login-ip:"+clientIP, t.Now(), t.Window)
	return err
}

// ceremony names the ceremony a state belongs to.
const (
	ceremonyRegister = "register"
	ceremonyLogin    = "login"
)

// ceremonyState is a ceremony between its begin and finish: go-webauthn's SessionData (the
// challenge, RP ID, user handle, required user verification), which ceremony, whose (person
// ID, registration only) and until when. It travels to the browser and back MACed:
// base64url(JSON) "." base64url(HMAC-SM3(stateKey, JSON ‖ 0x00 ‖ binding)), so the binding
// (a session or browser secret of the caller's) is checked without being revealed.
type ceremonyState struct {
	Ceremony string               `json:"c"`
	PersonID string               `json:"p,omitempty"`
	Expires  int64                `json:"e"` // UnixMicro
	Session  webauthn.SessionData `json:"s"`
}

func (k *RelyingParty) sealState(st ceremonyState, binding string) (string, error) {
	js, err := json.Marshal(st)
	if err != nil {
		return "", err
	}
	return base64.RawURLEncoding.EncodeToString(js) + "." +
		base64.RawURLEncoding.EncodeToString(k.stateMAC(js, binding)), nil
}

func (k *RelyingParty) stateMAC(js []byte, binding string) []byte {
	return smcrypto.HMACSM3(k.stateKey, append(append(bytes.Clone(js), 0), binding...))
}

// openState checks and decodes a state of ceremony made for binding, and records its
// challenge as used (storage.Nonces): ErrState or ErrReplay otherwise.
func (k *RelyingParty) openState(ctx context.Context, token, ceremony, binding string) (ceremonyState, error) {
	var st ceremonyState
	body, mac, ok := strings.Cut(token, ".")
	js, err1 := base64.RawURLEncoding.DecodeString(body)
	sum, err2 := base64.RawURLEncoding.DecodeString(mac)
	if !ok || err1 != nil || err2 != nil || binding == "" || !hmac.Equal(sum, k.stateMAC(js, binding)) {
		return st, fmt.Errorf("%w: bad MAC or binding", ErrState)
	}
	if err := json.Unmarshal(js, &st); err != nil || st.Ceremony != ceremony || len(st.Session.Challenge) < 22 {
		return st, fmt.Errorf("%w: not a %s state", ErrState, ceremony)
	}
	now := k.now()
	exp := time.UnixMicro(st.Expires)
	if !now.Before(exp) {
		return st, fmt.Errorf("%w: expired", ErrState)
	}
	switch err := k.store.UseNonce(ctx, nsChallenge, st.Session.Challenge, exp); {
	case errors.Is(err, storage.ErrAlreadyUsed):
		return st, ErrReplay
	case err != nil:
		return st, err
	}
	return st, nil
}

// account is a person as go-webauthn sees them (webauthn.User).
type account struct {
	p      storage.Person
	handle []byte
	creds  []webauthn.Credential
}

func (u *account) WebAuthnID() []byte { return u.handle }

// WebAuthnName is the account name an authenticator lists: the masked ID number (never the
// full number, which the authenticator would keep in clear).
func (u *account) WebAuthnName() string { return u.p.IDNumberMasked }

// WebAuthnDisplayName is the person's name as registered, or the masked ID number.
func (u *account) WebAuthnDisplayName() string {
	if u.p.Name != "" {
		return u.p.Name
	}
	return u.p.IDNumberMasked
}

func (u *account) WebAuthnCredentials() []webauthn.Credential { return u.creds }

// credential turns a stored passkey into go-webauthn's credential record.
func credential(pk storage.Passkey) webauthn.Credential {
	var f protocol.AuthenticatorFlags = protocol.FlagUserPresent
	if pk.UserVerified {
		f |= protocol.FlagUserVerified
	}
	if pk.BackupEligible {
		f |= protocol.FlagBackupEligible
	}
	if pk.BackupState {
		f |= protocol.FlagBackupState
	}
	tr := make([]protocol.AuthenticatorTransport, len(pk.Transports))
	for i, t := range pk.Transports {
		tr[i] = protocol.AuthenticatorTransport(t)
	}
	return webauthn.Credential{
		ID: pk.CredentialID, PublicKey: pk.PublicKey, AttestationType: pk.AttestationType,
		AttestationFormat: pk.AttestationFormat, Transport: tr, Flags: webauthn.NewCredentialFlags(f),
		Authenticator: webauthn.Authenticator{AAGUID: pk.AAGUID, SignCount: pk.SignCount},
	}
}

// loadUser loads the person's user handle and passkeys; with create, a person without a handle
// gets a new random one (32 bytes).
func (k *RelyingParty) loadUser(ctx context.Context, p storage.Person, create bool) (*account, []storage.Passkey, error) {
	u := &account{p: p}
	if create {
		h := make([]byte, 32)
		_, _ = rand.Read(h)
		var err error
		if u.handle, err = k.store.EnsurePasskeyUserHandle(ctx, p.ID, h); err != nil {
			return nil, nil, err
		}
	}
	pks, err := k.store.ListPasskeys(ctx, p.ID)
	if err != nil {
		return nil, nil, err
	}
	for _, pk := range pks {
		u.creds = append(u.creds, credential(pk))
	}
	return u, pks, nil
}

// Ref is a short opaque reference to a credential for logs, audit and URLs: the first 12
// bytes of SHA-256 over the credential ID, base64url (16 characters). Credential IDs are
// random and carry no personal data, but they can be long (up to 1023 bytes).
func Ref(credentialID []byte) string {
	sum := sha256.Sum256(credentialID)
	return base64.RawURLEncoding.EncodeToString(sum[:12])
}

// BeginRegistration starts enrolling a passkey for p (WebAuthn §7.1): it gives p a user
// handle if p has none and returns the PublicKeyCredentialCreationOptions as JSON
// ({"publicKey":{…}}, binary members base64url, for navigator.credentials.create after
// decoding), excluding p's passkeys already registered, and the ceremony state to hand back to
// FinishRegistration with the same binding (a secret of the login session).
func (k *RelyingParty) BeginRegistration(ctx context.Context, p storage.Person, binding string) (options []byte, state string, err error) {
	if binding == "" {
		return nil, "", fmt.Errorf("%w: empty binding", ErrState)
	}
	u, _, err := k.loadUser(ctx, p, true)
	if err != nil {
		return nil, "", err
	}
	var exclude []protocol.CredentialDescriptor
	for _, c := range u.creds {
		exclude = append(exclude, c.Descriptor())
	}
	creation, sd, err := k.wa.BeginRegistration(u, webauthn.WithExclusions(exclude),
		webauthn.WithResidentKeyRequirement(protocol.ResidentKeyRequirementRequired))
	if err != nil {
		return nil, "", err
	}
	st := ceremonyState{Ceremony: ceremonyRegister, PersonID: p.ID, Session: *sd,
		Expires: k.now().Add(k.cfg.ChallengeLifetime).UnixMicro()}
	if state, err = k.sealState(st, binding); err != nil {
		return nil, "", err
	}
	if options, err = json.Marshal(creation); err != nil {
		return nil, "", err
	}
	return options, state, nil
}

// FinishRegistration verifies the browser's answer to BeginRegistration (the
// PublicKeyCredential as JSON: id, rawId, type, response.clientDataJSON,
// response.attestationObject, response.transports) and stores the passkey under name (""
// means "通行密钥 <n>"). The state must be p's, made for the same binding, unexpired and
// unused (it is used up by this call, whatever the outcome). Attestation is "none": the
// authenticator's make is not checked, only that the user was verified.
//
// Audits "passkey.register" (detail: the Ref), or "passkey.register.failure" (detail: the
// reason) for a refused answer. Errors: ErrState, ErrReplay, ErrName, ErrOrigin,
// ErrUserNotVerified, ErrInvalid (wrapping go-webauthn's reason); storage.ErrConflict when the
// credential is registered already; storage errors.
func (k *RelyingParty) FinishRegistration(ctx context.Context, p storage.Person, state, binding string, response []byte, name string) (storage.Passkey, error) {
	pk, err := k.finishRegistration(ctx, p, state, binding, response, name)
	if err != nil && refusal(err) {
		k.log.InfoContext(ctx, "passkey registration refused", "person_id", p.ID, "reason", reason(err))
		k.audit(ctx, storage.AuditEvent{Actor: p.ID, Action: "passkey.register.failure", Subject: p.ID, Detail: reason(err)})
	}
	return pk, err
}

func (k *RelyingParty) finishRegistration(ctx context.Context, p storage.Person, state, binding string, response []byte, name string) (storage.Passkey, error) {
	st, err := k.openState(ctx, state, ceremonyRegister, binding)
	if err != nil {
		return storage.Passkey{}, err
	}
	if st.PersonID != p.ID {
		return storage.Passkey{}, fmt.Errorf("%w: state of another person", ErrState)
	}
	name = strings.TrimSpace(name)
	if name != "" {
		if err := checkName(name); err != nil {
			return storage.Passkey{}, err
		}
	}
	u, pks, err := k.loadUser(ctx, p, false)
	if err != nil {
		return storage.Passkey{}, err
	}
	u.handle = st.Session.UserID
	parsed, err := protocol.ParseCredentialCreationResponseBytes(response)
	if err != nil {
		return storage.Passkey{}, fmt.Errorf("%w: %w", ErrInvalid, err)
	}
	c, err := k.wa.CreateCredential(u, st.Session, parsed)
	if err != nil {
		return storage.Passkey{}, k.classify(err, &parsed.Response.CollectedClientData,
			parsed.Response.AttestationObject.AuthData.RPIDHash, parsed.Response.AttestationObject.AuthData.Flags, nil)
	}
	if name == "" {
		name = fmt.Sprintf("通行密钥 %d", len(pks)+1)
	}
	pk := storage.Passkey{
		CredentialID: c.ID, PersonID: p.ID, PublicKey: c.PublicKey, SignCount: c.Authenticator.SignCount,
		AAGUID: c.Authenticator.AAGUID, AttestationType: c.AttestationType, AttestationFormat: c.AttestationFormat,
		UserVerified: c.Flags.UserVerified, BackupEligible: c.Flags.BackupEligible, BackupState: c.Flags.BackupState,
		Name: name, CreatedAt: k.now().UTC(),
	}
	for _, t := range c.Transport {
		pk.Transports = append(pk.Transports, string(t))
	}
	if err := k.store.CreatePasskey(ctx, pk); err != nil {
		return storage.Passkey{}, err
	}
	k.audit(ctx, storage.AuditEvent{Actor: p.ID, Action: "passkey.register", Subject: p.ID, Detail: Ref(pk.CredentialID)})
	k.log.InfoContext(ctx, "passkey registered", "person_id", p.ID, "passkey", Ref(pk.CredentialID),
		"backup_eligible", pk.BackupEligible)
	return pk, nil
}

// classify maps a failed ceremony to this package's errors, reading the (unauthenticated)
// client data and authenticator data only to name the reason; the refusal stands either way.
func (k *RelyingParty) classify(err error, cd *protocol.CollectedClientData, rpIDHash []byte, flags protocol.AuthenticatorFlags, stored *storage.Passkey) error {
	want := sha256.Sum256([]byte(k.cfg.RPID))
	switch {
	case cd != nil && cd.Origin != k.cfg.Origin:
		return fmt.Errorf("%w: origin %q: %w", ErrOrigin, cd.Origin, err)
	case len(rpIDHash) > 0 && !bytes.Equal(rpIDHash, want[:]):
		return fmt.Errorf("%w: rpIdHash is not of %q: %w", ErrOrigin, k.cfg.RPID, err)
	case !flags.HasUserVerified():
		return fmt.Errorf("%w: %w", ErrUserNotVerified, err)
	case stored != nil && stored.BackupEligible != flags.HasBackupEligible():
		return fmt.Errorf("%w: %w", ErrBackupEligibility, err)
	}
	return fmt.Errorf("%w: %w", ErrInvalid, err)
}

// BeginLogin starts a passwordless, usernameless login (WebAuthn §7.2 with a
// discoverable credential): the PublicKeyCredentialRequestOptions as JSON ({"publicKey":{…}}
// with an empty allowCredentials and userVerification "required") and the ceremony state to
// hand back to FinishLogin with the same binding (a secret of the browser's).
func (k *RelyingParty) BeginLogin(binding string) (options []byte, state string, err error) {
	if binding == "" {
		return nil, "", fmt.Errorf("%w: empty binding", ErrState)
	}
	assertion, sd, err := k.wa.BeginDiscoverableLogin(webauthn.WithUserVerification(protocol.VerificationRequired))
	if err != nil {
		return nil, "", err
	}
	st := ceremonyState{Ceremony: ceremonyLogin, Session: *sd, Expires: k.now().Add(k.cfg.ChallengeLifetime).UnixMicro()}
	if state, err = k.sealState(st, binding); err != nil {
		return nil, "", err
	}
	if options, err = json.Marshal(assertion); err != nil {
		return nil, "", err
	}
	return options, state, nil
}

// Login is the browser's answer to BeginLogin.
type Login struct {
	// State and Binding are BeginLogin's state and the binding it was made for.
	State, Binding string
	// Response is the PublicKeyCredential as JSON: id, rawId, type, response.clientDataJSON,
	// response.authenticatorData, response.signature, response.userHandle.
	Response []byte
	// ClientIP is the address the attempt came from, for the per-IP lockout.
	ClientIP string
}

// Authentication is the result of a successful passkey login.
type Authentication struct {
	Person  storage.Person
	Passkey storage.Passkey // as stored after this login (new counter, backup state, last use)
	// AMR lists the authentication methods (RFC 8176 §2): "hwk" (proof of possession of a
	// hardware-secured key) for a device-bound passkey or "swk" (a software-secured key) for
	// a backup-eligible one, which may be synced off the device; "user" (the authenticator
	// tested the user's presence and verified them); and "mfa", since a user-verified passkey
	// is two factors. Whether a fingerprint, a face or a PIN verified the user is not known
	// to the relying party, so "fpt", "face" or "pin" are never claimed.
	AMR []string
}

// FinishLogin verifies a passkey assertion (WebAuthn §7.2) and returns who logged in:
// the state must be unexpired, unused (it is used up by this call whatever the outcome) and
// made for l.Binding; the credential must be registered, to the person its user handle names,
// who is not disabled; origin, RP ID hash, signature, user presence and user verification are
// checked by go-webauthn; the signature counter must rise unless it is zero in both the
// assertion and storage, else the passkey is flagged (ErrCloned, audited
// "passkey.cloned"); the backup-eligible flag must be as registered. The new counter, backup
// state and last-use time are stored in a transaction that holds the passkey's row, so two
// assertions racing with one counter value cannot both succeed.
//
// Failed attempts count against l.ClientIP like failed password logins (and a locked IP is
// refused with ErrLocked before any check); a failure for a known person is audited
// "passkey.login.failure" with the reason.
//
// Errors: ErrLocked, ErrState, ErrReplay, ErrUnknown,
// ErrOrigin, ErrUserNotVerified, ErrCloned, ErrBackupEligibility,
// ErrInvalid; storage errors.
func (k *RelyingParty) FinishLogin(ctx context.Context, l Login) (Authentication, error) {
	now := k.now()
	if k.lockout != nil {
		// Refused assertions count against the source address only (oidc passes IPThrottle,
		// on the login lockout's "login-ip:" key), never against the person: a signature
		// cannot be guessed, and counting garbage assertions that name someone's credential
		// against their account would let anyone pause it (issue 10, part 5).
		switch locked, err := k.lockout.Locked(ctx, l.ClientIP); {
		case err != nil:
			return Authentication{}, err
		case locked:
			k.log.InfoContext(ctx, "passkey login refused: client locked")
			return Authentication{}, ErrLocked
		}
	}
	a, personID, err := k.finishLogin(ctx, l, now)
	if err != nil {
		reason := reason(err)
		k.log.InfoContext(ctx, "passkey login failed", "reason", reason, "person_id", personID)
		if !errors.Is(err, storage.ErrUnavailable) && !errors.Is(err, ErrLocked) && refusal(err) {
			if k.lockout != nil {
				if ferr := k.lockout.Failed(ctx, l.ClientIP, personID); ferr != nil {
					k.log.ErrorContext(ctx, "record passkey login failure", "err", ferr)
				}
			}
			if personID != "" {
				k.audit(ctx, storage.AuditEvent{Actor: personID, Action: "passkey.login.failure", Subject: personID, Detail: reason})
			} else {
				k.audit(ctx, storage.AuditEvent{Actor: "anonymous", Action: "passkey.login.failure", Detail: reason})
			}
		}
		return Authentication{}, err
	}
	return a, nil
}

// refusal reports whether err is a refused passkey (not a storage failure).
func refusal(err error) bool {
	for _, e := range []error{ErrState, ErrReplay, ErrUnknown, ErrOrigin,
		ErrUserNotVerified, ErrCloned, ErrBackupEligibility, ErrInvalid} {
		if errors.Is(err, e) {
			return true
		}
	}
	return false
}

// reason is the audit detail and log reason of a refusal.
func reason(err error) string {
	for _, r := range []struct {
		err    error
		reason string
	}{
		{ErrState, "bad_state"}, {ErrReplay, "replay"}, {ErrUnknown, "unknown_credential"},
		{ErrOrigin, "wrong_origin"}, {ErrUserNotVerified, "user_not_verified"},
		{ErrCloned, "counter_not_increased"}, {ErrBackupEligibility, "backup_eligibility_changed"},
		{ErrInvalid, "invalid_response"},
	} {
		if errors.Is(err, r.err) {
			return r.reason
		}
	}
	return "error"
}

// errClone is returned from the counter update to roll it back.
var errClone = errors.New("signature counter did not increase")

func (k *RelyingParty) finishLogin(ctx context.Context, l Login, now time.Time) (Authentication, string, error) {
	st, err := k.openState(ctx, l.State, ceremonyLogin, l.Binding)
	if err != nil {
		return Authentication{}, "", err
	}
	parsed, err := protocol.ParseCredentialRequestResponseBytes(l.Response)
	if err != nil {
		return Authentication{}, "", fmt.Errorf("%w: %w", ErrInvalid, err)
	}
	// Find the passkey and its person from the credential ID, then check the user handle
	// names that very person (WebAuthn §7.2 step 6).
	pk, err := k.store.GetPasskey(ctx, parsed.RawID)
	if errors.Is(err, storage.ErrNotFound) {
		return Authentication{}, "", fmt.Errorf("%w: credential %s not registered", ErrUnknown, Ref(parsed.RawID))
	}
	if err != nil {
		return Authentication{}, "", err
	}
	owner, err := k.store.PersonByPasskeyUserHandle(ctx, parsed.Response.UserHandle)
	if errors.Is(err, storage.ErrNotFound) || (err == nil && owner != pk.PersonID) {
		return Authentication{}, pk.PersonID, fmt.Errorf("%w: user handle is not the credential owner's", ErrInvalid)
	}
	if err != nil {
		return Authentication{}, pk.PersonID, err
	}
	p, err := k.store.GetPerson(ctx, pk.PersonID)
	if errors.Is(err, storage.ErrNotFound) || (err == nil && p.Disabled) {
		return Authentication{}, pk.PersonID, fmt.Errorf("%w: person missing or disabled", ErrUnknown)
	}
	if err != nil {
		return Authentication{}, pk.PersonID, err
	}
	if pk.CloneWarning {
		return Authentication{}, p.ID, fmt.Errorf("%w: passkey %s was flagged as cloned", ErrCloned, Ref(pk.CredentialID))
	}
	u := &account{p: p, handle: parsed.Response.UserHandle, creds: []webauthn.Credential{credential(pk)}}
	_, c, err := k.wa.ValidatePasskeyLogin(func(_, _ []byte) (webauthn.User, error) { return u, nil }, st.Session, parsed)
	if err != nil {
		ad := parsed.Response.AuthenticatorData
		return Authentication{}, p.ID, k.classify(err, &parsed.Response.CollectedClientData, ad.RPIDHash, ad.Flags, &pk)
	}
	if !parsed.Response.AuthenticatorData.Flags.HasUserVerified() { // go-webauthn checked it; never rely on one check
		return Authentication{}, p.ID, ErrUserNotVerified
	}
	count := parsed.Response.AuthenticatorData.Counter
	at := now.UTC()
	err = k.store.UpdatePasskey(ctx, p.ID, pk.CredentialID, func(q *storage.Passkey) error {
		if q.CloneWarning || c.Authenticator.CloneWarning || (count <= q.SignCount && (count != 0 || q.SignCount != 0)) {
			return errClone
		}
		q.SignCount, q.BackupState, q.LastUsedAt = count, c.Flags.BackupState, &at
		pk = *q
		return nil
	})
	if errors.Is(err, errClone) {
		if ferr := k.store.UpdatePasskey(ctx, p.ID, pk.CredentialID, func(q *storage.Passkey) error {
			q.CloneWarning = true
			return nil
		}); ferr != nil {
			k.log.ErrorContext(ctx, "flag cloned passkey", "person_id", p.ID, "err", ferr)
		}
		k.log.WarnContext(ctx, "passkey signature counter did not increase: flagged as cloned", "person_id", p.ID,
			"passkey", Ref(pk.CredentialID), "stored", pk.SignCount, "asserted", count)
		k.audit(ctx, storage.AuditEvent{Actor: p.ID, Action: "passkey.cloned", Subject: p.ID, Detail: Ref(pk.CredentialID)})
		return Authentication{}, p.ID, fmt.Errorf("%w: stored %d, asserted %d", ErrCloned, pk.SignCount, count)
	}
	if err != nil {
		return Authentication{}, p.ID, err
	}
	amr := []string{"hwk", "user", "mfa"}
	if pk.BackupEligible {
		amr[0] = "swk"
	}
	return Authentication{Person: p, Passkey: pk, AMR: amr}, p.ID, nil
}

// List returns the person's passkeys, oldest first.
func (k *RelyingParty) List(ctx context.Context, personID string) ([]storage.Passkey, error) {
	return k.store.ListPasskeys(ctx, personID)
}

// findPasskey returns the person's passkey whose Ref is ref, or ErrUnknown.
func (k *RelyingParty) findPasskey(ctx context.Context, personID, ref string) (storage.Passkey, error) {
	pks, err := k.store.ListPasskeys(ctx, personID)
	if err != nil {
		return storage.Passkey{}, err
	}
	for _, pk := range pks {
		if hmac.Equal([]byte(Ref(pk.CredentialID)), []byte(ref)) {
			return pk, nil
		}
	}
	return storage.Passkey{}, ErrUnknown
}

// Rename renames the person's passkey with Ref ref; audits "passkey.rename".
// Errors: ErrName, ErrUnknown, storage errors.
func (k *RelyingParty) Rename(ctx context.Context, personID, ref, name string) error {
	name = strings.TrimSpace(name)
	if err := checkName(name); err != nil {
		return err
	}
	pk, err := k.findPasskey(ctx, personID, ref)
	if err != nil {
		return err
	}
	err = k.store.UpdatePasskey(ctx, personID, pk.CredentialID, func(q *storage.Passkey) error {
		q.Name = name
		return nil
	})
	if errors.Is(err, storage.ErrNotFound) {
		return ErrUnknown
	}
	if err == nil {
		k.audit(ctx, storage.AuditEvent{Actor: personID, Action: "passkey.rename", Subject: personID, Detail: ref})
	}
	return err
}

// Remove removes the person's passkey with Ref ref; audits "passkey.remove".
// The authenticator keeps its copy, which no longer logs in (ErrUnknown). Errors:
// ErrUnknown, storage errors.
func (k *RelyingParty) Remove(ctx context.Context, personID, ref string) error {
	pk, err := k.findPasskey(ctx, personID, ref)
	if err != nil {
		return err
	}
	err = k.store.DeletePasskey(ctx, personID, pk.CredentialID)
	if errors.Is(err, storage.ErrNotFound) {
		return ErrUnknown
	}
	if err == nil {
		k.audit(ctx, storage.AuditEvent{Actor: personID, Action: "passkey.remove", Subject: personID, Detail: ref})
		k.log.InfoContext(ctx, "passkey removed", "person_id", personID, "passkey", ref)
	}
	return err
}

// checkName checks a passkey name: 1 to 64 characters of valid UTF-8, no control (Cc) or
// format (Cf: zero-width, bidirectional overrides) characters.
func checkName(name string) error {
	if name == "" || !utf8.ValidString(name) || utf8.RuneCountInString(name) > maxName {
		return fmt.Errorf("%w: empty, longer than %d characters or not UTF-8", ErrName, maxName)
	}
	for _, r := range name {
		if unicode.IsControl(r) || unicode.Is(unicode.Cf, r) {
			return fmt.Errorf("%w: control or format character", ErrName)
		}
	}
	return nil
}
