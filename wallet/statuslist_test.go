package wallet

import (
	"errors"
	"testing"
	"time"

	"github.com/tongban/tongban/credentials"
	"github.com/tongban/tongban/qr"
)

// statusList signs the service's status list now and parses it against v's trust list.
func (f *fixture) statusList(t *testing.T, v *qr.Verifier) *qr.StatusList {
	t.Helper()
	signed, _, err := f.svc.StatusList(ctxT(t))
	mustNoErr(t, err)
	sl, err := qr.ParseStatusList(signed, v.Trust.CurrentTrustList())
	mustNoErr(t, err)
	return sl
}

func TestPrefetchRevokedOffline(t *testing.T) {
	f := newFixture(t, ServiceConfig{})
	f.importExamples(t)
	ctx := ctxT(t)
	idx := f.svc.HolderIndex(citizen)
	rs, err := f.svc.Find(ctx, credentials.SocialSecurity, "B10374261")
	mustNoErr(t, err)
	id := rs[0].ID
	pre := CodeRequest{IDs: []string{id}, Prefetch: 12 * time.Hour}

	// Two pre-fetched codes of one licence share its stable index; another licence gets the next.
	c1, err := f.svc.Mint(ctx, idx, pre, Operator)
	mustNoErr(t, err)
	c2, err := f.svc.Mint(ctx, idx, pre, Operator)
	mustNoErr(t, err)
	other, err := f.svc.Mint(ctx, idx, CodeRequest{Kinds: []credentials.Kind{credentials.ResidentID}, Prefetch: 24 * time.Hour}, Operator)
	mustNoErr(t, err)
	if c1.StatusIndex == nil || *c1.StatusIndex != 0 || *c2.StatusIndex != 0 || *other.StatusIndex != 1 {
		t.Fatalf("indexes %v %v %v", c1.StatusIndex, c2.StatusIndex, other.StatusIndex)
	}
	if got := c1.ExpiresAt.Sub(c1.IssuedAt); got != 12*time.Hour {
		t.Fatalf("lifetime %s", got)
	}
	// An ordinary code is unaffected: 60 s, no index, verifies without a status list.
	plain, err := f.svc.Mint(ctx, idx, CodeRequest{IDs: []string{id}}, Operator)
	mustNoErr(t, err)
	if plain.StatusIndex != nil || plain.ExpiresAt.Sub(plain.IssuedAt) != qr.DefaultValidity {
		t.Fatalf("ordinary code: %+v", plain.Code)
	}
	v := f.verifier(t)
	if _, err := v.Verify(plain.Text); err != nil {
		t.Fatalf("ordinary: %v", err)
	}

	// Offline, hours later, with a status list fetched before the verifier went offline.
	f.clk.Add(3 * time.Hour)
	v = f.verifier(t)
	if _, err := v.Verify(c1.Text); !errors.Is(err, qr.ErrStatusListMissing) {
		t.Fatalf("no status list: %v", err)
	}
	v.Status = f.statusList(t, v)
	if r, err := v.Verify(c1.Text); err != nil || *r.StatusIndex != 0 {
		t.Fatalf("valid: %v", err)
	}

	// Revocation → new status list → the code minted before it is refused offline; the other
	// licence's code still verifies.
	_, err = f.svc.SetStatus(ctx, id, credentials.StatusRevoked, Operator)
	mustNoErr(t, err)
	v.Status = f.statusList(t, v)
	if _, err := v.Verify(c2.Text); !errors.Is(err, qr.ErrStatusRevoked) {
		t.Fatalf("revoked: %v", err)
	}
	if _, err := v.Verify(other.Text); err != nil {
		t.Fatalf("other licence: %v", err)
	}
	// The revoked licence gets no new pre-fetched code either.
	if _, err := f.svc.Mint(ctx, idx, pre, Operator); !errors.Is(err, credentials.ErrLicenceRevoked) {
		t.Fatalf("mint revoked: %v", err)
	}

	// Stale: the list lives 1 h (default); 2 h later the verifier refuses.
	f.clk.Add(2 * time.Hour)
	if _, err := v.Verify(other.Text); !errors.Is(err, qr.ErrStatusListStale) {
		t.Fatalf("stale: %v", err)
	}
}

func TestPrefetchSuspendAndRules(t *testing.T) {
	f := newFixture(t, ServiceConfig{StatusListValidity: 10 * time.Minute})
	f.importExamples(t)
	ctx := ctxT(t)
	idx := f.svc.HolderIndex(citizen)
	c, err := f.svc.Mint(ctx, idx, CodeRequest{Kinds: []credentials.Kind{credentials.ResidentID}, Prefetch: time.Hour}, Operator)
	mustNoErr(t, err)
	_, err = f.svc.SetStatus(ctx, c.Licences[0].ID, credentials.StatusSuspended, Operator)
	mustNoErr(t, err)
	v := f.verifier(t)
	v.Status = f.statusList(t, v)
	if got := v.Status.CurrentStatusList().ExpiresAt.Sub(v.Status.CurrentStatusList().IssuedAt); got != 10*time.Minute {
		t.Fatalf("status list validity %s", got)
	}
	if _, err := v.Verify(c.Text); !errors.Is(err, qr.ErrStatusSuspended) {
		t.Fatalf("suspended: %v", err)
	}
	for name, req := range map[string]CodeRequest{
		"bundle":   {Kinds: []credentials.Kind{credentials.ResidentID, credentials.DrivingLicence}, Prefetch: time.Hour},
		"full":     {Kinds: []credentials.Kind{credentials.DrivingLicence}, Profile: qr.ProfileFullRegistration, Prefetch: time.Hour},
		"too long": {Kinds: []credentials.Kind{credentials.DrivingLicence}, Prefetch: 25 * time.Hour},
	} {
		if _, err := f.svc.Mint(ctx, idx, req, Operator); !errors.Is(err, ErrBadRequest) {
			t.Errorf("%s: %v", name, err)
		}
	}
	if _, err := NewService(ctx, ServiceConfig{Store: f.store, Keyring: f.kr, StatusListValidity: 48 * time.Hour}); err == nil {
		t.Error("48 h status list accepted")
	}
}
