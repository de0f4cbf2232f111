package qr_test

import (
	"bytes"
	"crypto/ecdsa"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/emmansun/gmsm/sm2"

	"github.com/tongban/tongban/credentials"
	"github.com/tongban/tongban/qr"
)

// jsonStore keeps a verifier's state as JSON bytes, as a file or browser storage would.
type jsonStore struct{ data []byte }

func (s *jsonStore) Load() (*qr.VerifierSnapshot, error) {
	if s.data == nil {
		return nil, nil
	}
	var snap qr.VerifierSnapshot
	return &snap, json.Unmarshal(s.data, &snap)
}

func (s *jsonStore) Save(snap *qr.VerifierSnapshot) (err error) {
	s.data, err = json.Marshal(snap)
	return err
}

func ExampleVerifierState() {
	oldAnchor, _ := sm2.NewPrivateKey(bytes.Repeat([]byte{0x22}, 32))
	newAnchor, _ := sm2.NewPrivateKey(bytes.Repeat([]byte{0x33}, 32))
	now := time.Date(2026, 12, 1, 10, 0, 0, 0, credentials.ChinaStandardTime)
	clock := func() time.Time { return now }
	// list signs a trust list (without code keys, for brevity) announcing next.
	list := func(signer *sm2.PrivateKey, seq uint64, next ...*sm2.PrivateKey) []byte {
		l := &qr.TrustList{Sequence: seq, IssuedAt: now.Add(-time.Hour), ExpiresAt: now.Add(7 * 24 * time.Hour)}
		for _, n := range next {
			l.NextAnchors = append(l.NextAnchors, qr.TrustAnchor{PublicKey: &n.PublicKey})
		}
		b, err := qr.SignTrustList(l, signer, nil)
		if err != nil {
			panic(err)
		}
		return b
	}
	// The verifier installed the old anchor once; each run loads its state, takes the
	// newest list and saves the state.
	installed := []*ecdsa.PublicKey{&oldAnchor.PublicKey}
	store := &jsonStore{}
	run := func(data []byte) error {
		st, err := qr.LoadVerifierState(store, installed, clock)
		if err != nil {
			return err
		}
		_, err = st.UpdateTrustList(data)
		if serr := st.Save(store); serr != nil {
			return serr
		}
		return err
	}

	fmt.Println(run(list(oldAnchor, 1, newAnchor))) // prepare: the old anchor announces the new one
	fmt.Println(run(list(newAnchor, 2)))            // commit: the verifier switches
	err := run(list(oldAnchor, 3))                  // the old anchor is retired for good
	fmt.Println(errors.Is(err, qr.ErrRetiredAnchor), errors.Is(err, qr.ErrUntrustedTrustList))
	err = run(list(newAnchor, 1)) // an older list is a rollback
	fmt.Println(errors.Is(err, qr.ErrTrustListRollback))
	// Output:
	// <nil>
	// <nil>
	// true true
	// true
}
