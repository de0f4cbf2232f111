// Package wallettest holds helpers for end-to-end tests of the wallet: a cookie-keeping
// browser that fills in the identity provider's login and consent forms. The PNG codes the wallet
// serves are read with qr/qrimage.
package wallettest

import (
	"errors"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"strings"
	"testing"

	"golang.org/x/net/html"
)

// Browser is an HTTP client with a cookie jar that follows redirects, except to URLs that
// start with one of Stop (an app's redirect URI nobody listens on): there it stops and the
// Page is the redirect itself.
type Browser struct {
	t      testing.TB
	Client *http.Client
	Stop   []string
}

// NewBrowser returns a browser with an empty cookie jar.
func NewBrowser(t testing.TB) *Browser {
	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	b := &Browser{t: t}
	b.Client = &http.Client{Jar: jar, CheckRedirect: func(req *http.Request, via []*http.Request) error {
		for _, s := range b.Stop {
			if strings.HasPrefix(req.URL.String(), s) {
				return http.ErrUseLastResponse
			}
		}
		if len(via) > 20 {
			return errors.New("too many redirects")
		}
		return nil
	}}
	return b
}

// Page is a response as the browser ended up with it.
type Page struct {
	Status int
	URL    *url.URL // the URL of the final request
	Header http.Header
	Body   string
}

// Location is the Location header of a redirect the browser stopped at, resolved.
func (p *Page) Location() *url.URL {
	u, err := p.URL.Parse(p.Header.Get("Location"))
	if err != nil {
		return nil
	}
	return u
}

func (b *Browser) do(req *http.Request) *Page {
	b.t.Helper()
	resp, err := b.Client.Do(req)
	if err != nil {
		b.t.Fatalf("%s %s: %v", req.Method, req.URL, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		b.t.Fatal(err)
	}
	// <wbr>, a line-break opportunity inside masked numbers (citizenui.Breakable), is not text:
	// Body reads as the page's text does.
	return &Page{Status: resp.StatusCode, URL: resp.Request.URL, Header: resp.Header, Body: strings.ReplaceAll(string(body), "<wbr>", "")}
}

// Get fetches u.
func (b *Browser) Get(u string) *Page {
	b.t.Helper()
	req, err := http.NewRequest(http.MethodGet, u, nil)
	if err != nil {
		b.t.Fatal(err)
	}
	return b.do(req)
}

// PostForm posts vals to u, form-encoded.
func (b *Browser) PostForm(u string, vals url.Values) *Page {
	b.t.Helper()
	req, err := http.NewRequest(http.MethodPost, u, strings.NewReader(vals.Encode()))
	if err != nil {
		b.t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return b.do(req)
}

// Form returns the action (resolved against the page URL) and the input values of the first
// form on the page that has an input named field. Checkboxes and radios are included only
// when checked; submit buttons are not included.
func (p *Page) Form(field string) (action string, vals url.Values, ok bool) {
	doc, err := html.Parse(strings.NewReader(p.Body))
	if err != nil {
		return "", nil, false
	}
	var found *html.Node
	var walk func(n *html.Node)
	walk = func(n *html.Node) {
		if found != nil {
			return
		}
		if n.Type == html.ElementNode && n.Data == "form" && hasInput(n, field) {
			found = n
			return
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			walk(c)
		}
	}
	walk(doc)
	if found == nil {
		return "", nil, false
	}
	vals = url.Values{}
	var collect func(n *html.Node)
	collect = func(n *html.Node) {
		if n.Type == html.ElementNode && n.Data == "input" {
			name, typ, val := attr(n, "name"), attr(n, "type"), attr(n, "value")
			_, checked := attrOK(n, "checked")
			if name != "" && typ != "submit" && ((typ != "checkbox" && typ != "radio") || checked) {
				vals.Add(name, val)
			}
		}
		for c := n.FirstChild; c != nil; c = c.NextSibling {
			collect(c)
		}
	}
	collect(found)
	act, err := p.URL.Parse(attr(found, "action"))
	if err != nil {
		return "", nil, false
	}
	return act.String(), vals, true
}

func hasInput(n *html.Node, field string) bool {
	if n.Type == html.ElementNode && (n.Data == "input" || n.Data == "button") && attr(n, "name") == field {
		return true
	}
	for c := n.FirstChild; c != nil; c = c.NextSibling {
		if hasInput(c, field) {
			return true
		}
	}
	return false
}

func attr(n *html.Node, key string) string { v, _ := attrOK(n, key); return v }

func attrOK(n *html.Node, key string) (string, bool) {
	for _, a := range n.Attr {
		if a.Key == key {
			return a.Val, true
		}
	}
	return "", false
}

// LoginAndConsent completes the identity provider's pages from p on: the login form (when
// shown) with identifier and password, then the consent form (when shown) with "allow". It
// returns the page after the provider has redirected back (or the redirect the browser
// stopped at).
func (b *Browser) LoginAndConsent(p *Page, identifier, password string) *Page {
	b.t.Helper()
	if action, vals, ok := p.Form("password"); ok {
		vals.Set("identifier", identifier)
		vals.Set("password", password)
		p = b.PostForm(action, vals)
	}
	if action, vals, ok := p.Form("decision"); ok {
		vals.Set("decision", "allow")
		p = b.PostForm(action, vals)
	}
	return p
}

// LoginWallet logs in to the wallet at walletURL through the identity provider and returns
// the wallet page the login ends on.
func (b *Browser) LoginWallet(walletURL, identifier, password string) *Page {
	b.t.Helper()
	p := b.LoginAndConsent(b.Get(strings.TrimSuffix(walletURL, "/")+"/login"), identifier, password)
	if p.Status != http.StatusOK || !strings.HasPrefix(p.URL.String(), walletURL) {
		b.t.Fatalf("wallet login ended at %d %s:\n%s", p.Status, p.URL, p.Body)
	}
	return p
}
