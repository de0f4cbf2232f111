package web

import (
	"testing"

	"github.com/tongban/tongban/keyring"
	smcrypto "github.com/tongban/tongban/sm-crypto"
	"github.com/tongban/tongban/storage/storagetest"
	"github.com/tongban/tongban/wallet"
)

func mustNoErr(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// newService returns a wallet service on a fresh SQLite store and keyring.
func newService(t *testing.T) *wallet.Service {
	t.Helper()
	store := storagetest.SQLite(t)
	kek, err := smcrypto.GenerateKEK(nil)
	mustNoErr(t, err)
	kr, err := keyring.Open(t.Context(), store, kek)
	mustNoErr(t, err)
	svc, err := wallet.NewService(t.Context(), wallet.ServiceConfig{Store: store, Keyring: kr})
	mustNoErr(t, err)
	return svc
}
