package passkey_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/tongban/tongban/accounts/passkey"
	"github.com/tongban/tongban/accounts/passkey/passkeytest"
	"github.com/tongban/tongban/storage"
	"github.com/tongban/tongban/storage/storagetest"
)

const (
	rpID   = "idp.example.gov.cn"
	origin = "https://idp.example.gov.cn"
)

// env is a relying party on a fresh SQLite store with a fixed, adjustable clock.
type env struct {
	t     *testing.T
	rp    *passkey.RelyingParty
	store storage.Storage
	now   time.Time
}

func newEnv(t *testing.T, mutate func(*passkey.Config)) *env {
	t.Helper()
	e := &env{t: t, store: storagetest.SQLite(t), now: time.Date(2026, 12, 5, 8, 0, 0, 0, time.UTC)}
	cfg := passkey.Config{
		RPID: rpID, Origin: origin, DisplayName: "统一身份认证平台", Store: e.store,
		StateKey: bytes.Repeat([]byte{7}, 32), Now: func() time.Time { return e.now },
		Logger: slog.New(slog.DiscardHandler),
		Lockout: passkey.IPThrottle{Store: e.store, Threshold: 50, Window: 15 * time.Minute,
			Now: func() time.Time { return e.now }},
	}
	if mutate != nil {
		mutate(&cfg)
	}
	var err error
	if e.rp, err = passkey.New(cfg); err != nil {
		t.Fatal(err)
	}
	return e
}

func (e *env) person(id string) storage.Person {
	e.t.Helper()
	p := storage.Person{ID: id, Kind: storage.NaturalPerson, Name: "张三", IDNumberIndex: []byte(id + strings.Repeat("-", 32)),
		IDNumberMasked: "110101********002X", CreatedAt: e.now, UpdatedAt: e.now}
	if err := e.store.CreatePerson(context.Background(), p); err != nil {
		e.t.Fatal(err)
	}
	return p
}

// enrol registers a new software authenticator for p and returns it.
func (e *env) enrol(p storage.Person, binding string) *passkeytest.Authenticator {
	e.t.Helper()
	a := passkeytest.New(origin)
	opts, st, err := e.rp.BeginRegistration(context.Background(), p, binding)
	if err != nil {
		e.t.Fatal(err)
	}
	resp, err := a.Create(opts)
	if err != nil {
		e.t.Fatal(err)
	}
	if _, err := e.rp.FinishRegistration(context.Background(), p, st, binding, resp, ""); err != nil {
		e.t.Fatal(err)
	}
	return a
}

// assertion runs a login ceremony for a, returning the state and response to finish it with.
func (e *env) assertion(a *passkeytest.Authenticator, binding string) (string, []byte) {
	e.t.Helper()
	opts, st, err := e.rp.BeginLogin(binding)
	if err != nil {
		e.t.Fatal(err)
	}
	resp, err := a.Get(opts)
	if err != nil {
		e.t.Fatal(err)
	}
	return st, resp
}

func (e *env) login(a *passkeytest.Authenticator, binding string) (passkey.Authentication, error) {
	st, resp := e.assertion(a, binding)
	return e.rp.FinishLogin(context.Background(), passkey.Login{State: st, Binding: binding, Response: resp, ClientIP: "192.0.2.1"})
}

