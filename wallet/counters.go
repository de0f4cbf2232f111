package wallet

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/sha256"
	"encoding/base32"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"math/big"
	"strings"
	"time"

	"github.com/tongban/tongban/audit"
	"github.com/tongban/tongban/internal/textcheck"
	smcrypto "github.com/tongban/tongban/sm-crypto"
	"github.com/tongban/tongban/storage"
)

// Counters (柜台) and their receipts (docs/design/citizens-counters.md, "Receipts"). An
// operator adds a counter (AddCounter) and hands its one-time enrolment code to the office;
// the browser verifier at the counter enrols a P-256 key it cannot export (EnrolCounter) and
// from then on signs a receipt for each code it finds valid (AcceptReceipt), which the holder
// sees on their record page.

// Defaults and limits of counters and receipts.
const (
	// DefaultEnrolmentValidity is how long an enrolment code works when AddCounter is given
	// no validity.
	DefaultEnrolmentValidity = 24 * time.Hour
	// MaxEnrolmentValidity bounds the validity AddCounter accepts.
	MaxEnrolmentValidity = 7 * 24 * time.Hour
	// MaxCounterName bounds a counter's name and office, in characters.
	MaxCounterName = 64
	// ReceiptFutureSkew is how far a receipt's iat may be ahead of the wallet's clock.
	ReceiptFutureSkew = 5 * time.Minute
	// ReceiptMaxAge is how old a receipt's iat may be: a counter that was offline sends its
	// queue when it is back, within this time.
	ReceiptMaxAge = 30 * 24 * time.Hour
	// MaxReceiptSize bounds a receipt JWS, in bytes.
	MaxReceiptSize = 2048
	// ReceiptType is the JWS typ header of a receipt.
	ReceiptType = "tongban-receipt+jwt"
)

// Audit actions of counters. Subject is the counter ID; Detail holds no personal data.
const (
	ActionCounterAdd     = "counter.add"
	ActionCounterEnrol   = "counter.enrol"
	ActionCounterDisable = "counter.disable"
)

// Errors of counters and receipts, tested with errors.Is; each says what was wrong.
var (
	ErrCounterNotFound = errors.New("wallet: no such counter")
	// ErrCounterAlreadyDisabled: DisableCounter of a counter that is disabled already.
	ErrCounterAlreadyDisabled = errors.New("wallet: the counter is already disabled")
	// ErrInvalidCounter: AddCounter's name, office or validity, or EnrolCounter's key, is not
	// acceptable; the message says which and why. errors.Is(err, ErrBadRequest) holds too.
	ErrInvalidCounter   error = invalidCounter{}
	ErrEnrolmentUnknown       = errors.New("wallet: unknown enrolment code")
	ErrEnrolmentUsed          = errors.New("wallet: the enrolment code was used already")
	ErrEnrolmentExpired       = errors.New("wallet: the enrolment code has expired")
	ErrCounterKey             = errors.New("wallet: the counter's key is not a P-256 public JWK")
	ErrReceiptMalformed       = errors.New("wallet: the receipt is not a compact JWS")
	ErrReceiptAlg             = errors.New("wallet: the receipt is not signed with ES256")
	ErrReceiptType            = errors.New("wallet: the receipt's typ is not " + ReceiptType)
	ErrReceiptKey             = errors.New("wallet: the receipt's kid names no enrolled counter")
	ErrReceiptSignature       = errors.New("wallet: the receipt's signature does not verify with the counter's key")
	ErrCounterDisabled        = errors.New("wallet: the counter is disabled")
	ErrReceiptClaims          = errors.New("wallet: the receipt's claims are malformed")
	ErrReceiptTime            = errors.New("wallet: the receipt's iat is outside the accepted window")
	ErrReceiptRate            = errors.New("wallet: too many receipts from this counter")
)

// invalidCounter is ErrInvalidCounter: its own words, and ErrBadRequest's kind (the callers
// that answer every bad request alike keep working).
type invalidCounter struct{}

func (invalidCounter) Error() string { return "wallet: invalid counter" }

func (invalidCounter) Is(target error) bool { return target == ErrBadRequest }

// NewCounter describes a counter to add.
type NewCounter struct {
	Name   string        // e.g. "3号窗口": required, at most MaxCounterName characters
	Office string        // e.g. "朝阳区政务服务中心": optional, at most MaxCounterName characters
	Valid  time.Duration // how long the enrolment code works; zero means DefaultEnrolmentValidity
}

