package web

import (
	"bytes"
	"encoding/base64"
	"errors"
	"fmt"
	"html/template"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/tongban/tongban/credentials"
	"github.com/tongban/tongban/internal/citizenui"
	"github.com/tongban/tongban/qr"
	"github.com/tongban/tongban/wallet"
)

// pages are the HTML templates, each a clone of the layout (with the licence art of art.html
// and the 长辈模式 switch and readout button of citizenui) with its own "content".
type pages struct {
	home, show, bundle, message, logout *template.Template
	records                             *template.Template // the holder's record (record.go)
}

func newPages() (*pages, error) {
	layout, err := template.New("layout.html").Funcs(citizenui.Funcs).ParseFS(webFS, "templates/layout.html", "templates/art.html")
	if err != nil {
		return nil, fmt.Errorf("wallet: templates: %w", err)
	}
	if layout, err = layout.Parse(citizenui.Templates); err != nil {
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
		{&p.logout, "logout.html"}, {&p.records, "record.html"}} {
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
	Title     string // the page's own title, before the app's; "" on the home page
	Session   *session
	CSRF      string
	LangHref  string
	LangLabel string
	// Elder is 长辈模式 (citizenui.Elder): <html class="elder">.
	Elder  bool
	Switch citizenui.Switch
	Speak  citizenui.Speak
	// LogoutHref is the logout confirmation, returning to this page on cancel.
	LogoutHref string

	Licences []licenceView
	Kinds    []credentials.Kind // the landing page's art
	Code     *codeView
	Pick     bundlePick // the 多码合一 form's choice
	Heading  string     // a message page's heading
	Message  string
	IsError  bool
	Links    []linkView  // a message page's ways on
	Back     string      // the logout page's cancel
	Record   *recordView // the record page (record.go)
}

// linkView is a button-like link of a message page.
type linkView struct {
	Href, Label string
	Primary     bool
}

// bundlePick is the 多码合一 form's profile choice (bundle, masked or full).
type bundlePick struct {
	Profile string
}

// licenceView is a licence as the pages show it: masked.
type licenceView struct {
	ID, Kind, KindName     string
	Number, Holder, Issuer string
	ValidUntil, Status     string
	// State is the effective status for the page's classes: valid, suspended, revoked,
	// expired, or notyet (before ValidFrom).
	State string
	// Reason says why a licence that is not Showable cannot be shown.
	Reason string
	// Colour is a health code's colour (green, yellow, red), ColourName its words (绿码 …).
	Colour, ColourName string
	Showable, AsAgent  bool
	Selected           bool // ticked on the 多码合一 form
	ShowHref           string
	fields             []credentials.FieldSpec
	fieldNames         map[string]bool
	licenceKind        credentials.Kind
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
	ShowHref    string // this page again (the retry of an expired code)
	LoginHref   string // the login, back to this page
	Expires     string // local time, for people
	ExpiresISO  string
	Now         string // the time of minting, China Standard Time, for the live clock
	NowISO      string
	ValidLeft   int // seconds the code is valid from now
	SessionLeft int // seconds the session lasts from now
	Profile     int
	ProfileName string
	Kind        string // the first licence's kind: the card's colour and art
	Colour      string // a health code's colour (profile 1 and 2)
	ColourName  string
	Licences    []licenceView
	Single      bool
	SingleID    string
	Fields      []fieldView
	Disclosure  disclosure
}

func (s *Server) newPage(r *http.Request, sess *session) *pageData {
	lang := s.lang(r)
	d := &pageData{Lang: lang, T: texts[lang], Session: sess}
	if sess != nil {
		d.CSRF = s.csrf.Token(csrfLogout, sess.SID)
	}
	d.LangHref, d.LangLabel = langSwitch(r, lang)
	d.Elder = citizenui.Elder(r)
	d.Switch, d.Speak = citizenui.NewSwitch(r, lang), citizenui.NewSpeak(lang)
	back := citizenui.LocalPath(r.URL.RequestURI())
	if r.Method != http.MethodGet || r.URL.Path == pathLogout {
		back = pathHome
	}
	d.LogoutHref = pathLogout + "?" + url.Values{"back": {back}}.Encode()
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

// loginKeys are the messages of a failed or refused login: their page leads to a new login.
var loginKeys = map[string]bool{
	"loginExpired": true, "loginFailed": true, "loginCancelled": true, "idpDown": true, "noIDNumber": true,
}

// renderMessageFor is renderMessage with sess in the header (nil: none). Every message page
// has a way on: a new login after a failed one, else home (and, logged in, the licences).
func (s *Server) renderMessageFor(w http.ResponseWriter, r *http.Request, sess *session, status int, key string) {
	d := s.newPage(r, sess)
	d.Message, d.IsError = d.T[key], status >= 400
	d.Heading = d.T["noticeTitle"]
	if d.IsError {
		d.Heading = d.T["errorTitle"]
	}
	switch {
	case status == http.StatusNotFound && key == "pageNotFound":
		d.Heading, d.Message = d.T["pageNotFound"], d.T["pageNotFoundText"]
	case key == "licenceSuspended" || key == "licenceRevoked" || key == "licenceExpired" || key == "licenceNotYet":
		d.Heading = d.T["cannotShow"]
	}
	d.Title = d.Heading
	if loginKeys[key] && sess == nil {
		d.Links = append(d.Links, linkView{Href: pathLogin, Label: d.T["relogin"], Primary: true})
	}
	label := d.T["home"]
	if sess != nil {
		label = d.T["back"]
	}
	d.Links = append(d.Links, linkView{Href: pathHome, Label: label, Primary: len(d.Links) == 0})
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
		ValidUntil: texts[lang]["longTerm"], Status: statusName(st, lang), State: string(st),
		AsAgent:  rec.AsAgent,
		ShowHref: pathShow + "?" + url.Values{"l": {rec.ID}}.Encode(),
		fields:   credentials.FieldSpecs(l.Kind), licenceKind: l.Kind,
	}
	if err := s.svc.Showable(rec); err == nil {
		v.Showable = true
	} else {
		p, _ := problemOf(err)
		v.Reason = texts[lang][p.key]
		if errors.Is(err, credentials.ErrLicenceNotYetValid) {
			v.State, v.Status = "notyet", texts[lang]["statusNotYet"]
		}
	}
	if l.Kind == credentials.HealthCode {
		if key := colourKey(l.Fields["colour"]); key != "" {
			v.Colour, v.ColourName = l.Fields["colour"], texts[lang][key]
		}
	}
	if l.ValidUntil != nil {
		v.ValidUntil = l.ValidUntil.String()
	}
	v.fieldNames = map[string]bool{}
	for name := range l.Fields {
		v.fieldNames[name] = true
	}
	return v
}

// codeView builds the code page's view of a minted code for the session sess. q is the
// request's selection, kept in the refresh and download URLs; fields are the chosen fields of
// a full-registration code (nil: all).
func (s *Server) codeView(m wallet.Minted, sess *session, q url.Values, lang string, fields []string) (*codeView, error) {
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
	now := s.svc.Now()
	show := pathShow + "?" + sel.Encode()
	v := &codeView{
		PNG:         template.URL("data:image/png;base64," + base64.StdEncoding.EncodeToString(png)),
		Size:        (qr.Version(m.Text)*4 + 17 + 8) * s.cfg.PNGScale,
		Refresh:     int(s.cfg.Refresh / time.Second),
		RefreshURL:  pathCodeJSON + "?" + sel.Encode(),
		DownloadURL: pathCodePNG + "?" + sel.Encode(),
		ShowHref:    show,
		LoginHref:   pathLogin + "?" + url.Values{"next": {show}}.Encode(),
		Expires:     m.ExpiresAt.In(credentials.ChinaStandardTime).Format("15:04:05"),
		ExpiresISO:  m.ExpiresAt.UTC().Format(time.RFC3339),
		Now:         now.In(credentials.ChinaStandardTime).Format("15:04:05"),
		NowISO:      now.UTC().Format(time.RFC3339),
		ValidLeft:   max(0, int(m.ExpiresAt.Sub(now)/time.Second)),
		SessionLeft: max(0, int(sess.Expires-s.now().Unix())),
		Profile:     int(m.Profile),
		ProfileName: texts[lang][profileKey(m.Profile)],
	}
	ls := make([]credentials.Licence, len(m.Licences))
	for i, r := range m.Licences {
		v.Licences = append(v.Licences, s.licenceView(r, lang))
		ls[i] = r.Licence
	}
	if len(v.Licences) > 0 {
		v.Kind = v.Licences[0].Kind
		if m.Profile != qr.ProfileBundle {
			v.Colour, v.ColourName = v.Licences[0].Colour, v.Licences[0].ColourName
		}
	}
	if m.Profile == qr.ProfileFullRegistration && len(ls) == 1 && fields != nil {
		ls[0] = ls[0].WithFields(fields...)
	}
	v.Disclosure = disclose(m.Profile, ls, lang)
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
			v.Fields = append(v.Fields, fieldView{Name: spec.Name, Label: FieldLabel(lv.licenceKind, spec.Name, lang),
				Checked: fields == nil || chosen[spec.Name]})
		}
	}
	return v, nil
}