func TestNew(t *testing.T) {
	store := storagetest.SQLite(t)
	ok := passkey.Config{RPID: rpID, Origin: origin, DisplayName: "x", Store: store, StateKey: make([]byte, 32)}
	for _, tc := range []struct {
		name   string
		mutate func(*passkey.Config)
		want   string
	}{
		{"ok/https origin on the RP ID", func(*passkey.Config) {}, ""},
		{"ok/origin on a subdomain with a port", func(c *passkey.Config) { c.Origin = "https://login.idp.example.gov.cn:8443" }, ""},
		{"ok/http on localhost (development)", func(c *passkey.Config) { c.RPID, c.Origin = "localhost", "http://localhost:8080" }, ""},
		{"fail/IP address as RP ID", func(c *passkey.Config) { c.RPID, c.Origin = "127.0.0.1", "https://127.0.0.1" }, "RPID"},
		{"fail/origin on another host", func(c *passkey.Config) { c.Origin = "https://evil.example" }, "Origin"},
		{"fail/http origin", func(c *passkey.Config) { c.Origin = "http://idp.example.gov.cn" }, "Origin"},
		{"fail/no display name", func(c *passkey.Config) { c.DisplayName = "" }, "required"},
		{"fail/short state key", func(c *passkey.Config) { c.StateKey = make([]byte, 16) }, "StateKey"},
		{"fail/no store", func(c *passkey.Config) { c.Store = nil }, "Store"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := ok
			tc.mutate(&cfg)
			_, err := passkey.New(cfg)
			switch {
			case tc.want == "" && err != nil:
				t.Fatalf("New: %v", err)
			case tc.want != "" && (!errors.Is(err, passkey.ErrConfig) || !strings.Contains(err.Error(), tc.want)):
				t.Fatalf("New: %v, want ErrConfig about %s", err, tc.want)
			}
		})
	}
}

// TestRegistrationOptions: the options ask for a discoverable, user-verified platform
// credential with no attestation, carry a random user handle (not the person ID, stable per
// person) and exclude the person's passkeys.
func TestRegistrationOptions(t *testing.T) {
	e := newEnv(t, nil)
	p := e.person("person-1")
	opts, _, err := e.rp.BeginRegistration(t.Context(), p, "session-1")
	if err != nil {
		t.Fatal(err)
	}
	var o struct {
		PublicKey struct {
			RP   struct{ ID, Name string }
			User struct {
				ID          string `json:"id"`
				Name        string `json:"name"`
				DisplayName string `json:"displayName"`
			}
			Challenge   string
			Attestation string
			Timeout     int
			AuthSel     struct {
				Attachment       string `json:"authenticatorAttachment"`
				ResidentKey      string `json:"residentKey"`
				UserVerification string `json:"userVerification"`
			} `json:"authenticatorSelection"`
			Exclude []struct{ ID string } `json:"excludeCredentials"`
		}
	}
	if err := json.Unmarshal(opts, &o); err != nil {
		t.Fatal(err)
	}
	pk := o.PublicKey
	handle, _ := base64.RawURLEncoding.DecodeString(pk.User.ID)
	switch {
	case pk.RP.ID != rpID || pk.RP.Name != "统一身份认证平台":
		t.Errorf("rp %+v", pk.RP)
	case len(handle) != 32 || bytes.Contains(handle, []byte(p.ID)):
		t.Errorf("user handle %x: want 32 random bytes", handle)
	case pk.User.Name != p.IDNumberMasked || pk.User.DisplayName != "张三":
		t.Errorf("user %+v", pk.User)
	case pk.AuthSel.Attachment != "platform" || pk.AuthSel.ResidentKey != "required" || pk.AuthSel.UserVerification != "required":
		t.Errorf("authenticatorSelection %+v", pk.AuthSel)
	case pk.Attestation != "none" || pk.Timeout != 300000 || len(pk.Exclude) != 0:
		t.Errorf("attestation %q, timeout %d, exclude %v", pk.Attestation, pk.Timeout, pk.Exclude)
	}
	a := e.enrol(p, "session-1")
	if !bytes.Equal(a.UserHandle(), handle) {
		t.Error("the user handle changed between two ceremonies")
	}
	opts, _, _ = e.rp.BeginRegistration(t.Context(), p, "session-1")
	if err := json.Unmarshal(opts, &o); err != nil {
		t.Fatal(err)
	}
	if len(o.PublicKey.Exclude) != 1 || o.PublicKey.Exclude[0].ID != base64.RawURLEncoding.EncodeToString(a.CredentialID()) {
		t.Errorf("excludeCredentials %v, want the registered passkey", o.PublicKey.Exclude)
	}
	if _, err := a.Create(opts); !errors.Is(err, passkeytest.ErrExcluded) {
		t.Errorf("the same authenticator registered twice: %v", err)
	}
}