// enrolmentEncoding writes enrolment codes: RFC 4648 base32 without padding (letters and
// digits 2–7, easy to read out and type).
var enrolmentEncoding = base32.StdEncoding.WithPadding(base32.NoPadding)

// enrolmentHash is HMAC-SM3 of a normalised enrolment code under a key derived from the
// keyring's token key for this use alone.
func (s *Service) enrolmentHash(code string) []byte {
	k := smcrypto.HMACSM3(s.kr.TokenKey(), []byte("tongban/wallet/counter-enrolment"))
	return smcrypto.HMACSM3(k, []byte(normaliseEnrolmentCode(code)))
}

// normaliseEnrolmentCode uppercases code and drops spaces and hyphens.
func normaliseEnrolmentCode(code string) string {
	return strings.Map(func(r rune) rune {
		if r == '-' || r == ' ' {
			return -1
		}
		return r
	}, strings.ToUpper(strings.TrimSpace(code)))
}

// AddCounter creates a counter and returns it with its one-time enrolment code: 80 random
// bits as 16 base32 characters in four groups ("ABCD-EFGH-IJKL-MNOP"). Only the code's
// HMAC-SM3 is stored, so the code is shown once. The counter and its audit entry
// (ActionCounterAdd, by a) are written in one transaction. Errors: ErrInvalidCounter (a name or
// office that is blank, too long or holds invisible characters; a validity outside 1 m to
// MaxEnrolmentValidity), or the store's.
func (s *Service) AddCounter(ctx context.Context, nc NewCounter, a audit.Actor) (storage.Counter, string, error) {
	name, err := textcheck.Name(nc.Name, MaxCounterName)
	if err != nil {
		return storage.Counter{}, "", fmt.Errorf("%w: name: %w", ErrInvalidCounter, err)
	}
	office := ""
	if strings.TrimSpace(nc.Office) != "" {
		if office, err = textcheck.Name(nc.Office, MaxCounterName); err != nil {
			return storage.Counter{}, "", fmt.Errorf("%w: office: %w", ErrInvalidCounter, err)
		}
	}
	valid := nc.Valid
	if valid == 0 {
		valid = DefaultEnrolmentValidity
	}
	if valid < time.Minute || valid > MaxEnrolmentValidity {
		return storage.Counter{}, "", fmt.Errorf("%w: enrolment validity %s: want 1m to %s", ErrInvalidCounter, valid, MaxEnrolmentValidity)
	}
	var raw [10]byte
	var id [5]byte
	if _, err := s.rand.Read(raw[:]); err != nil {
		return storage.Counter{}, "", fmt.Errorf("wallet: enrolment code: %w", err)
	}
	if _, err := s.rand.Read(id[:]); err != nil {
		return storage.Counter{}, "", fmt.Errorf("wallet: counter ID: %w", err)
	}
	enc := enrolmentEncoding.EncodeToString(raw[:])
	code := enc[0:4] + "-" + enc[4:8] + "-" + enc[8:12] + "-" + enc[12:16]
	now := s.now().UTC().Truncate(time.Microsecond) // as stored
	c := storage.Counter{
		ID: "ctr-" + strings.ToLower(enrolmentEncoding.EncodeToString(id[:])), Name: name, Office: office,
		EnrolmentHash: s.enrolmentHash(code), EnrolmentExpiresAt: now.Add(valid), CreatedAt: now,
	}
	err = s.inTx(ctx, func(ctx context.Context) error {
		if err := s.store.CreateCounter(ctx, c); err != nil {
			return err
		}
		return a.Record(ctx, s.store, now, ActionCounterAdd, c.ID, "", "enrolment_expires="+c.EnrolmentExpiresAt.Format(time.RFC3339))
	})
	if err != nil {
		return storage.Counter{}, "", fmt.Errorf("wallet: add counter: %w", err)
	}
	return c, code, nil
}

// Counters returns every counter, oldest first.
func (s *Service) Counters(ctx context.Context) ([]storage.Counter, error) {
	cs, err := s.store.ListCounters(ctx)
	if err != nil {
		return nil, fmt.Errorf("wallet: list counters: %w", err)
	}
	return cs, nil
}

