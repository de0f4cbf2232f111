package web

import (
	"bytes"
	"encoding/base64"
	"fmt"
	"html/template"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/tongban/tongban/credentials"
	"github.com/tongban/tongban/qr"
	"github.com/tongban/tongban/wallet"
)

// pages are the HTML templates, each a clone of the layout with its own "content".
type pages struct {
	home, show, bundle, message *template.Template
	records                     *template.Template // the holder's record (record.go)
}

func newPages() (*pages, error) {
	layout, err := template.ParseFS(webFS, "templates/layout.html")
	if err != nil {
		return nil, fmt.Errorf("wallet: templates: %w", err)
	}
	one := func(name string) (*template.Template, error) {
		t, err := layout.Clone()
		if err != nil {
			return nil, err
		}
		return t.ParseFS(webFS, "templates/"+name)
	}
	var p pages
	for _, x := range []struct {
		dst  **template.Template
		name string
	}{{&p.home, "home.html"}, {&p.show, "show.html"}, {&p.bundle, "bundle.html"}, {&p.message, "message.html"},
		{&p.records, "record.html"}} {
		if *x.dst, err = one(x.name); err != nil {
			return nil, fmt.Errorf("wallet: templates: %w", err)
		}
	}
	return &p, nil
}

// pageData is what every page template gets.
type pageData struct {
	Lang      string
	T         map[string]string
	Session   *session
	CSRF      string
	LangHref  string
	LangLabel string

	Licences []licenceView
	Code     *codeView
	Message  string
	IsError  bool
	Record   *recordView // the record page (record.go)
}

// licenceView is a licence as the pages show it: masked.
type licenceView struct {
	ID, Kind, KindName     string
	Number, Holder, Issuer string
	ValidUntil, Status     string
	StatusClass            string
	Showable, AsAgent      bool
	ShowHref               string
	fields                 []credentials.FieldSpec
	fieldNames             map[string]bool
	licenceKind            credentials.Kind
}

// fieldView is one checkbox of the full-registration field chooser.
type fieldView struct {
	Name, Label string
	Checked     bool
}

// codeView is a minted code as the code page shows it.
type codeView struct {
	PNG         template.URL // data: URI
	Size        int
	Refresh     int // seconds
	RefreshURL  string
	DownloadURL string
	Expires     string // local time, for people
	ExpiresISO  string
	Profile     int
	ProfileName string
	Licences    []licenceView
	Single      bool
	SingleID    string
	Fields      []fieldView
}

func (s *Server) newPage(r *http.Request, sess *session) *pageData {
	lang := s.lang(r)
	d := &pageData{Lang: lang, T: texts[lang], Session: sess}
	if sess != nil {
		d.CSRF = s.csrf.Token(csrfLogout, sess.SID)
	}
	d.LangHref, d.LangLabel = langSwitch(r, lang)
	return d
}

func (s *Server) render(w http.ResponseWriter, status int, t *template.Template, d *pageData) {
	var buf bytes.Buffer
	if err := t.ExecuteTemplate(&buf, "layout", d); err != nil {
		s.log.Error("render page", "err", err.Error())
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	_, _ = w.Write(buf.Bytes())
}

// renderMessage shows the text with key (texts) as a page with status, with the browser's
// session (if any) in the header.
func (s *Server) renderMessage(w http.ResponseWriter, r *http.Request, status int, key string) {
	s.renderMessageFor(w, r, s.session(r), status, key)
}

// renderMessageFor is renderMessage with sess in the header (nil: none).
func (s *Server) renderMessageFor(w http.ResponseWriter, r *http.Request, sess *session, status int, key string) {
	d := s.newPage(r, sess)
	d.Message, d.IsError = d.T[key], status >= 400
	s.render(w, status, s.pages.message, d)
}

// serverError answers a page request that failed for a reason of the server (serverProblem):
// while the database refuses writes, 503 with Retry-After and the plain "temporarily
// unavailable" page, logged at debug and without a session lookup; else 500 and the generic
// error page, with the cause logged at error under what.
func (s *Server) serverError(w http.ResponseWriter, r *http.Request, what string, err error) {
	p := s.serverProblem(w, r, what, err)
	if p == problemUnavailable {
		s.renderMessageFor(w, r, nil, p.status, p.key)
		return
	}
	s.renderMessage(w, r, p.status, p.key)
}

func (s *Server) licenceView(rec wallet.Record, lang string) licenceView {
	l := &rec.Licence
	st := l.EffectiveStatus(s.svc.Now())
	v := licenceView{
		ID: rec.ID, Kind: string(l.Kind), KindName: KindName(l.Kind, lang),
		Number: l.MaskedNumber(), Holder: l.MaskedHolderName(), Issuer: l.Issuer,
		ValidUntil: texts[lang]["longTerm"], Status: statusName(st, lang),
		Showable: s.svc.Showable(rec) == nil, AsAgent: rec.AsAgent,
		ShowHref: pathShow + "?" + url.Values{"l": {rec.ID}}.Encode(),
		fields:   credentials.FieldSpecs(l.Kind), licenceKind: l.Kind,
	}
	if l.ValidUntil != nil {
		v.ValidUntil = l.ValidUntil.String()
	}
	if !v.Showable {
		v.StatusClass = "inactive"
	}
	v.fieldNames = map[string]bool{}
	for name := range l.Fields {
		v.fieldNames[name] = true
	}
	return v
}

// codeView builds the code page's view of a minted code. q is the request's selection, kept
// in the refresh and download URLs.
func (s *Server) codeView(m wallet.Minted, q url.Values, lang string, fields []string) (*codeView, error) {
	png, err := qr.RenderPNG(m.Text, -s.cfg.PNGScale)
	if err != nil {
		return nil, err
	}
	sel := url.Values{"l": q["l"], "profile": q["profile"], "f": q["f"]}
	for k, v := range sel {
		if len(v) == 0 {
			delete(sel, k)
		}
	}
	// The licence IDs the code shows, so a refresh shows the same ones even when the
	// request named kinds.
	sel["l"] = nil
	for _, r := range m.Licences {
		sel.Add("l", r.ID)
	}
	sel.Set("profile", strconv.Itoa(int(m.Profile)))
	v := &codeView{
		PNG:         template.URL("data:image/png;base64," + base64.StdEncoding.EncodeToString(png)),
		Size:        (qr.Version(m.Text)*4 + 17 + 8) * s.cfg.PNGScale,
		Refresh:     int(s.cfg.Refresh / time.Second),
		RefreshURL:  pathCodeJSON + "?" + sel.Encode(),
		DownloadURL: pathCodePNG + "?" + sel.Encode(),
		Expires:     m.ExpiresAt.In(credentials.ChinaStandardTime).Format("15:04:05"),
		ExpiresISO:  m.ExpiresAt.UTC().Format(time.RFC3339),
		Profile:     int(m.Profile),
		ProfileName: texts[lang][profileKey(m.Profile)],
	}
	for _, r := range m.Licences {
		v.Licences = append(v.Licences, s.licenceView(r, lang))
	}
	if len(m.Licences) == 1 {
		v.Single, v.SingleID = true, m.Licences[0].ID
		lv := v.Licences[0]
		chosen := map[string]bool{}
		for _, f := range fields {
			chosen[f] = true
		}
		for _, spec := range lv.fields {
			if !lv.fieldNames[spec.Name] {
				continue
			}
			label := spec.Label
			if lang == langEN {
				label = spec.Name
			}
			v.Fields = append(v.Fields, fieldView{Name: spec.Name, Label: label, Checked: fields == nil || chosen[spec.Name]})
		}
	}
	return v, nil
}