func TestRegistrationRefused(t *testing.T) {
	for _, tc := range []struct {
		name   string
		tamper func(a *passkeytest.Authenticator, binding, state *string, p *storage.Person)
		want   error
	}{
		{"fail/user not verified", func(a *passkeytest.Authenticator, _, _ *string, _ *storage.Person) { a.UV = false }, passkey.ErrUserNotVerified},
		{"fail/another origin", func(a *passkeytest.Authenticator, _, _ *string, _ *storage.Person) {
			a.Origin = "https://idp.example.gov.cn.evil.example"
		}, passkey.ErrOrigin},
		{"fail/another RP ID", func(a *passkeytest.Authenticator, _, _ *string, _ *storage.Person) { a.RPID = "evil.example" }, passkey.ErrOrigin},
		{"fail/another login session", func(_ *passkeytest.Authenticator, b, _ *string, _ *storage.Person) { *b = "session-2" }, passkey.ErrState},
		{"fail/state of another person", func(_ *passkeytest.Authenticator, _, _ *string, p *storage.Person) { p.ID = "person-2" }, passkey.ErrState},
		{"fail/one byte of the state flipped", func(_ *passkeytest.Authenticator, _, s *string, _ *storage.Person) {
			b := []byte(*s)
			b[5] ^= 1
			*s = string(b)
		}, passkey.ErrState},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t, nil)
			p := e.person("person-1")
			e.person("person-2")
			opts, st, err := e.rp.BeginRegistration(t.Context(), p, "session-1")
			if err != nil {
				t.Fatal(err)
			}
			a := passkeytest.New(origin)
			binding := "session-1"
			tc.tamper(a, &binding, &st, &p)
			resp, err := a.Create(opts)
			if err != nil {
				t.Fatal(err)
			}
			_, err = e.rp.FinishRegistration(t.Context(), p, st, binding, resp, "")
			if !errors.Is(err, tc.want) {
				t.Fatalf("FinishRegistration: %v, want %v", err, tc.want)
			}
			if pks, _ := e.store.ListPasskeys(t.Context(), "person-1"); len(pks) != 0 {
				t.Fatal("a refused registration stored a passkey")
			}
			if evs, _ := e.store.QueryAudit(t.Context(), storage.AuditQuery{Action: "passkey.register.failure", Limit: 5}); len(evs) != 1 {
				t.Fatalf("audit: %+v, want one passkey.register.failure", evs)
			}
		})
	}
	t.Run("fail/replayed registration", func(t *testing.T) {
		e := newEnv(t, nil)
		p := e.person("person-1")
		opts, st, _ := e.rp.BeginRegistration(t.Context(), p, "s")
		resp, _ := passkeytest.New(origin).Create(opts)
		if _, err := e.rp.FinishRegistration(t.Context(), p, st, "s", resp, "手机"); err != nil {
			t.Fatal(err)
		}
		if _, err := e.rp.FinishRegistration(t.Context(), p, st, "s", resp, "手机"); !errors.Is(err, passkey.ErrReplay) {
			t.Fatalf("second FinishRegistration: %v, want ErrReplay", err)
		}
	})
	t.Run("fail/expired", func(t *testing.T) {
		e := newEnv(t, nil)
		p := e.person("person-1")
		opts, st, _ := e.rp.BeginRegistration(t.Context(), p, "s")
		resp, _ := passkeytest.New(origin).Create(opts)
		e.now = e.now.Add(passkey.DefaultChallengeLifetime)
		if _, err := e.rp.FinishRegistration(t.Context(), p, st, "s", resp, ""); !errors.Is(err, passkey.ErrState) {
			t.Fatalf("FinishRegistration after the lifetime: %v, want ErrState", err)
		}
	})
}

