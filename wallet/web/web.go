package web

import (
	"encoding/base64"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/tongban/tongban/credentials"
	"github.com/tongban/tongban/qr"
	"github.com/tongban/tongban/wallet"
)

// maxSelection bounds the licences one page request may name.
const maxSelection = qr.MaxBundle

// handleHome shows the landing page, or the holder's licences (masked) when logged in.
func (s *Server) handleHome(w http.ResponseWriter, r *http.Request) {
	sess, err := s.lookupSession(r)
	if err != nil {
		s.serverError(w, r, "home: session", err)
		return
	}
	d := s.newPage(r, sess)
	if sess != nil && !s.listLicences(w, r, sess, d, "home") {
		return
	}
	if sess == nil {
		d.Kinds = credentials.Kinds
	}
	s.render(w, http.StatusOK, s.pages.home, d)
}

// handleBundle shows the 多码合一 form: pick licences and a display profile; it submits to
// /show (with from=bundle, so that a refusal comes back here with the selection kept). The
// query's l and profile, when present, preset the form.
func (s *Server) handleBundle(w http.ResponseWriter, r *http.Request) {
	sess := s.requireSession(w, r)
	if sess == nil {
		return
	}
	s.renderBundle(w, r, sess, http.StatusOK, "")
}

// renderBundle renders the 多码合一 form with status, the selection of r's query kept, and
// the message with key (texts) when key is not "".
func (s *Server) renderBundle(w http.ResponseWriter, r *http.Request, sess *session, status int, key string) {
	d := s.newPage(r, sess)
	if !s.listLicences(w, r, sess, d, "bundle") {
		return
	}
	q := r.URL.Query()
	picked := map[string]bool{}
	for _, id := range q["l"] {
		picked[id] = true
	}
	for i := range d.Licences {
		d.Licences[i].Selected = picked[d.Licences[i].ID]
	}
	d.Pick.Profile = "bundle"
	switch p, _ := wallet.ParseProfile(q.Get("profile")); p {
	case qr.ProfileMaskedIdentity:
		d.Pick.Profile = "masked"
	case qr.ProfileFullRegistration:
		d.Pick.Profile = "full"
	}
	d.Title = d.T["bundle"]
	if key != "" {
		d.Message, d.IsError = d.T[key], true
		d.Title = d.T["errorTitle"] + d.T["colon"] + d.T["bundle"]
	}
	s.render(w, status, s.pages.bundle, d)
}

// bundleCountKey checks the number of licences a 多码合一 form ticked against its profile and
// returns the texts key of the message that says what to change, or "" when the count fits:
// none ticked (bundleNone); a bundle of one (bundleOne) or of more than qr.MaxBundle
// (bundleTooMany); identity check or full details of several (bundleMany).
func bundleCountKey(q url.Values) string {
	n := len(q["l"])
	p, _ := wallet.ParseProfile(q.Get("profile"))
	switch {
	case n == 0:
		return "bundleNone"
	case p == qr.ProfileBundle && n == 1:
		return "bundleOne"
	case n > qr.MaxBundle:
		return "bundleTooMany"
	case (p == qr.ProfileMaskedIdentity || p == qr.ProfileFullRegistration) && n > 1:
		return "bundleMany"
	}
	return ""
}

// listLicences fills d.Licences with the views (masked) of the session holder's licences. When
// the store fails it serves the error page, logged under page, and returns false.
func (s *Server) listLicences(w http.ResponseWriter, r *http.Request, sess *session, d *pageData, page string) bool {
	recs, err := s.svc.LicencesByIndex(r.Context(), sess.Index)
	if err != nil {
		s.serverError(w, r, page+": list licences", err)
		return false
	}
	for _, rec := range recs {
		d.Licences = append(d.Licences, s.licenceView(rec, d.Lang))
	}
	return true
}

// requireSession returns the session, or redirects to the login (then back here) and
// returns nil. When storage cannot tell, it answers the error page (serverError) and returns
// nil.
func (s *Server) requireSession(w http.ResponseWriter, r *http.Request) *session {
	sess, err := s.lookupSession(r)
	if err != nil {
		s.serverError(w, r, "session: lookup", err)
		return nil
	}
	if sess == nil {
		http.Redirect(w, r, pathLogin+"?"+url.Values{"next": {r.URL.RequestURI()}}.Encode(), http.StatusSeeOther)
	}
	return sess
}

