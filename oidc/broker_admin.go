package oidc

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/tongban/tongban/audit"
	"github.com/tongban/tongban/federation"
	"github.com/tongban/tongban/keyring"
	"github.com/tongban/tongban/storage"
)

// ErrInvalidUpstream: an upstream registration with a bad field; the message lists every
// problem.
var ErrInvalidUpstream = errors.New("oidc: invalid upstream provider")

// NewUpstream is an operator's registration of an upstream OpenID provider (`idp upstreams
// add`).
type NewUpstream struct {
	// ID names the upstream in links, audit entries and idp_hint: [a-z0-9-], 1 to 64.
	ID string
	// Issuer is the upstream's issuer: an absolute https URL (http only for loopback hosts,
	// in development), without query or fragment. Discovery is read from
	// Issuer + "/.well-known/openid-configuration".
	Issuer string
	// ClientID and ClientSecret are tongban's registration at the upstream, whose redirect
	// URI is UpstreamRedirectURI(tongban's issuer). The secret is sealed with the keyring.
	ClientID     string
	ClientSecret []byte
	// Scopes asked of the upstream; nil means "openid". "openid" is added when missing.
	Scopes []string
	// IDNumberClaim names the ID-token claim carrying the resident ID number ("" = none).
	IDNumberClaim string
	// TrustedIDNumbers, AllowJIT, SilentSSO: see storage.Upstream. AllowJIT needs
	// TrustedIDNumbers and IDNumberClaim.
	TrustedIDNumbers, AllowJIT, SilentSSO bool
	// ACRMap maps upstream acr values to local ones (SupportedACRValues).
	ACRMap map[string]string
	// LabelZH and LabelEN are the login button's labels, 1 to 32 characters each.
	LabelZH, LabelEN string
	// Federation finds the upstream through OpenID Federation 1.0 (federation_upstream.go):
	// Issuer is then its entity identifier, whose trust chain gives its OP metadata; ClientID
	// and ClientSecret stay empty (this instance registers automatically with its own entity
	// identifier and authenticates with private_key_jwt).
	Federation bool
	// Self is this instance's entity ID (its issuer), which a federation upstream may not be;
	// "" skips that check.
	Self string
}

var upstreamIDRE = regexp.MustCompile(`^[a-z0-9-]{1,64}$`)

func (n NewUpstream) validate() error {
	var problems []string
	if !upstreamIDRE.MatchString(n.ID) {
		problems = append(problems, "id must be 1 to 64 of [a-z0-9-]")
	}
	switch {
	case n.Federation:
		if err := federation.CheckEntityID(n.Issuer, true); err != nil {
			problems = append(problems, "--entity-id: "+strings.TrimPrefix(err.Error(), federation.ErrMalformed.Error()+": "))
		} else if n.Self != "" && strings.TrimSuffix(n.Issuer, "/") == strings.TrimSuffix(n.Self, "/") {
			problems = append(problems, "--entity-id: "+n.Issuer+" is this server's own entity ID")
		}
	default:
		if u, err := url.Parse(n.Issuer); err != nil || u.Host == "" || u.RawQuery != "" || u.Fragment != "" || u.User != nil ||
			strings.TrimSpace(n.Issuer) != n.Issuer || !(u.Scheme == "https" || u.Scheme == "http" && isLoopbackHost(u.Hostname())) {
			problems = append(problems, "--issuer must be an absolute https URL without user info, query, fragment or spaces")
		}
	}
	switch {
	case n.Federation && (n.ClientID != "" || len(n.ClientSecret) > 0):
		problems = append(problems, "a federation upstream takes no client ID or secret (this instance's entity ID and private_key_jwt)")
	case n.Federation:
	default:
		if n.ClientID == "" || len(n.ClientID) > 255 {
			problems = append(problems, "client ID must be 1 to 255 bytes")
		}
		if len(n.ClientSecret) == 0 || len(n.ClientSecret) > 1024 {
			problems = append(problems, "client secret must be 1 to 1024 bytes")
		}
	}
	for _, s := range n.Scopes {
		if s == "" || strings.ContainsAny(s, " \"\\") {
			problems = append(problems, fmt.Sprintf("scope %q is not a scope token", s))
		}
	}
	if n.AllowJIT && (!n.TrustedIDNumbers || n.IDNumberClaim == "") {
		problems = append(problems, "just-in-time creation needs an upstream trusted for ID numbers and an ID-number claim")
	}
	if n.TrustedIDNumbers && n.IDNumberClaim == "" {
		problems = append(problems, "an upstream trusted for ID numbers needs the ID-number claim")
	}
	for up, local := range n.ACRMap {
		if up == "" || acrLevel(local) < 0 {
			problems = append(problems, fmt.Sprintf("acr mapping %q=%q: the local value must be one of %s", up, local,
				strings.Join(SupportedACRValues, ", ")))
		}
	}
	for _, l := range []string{n.LabelZH, n.LabelEN} {
		if c := len([]rune(l)); c == 0 || c > 32 || strings.ContainsFunc(l, func(r rune) bool { return r < ' ' }) {
			problems = append(problems, "labels (zh and en) must be 1 to 32 printable characters")
			break
		}
	}
	if len(problems) > 0 {
		return fmt.Errorf("%w: %s", ErrInvalidUpstream, strings.Join(problems, "; "))
	}
	return nil
}

