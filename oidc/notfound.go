package oidc

import (
	"net/http"
	"strings"
)

// The provider's answer to a request no route serves (HTTP 404): a citizen page (页面不存在) in
// the page language (ui_locales, zh-CN by default), with the layout, the 长辈模式 switch and a
// way on to the account page (which asks a person who is not logged in to log in first); or,
// for a path under a JSON endpoint (notFoundJSONPrefixes) or a request that accepts JSON and
// not HTML, the provider's JSON error {"error":"not_found","error_description":…}.
//
// Only the route table's own 404 changes: a path with a route but not for the request's
// method still gets 405 with Allow, and a handler's own 404 (an unknown client at the
// registration endpoint, an unknown asset, an unknown OTP device) answers as before.

// notFoundJSONPrefixes are the paths, relative to the issuer, below which an unrouted request
// gets JSON: the OAuth and OIDC endpoints, the metadata, and the pages' JSON calls.
var notFoundJSONPrefixes = []string{
	"/.well-known/", pathJWKS + "/", pathToken + "/", pathUserinfo + "/", pathIntrospect + "/", pathRevoke + "/",
	pathRegister + "/", pathDeviceAuthorization + "/", pathScanConfirm + "/", "/login/passkey/", "/account/passkeys/",
}

// serveRouted serves r through the route table, answering the table's own 404 with
// handleNotFound. (http.ServeMux has no hook for its 404: notFoundCatcher drops the plain
// "404 page not found" it writes for a request that matches no pattern.)
func (s *Server) serveRouted(w http.ResponseWriter, r *http.Request) {
	if _, pattern := s.mux.Handler(r); pattern != "" {
		s.mux.ServeHTTP(w, r)
		return
	}
	// No pattern: either 405 (the path has routes for other methods) or 404.
	c := &notFoundCatcher{ResponseWriter: w}
	s.mux.ServeHTTP(c, r)
	if c.caught {
		s.handleNotFound(w, r)
	}
}

// notFoundCatcher passes a response through unless its status is 404, which it drops (with
// its body) and records in caught.
type notFoundCatcher struct {
	http.ResponseWriter
	caught bool
}

func (c *notFoundCatcher) WriteHeader(status int) {
	if status == http.StatusNotFound {
		c.caught = true
		return
	}
	c.ResponseWriter.WriteHeader(status)
}

func (c *notFoundCatcher) Write(b []byte) (int, error) {
	if c.caught {
		return len(b), nil
	}
	return c.ResponseWriter.Write(b)
}

// handleNotFound answers a request no route serves: 404 with JSON or the citizen page (see
// the comment at the top of this file).
func (s *Server) handleNotFound(w http.ResponseWriter, r *http.Request) {
	if s.notFoundJSON(r) {
		oauthJSON.Error(w, http.StatusNotFound, "not_found", "There is no endpoint at this path.")
		return
	}
	lang := pickLang(r.URL.Query().Get("ui_locales"))
	d := s.newPage(r, lang, pathAccount, nil)
	d.Heading = d.T["notFoundHeading"]
	d.Message = d.T["notFoundText"]
	d.Error = "1"
	d.BackURL = s.accountURL(lang)
	if r.Method == http.MethodGet || r.Method == http.MethodHead {
		other := langEN
		if lang == langEN {
			other = langZH
		}
		q := r.URL.Query()
		q.Set("ui_locales", other)
		d.SwitchURL, d.SwitchLang = r.URL.EscapedPath()+"?"+q.Encode(), other
	}
	s.render(w, http.StatusNotFound, s.pages.message, d)
}

// notFoundJSON reports whether an unrouted request gets JSON: its path is under one of
// notFoundJSONPrefixes, or its Accept header names JSON and not HTML.
func (s *Server) notFoundJSON(r *http.Request) bool {
	p := strings.TrimPrefix(r.URL.Path, s.path)
	for _, prefix := range notFoundJSONPrefixes {
		if strings.HasPrefix(p, prefix) {
			return true
		}
	}
	accept := r.Header.Get("Accept")
	return strings.Contains(accept, "json") && !strings.Contains(accept, "text/html")
}

func init() {
	addMessages(map[string]map[string]string{
		langZH: {
			"notFoundHeading": "页面不存在",
			"notFoundText":    "您访问的页面不存在，或链接已失效。请检查网址，或前往您的账户（未登录时会先请您登录）。",
		},
		langEN: {
			"notFoundHeading": "Page not found",
			"notFoundText":    "There is no page at this address, or the link has expired. Check the address, or go to your account (you will be asked to log in first if you are not).",
		},
	})
}