// TestLogin: a discoverable login finds the person by the user handle, returns amr per RFC 8176
// and stores the counter, backup state and last use; the options leave allowCredentials empty.
func TestLogin(t *testing.T) {
	e := newEnv(t, nil)
	p := e.person("person-1")
	a := passkeytest.New(origin)
	a.BE = true // a synced passkey: its backup state may change
	regOpts, regState, _ := e.rp.BeginRegistration(t.Context(), p, "s")
	regResp, _ := a.Create(regOpts)
	if _, err := e.rp.FinishRegistration(t.Context(), p, regState, "s", regResp, ""); err != nil {
		t.Fatal(err)
	}
	opts, _, err := e.rp.BeginLogin("browser-1")
	if err != nil {
		t.Fatal(err)
	}
	var o struct {
		PublicKey struct {
			RPID             string            `json:"rpId"`
			UserVerification string            `json:"userVerification"`
			Allow            []json.RawMessage `json:"allowCredentials"`
		}
	}
	if err := json.Unmarshal(opts, &o); err != nil {
		t.Fatal(err)
	}
	if o.PublicKey.RPID != rpID || o.PublicKey.UserVerification != "required" || len(o.PublicKey.Allow) != 0 {
		t.Fatalf("request options %s", opts)
	}
	for i, bs := range []bool{false, true, false} {
		a.BS = bs
		e.now = e.now.Add(time.Minute)
		got, err := e.login(a, "browser-1")
		if err != nil {
			t.Fatalf("login %d: %v", i, err)
		}
		if got.Person.ID != p.ID || strings.Join(got.AMR, " ") != "swk user mfa" {
			t.Fatalf("login %d: person %q amr %v", i, got.Person.ID, got.AMR)
		}
		pk, _ := e.store.GetPasskey(t.Context(), a.CredentialID())
		if pk.SignCount != a.Counter || pk.BackupState != bs || pk.LastUsedAt == nil || !pk.LastUsedAt.Equal(e.now) {
			t.Fatalf("login %d: stored counter %d (want %d), backup state %v, last use %v", i, pk.SignCount, a.Counter, pk.BackupState, pk.LastUsedAt)
		}
	}
	t.Run("ok/device-bound passkey is a hardware key (hwk)", func(t *testing.T) {
		q := e.person("person-bound")
		b := passkeytest.New(origin)
		opts, st, _ := e.rp.BeginRegistration(t.Context(), q, "s")
		resp, _ := b.Create(opts)
		if _, err := e.rp.FinishRegistration(t.Context(), q, st, "s", resp, ""); err != nil {
			t.Fatal(err)
		}
		got, err := e.login(b, "x")
		if err != nil || strings.Join(got.AMR, " ") != "hwk user mfa" {
			t.Fatalf("login: %v, amr %v", err, got.AMR)
		}
	})
	t.Run("ok/authenticator without a counter", func(t *testing.T) {
		q := e.person("person-nocounter")
		b := passkeytest.New(origin)
		b.NoCounter = true
		opts, st, _ := e.rp.BeginRegistration(t.Context(), q, "s")
		resp, _ := b.Create(opts)
		if _, err := e.rp.FinishRegistration(t.Context(), q, st, "s", resp, ""); err != nil {
			t.Fatal(err)
		}
		for range 3 {
			if _, err := e.login(b, "x"); err != nil {
				t.Fatalf("counter 0 login: %v", err)
			}
		}
	})
}