// DisableCounter disables counter id for good: its receipts are refused from then on and its
// enrolment code, if unused, no longer works. The change and its audit entry
// (ActionCounterDisable, by a) are one transaction. Errors: ErrCounterNotFound,
// ErrCounterAlreadyDisabled (nothing changes and nothing is audited), or the store's.
func (s *Service) DisableCounter(ctx context.Context, id string, a audit.Actor) error {
	now := s.now().UTC()
	err := s.inTx(ctx, func(ctx context.Context) error {
		c, err := s.store.GetCounter(ctx, id)
		if err != nil {
			return err
		}
		if c.DisabledAt != nil {
			return fmt.Errorf("%w: %s, at %s", ErrCounterAlreadyDisabled, id, c.DisabledAt.UTC().Format(time.RFC3339))
		}
		if err := s.store.DisableCounter(ctx, id, now); err != nil {
			return err
		}
		return a.Record(ctx, s.store, now, ActionCounterDisable, id, "", "")
	})
	if errors.Is(err, storage.ErrNotFound) {
		return fmt.Errorf("%w: %q", ErrCounterNotFound, id)
	}
	if err != nil {
		return fmt.Errorf("wallet: disable counter: %w", err)
	}
	return nil
}

// counterJWK is a P-256 public key as a JWK (RFC 7517, RFC 7518 §6.2.1).
type counterJWK struct {
	Kty string `json:"kty"`
	Crv string `json:"crv"`
	X   string `json:"x"`
	Y   string `json:"y"`
	D   string `json:"d,omitempty"`
}

// parseCounterJWK parses a public P-256 JWK and returns the key's uncompressed point (SEC 1
// §2.3.3, 65 bytes) and its RFC 7638 thumbprint (SHA-256, base64url): the kid.
func parseCounterJWK(b []byte) (point []byte, kid string, err error) {
	var j counterJWK
	if err := json.Unmarshal(b, &j); err != nil {
		return nil, "", fmt.Errorf("%w: %v", ErrCounterKey, err)
	}
	if j.Kty != "EC" || j.Crv != "P-256" {
		return nil, "", fmt.Errorf("%w: kty %q crv %q, want EC P-256", ErrCounterKey, j.Kty, j.Crv)
	}
	if j.D != "" {
		return nil, "", fmt.Errorf("%w: it holds a private key (d); send the public key only", ErrCounterKey)
	}
	x, errX := base64.RawURLEncoding.DecodeString(j.X)
	y, errY := base64.RawURLEncoding.DecodeString(j.Y)
	if errX != nil || errY != nil || len(x) != 32 || len(y) != 32 {
		return nil, "", fmt.Errorf("%w: x and y must be 32 bytes each, base64url", ErrCounterKey)
	}
	point = append(append([]byte{4}, x...), y...)
	if _, err := ecdsa.ParseUncompressedPublicKey(elliptic.P256(), point); err != nil {
		return nil, "", fmt.Errorf("%w: %v", ErrCounterKey, err)
	}
	// RFC 7638 §3.2: the required members in lexicographic order, no white space.
	thumb := sha256.Sum256([]byte(`{"crv":"P-256","kty":"EC","x":"` + j.X + `","y":"` + j.Y + `"}`))
	return point, base64.RawURLEncoding.EncodeToString(thumb[:]), nil
}

// EnrolCounter binds the public key jwk (a P-256 JWK, RFC 7517; no private part) to the
// counter whose one-time enrolment code is code (case, spaces and hyphens ignored), and
// returns the counter: its ID and KeyID (the key's RFC 7638 thumbprint) are what the counter
// puts in its receipts. The enrolment and its audit entry (ActionCounterEnrol, actor the
// counter, from a.Address) are one transaction. Errors: ErrCounterKey, ErrEnrolmentUnknown (no
// such code, or its counter is disabled), ErrEnrolmentUsed, ErrEnrolmentExpired,
// ErrInvalidCounter (the key is enrolled by another counter), or the store's.
func (s *Service) EnrolCounter(ctx context.Context, code string, jwk []byte, a audit.Actor) (storage.Counter, error) {
	point, kid, err := parseCounterJWK(jwk)
	if err != nil {
		return storage.Counter{}, err
	}
	now := s.now().UTC()
	var c storage.Counter
	err = s.inTx(ctx, func(ctx context.Context) error {
		var err error
		if c, err = s.store.EnrolCounter(ctx, s.enrolmentHash(code), kid, point, now); err != nil {
			return err
		}
		a.ID = c.ID
		return a.Record(ctx, s.store, now, ActionCounterEnrol, c.ID, "", "kid="+kid)
	})
	switch {
	case err == nil:
		return c, nil
	case errors.Is(err, storage.ErrNotFound):
		return storage.Counter{}, ErrEnrolmentUnknown
	case errors.Is(err, storage.ErrAlreadyUsed):
		return storage.Counter{}, ErrEnrolmentUsed
	case errors.Is(err, storage.ErrExpired):
		return storage.Counter{}, ErrEnrolmentExpired
	case errors.Is(err, storage.ErrConflict):
		return storage.Counter{}, fmt.Errorf("%w: this key is enrolled by another counter already", ErrInvalidCounter)
	}
	return storage.Counter{}, fmt.Errorf("wallet: enrol counter: %w", err)
}

