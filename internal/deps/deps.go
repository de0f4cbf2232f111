//go:build deps

package deps

import (
	_ "github.com/coreos/go-oidc/v3/oidc"
	_ "github.com/emmansun/gmsm/sm2"
	_ "github.com/fxamacker/cbor/v2"
	_ "github.com/go-jose/go-jose/v4"
	_ "github.com/jackc/pgx/v5/stdlib"
	_ "github.com/jmoiron/sqlx"
	_ "github.com/ory/fosite"
	_ "github.com/pquerna/otp"
	_ "github.com/pressly/goose/v3"
	_ "github.com/prometheus/client_golang/prometheus"
	_ "github.com/skip2/go-qrcode"
	_ "github.com/spf13/cobra"
	_ "github.com/veraison/go-cose"
	_ "golang.org/x/oauth2"
	_ "modernc.org/sqlite"
)
