package web

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/tongban/tongban/credentials"
	"github.com/tongban/tongban/storage"
	"github.com/tongban/tongban/wallet"
)

// Licence lookup (一证通办, docs/developers/licence-lookup.md): GET /api/v1/lookup/licences
// answers a department app the full data of the token holder's licences of the kinds asked
// for, when the holder consented to licence:<kind> for that app; and GET /records shows the
// holder who read which licence when.
//
// The API client allow-list (Config.APIClients, APIAudience) does not apply here: it says
// which apps may act *as the citizen* (list and show licences with the wallet's own API),
// whereas a lookup is an app reading data *about* the citizen, and what authorises that is the
// holder's consent to the licence scope, given on the provider's consent page that names the
// app and its purpose. A token carries such a scope only through that consent (never
// client_credentials), so the scope check is the authorisation.

// LicenceScopePrefix starts the provider's licence scopes: LicenceScopePrefix + a
// credentials.Kind, e.g. "licence:resident-id" (the same as oidc.LicenceScope; the wallet
// does not import the provider).
const LicenceScopePrefix = "licence:"

// licenceScope is the scope that lets an app read licences of kind k at the lookup API.
func licenceScope(k credentials.Kind) string { return LicenceScopePrefix + string(k) }

// maxLookupKinds bounds the kind parameters of one lookup request.
const maxLookupKinds = 16

// authenticateLookup checks the request's bearer access token for the lookup API: active at
// introspection (RFC 7662) and granted the licence scope of every kind in kinds (403
// insufficient_scope naming the first missing one otherwise); userinfo, asked with the same
// token, gives the holder's number. The answer (holder, client, scopes) is cached for
// TokenCacheTTL but at most LookupTokenCacheTTL (5 s), never past the token's exp, apart from
// the wallet API's cache; the scope
// check runs on every request.
func (s *Server) authenticateLookup(ctx context.Context, r *http.Request, kinds []credentials.Kind) (*principal, *authError) {
	auth := r.Header.Get("Authorization")
	scheme, tok, ok := strings.Cut(auth, " ")
	tok = strings.TrimSpace(tok)
	if auth == "" || !ok || !strings.EqualFold(scheme, "Bearer") || tok == "" || len(tok) > 4096 {
		return nil, &authError{http.StatusUnauthorized, "invalid_request", "a bearer access token from the identity provider is required"}
	}
	key := tokenKey(tok)
	p, cached := s.lookupTokens.get(key)
	if !cached {
		in, err := s.idp.introspect(ctx, tok)
		if err != nil {
			return nil, s.idpAuthError(ctx, "introspection", err)
		}
		if !in.Active || (in.TokenType != "" && !strings.EqualFold(in.TokenType, "Bearer")) || in.ClientID == "" {
			return nil, &authError{http.StatusUnauthorized, "invalid_token", "the access token is invalid, expired or revoked"}
		}
		p = principal{sub: in.Sub, clientID: in.ClientID, scopes: strings.Fields(in.Scope)}
		if aerr := lookupScopeError(p.scopes, kinds); aerr != nil {
			return nil, aerr // before userinfo: a token without the scope learns nothing more
		}
		ui, err := s.idp.userinfo(ctx, tok)
		if err != nil {
			return nil, s.idpAuthError(ctx, "userinfo", err)
		}
		if ui.IDNumber == "" || (in.Sub != "" && ui.Sub != in.Sub) {
			return nil, &authError{http.StatusForbidden, "insufficient_scope", "the identity provider released no holder number for this token"}
		}
		p.sub, p.index = ui.Sub, s.svc.HolderIndex(ui.IDNumber)
		var exp time.Time
		if in.Exp > 0 {
			exp = time.Unix(in.Exp, 0)
		}
		s.lookupTokens.put(key, p, exp)
	}
	if aerr := lookupScopeError(p.scopes, kinds); aerr != nil {
		return nil, aerr
	}
	return &p, nil
}

// lookupScopeError is 403 insufficient_scope when scopes lack the licence scope of one of
// kinds, naming it; nil otherwise.
func lookupScopeError(scopes []string, kinds []credentials.Kind) *authError {
	for _, k := range kinds {
		if !slices.Contains(scopes, licenceScope(k)) {
			return &authError{http.StatusForbidden, "insufficient_scope",
				fmt.Sprintf("the access token was not granted the %s scope: ask the holder's consent for it", licenceScope(k)),
			}
		}
	}
	return nil
}

// lookupLicenceJSON is a licence in the lookup API: every field, unmasked.
type lookupLicenceJSON struct {
	ID         string            `json:"id"`
	Kind       string            `json:"kind"`
	KindName   string            `json:"kind_name"`
	Number     string            `json:"number"`
	Holder     string            `json:"holder"`
	HolderName string            `json:"holder_name"`
	Issuer     string            `json:"issuer"`
	ValidFrom  string            `json:"valid_from"`
	ValidUntil string            `json:"valid_until,omitempty"` // absent: long-term (长期)
	Status     string            `json:"status"`                // effective status today: valid, suspended, revoked, expired
	Usable     bool              `json:"usable"`                // valid today (status valid and within its dates)
	Fields     map[string]string `json:"fields"`
}