// TestLoginRefused plays every bad assertion of the issue: each is refused with its own error,
// counted as a guess and audited.
func TestLoginRefused(t *testing.T) {
	for _, tc := range []struct {
		name string
		// tamper runs before the ceremony (on the authenticator) or after it (on state and
		// response); it may set up the store.
		before func(e *env, a *passkeytest.Authenticator)
		after  func(e *env, state, binding *string, resp *[]byte)
		want   error
		reason string
	}{
		{name: "fail/another origin (phishing page relaying the ceremony)", before: func(_ *env, a *passkeytest.Authenticator) {
			a.Origin = "https://idp-example-gov.cn"
		}, want: passkey.ErrOrigin, reason: "wrong_origin"},
		{name: "fail/another RP ID", before: func(_ *env, a *passkeytest.Authenticator) { a.RPID = "example.gov.cn" },
			want: passkey.ErrOrigin, reason: "wrong_origin"},
		{name: "fail/user not verified", before: func(_ *env, a *passkeytest.Authenticator) { a.UV = false },
			want: passkey.ErrUserNotVerified, reason: "user_not_verified"},
		{name: "fail/counter went backwards (clone)", before: func(_ *env, a *passkeytest.Authenticator) { a.Counter -= 2 },
			want: passkey.ErrCloned, reason: "counter_not_increased"},
		{name: "fail/counter repeated (clone)", before: func(_ *env, a *passkeytest.Authenticator) { a.Counter-- },
			want: passkey.ErrCloned, reason: "counter_not_increased"},
		{name: "fail/counter dropped to zero (clone)", before: func(_ *env, a *passkeytest.Authenticator) { a.NoCounter = true },
			want: passkey.ErrCloned, reason: "counter_not_increased"},
		{name: "fail/backup eligibility changed", before: func(_ *env, a *passkeytest.Authenticator) { a.BE = true },
			want: passkey.ErrBackupEligibility, reason: "backup_eligibility_changed"},
		{name: "fail/user handle of another person", before: func(e *env, a *passkeytest.Authenticator) {
			q := e.person("person-2")
			e.enrol(q, "s2")
			h, _ := e.store.EnsurePasskeyUserHandle(context.Background(), "person-2", []byte("unused"))
			a.SetUserHandle(h)
		}, want: passkey.ErrInvalid, reason: "invalid_response"},
		{name: "fail/passkey removed", before: func(e *env, a *passkeytest.Authenticator) {
			if err := e.rp.Remove(context.Background(), "person-1", passkey.Ref(a.CredentialID())); err != nil {
				panic(err)
			}
		}, want: passkey.ErrUnknown, reason: "unknown_credential"},
		{name: "fail/one byte of the signature flipped", after: func(_ *env, _, _ *string, resp *[]byte) {
			*resp = flipInResponse(*resp, "signature", 10)
		}, want: passkey.ErrInvalid, reason: "invalid_response"},
		{name: "fail/one byte of the authenticator data flipped", after: func(_ *env, _, _ *string, resp *[]byte) {
			*resp = flipInResponse(*resp, "authenticatorData", 36) // the counter's last byte
		}, want: passkey.ErrInvalid, reason: "invalid_response"},
		{name: "fail/another browser's challenge", after: func(_ *env, _, binding *string, _ *[]byte) { *binding = "browser-2" },
			want: passkey.ErrState, reason: "bad_state"},
		{name: "fail/expired challenge", after: func(e *env, _, _ *string, _ *[]byte) { e.now = e.now.Add(5 * time.Minute) },
			want: passkey.ErrState, reason: "bad_state"},
		{name: "fail/registration state used to log in", after: func(e *env, state, _ *string, _ *[]byte) {
			p, _ := e.store.GetPerson(context.Background(), "person-1")
			_, *state, _ = e.rp.BeginRegistration(context.Background(), p, "browser-1")
		}, want: passkey.ErrState, reason: "bad_state"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t, nil)
			p := e.person("person-1")
			a := e.enrol(p, "s")
			if _, err := e.login(a, "browser-1"); err != nil { // counter 1 stored
				t.Fatal(err)
			}
			if tc.before != nil {
				tc.before(e, a)
			}
			st, resp := e.assertion(a, "browser-1")
			binding := "browser-1"
			if tc.after != nil {
				tc.after(e, &st, &binding, &resp)
			}
			_, err := e.rp.FinishLogin(t.Context(), passkey.Login{State: st, Binding: binding, Response: resp, ClientIP: "192.0.2.1"})
			if !errors.Is(err, tc.want) {
				t.Fatalf("FinishLogin: %v, want %v", err, tc.want)
			}
			if n, _ := e.store.CountFailures(t.Context(), "login-ip:192.0.2.1", e.now, 15*time.Minute); n != 1 {
				t.Errorf("%d failures counted against the client address, want 1", n)
			}
			evs, _ := e.store.QueryAudit(t.Context(), storage.AuditQuery{Action: "passkey.login.failure", Limit: 10})
			if len(evs) != 1 || evs[0].Detail != tc.reason {
				t.Errorf("audit %+v, want one passkey.login.failure %q", evs, tc.reason)
			}
		})
	}
}