// Receipt is a counter's receipt that AcceptReceipt checked.
type Receipt struct {
	CounterID string
	CTI       []byte    // the code's cti, 8 bytes
	IssuedAt  time.Time // iat: when the counter verified the code
	// Stored is false when the receipt names no code recorded here (an unknown or purged
	// cti, or an iat outside the code's validity) and was dropped; a duplicate is Stored (the
	// first receipt is kept). The counter is answered the same either way, so that it cannot
	// probe which codes exist.
	Stored bool
}

// receiptHeader is a receipt's JOSE header.
type receiptHeader struct {
	Alg string `json:"alg"`
	Typ string `json:"typ"`
	Kid string `json:"kid"`
}

// receiptClaims are a receipt's claims.
type receiptClaims struct {
	CTI string `json:"cti"`
	Ctr string `json:"ctr"`
	Iat *int64 `json:"iat"`
}

// AcceptReceipt checks a counter's receipt and stores it against the code's record. A
// receipt is a compact JWS (RFC 7515 §7.1): protected header {"alg":"ES256" (RFC 7518 §3.4:
// the signature is r ‖ s, 64 bytes), "typ":ReceiptType, "kid": the counter's key ID}, payload
// {"cti": base64url of the code's 8-byte cti, "ctr": the counter ID, "iat": NumericDate}.
//
// In order: size and shape (ErrReceiptMalformed), alg (ErrReceiptAlg), typ (ErrReceiptType),
// kid names an enrolled counter (ErrReceiptKey), the signature verifies with its key
// (ErrReceiptSignature), the counter is not disabled (ErrCounterDisabled), allow (when not
// nil) lets the counter send one more receipt now (ErrReceiptRate), the claims are
// well-formed and ctr is that counter (ErrReceiptClaims), iat is at most ReceiptFutureSkew
// ahead and ReceiptMaxAge behind the wallet's clock (ErrReceiptTime). Nothing in the payload
// is read before the signature is checked.
//
// A checked receipt whose cti names no recorded code, or whose iat is outside the code's
// validity (± ReceiptFutureSkew), is accepted and dropped (Receipt.Stored false, nil error),
// as is a duplicate: the counter cannot tell which ctis exist. Store errors are returned.
func (s *Service) AcceptReceipt(ctx context.Context, jws []byte, allow func(counterID string) bool) (Receipt, error) {
	if len(jws) > MaxReceiptSize {
		return Receipt{}, fmt.Errorf("%w: %d bytes, at most %d", ErrReceiptMalformed, len(jws), MaxReceiptSize)
	}
	parts := strings.Split(strings.TrimSpace(string(jws)), ".")
	if len(parts) != 3 {
		return Receipt{}, fmt.Errorf("%w: want three base64url parts separated by dots", ErrReceiptMalformed)
	}
	hb, errH := base64.RawURLEncoding.DecodeString(parts[0])
	pb, errP := base64.RawURLEncoding.DecodeString(parts[1])
	sig, errS := base64.RawURLEncoding.DecodeString(parts[2])
	if errH != nil || errP != nil || errS != nil {
		return Receipt{}, fmt.Errorf("%w: a part is not base64url without padding", ErrReceiptMalformed)
	}
	var h receiptHeader
	if err := strictJSON(hb, &h); err != nil {
		return Receipt{}, fmt.Errorf("%w: header: %v", ErrReceiptMalformed, err)
	}
	if h.Alg != "ES256" {
		return Receipt{}, fmt.Errorf("%w: alg %q", ErrReceiptAlg, h.Alg)
	}
	if h.Typ != ReceiptType {
		return Receipt{}, fmt.Errorf("%w: typ %q", ErrReceiptType, h.Typ)
	}
	if h.Kid == "" || len(h.Kid) > 64 {
		return Receipt{}, fmt.Errorf("%w: no kid", ErrReceiptKey)
	}
	c, err := s.store.GetCounterByKeyID(ctx, h.Kid)
	if errors.Is(err, storage.ErrNotFound) {
		return Receipt{}, ErrReceiptKey
	}
	if err != nil {
		return Receipt{}, fmt.Errorf("wallet: receipt: %w", err)
	}
	pub, err := ecdsa.ParseUncompressedPublicKey(elliptic.P256(), c.PublicKey)
	if err != nil {
		return Receipt{}, fmt.Errorf("wallet: receipt: stored key of counter %s: %w", c.ID, err)
	}
	digest := sha256.Sum256([]byte(parts[0] + "." + parts[1]))
	if len(sig) != 64 || !ecdsa.Verify(pub, digest[:], new(big.Int).SetBytes(sig[:32]), new(big.Int).SetBytes(sig[32:])) {
		return Receipt{}, ErrReceiptSignature
	}
	if c.DisabledAt != nil {
		return Receipt{}, fmt.Errorf("%w: %s", ErrCounterDisabled, c.ID)
	}
	if allow != nil && !allow(c.ID) {
		return Receipt{}, fmt.Errorf("%w: %s", ErrReceiptRate, c.ID)
	}
	var cl receiptClaims
	if err := strictJSON(pb, &cl); err != nil {
		return Receipt{}, fmt.Errorf("%w: %s", ErrReceiptClaims, claimsProblem(err))
	}
	ctiB, err := base64.RawURLEncoding.DecodeString(cl.CTI)
	if err != nil || len(ctiB) != 8 {
		return Receipt{}, fmt.Errorf("%w: cti must be 8 bytes, base64url", ErrReceiptClaims)
	}
	if cl.Ctr != c.ID {
		return Receipt{}, fmt.Errorf("%w: ctr is not the counter of kid", ErrReceiptClaims)
	}
	if cl.Iat == nil {
		return Receipt{}, fmt.Errorf("%w: no iat", ErrReceiptClaims)
	}
	now := s.now().UTC()
	iat := time.Unix(*cl.Iat, 0).UTC()
	if iat.After(now.Add(ReceiptFutureSkew)) || iat.Before(now.Add(-ReceiptMaxAge)) {
		return Receipt{}, fmt.Errorf("%w: iat %s, now %s", ErrReceiptTime, iat.Format(time.RFC3339), now.Format(time.RFC3339))
	}
	r := Receipt{CounterID: c.ID, CTI: ctiB, IssuedAt: iat}
	rec, err := s.store.GetCodeRecord(ctx, ctiB)
	switch {
	case errors.Is(err, storage.ErrNotFound):
		return r, nil // accepted and dropped
	case err != nil:
		return Receipt{}, fmt.Errorf("wallet: receipt: %w", err)
	case iat.Before(rec.IssuedAt.Add(-ReceiptFutureSkew)) || iat.After(rec.ExpiresAt.Add(ReceiptFutureSkew)):
		return r, nil // not a time the code could be verified at: dropped
	}
	err = s.store.AddCodeReceipt(ctx, storage.CodeReceipt{CTI: ctiB, CounterID: c.ID, VerifiedAt: iat, ReceivedAt: now})
	switch {
	case errors.Is(err, storage.ErrNotFound):
		return r, nil // purged meanwhile
	case err != nil:
		return Receipt{}, fmt.Errorf("wallet: receipt: %w", err)
	}
	r.Stored = true
	return r, nil
}

// claimsProblem says in the receipt format's own terms what strictJSON found wrong with a
// receipt's claims, without Go's type names ("Go struct field receiptClaims.iat").
func claimsProblem(err error) string {
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) {
		switch te.Field {
		case "iat":
			return "iat must be a NumericDate (integer seconds)"
		case "cti", "ctr":
			return te.Field + " must be a string"
		}
		return "the claims must be a JSON object {cti, ctr, iat}"
	}
	if msg := err.Error(); strings.HasPrefix(msg, "json: unknown field ") {
		return "unknown claim " + strings.TrimPrefix(msg, "json: unknown field ")
	}
	return "the claims must be a JSON object {cti, ctr, iat}"
}

// strictJSON decodes one JSON object into v, refusing unknown fields and trailing data.
func strictJSON(b []byte, v any) error {
	d := json.NewDecoder(bytes.NewReader(b))
	d.DisallowUnknownFields()
	if err := d.Decode(v); err != nil {
		return err
	}
	if d.More() {
		return errors.New("trailing data")
	}
	return nil
}
