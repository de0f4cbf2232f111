package admin

import (
	"net/http"
	"os"
	"slices"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"

	"github.com/tongban/tongban/storage/storagetest"
)

// nobody is a Sessions without anyone logged in.
type nobody struct{}

func (nobody) Session(*http.Request) (Session, bool, error) { return Session{}, false, nil }
func (nobody) Login(w http.ResponseWriter, r *http.Request, _, _ string, _ bool) {
	http.Error(w, "login", 401)
}

// TestOpenAPIMatchesRoutes checks docs/operators/admin-api.yaml against the route table: every
// API route is described and every described operation is a route; every $ref resolves.
func TestOpenAPIMatchesRoutes(t *testing.T) {
	raw, err := os.ReadFile("../docs/operators/admin-api.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		OpenAPI string                               `yaml:"openapi"`
		Servers []struct{ URL string }               `yaml:"servers"`
		Paths   map[string]map[string]map[string]any `yaml:"paths"`
	}
	if err := yaml.Unmarshal(raw, &doc); err != nil {
		t.Fatalf("parse: %v", err)
	}
	if !strings.HasPrefix(doc.OpenAPI, "3.") {
		t.Errorf("openapi %q", doc.OpenAPI)
	}
	if len(doc.Servers) != 1 || doc.Servers[0].URL != "/admin"+APIPrefix {
		t.Errorf("servers %+v", doc.Servers)
	}
	var described []string
	for p, ops := range doc.Paths {
		for m, op := range ops {
			if m == "parameters" {
				continue
			}
			described = append(described, strings.ToUpper(m)+" "+APIPrefix+p)
			resp := op["responses"].(map[string]any)
			_, ok200 := resp["200"]
			_, ok201 := resp["201"]
			if !ok200 && !ok201 {
				t.Errorf("%s %s: no 200 or 201 response", m, p)
			}
		}
	}
	h, err := New(Config{Store: storagetest.SQLite(t), Sessions: nobody{}, CSRFKey: make([]byte, 32), Origin: "https://idp.example"})
	if err != nil {
		t.Fatal(err)
	}
	routes := h.APIRoutes()
	slices.Sort(described)
	slices.Sort(routes)
	for _, r := range routes {
		if !slices.Contains(described, r) {
			t.Errorf("route %s is not in admin-api.yaml", r)
		}
	}
	for _, d := range described {
		if !slices.Contains(routes, d) {
			t.Errorf("admin-api.yaml describes %s, which is no route", d)
		}
	}
	// Every reference points at a defined component.
	var all map[string]any
	if err := yaml.Unmarshal(raw, &all); err != nil {
		t.Fatal(err)
	}
	var walk func(v any)
	walk = func(v any) {
		switch v := v.(type) {
		case map[string]any:
			for k, x := range v {
				if k == "$ref" {
					ref, _ := x.(string)
					parts := strings.Split(strings.TrimPrefix(ref, "#/"), "/")
					var cur any = all
					for _, p := range parts {
						m, ok := cur.(map[string]any)
						if !ok || m[p] == nil {
							t.Errorf("$ref %s does not resolve", ref)
							break
						}
						cur = m[p]
					}
				}
				walk(x)
			}
		case []any:
			for _, x := range v {
				walk(x)
			}
		}
	}
	walk(all)
}
