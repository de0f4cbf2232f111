package audit

import (
	"bufio"
	"context"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"iter"
	"log/slog"
	"log/syslog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"time"

	"github.com/tongban/tongban/storage"
)

// SinkRecord is one audit entry as a sink holds it (one JSON object per line) and as `audit
// list --json` and `audit show --json` print it.
type SinkRecord struct {
	Pos      int64     `json:"pos"`
	Seq      int64     `json:"seq"`
	Time     time.Time `json:"time"`
	Actor    string    `json:"actor"`
	Action   string    `json:"action"`
	Subject  string    `json:"subject,omitempty"`
	ClientID string    `json:"client_id,omitempty"`
	Detail   string    `json:"detail,omitempty"`
	Hash     string    `json:"hash"` // lower-case hex, 64 characters
}

// Record returns e as a sink holds it.
func Record(e storage.AuditEvent) SinkRecord {
	return SinkRecord{
		Pos: e.Pos, Seq: e.Seq, Time: e.Time.UTC(), Actor: e.Actor, Action: e.Action, Subject: e.Subject,
		ClientID: e.ClientID, Detail: e.Detail, Hash: hex.EncodeToString(e.Hash),
	}
}

// Equal reports whether r and o are the same record (times compared as instants).
func (r SinkRecord) Equal(o SinkRecord) bool {
	rt, ot := r.Time, o.Time
	r.Time, o.Time = time.Time{}, time.Time{}
	return rt.Equal(ot) && r == o
}

// Event returns r as an audit entry; an unreadable hash is returned as nil (it matches none).
func (r SinkRecord) Event() storage.AuditEvent {
	h, _ := hex.DecodeString(r.Hash)
	return storage.AuditEvent{
		Pos: r.Pos, Seq: r.Seq, Time: r.Time, Actor: r.Actor, Action: r.Action, Subject: r.Subject,
		ClientID: r.ClientID, Detail: r.Detail, Hash: h,
	}
}

// Sink receives committed audit entries in chain order, outside the database.
type Sink interface {
	// Write stores entries (consecutive, rising Pos) durably before it returns.
	Write(entries []storage.AuditEvent) error
	// LastPos returns the position of the last entry the sink holds (0 when none, or when the
	// sink cannot be read back, such as syslog).
	LastPos() (int64, error)
	Close() error
}

// ErrSinkInUse: another process copies into the same sink directory.
var ErrSinkInUse = errors.New("audit: sink directory is in use by another process")

// FileSink writes one JSON Lines file per UTC day of copying, named audit-YYYY-MM-DD.jsonl,
// in a directory of its own: files are opened with O_APPEND, created with mode 0600, and
// synced after every Write. One process copies into a directory at a time (an flock on
// DIR/.lock; a second gets ErrSinkInUse): give each replica its own directory, ideally on
// another host's file system.
type FileSink struct {
	dir  string
	lock *os.File
	now  func() time.Time
	day  string
	f    *os.File
}

// OpenFileSink opens (creating with mode 0700) the sink directory dir and locks it. Errors: the
// file system's, or ErrSinkInUse.
func OpenFileSink(dir string) (*FileSink, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("audit: sink directory: %w", err)
	}
	lock, err := os.OpenFile(filepath.Join(dir, ".lock"), os.O_CREATE|os.O_RDWR, 0o600)
	if err != nil {
		return nil, fmt.Errorf("audit: sink directory: %w", err)
	}
	if err := syscall.Flock(int(lock.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		lock.Close()
		return nil, fmt.Errorf("%w: %s", ErrSinkInUse, dir)
	}
	return &FileSink{dir: dir, lock: lock, now: time.Now}, nil
}

