package web

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"time"

	"github.com/tongban/tongban/credentials"
	"github.com/tongban/tongban/internal/httpkit"
	"github.com/tongban/tongban/qr"
	"github.com/tongban/tongban/wallet"
)

// maxAPIBody bounds a JSON request body, in bytes.
const maxAPIBody = 4 << 10

// decodeBody decodes r's body, at most limit bytes, into v: one JSON value, unknown members
// refused, nothing after it. A body over limit gives an *http.MaxBytesError (unless the excess
// comes after the value: that is trailing data).
func decodeBody(w http.ResponseWriter, r *http.Request, limit int64, v any) error {
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, limit))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return err
	}
	if dec.Decode(&struct{}{}) != io.EOF {
		return errors.New("trailing data after the JSON object")
	}
	return nil
}

// apiJSON is the dialect of the wallet's JSON answers (the API, /code.json): every body ends
// with a newline, and errors are {"error": code, "error_description": desc} with the
// description always present, "" when there is none.
var apiJSON = httpkit.JSON{Newline: true, EmptyDescription: true}

func (s *Server) writeAuthError(w http.ResponseWriter, e *authError) {
	if e.status == http.StatusUnauthorized || e.status == http.StatusForbidden {
		v := `Bearer realm="wallet"`
		if e.code != "invalid_request" {
			v += `, error="` + e.code + `"`
		}
		if e.code == "insufficient_scope" {
			v += `, scope="openid ` + ScopeIDNumber + `"`
		}
		w.Header().Set("WWW-Authenticate", v)
	}
	apiJSON.Error(w, e.status, e.code, e.desc)
}

// licenceJSON is a licence in the API: masked, like the pages.
type licenceJSON struct {
	ID               string `json:"id"`
	Kind             string `json:"kind"`
	KindName         string `json:"kind_name"`
	MaskedNumber     string `json:"masked_number"`
	MaskedHolder     string `json:"masked_holder"`
	MaskedHolderName string `json:"masked_holder_name"`
	Issuer           string `json:"issuer"`
	ValidFrom        string `json:"valid_from"`
	ValidUntil       string `json:"valid_until,omitempty"` // absent: long-term (长期)
	Status           string `json:"status"`                // effective status today
	Showable         bool   `json:"showable"`
	AsAgent          bool   `json:"as_agent,omitempty"`
}

// handleAPILicences serves GET /api/v1/licences: {"licences": [licenceJSON…]} for the person
// behind the bearer token.
func (s *Server) handleAPILicences(w http.ResponseWriter, r *http.Request) {
	p, aerr := s.authenticate(r.Context(), r)
	if aerr != nil {
		s.writeAuthError(w, aerr)
		return
	}
	recs, err := s.svc.LicencesByIndex(r.Context(), p.index)
	if err != nil {
		s.apiServerError(w, r, "api: list licences", err)
		return
	}
	out := make([]licenceJSON, 0, len(recs))
	for _, rec := range recs {
		l := &rec.Licence
		j := licenceJSON{
			ID: rec.ID, Kind: string(l.Kind), KindName: l.Kind.ChineseName(),
			MaskedNumber: l.MaskedNumber(), MaskedHolder: l.MaskedHolder(), MaskedHolderName: l.MaskedHolderName(),
			Issuer: l.Issuer, ValidFrom: l.ValidFrom.String(), Status: string(l.EffectiveStatus(s.svc.Now())),
			Showable: s.svc.Showable(rec) == nil, AsAgent: rec.AsAgent,
		}
		if l.ValidUntil != nil {
			j.ValidUntil = l.ValidUntil.String()
		}
		out = append(out, j)
	}
	apiJSON.Write(w, http.StatusOK, map[string]any{"licences": out})
}

// codeRequestJSON is the body of POST /api/v1/codes.
type codeRequestJSON struct {
	Kinds    []string `json:"kinds"`    // licence kinds, e.g. ["resident-id"]
	Licences []string `json:"licences"` // licence IDs from GET /api/v1/licences
	Profile  string   `json:"profile"`  // masked | full | bundle (or 1, 2, 3); "" = default
	Fields   []string `json:"fields"`   // full profile only: fields to show; absent = all
	// PrefetchSeconds > 0 mints a pre-fetched code for an offline phone (masked profile, one
	// licence): it lives that many seconds (at most 86400) and carries a status index.
	PrefetchSeconds int64 `json:"prefetch_seconds"`
}

