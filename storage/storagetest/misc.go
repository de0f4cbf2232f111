package storagetest

import (
	"database/sql"
	"strings"
	"testing"
	"time"

	"github.com/tongban/tongban/audit"
	"github.com/tongban/tongban/storage"
)

func testNonces(t *testing.T, s storage.Storage) {
	ctx := t.Context()
	exp := t0.Add(time.Minute)
	for _, tc := range []struct {
		name      string
		namespace string
		value     string
		expiresAt time.Time
		purge     *time.Time // PurgeNonces(*purge) first, when not nil
		wantPurge int64
		wantErr   error
	}{
		{"ok/first use", "qr-cti", "AAECAwQFBgc", exp, nil, 0, nil},
		{"fail/second use", "qr-cti", "AAECAwQFBgc", exp, nil, 0, storage.ErrAlreadyUsed},
		{"fail/second use with another expiry", "qr-cti", "AAECAwQFBgc", exp.Add(time.Hour), nil, 0, storage.ErrAlreadyUsed},
		{"ok/same value, other namespace", "jwt-jti", "AAECAwQFBgc", exp, nil, 0, nil},
		{"ok/other value", "qr-cti", "BwYFBAMCAQA", exp.Add(time.Hour), nil, 0, nil},
		{"ok/empty value is a value", "qr-cti", "", exp, nil, 0, nil},
		{"fail/empty value again", "qr-cti", "", exp, nil, 0, storage.ErrAlreadyUsed},
		// Expired but not purged: still used (storage has no clock; see UseNonce).
		{"fail/expired, not purged", "qr-cti", "AAECAwQFBgc", exp, ptr(exp), 0, storage.ErrAlreadyUsed},
		{"ok/reusable once purged", "qr-cti", "AAECAwQFBgc", exp.Add(2 * time.Hour), ptr(exp.Add(time.Microsecond)), 3, nil},
		{"fail/purge keeps unexpired", "qr-cti", "BwYFBAMCAQA", exp, ptr(exp.Add(time.Hour)), 0, storage.ErrAlreadyUsed},
		{"ok/purge at expiry deletes nothing more", "qr-cti", "new", exp, ptr(exp.Add(time.Hour)), 0, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if tc.purge != nil {
				n, err := s.PurgeNonces(ctx, *tc.purge)
				must(t, "PurgeNonces", err)
				if n != tc.wantPurge {
					t.Errorf("PurgeNonces = %d, want %d", n, tc.wantPurge)
				}
			}
			checkErr(t, "UseNonce", s.UseNonce(ctx, tc.namespace, tc.value, tc.expiresAt), tc.wantErr)
		})
	}
}