// Write appends entries to today's file and syncs it.
func (s *FileSink) Write(entries []storage.AuditEvent) error {
	day := s.now().UTC().Format(time.DateOnly)
	if s.f == nil || day != s.day {
		if s.f != nil {
			s.f.Close()
		}
		f, err := os.OpenFile(filepath.Join(s.dir, "audit-"+day+".jsonl"), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
		if err != nil {
			return fmt.Errorf("audit: sink: %w", err)
		}
		s.f, s.day = f, day
	}
	var b []byte
	for _, e := range entries {
		line, err := json.Marshal(Record(e))
		if err != nil {
			return fmt.Errorf("audit: sink: %w", err)
		}
		b = append(append(b, line...), '\n')
	}
	if _, err := s.f.Write(b); err != nil {
		return fmt.Errorf("audit: sink: %w", err)
	}
	if err := s.f.Sync(); err != nil {
		return fmt.Errorf("audit: sink: %w", err)
	}
	return nil
}

// LastPos returns the position of the last record in the newest file that holds one; older
// files are not read.
func (s *FileSink) LastPos() (int64, error) {
	names, err := sinkFiles(s.dir)
	if err != nil {
		return 0, err
	}
	for i := len(names) - 1; i >= 0; i-- {
		var last int64
		for r, err := range readSinkFiles(names[i : i+1]) {
			if err != nil {
				return 0, err
			}
			last = r.Pos
		}
		if last > 0 {
			return last, nil
		}
	}
	return 0, nil
}

// Close closes the current file and releases the directory.
func (s *FileSink) Close() error {
	var err error
	if s.f != nil {
		err = s.f.Close()
	}
	return errors.Join(err, s.lock.Close())
}

// SinkLine locates a record in a file sink, for messages.
type SinkLine struct {
	File string
	Line int
}

func (l SinkLine) String() string { return fmt.Sprintf("%s:%d", l.File, l.Line) }

// SinkEntry is a record read back from a file sink with where it was found.
type SinkEntry struct {
	SinkRecord
	At SinkLine
}

// ReadFileSink yields the records of the file sink in dir, file by file in name (day) order,
// line by line. A line that does not parse yields an error naming it, and reading goes on.
func ReadFileSink(dir string) iter.Seq2[SinkEntry, error] {
	return func(yield func(SinkEntry, error) bool) {
		names, err := sinkFiles(dir)
		if err != nil {
			yield(SinkEntry{}, err)
			return
		}
		for e, err := range readSinkFiles(names) {
			if !yield(e, err) {
				return
			}
		}
	}
}

// sinkFiles returns the sink files in dir in name (day) order; an error when dir does not
// exist.
func sinkFiles(dir string) ([]string, error) {
	if _, err := os.Stat(dir); err != nil {
		return nil, fmt.Errorf("audit: sink directory %s: %w", dir, err)
	}
	names, err := filepath.Glob(filepath.Join(dir, "audit-*.jsonl"))
	slices.Sort(names)
	return names, err
}

// readSinkFiles yields the records of the files names, in order (see ReadFileSink).
func readSinkFiles(names []string) iter.Seq2[SinkEntry, error] {
	return func(yield func(SinkEntry, error) bool) {
		for _, name := range names {
			f, err := os.Open(name)
			if err != nil {
				if !yield(SinkEntry{}, err) {
					return
				}
				continue
			}
			sc := bufio.NewScanner(f)
			sc.Buffer(make([]byte, 64<<10), 1<<20)
			line := 0
			for sc.Scan() {
				line++
				if strings.TrimSpace(sc.Text()) == "" {
					continue
				}
				var r SinkRecord
				at := SinkLine{File: name, Line: line}
				if err := json.Unmarshal(sc.Bytes(), &r); err != nil {
					if !yield(SinkEntry{At: at}, fmt.Errorf("audit: sink %s: %w", at, err)) {
						f.Close()
						return
					}
					continue
				}
				if !yield(SinkEntry{SinkRecord: r, At: at}, nil) {
					f.Close()
					return
				}
			}
			err = sc.Err()
			f.Close()
			if err != nil && !yield(SinkEntry{}, fmt.Errorf("audit: sink %s: %w", name, err)) {
				return
			}
		}
	}
}

// SyslogSink sends each entry as one JSON message to the local syslog daemon, facility
// authpriv, severity info, tag "tongban-audit". It cannot be read back: LastPos is 0, so a
// restarted follower starts from the position it is given.
type SyslogSink struct{ w *syslog.Writer }

// OpenSyslogSink connects to the local syslog daemon.
func OpenSyslogSink() (*SyslogSink, error) {
	w, err := syslog.New(syslog.LOG_AUTHPRIV|syslog.LOG_INFO, "tongban-audit")
	if err != nil {
		return nil, fmt.Errorf("audit: syslog sink: %w", err)
	}
	return &SyslogSink{w: w}, nil
}

// Write sends one message per entry.
func (s *SyslogSink) Write(entries []storage.AuditEvent) error {
	for _, e := range entries {
		b, err := json.Marshal(Record(e))
		if err != nil {
			return err
		}
		if err := s.w.Info(string(b)); err != nil {
			return fmt.Errorf("audit: syslog sink: %w", err)
		}
	}
	return nil
}

// LastPos is 0: syslog cannot be read back.
func (s *SyslogSink) LastPos() (int64, error) { return 0, nil }

// Close closes the connection.
func (s *SyslogSink) Close() error { return s.w.Close() }

// Follower copies committed entries from the store to a sink in chain order.
type Follower struct {
	Store storage.Audit
	Sink  Sink
	// From is where copying starts when the sink holds nothing: entries with Pos > From. A
	// file sink resumes after its last record instead.
	From int64

	next int64 // the next position to copy; 0 before the first Copy
}

// followPage is how many entries one read takes.
const followPage = 1000

// Copy copies every committed entry not yet copied and returns how many it copied.
func (f *Follower) Copy(ctx context.Context) (int, error) {
	if f.next == 0 {
		last, err := f.Sink.LastPos()
		if err != nil {
			return 0, err
		}
		f.next = max(last, f.From) + 1
	}
	n := 0
	for {
		page, err := f.Store.AuditChain(ctx, f.next-1, followPage)
		if err != nil || len(page) == 0 {
			return n, err
		}
		if err := f.Sink.Write(page); err != nil {
			return n, err
		}
		n += len(page)
		f.next = page[len(page)-1].Pos + 1
		if len(page) < followPage {
			return n, nil
		}
	}
}

// Run copies every interval until ctx ends, then once more. Failures are logged and retried.
func (f *Follower) Run(ctx context.Context, interval time.Duration, log *slog.Logger) {
	runEvery(ctx, interval, func(ctx context.Context, _ bool) {
		if _, err := f.Copy(ctx); err != nil {
			log.ErrorContext(ctx, "audit sink copy failed", "err", err)
		}
	})
}
