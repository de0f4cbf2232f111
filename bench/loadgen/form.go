package main

import (
	"errors"
	"html"
	"net/url"
	"regexp"
	"strings"
)

// htmlForm is the first POST form of a page, read with regular expressions: enough for the
// idp's own server-rendered pages, not a general HTML parser.
type htmlForm struct {
	action   *url.URL
	inputs   []htmlInput
	username string // name of the text/tel input, if any
	password string // name of the password input, if any
}

type htmlInput struct{ typ, name, value string }

var (
	reForm  = regexp.MustCompile(`(?is)<form\b([^>]*)>(.*?)</form>`)
	reInput = regexp.MustCompile(`(?is)<(input|button)\b([^>]*)>`)
	reAttr  = regexp.MustCompile(`(?is)([a-z-]+)\s*=\s*("([^"]*)"|'([^']*)'|([^\s>]+))`)
)

func attrs(s string) map[string]string {
	m := map[string]string{}
	for _, a := range reAttr.FindAllStringSubmatch(s, -1) {
		v := a[3] + a[4] + a[5]
		m[strings.ToLower(a[1])] = html.UnescapeString(v)
	}
	return m
}

// parseForm finds the first form with method post in page, resolving its action against base.
func parseForm(page string, base *url.URL) (*htmlForm, error) {
	for _, m := range reForm.FindAllStringSubmatch(page, -1) {
		fa := attrs(m[1])
		if !strings.EqualFold(fa["method"], "post") {
			continue
		}
		action, err := base.Parse(fa["action"])
		if err != nil {
			return nil, err
		}
		f := &htmlForm{action: action}
		for _, in := range reInput.FindAllStringSubmatch(m[2], -1) {
			a := attrs(in[2])
			typ := strings.ToLower(a["type"])
			if in[1] == "button" || strings.EqualFold(in[1], "button") {
				if typ == "" {
					typ = "submit"
				}
			} else if typ == "" {
				typ = "text"
			}
			if a["name"] == "" {
				continue
			}
			f.inputs = append(f.inputs, htmlInput{typ: typ, name: a["name"], value: a["value"]})
			switch typ {
			case "password":
				f.password = a["name"]
			case "text", "tel", "email":
				if f.username == "" {
					f.username = a["name"]
				}
			}
		}
		return f, nil
	}
	return nil, errors.New("no POST form")
}

// values returns the hidden and pre-filled fields (not the submit buttons).
func (f *htmlForm) values() url.Values {
	v := url.Values{}
	for _, in := range f.inputs {
		switch in.typ {
		case "submit", "button", "image", "reset":
		case "checkbox", "radio":
		default:
			v.Set(in.name, in.value)
		}
	}
	return v
}

// chooseSubmit adds the submit button whose name or value contains one of words.
func (f *htmlForm) chooseSubmit(v url.Values, words ...string) bool {
	for _, in := range f.inputs {
		if in.typ != "submit" {
			continue
		}
		s := strings.ToLower(in.name + " " + in.value)
		for _, w := range words {
			if strings.Contains(s, w) {
				v.Set(in.name, in.value)
				return true
			}
		}
	}
	return false
}
