package oidc_test

import (
	"context"
	"fmt"
	"log"
	"log/slog"
	"net/http"
	"os"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/tongban/tongban/keyring"
	"github.com/tongban/tongban/oidc"
	smcrypto "github.com/tongban/tongban/sm-crypto"
	"github.com/tongban/tongban/storage/sqlite"
)

// How cmd/idp wires the provider: storage, keyring, Config, Handler; and the admin operations
// behind `idp people add` and `idp clients add`.
func ExampleNewServer() {
	ctx := context.Background()
	store, err := sqlite.Open(ctx, "var/tongban.db")
	if err != nil {
		log.Fatal(err)
	}
	defer store.Close()
	kek, err := smcrypto.ParseKEK(os.Getenv("TONGBAN_KEK"))
	if err != nil {
		log.Fatal(err)
	}
	kr, err := keyring.Open(ctx, store, kek)
	if err != nil {
		log.Fatal(err) // smcrypto.ErrWrongKEK: the KEK does not unwrap the stored keys
	}
	srv, err := oidc.NewServer(ctx, oidc.Config{
		Issuer:     "https://idp.example.gov.cn",
		Store:      store,
		Keyring:    kr,
		Logger:     slog.New(slog.NewJSONHandler(os.Stderr, nil)),
		Registerer: prometheus.DefaultRegisterer,
	})
	if err != nil {
		log.Fatal(err)
	}

	// idp clients add --id tax-portal --redirect-uri https://tax.example.gov.cn/cb --id-token-alg SGD_SM3_SM2
	client, secret, err := oidc.CreateClient(ctx, store, kr, oidc.NewClient{
		ID:           "tax-portal",
		RedirectURIs: []string{"https://tax.example.gov.cn/cb"},
		IDTokenAlg:   oidc.AlgSM2,
	})
	if err != nil {
		log.Fatal(err) // errors.Is(err, oidc.ErrInvalidRedirectURI) … → exit 2
	}
	fmt.Println(client.ID, secret != "")

	log.Fatal(http.ListenAndServe("127.0.0.1:8080", srv.Handler()))
}
