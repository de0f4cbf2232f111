package oidc

import (
	"context"
	"errors"
	"net"
	"net/http"
	"net/url"

	"github.com/tongban/tongban/internal/citizenui"
	"github.com/tongban/tongban/oidc/internal/fositeadapter"
	"github.com/tongban/tongban/storage"
)

// 长辈模式 (elder mode: large type, high contrast, voice readout) on the provider's citizen
// pages. The browser remembers it in the tb_elder cookie (internal/citizenui); the account
// remembers it in storage.Person.ElderMode:
//
//   - The switch on every page posts to citizenui.PathElder. While logged in, the switch also
//     saves the setting in the account (saveElder), so that it follows the person to other
//     browsers and, through the elder_mode claim, to apps.
//   - A login (every method: password, passkey, scan-to-login, an upstream provider) merges
//     the two (syncElder): an account with elder mode on turns the browser's cookie on; a
//     browser with it on (switched on at the login page, before anyone logged in) saves it in
//     the account. Turning it off happens only through the switch.
//   - The elder_mode claim (scope profile; ID token and userinfo) is true when the account has
//     it on and absent otherwise (claims.go).

// ClaimElderMode is the claim that tells an app the person wants 长辈模式: the boolean true,
// released with scope profile when the person has switched elder mode on, absent otherwise.
// An app should then open in its own elder mode (large type, high contrast, voice readout).
const ClaimElderMode = "elder_mode"

// routesElder adds POST citizenui.PathElder, the elder-mode switch of every page.
func (s *Server) routesElder(handle func(method, path string, h http.HandlerFunc)) {
	h := citizenui.Handler{Cookies: s.cookies, OnChange: s.saveElder}
	handle("POST", citizenui.PathElder, h.ServeHTTP)
}

// saveElder is the switch's citizenui.Handler.OnChange: with a login session in r, it saves on
// as the person's setting. Without one it does nothing (the cookie alone remembers it).
func (s *Server) saveElder(r *http.Request, on bool) error {
	ctx := r.Context()
	ls, err := s.loginSession(ctx, r)
	if err != nil || ls == nil {
		return err
	}
	err = s.store.UpdatePerson(ctx, ls.PersonID, func(p *storage.Person) error {
		p.ElderMode = on
		return nil
	})
	if errors.Is(err, storage.ErrNotFound) {
		return nil // closed meanwhile: nothing to remember
	}
	if err != nil {
		s.logFailure(ctx, "save elder mode", err)
		return err
	}
	s.log.InfoContext(ctx, "elder mode switched", "person_id", ls.PersonID, "on", on)
	return nil
}

// syncElder merges the browser's and the account's elder-mode settings at a login of
// personID (see the package comment above): the cookie is set when the account has it on, the
// account saved when only the browser has it on. Failures are logged; the login goes on.
func (s *Server) syncElder(ctx context.Context, w http.ResponseWriter, r *http.Request, personID string) {
	p, err := s.store.GetPerson(ctx, personID)
	if err != nil {
		s.logFailure(ctx, "read elder mode", err)
		return
	}
	switch cookie := citizenui.Elder(r); {
	case p.ElderMode && !cookie:
		citizenui.SetElder(w, s.cookies, true)
	case cookie && !p.ElderMode:
		err := s.store.UpdatePerson(ctx, personID, func(p *storage.Person) error {
			p.ElderMode = true
			return nil
		})
		if err != nil {
			s.logFailure(ctx, "save elder mode", err)
		}
	}
}

// elderBack is where the elder-mode switch of a page returns to: r's own URL for a GET (or
// HEAD), else — a page shown in answer to a POST — path with switchQuery and the page
// language, else the account page.
func (s *Server) elderBack(r *http.Request, lang, path string, switchQuery url.Values) string {
	if r.Method == http.MethodGet || r.Method == http.MethodHead {
		return citizenui.LocalPath(r.URL.RequestURI())
	}
	q := url.Values{}
	for k, v := range switchQuery {
		q[k] = v
	}
	q.Set("ui_locales", lang)
	if switchQuery == nil {
		path = pathAccount
	}
	return citizenui.LocalPath(s.localPath(path) + "?" + q.Encode())
}

