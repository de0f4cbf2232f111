package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"

	"github.com/tongban/tongban/qr"
)

// stateFile is the file of `wallet verify --state FILE`: the verifier's trust state
// (qr.VerifierSnapshot) as indented JSON, mode 0600. It implements qr.VerifierStateStore.
type stateFile string

// Load reads the file; a missing file is no state yet (nil).
func (f stateFile) Load() (*qr.VerifierSnapshot, error) {
	b, err := os.ReadFile(string(f))
	if errors.Is(err, fs.ErrNotExist) {
		return nil, nil
	} else if err != nil {
		return nil, err
	}
	var snap qr.VerifierSnapshot
	if err := json.Unmarshal(b, &snap); err != nil {
		return nil, fmt.Errorf("%s: not a verifier state file: %v", f, err)
	}
	return &snap, nil
}

// Save writes the file atomically (writeFileAtomic).
func (f stateFile) Save(snap *qr.VerifierSnapshot) error {
	b, err := json.MarshalIndent(snap, "", "  ")
	if err != nil {
		return err
	}
	return writeFileAtomic(string(f), append(b, '\n'), 0o600)
}