// AddUpstream validates n, seals the client secret (UpstreamSecretAAD) and stores the upstream,
// auditing "upstream.add" by actor in the same transaction. A federation upstream's entity ID
// must pass federation.CheckEntityID, differ from n.Self and from every other federation
// upstream's. Errors: ErrInvalidUpstream listing every problem (naming the flag); storage.ErrConflict
// when the ID exists.
func AddUpstream(ctx context.Context, store storage.Storage, kr *keyring.Keyring, actor audit.Actor, n NewUpstream, now time.Time) (storage.Upstream, error) {
	if err := n.validate(); err != nil {
		return storage.Upstream{}, err
	}
	scopes := slices.Clone(n.Scopes)
	if !slices.Contains(scopes, "openid") {
		scopes = append([]string{"openid"}, scopes...)
	}
	var sealed []byte
	if !n.Federation {
		var err error
		if sealed, err = kr.SealField(n.ClientSecret, UpstreamSecretAAD(n.ID)); err != nil {
			return storage.Upstream{}, err
		}
	}
	now = now.UTC().Truncate(time.Microsecond)
	u := storage.Upstream{ID: n.ID, Issuer: strings.TrimSuffix(n.Issuer, "/"), ClientID: n.ClientID, ClientSecretSealed: sealed,
		Scopes: scopes, IDNumberClaim: n.IDNumberClaim, TrustedIDNumbers: n.TrustedIDNumbers, AllowJIT: n.AllowJIT,
		SilentSSO: n.SilentSSO, ACRMap: n.ACRMap, LabelZH: n.LabelZH, LabelEN: n.LabelEN, CreatedAt: now, UpdatedAt: now,
		Federation: n.Federation}
	err := store.InTx(ctx, func(ctx context.Context) error {
		if u.Federation {
			all, err := store.ListUpstreams(ctx)
			if err != nil {
				return err
			}
			for _, o := range all {
				if o.Federation && o.Issuer == u.Issuer {
					return fmt.Errorf("%w: --entity-id: %s is already upstream %s", ErrInvalidUpstream, u.Issuer, o.ID)
				}
			}
		}
		if err := store.CreateUpstream(ctx, u); err != nil {
			return err
		}
		return actor.Record(ctx, store, now, "upstream.add", n.ID, "",
			fmt.Sprintf("trusted_id_numbers=%t jit=%t silent=%t federation=%t", n.TrustedIDNumbers, n.AllowJIT, n.SilentSSO, n.Federation))
	})
	if err != nil {
		return storage.Upstream{}, err
	}
	return u, nil
}

// RemoveUpstream deletes the upstream and every link of its subjects, auditing
// "upstream.remove" in the same transaction. storage.ErrNotFound when missing.
func RemoveUpstream(ctx context.Context, store storage.Storage, actor audit.Actor, id string, now time.Time) error {
	return removeAudited(ctx, store, actor, now, "upstream.remove", id, store.DeleteUpstream)
}

// UnlinkUpstream removes the link of an upstream subject to personID, auditing
// "upstream.unlink" in the same transaction. storage.ErrNotFound when the person has no such
// link.
func UnlinkUpstream(ctx context.Context, store storage.Storage, actor audit.Actor, personID, upstreamID, subject string, now time.Time) error {
	return store.InTx(ctx, func(ctx context.Context) error {
		l, err := store.GetUpstreamLink(ctx, upstreamID, subject)
		if err != nil {
			return err
		}
		if l.PersonID != personID {
			return storage.ErrNotFound
		}
		if err := store.DeleteUpstreamLink(ctx, upstreamID, subject); err != nil {
			return err
		}
		return actor.Record(ctx, store, now, "upstream.unlink", personID, "", "upstream="+upstreamID)
	})
}
