package main

import (
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"time"

	"github.com/tongban/tongban/qr"
)

// maxSeen bounds the codes a state file remembers; codes live 60 s, so only a busy counter
// comes near it, and the oldest are dropped first.
const maxSeen = 100000

// verifierState is what `wallet verify --state FILE` remembers between runs: the highest
// trust-list sequence number accepted (rollback protection) and the cti of every code
// accepted until it expires (replay protection). JSON, mode 0600.
type verifierState struct {
	TrustListSequence uint64           `json:"trust_list_sequence"`
	SeenCTI           map[string]int64 `json:"seen_cti,omitempty"` // hex cti → Unix time until which it is remembered

	changed bool
}

// loadState reads the state file; "" means no state (nil), a missing file an empty state.
func loadState(path string) (*verifierState, error) {
	if path == "" {
		return nil, nil
	}
	st := &verifierState{SeenCTI: map[string]int64{}}
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return st, nil
	} else if err != nil {
		return nil, err
	}
	if err := json.Unmarshal(b, st); err != nil {
		return nil, fmt.Errorf("%s: not a verifier state file: %v", path, err)
	}
	if st.SeenCTI == nil {
		st.SeenCTI = map[string]int64{}
	}
	return st, nil
}

// Seen implements qr.ReplayCache.
func (s *verifierState) Seen(cti [qr.CTISize]byte, until time.Time) (bool, error) {
	k := hex.EncodeToString(cti[:])
	if _, ok := s.SeenCTI[k]; ok {
		return true, nil
	}
	s.SeenCTI[k] = until.Unix()
	s.changed = true
	return false, nil
}

// save drops expired entries and writes the file atomically.
func (s *verifierState) save(path string, now time.Time) error {
	for k, until := range s.SeenCTI {
		if until < now.Unix() {
			delete(s.SeenCTI, k)
		}
	}
	for len(s.SeenCTI) > maxSeen {
		var oldest string
		for k, u := range s.SeenCTI {
			if oldest == "" || u < s.SeenCTI[oldest] {
				oldest = k
			}
		}
		delete(s.SeenCTI, oldest)
	}
	b, err := json.MarshalIndent(s, "", "  ")
	if err != nil {
		return err
	}
	return writeFileAtomic(path, append(b, '\n'), 0o600)
}