// handleAPICodes serves POST /api/v1/codes: body codeRequestJSON (application/json, at most
// 4 KiB, unknown members refused) → 200 codeJSON, or a JSON error: 400 invalid_request, 401
// invalid_token, 403 insufficient_scope, 404 not_found, 409 licence_revoked /
// licence_suspended / licence_expired / licence_not_yet_valid / ambiguous_kind, 413, 415,
// 422 mixed_holders / licence_count / too_long / out_of_scope, 503 temporarily_unavailable (the
// identity provider cannot be reached, or the wallet's database refuses writes: with
// Retry-After), 500 server_error.
func (s *Server) handleAPICodes(w http.ResponseWriter, r *http.Request) {
	p, aerr := s.authenticate(r.Context(), r)
	if aerr != nil {
		s.writeAuthError(w, aerr)
		return
	}
	if mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type")); err != nil || mt != "application/json" {
		apiJSON.Error(w, http.StatusUnsupportedMediaType, "invalid_request", "the body must be application/json")
		return
	}
	var body *codeRequestJSON
	err := decodeBody(w, r, maxAPIBody, &body)
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			apiJSON.Error(w, http.StatusRequestEntityTooLarge, "invalid_request", fmt.Sprintf("the body is larger than %d bytes", maxAPIBody))
			return
		}
		s.log.InfoContext(r.Context(), "api: codes: bad body", "err", err.Error())
		apiJSON.Error(w, http.StatusBadRequest, "invalid_request", "the body is not a code request: malformed JSON, an unknown member, a wrong type or data after the object")
		return
	}
	if body == nil {
		apiJSON.Error(w, http.StatusBadRequest, "invalid_request", `the body is null: send a code request object, e.g. {"kinds":["resident-id"]}`)
		return
	}
	if len(body.Kinds) == 0 && len(body.Licences) == 0 {
		apiJSON.Error(w, http.StatusBadRequest, "invalid_request", `the request names no licence: give kinds (e.g. "kinds":["resident-id"]) or licences (IDs from GET /api/v1/licences)`)
		return
	}
	req := wallet.CodeRequest{IDs: body.Licences, Fields: body.Fields}
	if body.PrefetchSeconds < 0 || body.PrefetchSeconds > int64(qr.PrefetchMaxValidity/time.Second) {
		apiJSON.Error(w, http.StatusBadRequest, "invalid_request", fmt.Sprintf("prefetch_seconds must be 0 (an ordinary 60 s code) to %d", int64(qr.PrefetchMaxValidity/time.Second)))
		return
	}
	req.Prefetch = time.Duration(body.PrefetchSeconds) * time.Second
	for _, k := range body.Kinds {
		kind, err := credentials.ParseKind(k)
		if err != nil {
			apiJSON.Error(w, http.StatusBadRequest, "invalid_request", fmt.Sprintf("unknown kind %q (known: %s)", k, wallet.KindList()))
			return
		}
		req.Kinds = append(req.Kinds, kind)
	}
	if len(req.Kinds)+len(req.IDs) > maxSelection {
		apiJSON.Error(w, http.StatusBadRequest, "invalid_request", fmt.Sprintf("at most %d licences per code", maxSelection))
		return
	}
	if req.Profile, err = wallet.ParseProfile(body.Profile); err != nil {
		apiJSON.Error(w, http.StatusBadRequest, "invalid_request", fmt.Sprintf("unknown profile %q (want masked, full or bundle)", body.Profile))
		return
	}
	if body.Fields != nil && req.Profile != qr.ProfileFullRegistration {
		apiJSON.Error(w, http.StatusBadRequest, "invalid_request", `fields can be chosen only with the full profile ("profile":"full"); leave fields out for masked and bundle codes`)
		return
	}
	if req.Prefetch != 0 && ((req.Profile != 0 && req.Profile != qr.ProfileMaskedIdentity) || len(req.Kinds)+len(req.IDs) != 1) {
		apiJSON.Error(w, http.StatusBadRequest, "invalid_request", `prefetch_seconds: only a masked code of one licence may be pre-fetched (one kind or licence, "profile" absent or "masked")`)
		return
	}
	m, err := s.svc.Mint(r.Context(), p.index, req, wallet.Actor{Subject: p.sub, ClientID: p.clientID})
	if err != nil {
		pr, known := problemOf(err)
		if !known {
			s.apiServerError(w, r, "api: mint", err)
			return
		}
		s.log.InfoContext(r.Context(), "api: mint refused", "error", pr.code, "err", err.Error())
		apiJSON.Error(w, pr.status, pr.code, apiDescription(pr))
		return
	}
	out, err := s.codeJSON(m)
	if err != nil {
		s.apiServerError(w, r, "api: render", err)
		return
	}
	out.ExpiresLocal = ""
	apiJSON.Write(w, http.StatusOK, out)
}

// apiDescriptions are the public texts of the API errors, by error code. The cause (a Go
// error chain) goes to the log only.
var apiDescriptions = map[string]string{
	"licence_revoked":         "the licence is revoked and cannot be shown",
	"licence_suspended":       "the licence is suspended and cannot be shown",
	"licence_expired":         "the licence has expired and cannot be shown",
	"licence_not_yet_valid":   "the licence is not valid yet and cannot be shown",
	"licence_invalid":         "the licence cannot be shown: its stored dates are not valid",
	"not_found":               "no such licence of this holder",
	"ambiguous_kind":          "the holder has several licences of that kind; name them by ID in licences",
	"mixed_holders":           "a bundle cannot mix a person's and a business's licences",
	"licence_count":           fmt.Sprintf("wrong number of licences for the profile: masked and full show one licence, bundle 2 to %d", qr.MaxBundle),
	"too_long":                "the code would be too long; choose fewer fields",
	"out_of_scope":            "the wallet's code-signing key may not sign that kind or profile",
	"invalid_request":         "the code request is not valid: it names no licence, repeats a kind or licence, or names an unknown kind, profile or field",
	"temporarily_unavailable": "the identity provider is unavailable; try again later",
}

// apiDescription is the public English text of a refused code request.
func apiDescription(p problem) string {
	if d, ok := apiDescriptions[p.code]; ok {
		return d
	}
	return texts[langEN][p.key]
}