// selection turns a page query (l=ID… profile=NAME f=FIELD…) into a code request.
func selection(q url.Values) (wallet.CodeRequest, error) {
	var req wallet.CodeRequest
	if len(q["l"]) > maxSelection || len(q["f"]) > 64 {
		return req, wallet.ErrBadRequest
	}
	req.IDs = q["l"]
	p, err := wallet.ParseProfile(q.Get("profile"))
	if err != nil {
		return req, err
	}
	req.Profile = p
	if p == qr.ProfileFullRegistration && q.Has("f") {
		req.Fields = q["f"]
	}
	return req, nil
}

// mintSelection mints a code of the page query's selection (see selection) for the session's
// holder, and returns the request with it.
func (s *Server) mintSelection(r *http.Request, sess *session) (wallet.CodeRequest, wallet.Minted, error) {
	req, err := selection(r.URL.Query())
	if err != nil {
		return req, wallet.Minted{}, err
	}
	m, err := s.svc.Mint(r.Context(), sess.Index, req, wallet.Actor{Subject: sess.Sub, ClientID: s.cfg.ClientID})
	return req, m, err
}

// handleShow mints a code for the selected licences and shows it: the PNG inline, a
// countdown, and a script that fetches a fresh code every Refresh seconds.
func (s *Server) handleShow(w http.ResponseWriter, r *http.Request) {
	sess := s.requireSession(w, r)
	if sess == nil {
		return
	}
	fromBundle := r.URL.Query().Get("from") == "bundle"
	if fromBundle {
		if key := bundleCountKey(r.URL.Query()); key != "" {
			s.renderBundle(w, r, sess, http.StatusUnprocessableEntity, key)
			return
		}
	}
	req, m, err := s.mintSelection(r, sess)
	if err == nil {
		d := s.newPage(r, sess)
		if d.Code, err = s.codeView(m, sess, r.URL.Query(), d.Lang, req.Fields); err != nil {
			s.serverError(w, r, "show: render code", err)
			return
		}
		d.Title = d.T["show"] + d.T["colon"] + d.Code.ProfileName
		s.render(w, http.StatusOK, s.pages.show, d)
		return
	}
	p, known := problemOf(err)
	if !known {
		s.serverError(w, r, "show: mint", err)
		return
	}
	s.log.InfoContext(r.Context(), "show: refused", "sub", sess.Sub, "reason", p.code)
	if fromBundle {
		s.renderBundle(w, r, sess, p.status, p.key)
		return
	}
	s.renderMessage(w, r, p.status, p.key)
}

// codeJSON is the answer of /code.json and POST /api/v1/codes.
type codeJSON struct {
	Text         string   `json:"text"`
	PNG          string   `json:"png"` // base64 (standard, padded) of the PNG
	IssuedAt     string   `json:"issued_at"`
	ExpiresAt    string   `json:"expires_at"`
	ExpiresLocal string   `json:"expires_local,omitempty"`
	Profile      string   `json:"profile"`
	Version      int      `json:"version"`
	Licences     []string `json:"licences"`
	Kinds        []string `json:"kinds"`
}

func (s *Server) codeJSON(m wallet.Minted) (*codeJSON, error) {
	png, err := qr.RenderPNG(m.Text, -s.cfg.PNGScale)
	if err != nil {
		return nil, err
	}
	out := &codeJSON{
		Text: m.Text, PNG: base64.StdEncoding.EncodeToString(png),
		IssuedAt: m.IssuedAt.UTC().Format(time.RFC3339), ExpiresAt: m.ExpiresAt.UTC().Format(time.RFC3339),
		ExpiresLocal: m.ExpiresAt.In(credentials.ChinaStandardTime).Format("15:04:05"),
		Profile:      m.Profile.String(), Version: qr.Version(m.Text),
	}
	for _, r := range m.Licences {
		out.Licences = append(out.Licences, r.ID)
		out.Kinds = append(out.Kinds, string(r.Licence.Kind))
	}
	return out, nil
}