// parseLookupKinds reads the kind parameters: kind=K, repeated or comma-separated, each one of
// credentials.Kinds, none repeated.
func parseLookupKinds(r *http.Request) ([]credentials.Kind, string) {
	var kinds []credentials.Kind
	for _, v := range r.URL.Query()["kind"] {
		for _, name := range strings.Split(v, ",") {
			name = strings.TrimSpace(name)
			k, err := credentials.ParseKind(name)
			if err != nil {
				if len(name) > 64 {
					name = name[:64] + "…"
				}
				return nil, fmt.Sprintf("unknown kind %q (known: %s)", name, wallet.KindList())
			}
			if slices.Contains(kinds, k) {
				return nil, fmt.Sprintf("kind %s is named twice", k)
			}
			kinds = append(kinds, k)
			if len(kinds) > maxLookupKinds {
				return nil, "too many kinds"
			}
		}
	}
	if len(kinds) == 0 {
		return nil, "name the licence kinds to read: kind=resident-id (repeat kind, or separate kinds with commas)"
	}
	return kinds, ""
}

// handleLookup serves GET /api/v1/lookup/licences?kind=K[,K…]: {"licences":
// [lookupLicenceJSON…]} — the token holder's own licences of those kinds, in full, with their
// status; [] when the holder has none. Errors (JSON, as the wallet API's): 400 invalid_request
// (no kind, an unknown or repeated kind), 401 invalid_request (no token) or invalid_token
// (inactive, expired, revoked), 403 insufficient_scope (a kind's licence scope not granted),
// 503 temporarily_unavailable (the provider cannot be reached, or the read cannot be recorded),
// 500 server_error. Every licence answered is recorded first (wallet.Service.Lookup).
func (s *Server) handleLookup(w http.ResponseWriter, r *http.Request) {
	kinds, problem := parseLookupKinds(r)
	if problem != "" {
		apiJSON.Error(w, http.StatusBadRequest, "invalid_request", problem)
		return
	}
	p, aerr := s.authenticateLookup(r.Context(), r, kinds)
	if aerr != nil {
		s.writeLookupAuthError(w, aerr, kinds)
		return
	}
	recs, err := s.svc.Lookup(r.Context(), p.index, kinds, p.clientID)
	if err != nil {
		if errors.Is(err, wallet.ErrAuditUnavailable) && !errors.Is(err, storage.ErrUnavailable) {
			err = fmt.Errorf("%w: %w", storage.ErrUnavailable, err) // no read without its record: retry later
		}
		s.apiServerError(w, r, "lookup", err)
		return
	}
	now := s.svc.Now()
	out := make([]lookupLicenceJSON, 0, len(recs))
	for _, rec := range recs {
		l := &rec.Licence
		j := lookupLicenceJSON{
			ID: rec.ID, Kind: string(l.Kind), KindName: l.Kind.ChineseName(), Number: l.Number,
			Holder: l.Holder, HolderName: l.HolderName, Issuer: l.Issuer, ValidFrom: l.ValidFrom.String(),
			Status: string(l.EffectiveStatus(now)), Usable: l.CheckShowable(now) == nil, Fields: l.Fields,
		}
		if l.ValidUntil != nil {
			j.ValidUntil = l.ValidUntil.String()
		}
		if j.Fields == nil {
			j.Fields = map[string]string{}
		}
		out = append(out, j)
	}
	s.log.InfoContext(r.Context(), "lookup", "client_id", p.clientID, "kinds", kindNames(kinds), "licences", len(out))
	apiJSON.Write(w, http.StatusOK, map[string]any{"licences": out})
}

func kindNames(ks []credentials.Kind) string {
	names := make([]string, len(ks))
	for i, k := range ks {
		names[i] = string(k)
	}
	return strings.Join(names, ",")
}

// writeLookupAuthError answers a refused lookup token (RFC 6750 §3.1); insufficient_scope
// names the licence scopes of the request.
func (s *Server) writeLookupAuthError(w http.ResponseWriter, e *authError, kinds []credentials.Kind) {
	if e.status == http.StatusUnauthorized || e.status == http.StatusForbidden {
		v := `Bearer realm="wallet"`
		if e.code != "invalid_request" {
			v += `, error="` + e.code + `"`
		}
		if e.code == "insufficient_scope" {
			scopes := make([]string, len(kinds))
			for i, k := range kinds {
				scopes[i] = licenceScope(k)
			}
			v += `, scope="` + strings.Join(scopes, " ") + `"`
		}
		w.Header().Set("WWW-Authenticate", v)
	}
	apiJSON.Error(w, e.status, e.code, e.desc)
}