// flipInResponse flips one byte of a base64url member of the response's "response" object.
func flipInResponse(resp []byte, member string, i int) []byte {
	var m map[string]any
	_ = json.Unmarshal(resp, &m)
	r := m["response"].(map[string]any)
	b, _ := base64.RawURLEncoding.DecodeString(r[member].(string))
	b[i] ^= 1
	r[member] = base64.RawURLEncoding.EncodeToString(b)
	out, _ := json.Marshal(m)
	return out
}

// TestReplay: an assertion posted twice is refused the second time (the challenge is used up),
// and so is a fresh assertion answering a used challenge.
func TestReplay(t *testing.T) {
	e := newEnv(t, nil)
	a := e.enrol(e.person("person-1"), "s")
	st, resp := e.assertion(a, "b")
	l := passkey.Login{State: st, Binding: "b", Response: resp, ClientIP: "192.0.2.9"}
	if _, err := e.rp.FinishLogin(t.Context(), l); err != nil {
		t.Fatal(err)
	}
	if _, err := e.rp.FinishLogin(t.Context(), l); !errors.Is(err, passkey.ErrReplay) {
		t.Fatalf("replayed assertion: %v, want ErrReplay", err)
	}
	opts, _, _ := e.rp.BeginLogin("b")
	_ = opts
	l.Response, _ = a.Get(mustOptionsWithChallengeOf(t, st))
	if _, err := e.rp.FinishLogin(t.Context(), l); !errors.Is(err, passkey.ErrReplay) {
		t.Fatalf("new assertion for a used challenge: %v, want ErrReplay", err)
	}
}

// mustOptionsWithChallengeOf rebuilds request options carrying the challenge of state (the
// state's JSON is readable: only its MAC is secret).
func mustOptionsWithChallengeOf(t *testing.T, state string) []byte {
	body, _, _ := strings.Cut(state, ".")
	js, err := base64.RawURLEncoding.DecodeString(body)
	if err != nil {
		t.Fatal(err)
	}
	var st struct {
		S struct {
			Challenge string `json:"challenge"`
		} `json:"s"`
	}
	if err := json.Unmarshal(js, &st); err != nil || st.S.Challenge == "" {
		t.Fatalf("state %s: %v", js, err)
	}
	out, _ := json.Marshal(map[string]any{"publicKey": map[string]any{"challenge": st.S.Challenge, "rpId": rpID}})
	return out
}

// TestClonedStaysFlagged: after a counter that went backwards, the passkey is flagged, audited,
// and refuses even a correct next assertion until it is removed and enrolled anew.
func TestClonedStaysFlagged(t *testing.T) {
	e := newEnv(t, nil)
	p := e.person("person-1")
	a := e.enrol(p, "s")
	for range 3 {
		if _, err := e.login(a, "b"); err != nil {
			t.Fatal(err)
		}
	}
	a.Counter = 1 // the clone's counter
	if _, err := e.login(a, "b"); !errors.Is(err, passkey.ErrCloned) {
		t.Fatalf("clone: %v", err)
	}
	a.Counter = 100 // ahead again: still refused
	if _, err := e.login(a, "b"); !errors.Is(err, passkey.ErrCloned) {
		t.Fatalf("after flagging: %v, want ErrCloned", err)
	}
	pk, _ := e.store.GetPasskey(t.Context(), a.CredentialID())
	if !pk.CloneWarning || pk.SignCount != 3 {
		t.Fatalf("stored: clone warning %v, counter %d (want true, 3)", pk.CloneWarning, pk.SignCount)
	}
	evs, _ := e.store.QueryAudit(t.Context(), storage.AuditQuery{Action: "passkey.cloned", Limit: 10})
	if len(evs) != 1 || evs[0].Subject != p.ID {
		t.Fatalf("audit %+v, want one passkey.cloned", evs)
	}
}

