package audit_test

import (
	"context"
	"crypto/ecdsa"
	"database/sql"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/emmansun/gmsm/sm2"

	"github.com/tongban/tongban/audit"
	"github.com/tongban/tongban/sm-crypto"
	"github.com/tongban/tongban/storage"
	"github.com/tongban/tongban/storage/postgres"
	"github.com/tongban/tongban/storage/sqlite"
	"github.com/tongban/tongban/storage/storagetest"
)

var t0 = time.Date(2026, 12, 5, 8, 0, 0, 0, time.UTC)

// backend is a real database with a raw connection for tampering behind the store's back.
type backend struct {
	name  string
	store storage.Storage
	db    *sql.DB
	ph    func(i int) string // the i-th bind placeholder
	// dropTriggers removes the append-only triggers, as an attacker with the database's
	// owner rights would.
	dropTriggers []string
}

func sqliteBackend(t *testing.T) backend {
	path := filepath.Join(t.TempDir(), "tongban.db")
	s, err := sqlite.Open(t.Context(), path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	db, err := sql.Open("sqlite", path+"?_pragma=busy_timeout(5000)")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return backend{"sqlite", s, db, func(int) string { return "?" }, []string{
		"DROP TRIGGER audit_no_update", "DROP TRIGGER audit_no_delete",
		"DROP TRIGGER audit_checkpoints_no_update", "DROP TRIGGER audit_checkpoints_no_delete",
	}}
}

func postgresBackend(t *testing.T) backend {
	dsn := storagetest.PostgresDSN(t)
	s, err := postgres.Open(t.Context(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	db, err := sql.Open("pgx", dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return backend{"postgres", s, db, func(i int) string { return fmt.Sprintf("$%d", i) }, []string{
		"DROP TRIGGER audit_no_update_delete ON audit",
		"DROP TRIGGER audit_checkpoints_no_update_delete ON audit_checkpoints",
	}}
}

func backends(t *testing.T, run func(t *testing.T, b func(t *testing.T) backend)) {
	t.Run("sqlite", func(t *testing.T) { run(t, sqliteBackend) })
	t.Run("postgres", func(t *testing.T) {
		storagetest.SkipUnlessPostgres(t)
		run(t, postgresBackend)
	})
}

// fixture is a log of n entries with signed checkpoints at the positions in cps.
type fixture struct {
	backend
	key  *sm2.PrivateKey
	keys map[string]*ecdsa.PublicKey
	cp   *audit.Checkpointer
}

func newFixture(t *testing.T, b backend, n int, cps ...int) *fixture {
	t.Helper()
	key, err := smcrypto.GenerateKey(rand.NewChaCha8([32]byte{1, 2}))
	if err != nil {
		t.Fatal(err)
	}
	f := &fixture{backend: b, key: key, keys: map[string]*ecdsa.PublicKey{"audit-k1": &key.PublicKey}}
	f.cp = &audit.Checkpointer{
		Store: b.store, Replica: "test/1", Now: func() time.Time { return t0 },
		Key: func(context.Context) (string, *sm2.PrivateKey, error) { return "audit-k1", key, nil },
	}
	f.append(t, 1, n, cps...)
	return f
}

// append appends entries from .. to (positions) and checkpoints at the positions in cps.
func (f *fixture) append(t *testing.T, from, to int, cps ...int) {
	t.Helper()
	ctx := t.Context()
	for i := from; i <= to; i++ {
		e := storage.AuditEvent{
			Time: t0.Add(time.Duration(i) * time.Second), Actor: fmt.Sprintf("person-%d", i%7),
			Action: []string{"login.success", "token.issue", "licence.show"}[i%3], Subject: fmt.Sprintf("s-%d", i),
			ClientID: "app", Detail: fmt.Sprintf("n=%d", i),
		}
		if _, err := f.store.AppendAudit(ctx, e); err != nil {
			t.Fatal(err)
		}
		for _, c := range cps {
			if c == i {
				if _, wrote, err := f.cp.Checkpoint(ctx); err != nil || !wrote {
					t.Fatalf("Checkpoint at %d: wrote %v, %v", i, wrote, err)
				}
			}
		}
	}
}

func (f *fixture) exec(t *testing.T, stmts ...string) {
	t.Helper()
	for _, s := range stmts {
		if _, err := f.db.ExecContext(t.Context(), s); err != nil {
			t.Fatalf("%s: %v", s, err)
		}
	}
}

func (f *fixture) verify(t *testing.T, sinkDir string) *audit.Report {
	t.Helper()
	opts := audit.VerifyOptions{Keys: f.keys, PageSize: 7} // small pages: problems across page ends
	if sinkDir != "" {
		opts.Sink = audit.ReadFileSink(sinkDir)
	}
	rep, err := audit.Verify(t.Context(), f.store, opts)
	if err != nil {
		t.Fatal(err)
	}
	return rep
}

// wantFirst checks the report's first problem.
func wantFirst(t *testing.T, rep *audit.Report, kind audit.ProblemKind, pos int64) {
	t.Helper()
	if len(rep.Problems) == 0 {
		t.Fatalf("Verify found nothing; want %s at position %d", kind, pos)
	}
	if p := rep.Problems[0]; p.Kind != kind || p.Pos != pos {
		t.Errorf("first problem = %v; want %s at position %d (all: %v)", p, kind, pos, rep.Problems)
	}
}

// relink recomputes the stored hashes from position from to the end, as an attacker who knows
// the (public) chain format would after an edit.
func (f *fixture) relink(t *testing.T, from int64) {
	t.Helper()
	ctx := t.Context()
	chain, err := f.store.AuditChain(ctx, 0, 1000)
	if err != nil {
		t.Fatal(err)
	}
	prev := audit.Genesis
	for _, e := range chain {
		if e.Pos >= from {
			e.Hash = audit.Link(prev, e)
			if _, err := f.db.ExecContext(ctx, "UPDATE audit SET hash = "+f.ph(1)+" WHERE chain_pos = "+f.ph(2), e.Hash, e.Pos); err != nil {
				t.Fatal(err)
			}
		}
		prev = e.Hash
	}
}

func TestVerifyIntact(t *testing.T) {
	backends(t, func(t *testing.T, b func(*testing.T) backend) {
		f := newFixture(t, b(t), 50, 20, 50)
		rep := f.verify(t, "")
		if !rep.OK() || rep.Entries != 50 || rep.Head != 50 || rep.Checkpoints != 2 || rep.Signed != 50 || rep.Unsigned != 0 {
			t.Errorf("report = %+v, want 50 entries, 2 checkpoints, all signed, no problems", rep)
		}
		f.append(t, 51, 53)
		if rep := f.verify(t, ""); !rep.OK() || rep.Unsigned != 3 {
			t.Errorf("after 3 more: report = %+v, want no problems and 3 unsigned", rep)
		}
	})
}

func TestVerifyFindsTampering(t *testing.T) {
	for _, tc := range []struct {
		name   string
		tamper func(t *testing.T, f *fixture)
		kind   audit.ProblemKind
		pos    int64
	}{
		{"edit a field", func(t *testing.T, f *fixture) {
			f.exec(t, "UPDATE audit SET detail = 'n=999' WHERE chain_pos = 30")
		}, audit.Edited, 30},
		{"edit the time", func(t *testing.T, f *fixture) {
			f.exec(t, "UPDATE audit SET time = time + 1 WHERE chain_pos = 1")
		}, audit.Edited, 1},
		{"edit the hash", func(t *testing.T, f *fixture) {
			f.exec(t, "UPDATE audit SET hash = (SELECT hash FROM audit WHERE chain_pos = 3) WHERE chain_pos = 33")
		}, audit.Edited, 33},
		{"delete one", func(t *testing.T, f *fixture) {
			f.exec(t, "DELETE FROM audit WHERE chain_pos = 30")
		}, audit.Missing, 30},
		{"delete one, renumber the rest", func(t *testing.T, f *fixture) {
			f.exec(t, "DELETE FROM audit WHERE chain_pos = 30",
				"UPDATE audit SET chain_pos = -(chain_pos - 1) WHERE chain_pos > 30",
				"UPDATE audit SET chain_pos = -chain_pos WHERE chain_pos < 0")
		}, audit.Missing, 30},
		{"reorder two", func(t *testing.T, f *fixture) {
			f.exec(t, "UPDATE audit SET chain_pos = -1 WHERE chain_pos = 30",
				"UPDATE audit SET chain_pos = 30 WHERE chain_pos = 31",
				"UPDATE audit SET chain_pos = 31 WHERE chain_pos = -1")
		}, audit.Reordered, 30},
		{"insert one, renumber the rest", func(t *testing.T, f *fixture) {
			f.exec(t, "UPDATE audit SET chain_pos = -(chain_pos + 1) WHERE chain_pos >= 30",
				"UPDATE audit SET chain_pos = -chain_pos WHERE chain_pos < 0",
				"INSERT INTO audit (time, actor, action, subject, client_id, detail, chain_pos, hash) "+
					"SELECT time, 'mallory', action, subject, client_id, detail, 30, hash FROM audit WHERE chain_pos = 29")
		}, audit.Inserted, 30},
		{"insert one without a position", func(t *testing.T, f *fixture) {
			f.exec(t, "INSERT INTO audit (time, actor, action, subject, client_id, detail) VALUES (0, 'mallory', 'x', '', '', '')")
		}, audit.Inserted, 0},
		{"insert one at the end", func(t *testing.T, f *fixture) {
			f.exec(t, "INSERT INTO audit (time, actor, action, subject, client_id, detail, chain_pos, hash) "+
				"SELECT time, 'mallory', action, subject, client_id, detail, 51, hash FROM audit WHERE chain_pos = 50")
		}, audit.Edited, 51},
		{"edit and recompute the chain", func(t *testing.T, f *fixture) {
			f.exec(t, "UPDATE audit SET actor = 'mallory' WHERE chain_pos = 30")
			f.relink(t, 30)
		}, audit.Rewritten, 40},
		{"delete the end", func(t *testing.T, f *fixture) {
			f.exec(t, "DELETE FROM audit WHERE chain_pos > 44")
		}, audit.Truncated, 50},
		{"flip a checkpoint signature byte", func(t *testing.T, f *fixture) {
			var sig []byte
			if err := f.db.QueryRowContext(t.Context(), "SELECT signature FROM audit_checkpoints WHERE chain_pos = 20").Scan(&sig); err != nil {
				t.Fatal(err)
			}
			sig[10] ^= 0x01
			if _, err := f.db.ExecContext(t.Context(), "UPDATE audit_checkpoints SET signature = "+f.ph(1)+" WHERE chain_pos = 20", sig); err != nil {
				t.Fatal(err)
			}
		}, audit.BadCheckpoint, 20},
		{"move a checkpoint", func(t *testing.T, f *fixture) {
			f.exec(t, "UPDATE audit_checkpoints SET chain_pos = 19 WHERE chain_pos = 20")
		}, audit.BadCheckpoint, 19},
		{"checkpoint by an unknown key", func(t *testing.T, f *fixture) {
			f.exec(t, "UPDATE audit_checkpoints SET key_id = 'mallory' WHERE chain_pos = 40")
		}, audit.BadCheckpoint, 40},
	} {
		t.Run(tc.name, func(t *testing.T) {
			backends(t, func(t *testing.T, b func(*testing.T) backend) {
				f := newFixture(t, b(t), 50, 20, 40, 50)
				f.exec(t, f.dropTriggers...)
				tc.tamper(t, f)
				rep := f.verify(t, "")
				wantFirst(t, rep, tc.kind, tc.pos)
				for _, p := range rep.Problems {
					t.Log(p)
				}
			})
		})
	}
}

// TestVerifyWithSink: a file sink finds what no checkpoint covers yet: the newest entries
// deleted, or edited with the chain recomputed.
func TestVerifyWithSink(t *testing.T) {
	for _, tc := range []struct {
		name   string
		tamper func(t *testing.T, f *fixture)
		kind   audit.ProblemKind
		pos    int64
	}{
		{"intact", func(*testing.T, *fixture) {}, "", 0},
		{"delete the newest", func(t *testing.T, f *fixture) {
			f.exec(t, "DELETE FROM audit WHERE chain_pos = 55")
		}, audit.Truncated, 55},
		{"edit the newest and recompute", func(t *testing.T, f *fixture) {
			f.exec(t, "UPDATE audit SET detail = 'nothing to see' WHERE chain_pos = 53")
			f.relink(t, 53)
		}, audit.SinkMismatch, 53},
		{"delete in the middle and renumber", func(t *testing.T, f *fixture) {
			f.exec(t, "DELETE FROM audit WHERE chain_pos = 52",
				"UPDATE audit SET chain_pos = -(chain_pos - 1) WHERE chain_pos > 52",
				"UPDATE audit SET chain_pos = -chain_pos WHERE chain_pos < 0")
			f.relink(t, 52)
		}, audit.SinkMismatch, 52},
	} {
		t.Run(tc.name, func(t *testing.T) {
			backends(t, func(t *testing.T, b func(*testing.T) backend) {
				f := newFixture(t, b(t), 50, 50)
				f.append(t, 51, 55) // after the last checkpoint
				dir := filepath.Join(t.TempDir(), "sink")
				sink, err := audit.OpenFileSink(dir)
				if err != nil {
					t.Fatal(err)
				}
				defer sink.Close()
				fl := &audit.Follower{Store: f.store, Sink: sink}
				if n, err := fl.Copy(t.Context()); err != nil || n != 55 {
					t.Fatalf("Copy = %d, %v; want 55", n, err)
				}
				f.exec(t, f.dropTriggers...)
				tc.tamper(t, f)
				rep := f.verify(t, dir)
				if tc.kind == "" {
					if !rep.OK() || rep.SinkRecords != 55 {
						t.Errorf("report = %+v, want no problems and 55 sink records", rep)
					}
					return
				}
				wantFirst(t, rep, tc.kind, tc.pos)
			})
		})
	}
}

func TestFollowerResumes(t *testing.T) {
	f := newFixture(t, sqliteBackend(t), 10)
	dir := filepath.Join(t.TempDir(), "sink")
	sink, err := audit.OpenFileSink(dir)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := audit.OpenFileSink(dir); err == nil || !strings.Contains(err.Error(), "in use") {
		t.Errorf("second OpenFileSink on one directory: %v, want ErrSinkInUse", err)
	}
	fl := &audit.Follower{Store: f.store, Sink: sink}
	if n, err := fl.Copy(t.Context()); err != nil || n != 10 {
		t.Fatalf("Copy = %d, %v; want 10", n, err)
	}
	if n, err := fl.Copy(t.Context()); err != nil || n != 0 {
		t.Fatalf("Copy again = %d, %v; want 0", n, err)
	}
	sink.Close()
	f.append(t, 11, 14)
	sink, err = audit.OpenFileSink(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer sink.Close()
	fl = &audit.Follower{Store: f.store, Sink: sink}
	if n, err := fl.Copy(t.Context()); err != nil || n != 4 {
		t.Fatalf("Copy after restart = %d, %v; want 4 (resumes after the sink's last record)", n, err)
	}
	files, _ := filepath.Glob(filepath.Join(dir, "audit-*.jsonl"))
	if len(files) != 1 {
		t.Fatalf("sink files = %v, want one", files)
	}
	st, err := os.Stat(files[0])
	if err != nil || st.Mode().Perm() != 0o600 {
		t.Errorf("sink file mode = %v, %v; want 0600", st.Mode(), err)
	}
	if rep := f.verify(t, dir); !rep.OK() || rep.SinkRecords != 14 {
		t.Errorf("report = %+v", rep)
	}
}