// appBack returns an error page's way back to the app that sent the person: the origin of the
// app's first registered http(s) redirect URI ("https://app.example/") and the app's display
// name. The app is the client_id of r's query or form, or the one of the pending request in its
// authz parameter (an expired one too: its MAC still proves it ours). There is none — "", "" —
// for an app that is unknown or not published, for msg saying so, for a public (native) app
// whose redirect URIs are all on the loopback, and for a login made for the account pages.
func (s *Server) appBack(r *http.Request, lang, msg string) (string, string) {
	switch msg {
	case msgUnknownClient, msgAppPending, msgAppSuspended, msgAppRetired:
		return "", ""
	}
	form := func(k string) string {
		if v := r.URL.Query().Get(k); v != "" {
			return v
		}
		if r.PostForm != nil {
			return r.PostForm.Get(k)
		}
		return ""
	}
	id := form("client_id")
	if authz := form("authz"); id == "" && authz != "" {
		p, _ := s.decodePending(authz) // filled when the MAC holds, expired or not
		if q, err := url.ParseQuery(p.Query); err == nil && p.Next == "" {
			id = q.Get("client_id")
		}
	}
	if id == "" {
		return "", ""
	}
	c, err := s.clients.Get(r.Context(), id)
	if err != nil {
		return "", ""
	}
	if home := appHome(c); home != "" {
		return home, c.DisplayName()
	}
	return "", ""
}

// appHome is the origin of c's first registered http(s) redirect URI ("https://app.example/"),
// the way back to a published app; "" when c is not published or is a public (native) app
// whose redirect URIs are all on the loopback.
func appHome(c *fositeadapter.Client) string {
	if c.Registration.EffectiveStatus() != storage.ClientPublished {
		return ""
	}
	for _, ru := range c.Registration.RedirectURIs {
		u, err := url.Parse(ru)
		if err != nil || u.Host == "" || (u.Scheme != "https" && u.Scheme != "http") {
			continue
		}
		if ip := net.ParseIP(u.Hostname()); c.Registration.Public && (u.Hostname() == "localhost" || ip != nil && ip.IsLoopback()) {
			continue
		}
		return u.Scheme + "://" + u.Host + "/"
	}
	return ""
}

func init() {
	addMessages(map[string]map[string]string{
		langZH: {
			"accountToc":      "本页目录",
			"elderHeading":    "长辈模式",
			"elderAbout":      "开启后，文字更大、对比更强，按钮更大，并可点击“朗读”按钮听取页面的主要内容。",
			"elderNow":        "当前：",
			"elderOn":         "已开启",
			"elderOff":        "已关闭",
			"elderTurnOn":     "开启长辈模式",
			"elderTurnOff":    "关闭长辈模式",
			"elderSaved":      "此设置保存在您的账户中：在其他设备登录后，以及通过本平台登录的应用（如电子证照）中，也会使用长辈模式。",
			"elderBrowserOff": "这个浏览器目前未使用长辈模式（下次在此登录时会开启）。",
			"elderBrowserOn":  "这个浏览器目前仍在使用长辈模式，与账户的设置不同。",
		},
		langEN: {
			"accountToc":      "On this page",
			"elderHeading":    "Elder mode",
			"elderAbout":      "Larger text, stronger contrast and bigger buttons; the “Read aloud” button reads out the main content of a page.",
			"elderNow":        "Now: ",
			"elderOn":         "on",
			"elderOff":        "off",
			"elderTurnOn":     "Turn elder mode on",
			"elderTurnOff":    "Turn elder mode off",
			"elderSaved":      "This setting is saved in your account: other devices you sign in on, and apps you sign in to through this service (such as the e-licence wallet), use elder mode too.",
			"elderBrowserOff": "This browser is not using elder mode now (it will when you next log in here).",
			"elderBrowserOn":  "This browser is still using elder mode, unlike your account's setting.",
		},
	})
}