func TestLockout(t *testing.T) {
	e := newEnv(t, func(c *passkey.Config) {
		c.Lockout = passkey.IPThrottle{Store: c.Store.(storage.Throttle), Threshold: 3, Window: time.Minute,
			Now: c.Now}
	})
	a := e.enrol(e.person("person-1"), "s")
	a.UV = false
	for i := range 3 {
		if _, err := e.login(a, "b"); !errors.Is(err, passkey.ErrUserNotVerified) {
			t.Fatalf("attempt %d: %v", i, err)
		}
	}
	a.UV = true
	if _, err := e.login(a, "b"); !errors.Is(err, passkey.ErrLocked) {
		t.Fatalf("after 3 guesses: %v, want ErrLocked", err)
	}
	e.now = e.now.Add(time.Minute + time.Second)
	if _, err := e.login(a, "b"); err != nil {
		t.Fatalf("after the window: %v", err)
	}
}

func TestRenameRemove(t *testing.T) {
	e := newEnv(t, nil)
	p := e.person("person-1")
	e.person("person-2")
	a := e.enrol(p, "s")
	ref := passkey.Ref(a.CredentialID())
	pk, _ := e.store.GetPasskey(t.Context(), a.CredentialID())
	if pk.Name != "通行密钥 1" {
		t.Errorf("default name %q", pk.Name)
	}
	for _, tc := range []struct {
		name, person, ref, newName string
		want                       error
	}{
		{"ok/rename", "person-1", ref, " 我的手机 ", nil},
		{"fail/empty name", "person-1", ref, "  ", passkey.ErrName},
		{"fail/65 characters", "person-1", ref, strings.Repeat("钥", 65), passkey.ErrName},
		{"fail/control character", "person-1", ref, "a\nb", passkey.ErrName},
		{"fail/bidi override", "person-1", ref, "a\u202eenohp", passkey.ErrName},
		{"fail/another person's passkey", "person-2", ref, "x", passkey.ErrUnknown},
		{"fail/unknown reference", "person-1", "AAAAAAAAAAAAAAAA", "x", passkey.ErrUnknown},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if err := e.rp.Rename(t.Context(), tc.person, tc.ref, tc.newName); !errors.Is(err, tc.want) {
				t.Fatalf("Rename: %v, want %v", err, tc.want)
			}
		})
	}
	pk, _ = e.store.GetPasskey(t.Context(), a.CredentialID())
	if pk.Name != "我的手机" {
		t.Errorf("name %q after rename", pk.Name)
	}
	if err := e.rp.Remove(t.Context(), "person-2", ref); !errors.Is(err, passkey.ErrUnknown) {
		t.Fatalf("Remove of another person's passkey: %v", err)
	}
	if err := e.rp.Remove(t.Context(), "person-1", ref); err != nil {
		t.Fatal(err)
	}
	if err := e.rp.Remove(t.Context(), "person-1", ref); !errors.Is(err, passkey.ErrUnknown) {
		t.Fatalf("second Remove: %v", err)
	}
	if _, err := e.login(a, "b"); !errors.Is(err, passkey.ErrUnknown) {
		t.Fatalf("login with a removed passkey: %v", err)
	}
	for _, action := range []string{"passkey.register", "passkey.rename", "passkey.remove"} {
		if evs, _ := e.store.QueryAudit(t.Context(), storage.AuditQuery{Action: action, Limit: 5}); len(evs) != 1 || evs[0].Detail != ref {
			t.Errorf("audit %s: %+v", action, evs)
		}
	}
}