// handleCodeJSON mints a fresh code for the code page's script (session cookie; same query as
// /show). Errors are JSON {"error","error_description"}, the description in the page's
// language (the script shows it): 401 login_required, the refusals of problems, 503
// temporarily_unavailable (with Retry-After) while the database refuses writes, 500
// server_error.
func (s *Server) handleCodeJSON(w http.ResponseWriter, r *http.Request) {
	lang := s.lang(r)
	fail := func(what string, err error) {
		p := s.serverProblem(w, r, what, err)
		apiJSON.Error(w, p.status, p.code, texts[lang][p.key])
	}
	sess, err := s.lookupSession(r)
	if err != nil {
		fail("code.json: session", err)
		return
	}
	if sess == nil {
		apiJSON.Error(w, http.StatusUnauthorized, "login_required", texts[lang]["loginFirst"])
		return
	}
	_, m, err := s.mintSelection(r, sess)
	if err != nil {
		p, known := problemOf(err)
		if !known {
			fail("code.json: mint", err)
			return
		}
		apiJSON.Error(w, p.status, p.code, texts[lang][p.key])
		return
	}
	out, err := s.codeJSON(m)
	if err != nil {
		fail("code.json: render", err)
		return
	}
	apiJSON.Write(w, http.StatusOK, out)
}

// handleCodePNG mints a fresh code and returns it as a PNG download (code.png).
func (s *Server) handleCodePNG(w http.ResponseWriter, r *http.Request) {
	sess := s.requireSession(w, r)
	if sess == nil {
		return
	}
	_, m, err := s.mintSelection(r, sess)
	if err != nil {
		p, known := problemOf(err)
		if !known {
			s.serverError(w, r, "code.png: mint", err)
			return
		}
		s.renderMessage(w, r, p.status, p.key)
		return
	}
	png, err := qr.RenderPNG(m.Text, -s.cfg.PNGScale)
	if err != nil {
		s.serverError(w, r, "code.png: render", err)
		return
	}
	w.Header().Set("Content-Type", "image/png")
	w.Header().Set("Content-Disposition", `attachment; filename="code.png"`)
	_, _ = w.Write(png)
}

// handleNotFound answers every GET of a path no route serves: 405 with Allow when the path
// has routes for other methods (GET /api/v1/receipts: Allow: OPTIONS, POST), else the wallet's
// own 404 page (页面不存在, with a way home) in the page's language, or for /api/ paths the
// API's JSON error not_found.
func (s *Server) handleNotFound(w http.ResponseWriter, r *http.Request) {
	if allow := s.otherMethods(r); len(allow) > 0 {
		w.Header().Set("Allow", strings.Join(allow, ", "))
		if strings.HasPrefix(r.URL.Path, "/api/") {
			apiJSON.Error(w, http.StatusMethodNotAllowed, "invalid_request", "use "+strings.Join(allow, " or ")+" at this path")
			return
		}
		http.Error(w, http.StatusText(http.StatusMethodNotAllowed), http.StatusMethodNotAllowed)
		return
	}
	if strings.HasPrefix(r.URL.Path, "/api/") {
		apiJSON.Error(w, http.StatusNotFound, "not_found", "no such API endpoint")
		return
	}
	s.renderMessage(w, r, http.StatusNotFound, "pageNotFound")
}

// otherMethods returns, sorted, the methods other than GET and HEAD that a route of r's path
// serves: the route table's catch-all "GET /" (handleNotFound) hides them from ServeMux's own
// 405.
func (s *Server) otherMethods(r *http.Request) []string {
	var allow []string
	r2 := r.Clone(r.Context())
	for _, m := range []string{http.MethodDelete, http.MethodOptions, http.MethodPatch, http.MethodPost, http.MethodPut} {
		r2.Method = m
		if _, pattern := s.mux.Handler(r2); strings.HasPrefix(pattern, m+" ") { // not "" (none) nor a redirect's path
			allow = append(allow, m)
		}
	}
	return allow
}
