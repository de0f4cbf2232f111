package audit_test

import (
	"database/sql"
	"fmt"
	"path/filepath"
	"runtime"
	"testing"
	"time"

	"github.com/tongban/tongban/audit"
	"github.com/tongban/tongban/storage"
	"github.com/tongban/tongban/storage/sqlite"
)

// BenchmarkVerify measures `audit verify` (Verify over an SQLite file) on a chain of 10,000 and
// 1,000,000 entries written straight into the database (the fixture takes about a minute for
// the large one). The bar: 1,000,000 entries in ≤ 10 s on one core; the benchmark
// runs with GOMAXPROCS 1 and reports entries/s.
//
//	go test -run '^$' -bench Verify -benchtime 1x ./audit/
func BenchmarkVerify(b *testing.B) {
	for _, n := range []int{10_000, 1_000_000} {
		b.Run(fmt.Sprintf("entries=%d", n), func(b *testing.B) {
			path := filepath.Join(b.TempDir(), "audit.db")
			s, err := sqlite.Open(b.Context(), path)
			if err != nil {
				b.Fatal(err)
			}
			defer s.Close()
			fillChain(b, path, n)
			defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(1))
			b.ResetTimer()
			start := time.Now()
			for range b.N {
				rep, err := audit.Verify(b.Context(), s, audit.VerifyOptions{})
				if err != nil || !rep.OK() || rep.Entries != int64(n) {
					b.Fatalf("Verify = %+v, %v", rep, err)
				}
			}
			b.ReportMetric(float64(n)*float64(b.N)/time.Since(start).Seconds(), "entries/s")
		})
	}
}

// fillChain writes n chained entries into the SQLite file at path in one transaction.
func fillChain(b *testing.B, path string, n int) {
	db, err := sql.Open("sqlite", path+"?_pragma=busy_timeout(5000)")
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	tx, err := db.Begin()
	if err != nil {
		b.Fatal(err)
	}
	st, err := tx.Prepare(`INSERT INTO audit (time, actor, action, subject, client_id, detail, chain_pos, hash) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`)
	if err != nil {
		b.Fatal(err)
	}
	var l audit.Linker
	prev := audit.Genesis
	for i := 1; i <= n; i++ {
		e := storage.AuditEvent{
			Pos: int64(i), Time: t0.Add(time.Duration(i) * time.Millisecond), Actor: "ZmFrZS1wZXJzb24taWQtMTIz",
			Action: "token.issue", Subject: "cGVyc29uLWlkLTQ1Ng", ClientID: "department-app",
			Detail: fmt.Sprintf("grant=authorization_code request=%022d", i),
		}
		e.Hash = l.Link(nil, prev, e)
		prev = e.Hash
		if _, err := st.Exec(e.Time.UnixMicro(), e.Actor, e.Action, e.Subject, e.ClientID, e.Detail, e.Pos, e.Hash); err != nil {
			b.Fatal(err)
		}
	}
	if err := tx.Commit(); err != nil {
		b.Fatal(err)
	}
}
