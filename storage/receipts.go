package storage

import (
	"context"
	"time"
)

// The holder's record (亮证记录, docs/design/citizens-counters.md): every code the wallet mints
// is recorded (CodeRecords, migration 00028), counters enrol a key (Counters, migration
// 00029), and a counter's signed receipt that it verified a code is stored against the code's
// record (CodeReceipt, migration 00029), so that the holder sees when each code was shown and
// which counter verified it.

// CodeRecord is one code the wallet minted for a holder. It holds no image and no personal
// data beyond the blind index the holder's licences are found by already.
type CodeRecord struct {
	// CTI is the code's cti claim (qr.CTISize, 8 random bytes): the record's key and what a
	// counter's receipt names.
	CTI []byte
	// HolderIndex is the blind index (HMAC-SM3, 32 bytes) of the number of the person the
	// code was minted for — the one logged in, also when they show a business licence as its
	// agent.
	HolderIndex []byte
	// Kinds are the licence kinds the code shows, in the code's order (credentials.Kind
	// names).
	Kinds []string
	// Profile is the code's display profile number (qr.DisplayProfile).
	Profile int
	// IssuedAt and ExpiresAt are the code's iat and exp.
	IssuedAt, ExpiresAt time.Time
}

// CodeReceipt is a counter's report that it verified a code (a receipt JWS the wallet has
// checked).
type CodeReceipt struct {
	CTI       []byte // the code's cti (CodeRecord.CTI)
	CounterID string // the enrolled counter that sent it (Counter.ID)
	// VerifiedAt is the receipt's iat: when the counter verified the code, by its clock.
	VerifiedAt time.Time
	// ReceivedAt is when the wallet accepted the receipt (later than VerifiedAt when the
	// counter was offline and queued it).
	ReceivedAt time.Time
}

// CodeRecords stores the codes minted for holders and the receipts of their verification.
type CodeRecords interface {
	// RecordCode stores r with one INSERT; ErrConflict when a record with r.CTI exists.
	RecordCode(ctx context.Context, r CodeRecord) error
	// ListCodeRecords returns the records of the holder with holderIndex whose IssuedAt is in
	// [since, until) — a zero since or until leaves that end open — newest first (IssuedAt
	// descending, then CTI descending), at most limit (> 0) of them; empty (not nil) when none.
	ListCodeRecords(ctx context.Context, holderIndex []byte, since, until time.Time, limit int) ([]CodeRecord, error)
	// GetCodeRecord returns the record with cti, or ErrNotFound.
	GetCodeRecord(ctx context.Context, cti []byte) (CodeRecord, error)
	// AddCodeReceipt stores rc. A second receipt of the same counter for the same code is a
	// duplicate: nil, and the first is kept. ErrNotFound when no record has rc.CTI (never
	// minted here, or purged) or no counter has rc.CounterID.
	AddCodeReceipt(ctx context.Context, rc CodeReceipt) error
	// ListCodeReceipts returns the receipts of the codes ctis, ordered by CTI, then
	// VerifiedAt, then CounterID; empty (not nil) when none. At most 1,000 ctis.
	ListCodeReceipts(ctx context.Context, ctis [][]byte) ([]CodeReceipt, error)
	// DeleteCodeRecordsBefore deletes the records with IssuedAt before t, and their receipts;
	// returns how many records. Idempotent.
	DeleteCodeRecordsBefore(ctx context.Context, before time.Time) (int64, error)
}

// Counter is a verifying counter (柜台) of an office: a browser that enrolled a key with a
// one-time enrolment code and signs receipts with it.
type Counter struct {
	ID     string // random, assigned at creation
	Name   string // e.g. "3号窗口", shown to holders
	Office string // e.g. "朝阳区政务服务中心"; may be ""
	// EnrolmentHash is HMAC-SM3 (32 bytes) of the one-time enrolment code; the code itself
	// is never stored.
	EnrolmentHash []byte
	// EnrolmentExpiresAt is when the enrolment code stops working.
	EnrolmentExpiresAt time.Time
	// KeyID is the kid of the enrolled key (its RFC 7638 thumbprint, base64url); "" until
	// enrolment.
	KeyID string
	// PublicKey is the enrolled P-256 public key, uncompressed (65 bytes, SEC 1 §2.3.3); nil
	// until enrolment.
	PublicKey  []byte
	CreatedAt  time.Time
	EnrolledAt *time.Time // nil until enrolment
	DisabledAt *time.Time // nil while enabled
}

// Counters stores the counters that may send receipts.
type Counters interface {
	// CreateCounter stores c (not enrolled); ErrConflict when its ID or EnrolmentHash exists.
	CreateCounter(ctx context.Context, c Counter) error
	// GetCounter returns the counter with id, or ErrNotFound.
	GetCounter(ctx context.Context, id string) (Counter, error)
	// GetCounterByKeyID returns the counter that enrolled the key keyID, or ErrNotFound.
	GetCounterByKeyID(ctx context.Context, keyID string) (Counter, error)
	// ListCounters returns every counter, by CreatedAt then ID; empty (not nil) when none.
	ListCounters(ctx context.Context) ([]Counter, error)
	// EnrolCounter binds the key (keyID, publicKey) to the counter whose enrolment code hashes
	// to enrolmentHash, with one conditional UPDATE, so that one of any set of concurrent
	// callers succeeds, and returns the counter as it now is. ErrNotFound when no counter has
	// that hash or it is disabled; ErrAlreadyUsed when it is enrolled already (the code was
	// used); ErrExpired when now is at or after EnrolmentExpiresAt; ErrConflict when another
	// counter enrolled keyID.
	EnrolCounter(ctx context.Context, enrolmentHash []byte, keyID string, publicKey []byte, now time.Time) (Counter, error)
	// DisableCounter sets the counter's DisabledAt to now; disabling it again keeps the first
	// time (nil). ErrNotFound when there is no counter id.
	DisableCounter(ctx context.Context, id string, now time.Time) error
}
