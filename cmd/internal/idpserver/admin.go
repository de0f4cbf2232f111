package idpserver

import (
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/tongban/tongban/accounts"
	"github.com/tongban/tongban/admin"
	"github.com/tongban/tongban/cmd/internal/app"
	"github.com/tongban/tongban/oidc"
	smcrypto "github.com/tongban/tongban/sm-crypto"
)

// AdminBackends are what the admin console calls to change apps, people and corrections and
// to read the per-app figures (package admin's interfaces). A nil field makes its routes
// answer 501 not_available and its console pages say so.
type AdminBackends struct {
	Apps        admin.Apps
	People      admin.People
	Corrections admin.Corrections
	Stats       admin.Stats
}

// adminBackends returns the backends of the console over the provider srv and backend b
// (adminadapters.go): the app lifecycle and figures of oidc, and an accounts.Service for
// people administration and corrections, configured as the provider's (password parameters,
// notifier, the provider's password-reset page for reset links).
func adminBackends(srv *oidc.Server, b *app.Backend, cfg Config, log *slog.Logger, licences accounts.LicenceFields) (AdminBackends, error) {
	acc, err := accounts.New(accounts.Config{Store: b.Store, Keyring: b.Keyring, Logger: log,
		PasswordParams: cfg.PasswordParams(), Notifier: cfg.notifier(),
		PasswordResetURL: strings.TrimSuffix(cfg.Issuer, "/") + "/account/reset", Licences: licences,
		OnSessionsEnded: srv.PersonSessionsEnded}) // back-channel logout to the person's apps
	if err != nil {
		return AdminBackends{}, err
	}
	return AdminBackends{
		Apps:        adminApps{store: b.Store, kr: b.Keyring, forget: srv.ForgetClient},
		People:      adminPeople{store: b.Store, acc: acc, now: time.Now},
		Corrections: adminCorrections{acc: acc},
		Stats:       adminStats{srv: srv},
	}, nil
}

// adminSessions adapts the provider's SSO session (oidc.Server.AdminSession, AdminLogin) to
// admin.Sessions.
type adminSessions struct{ s *oidc.Server }

func (a adminSessions) Session(r *http.Request) (admin.Session, bool, error) {
	s, ok, err := a.s.AdminSession(r)
	return admin.Session{PersonID: s.PersonID, MFA: s.MFA, Fresh: s.Fresh, SecondFactor: s.SecondFactor, Binding: s.Binding}, ok, err
}

func (a adminSessions) Login(w http.ResponseWriter, r *http.Request, next, lang string, fresh bool) {
	a.s.AdminLogin(w, r, next, lang, fresh)
}

// NewAdmin builds the admin console and API of the provider srv (mounted at srv.AdminPath())
// on backend b: roles and the audit log in b.Store, CSRF tokens keyed by a key derived from
// the keyring's token key ("tongban/admin/csrf", HMAC-SM3), the issuer's origin for the
// cross-site check, cfg's client-address header for audit entries.
func NewAdmin(srv *oidc.Server, b *app.Backend, cfg Config, backends AdminBackends) (*admin.Handler, error) {
	iss, err := url.Parse(strings.TrimSuffix(cfg.Issuer, "/"))
	if err != nil {
		return nil, app.Usage(err)
	}
	return admin.New(admin.Config{
		Path:        srv.AdminPath(),
		Store:       b.Store,
		Sessions:    adminSessions{srv},
		Apps:        backends.Apps,
		People:      backends.People,
		Corrections: backends.Corrections,
		Stats:       backends.Stats,
		CSRFKey:     smcrypto.HMACSM3(b.Keyring.TokenKey(), []byte("tongban/admin/csrf")),
		Origin:      iss.Scheme + "://" + iss.Host,
		Secure:      iss.Scheme == "https",
		AccountURL:  strings.TrimSuffix(iss.Path, "/") + "/account",
		ClientIP:    cfg.clientIP(),
	})
}

// withAdmin serves the console's paths (srv.AdminPath() and below) with adm and everything
// else with the provider.
func withAdmin(provider http.Handler, adm *admin.Handler) http.Handler {
	p := adm.Path()
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == p || strings.HasPrefix(r.URL.Path, p+"/") {
			adm.ServeHTTP(w, r)
			return
		}
		provider.ServeHTTP(w, r)
	})
}
