package admin

import (
	"regexp"
	"testing"
)

// TestMessages: both languages have the same keys, every action has its notice, and every
// key a template names exists.
func TestMessages(t *testing.T) {
	for k := range messages[langZH] {
		if _, ok := messages[langEN][k]; !ok {
			t.Errorf("en lacks %q", k)
		}
	}
	for k := range messages[langEN] {
		if _, ok := messages[langZH][k]; !ok {
			t.Errorf("zh-CN lacks %q", k)
		}
	}
	for _, a := range actions {
		if !a.once && messages[langZH]["done."+a.name] == "" {
			t.Errorf("no notice for %s", a.name)
		}
	}
	re := regexp.MustCompile(`\.T\.([A-Za-z]+)|index \$?\.T "([^"]+)"`)
	for _, name := range []string{"layout", "message", "overview", "apps", "app", "iat", "people", "person", "confirm", "corrections", "audit", "once"} {
		b, err := templateFS.ReadFile("templates/" + name + ".html")
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range re.FindAllStringSubmatch(string(b), -1) {
			k := m[1] + m[2]
			if _, ok := messages[langZH][k]; !ok {
				t.Errorf("%s.html names %q, which has no text", name, k)
			}
		}
	}
}