// AuditAppendOnly checks that the audit log and its checkpoints refuse changes made behind the
// store's back: it appends one event and one checkpoint through s, runs each of stmts (UPDATE,
// DELETE… on the audit and audit_checkpoints tables) on db, a raw connection to the same
// database, and wants every one refused with the schema's "append-only" error and both
// unchanged.
func AuditAppendOnly(t *testing.T, s storage.Storage, db *sql.DB, stmts ...string) {
	t.Helper()
	ctx := t.Context()
	if _, err := s.AppendAudit(ctx, storage.AuditEvent{Time: time.Now(), Actor: "operator", Action: "test"}); err != nil {
		t.Fatal(err)
	}
	cp := storage.AuditCheckpoint{Pos: 1, Hash: make([]byte, 32), Time: t0, Replica: "r", KeyID: "k", Signature: make([]byte, 64)}
	if err := s.AddAuditCheckpoint(ctx, cp); err != nil {
		t.Fatal(err)
	}
	before, err := s.AuditChain(ctx, 0, 10)
	if err != nil {
		t.Fatal(err)
	}
	for _, stmt := range stmts {
		_, err := db.ExecContext(ctx, stmt)
		if err == nil || !strings.Contains(err.Error(), "append-only") {
			t.Errorf("%s: error %v, want the append-only refusal", stmt, err)
		}
	}
	events, err := s.AuditChain(ctx, 0, 10)
	if err != nil {
		t.Fatal(err)
	}
	checkEqual(t, "audit log", events, before)
	cps, err := s.AuditCheckpoints(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(cps) != 1 || cps[0].KeyID != "k" {
		t.Errorf("audit checkpoints changed: %+v", cps)
	}
}

// AuditAppendOnlyStatements are the changes AuditAppendOnly wants refused on every backend.
var AuditAppendOnlyStatements = []string{
	"UPDATE audit SET actor = 'mallory'",
	"UPDATE audit SET hash = NULL",
	"UPDATE audit SET chain_pos = NULL, hash = NULL",
	"UPDATE audit SET chain_pos = 7",
	"DELETE FROM audit",
	"UPDATE audit_checkpoints SET key_id = 'mallory'",
	"DELETE FROM audit_checkpoints",
}

// AuditChainsEarlierEntries checks that entries written before the chain existed (rows without
// a chain position, inserted through db, a raw connection to the empty database of s) are
// chained, in seq order, by the next append; and that a row inserted behind the store's back
// after that is reported by UnchainedAudit.
func AuditChainsEarlierEntries(t *testing.T, s storage.Storage, db *sql.DB, placeholder func(i int) string) {
	t.Helper()
	ctx := t.Context()
	insert := "INSERT INTO audit (time, actor, action, subject, client_id, detail) VALUES (" +
		placeholder(1) + ", " + placeholder(2) + ", 'legacy', '', '', '')"
	for i := range 3 {
		if _, err := db.ExecContext(ctx, insert, t0.Add(time.Duration(i)*time.Second).UnixMicro(), "old-"+string(rune('a'+i))); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := s.AppendAudit(ctx, storage.AuditEvent{Time: t0, Actor: "operator", Action: "new"}); err != nil {
		t.Fatal(err)
	}
	checkChain(t, s, 4)
	chain, err := s.AuditChain(ctx, 0, 10)
	must(t, "AuditChain", err)
	for i, want := range []string{"old-a", "old-b", "old-c", "operator"} {
		if chain[i].Actor != want {
			t.Errorf("chain[%d].Actor = %q, want %q", i, chain[i].Actor, want)
		}
	}
	if _, err := db.ExecContext(ctx, insert, t0.UnixMicro(), "mallory"); err != nil {
		t.Fatal(err)
	}
	unchained, err := s.UnchainedAudit(ctx, 10)
	must(t, "UnchainedAudit", err)
	if len(unchained) != 1 || unchained[0] <= chain[3].Seq {
		t.Errorf("UnchainedAudit = %v, want the one row inserted after seq %d", unchained, chain[3].Seq)
	}
}

func testAudit(t *testing.T, s storage.Storage) {
	ctx := t.Context()
	t.Run("ListAudit/ok/empty log", func(t *testing.T) {
		got, err := s.ListAudit(ctx, 0, 10)
		must(t, "ListAudit", err)
		if len(got) != 0 {
			t.Errorf("ListAudit: %d events, want 0", len(got))
		}
	})
	events := []storage.AuditEvent{
		{Seq: 999, Time: t0, Actor: "person-1", Action: "login.success", Subject: "session-1", ClientID: "client", Detail: "acr=otp"},
		{Time: t0, Actor: "client", Action: "token.issue", Subject: "req-1", ClientID: "client"},
		{Time: pre1970, Actor: "operator", Action: "key.rotate", Subject: "sm2-2"},
		{Time: t0.Add(time.Second), Actor: "person-1", Action: "licence.show", Subject: "lic-1", Detail: "profile=1"},
		{Time: t0.Add(-time.Hour), Actor: "operator", Action: "licence.revoke", Subject: "lic-1"}, // time need not rise
	}
	var want []storage.AuditEvent
	t.Run("AppendAudit/ok/rising sequence numbers, chained", func(t *testing.T) {
		var last int64
		prev := audit.Genesis
		for i, e := range events {
			seq, err := s.AppendAudit(ctx, e)
			must(t, "AppendAudit", err)
			if seq <= last {
				t.Errorf("AppendAudit = %d after %d, want a higher number", seq, last)
			}
			last = seq
			e.Seq, e.Time, e.Pos = seq, stored(e.Time), int64(i+1)
			e.Hash = audit.Link(prev, e)
			prev = e.Hash
			want = append(want, e)
		}
	})
	if len(want) != len(events) {
		t.FailNow()
	}
	for _, tc := range []struct {
		name  string
		after int64
		limit int
		want  []storage.AuditEvent
	}{
		{"ok/all in order", 0, 100, want},
		{"ok/limit", 0, 2, want[:2]},
		{"ok/after and limit", want[1].Seq, 2, want[2:4]},
		{"ok/after the last", want[4].Seq, 10, nil},
		{"ok/zero limit", 0, 0, nil},
		{"ok/negative after", -1, 1, want[:1]},
	} {
		t.Run("ListAudit/"+tc.name, func(t *testing.T) {
			got, err := s.ListAudit(ctx, tc.after, tc.limit)
			must(t, "ListAudit", err)
			if len(got) == 0 && len(tc.want) == 0 {
				return
			}
			checkEqual(t, "audit events", got, tc.want)
		})
	}
	testAuditChain(t, s, want)
}

func testThrottle(t *testing.T, s storage.Storage) {
	ctx := t.Context()
	const w = 5 * time.Minute
	for _, tc := range []struct {
		name   string
		key    string
		clear  bool // ClearFailures(key) first
		at     time.Time
		window time.Duration
		want   int
	}{
		{"ok/first failure", "account", false, t0, w, 1},
		{"ok/second", "account", false, t0.Add(time.Minute), w, 2},
		{"ok/third", "account", false, t0.Add(2 * time.Minute), w, 3},
		{"ok/window excludes its start", "account", false, t0.Add(w), w, 3}, // t0 is out: (t0, t0+5m]
		{"ok/window slides", "account", false, t0.Add(w + time.Minute + time.Microsecond), w, 3},
		{"ok/keys are separate", "203.0.113.7", false, t0.Add(w), w, 1},
		{"ok/shorter window", "account", false, t0.Add(w + 2*time.Minute), time.Minute + time.Second, 2},
		{"ok/cleared", "account", true, t0.Add(10 * time.Minute), w, 1},
		{"ok/other key not cleared", "203.0.113.7", false, t0.Add(6 * time.Minute), w, 2},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if tc.clear {
				must(t, "ClearFailures", s.ClearFailures(ctx, tc.key))
			}
			n, err := s.AddFailure(ctx, tc.key, tc.at, tc.window)
			must(t, "AddFailure", err)
			if n != tc.want {
				t.Errorf("AddFailure = %d, want %d", n, tc.want)
			}
		})
	}
	t.Run("ClearFailures/ok/unknown key", func(t *testing.T) {
		must(t, "ClearFailures", s.ClearFailures(ctx, "nobody"))
	})
	t.Run("CountFailures/ok/counts without recording", func(t *testing.T) {
		// "203.0.113.7" failed at t0+5m and t0+6m (above).
		for _, c := range []struct {
			at   time.Time
			want int
		}{{t0.Add(6 * time.Minute), 2}, {t0.Add(6 * time.Minute), 2}, {t0.Add(10*time.Minute + time.Second), 1}, {t0.Add(time.Hour), 0}} {
			n, err := s.CountFailures(ctx, "203.0.113.7", c.at, w)
			must(t, "CountFailures", err)
			if n != c.want {
				t.Errorf("CountFailures at %v = %d, want %d", c.at.Sub(t0), n, c.want)
			}
		}
		n, err := s.CountFailures(ctx, "nobody", t0, w)
		must(t, "CountFailures", err)
		if n != 0 {
			t.Errorf("CountFailures(unknown key) = %d, want 0", n)
		}
	})
	t.Run("PurgeFailures/ok/drops old failures only", func(t *testing.T) {
		_, err := s.AddFailure(ctx, "purge-me", t0.Add(-time.Hour), 2*time.Hour)
		must(t, "AddFailure", err)
		_, err = s.AddFailure(ctx, "keep-me", t0.Add(time.Hour), 2*time.Hour)
		must(t, "AddFailure", err)
		n, err := s.PurgeFailures(ctx, t0.Add(-time.Minute))
		must(t, "PurgeFailures", err)
		if n != 1 {
			t.Errorf("PurgeFailures = %d, want 1", n)
		}
		if c, _ := s.CountFailures(ctx, "keep-me", t0.Add(time.Hour), 2*time.Hour); c != 1 {
			t.Errorf("CountFailures(keep-me) after purge = %d, want 1", c)
		}
	})
}

func testPing(t *testing.T, s storage.Storage) {
	must(t, "Ping", s.Ping(t.Context()))
}
