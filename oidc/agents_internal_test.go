package oidc

import (
	"testing"
	"time"

	"github.com/tongban/tongban/storage"
)

func TestParseUntil(t *testing.T) {
	for _, tc := range []struct {
		name string
		in   string
		want time.Time
		ok   bool
	}{
		{"ok/end of the day, Beijing time", "2026-06-30", time.Date(2026, 6, 30, 16, 0, 0, 0, time.UTC), true},
		{"ok/spaces", " 2026-01-01 ", time.Date(2026, 1, 1, 16, 0, 0, 0, time.UTC), true},
		{"fail/empty", "", time.Time{}, false},
		{"fail/not a date", "2026-02-30", time.Time{}, false},
		{"fail/with time", "2026-06-30T00:00:00Z", time.Time{}, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, ok := parseUntil(tc.in)
			if ok != tc.ok || !got.Equal(tc.want) {
				t.Errorf("parseUntil(%q) = %v, %v; want %v, %v", tc.in, got.UTC(), ok, tc.want, tc.ok)
			}
		})
	}
}

func TestActingAllowsScope(t *testing.T) {
	limited := &acting{auth: storage.AgentAuthorisation{Scopes: []string{"profile"}}}
	all := &acting{auth: storage.AgentAuthorisation{}}
	for _, tc := range []struct {
		name  string
		a     *acting
		scope string
		want  bool
	}{
		{"ok/openid always", limited, ScopeOpenID, true},
		{"ok/named", limited, ScopeProfile, true},
		{"fail/not named", limited, ScopeIDNumber, false},
		{"fail/offline_access not named", limited, ScopeOfflineAccess, false},
		{"ok/empty means every scope", all, ScopeIDNumber, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := tc.a.allowsScope(tc.scope); got != tc.want {
				t.Errorf("allowsScope(%q) = %v, want %v", tc.scope, got, tc.want)
			}
		})
	}
}

// TestShowUntil: an authorisation entered as lasting through a day shows that day.
func TestShowUntil(t *testing.T) {
	end, ok := parseUntil("2027-03-01")
	if !ok {
		t.Fatal("parseUntil refused a date")
	}
	if got := showUntil(end); got != "2027-03-01" {
		t.Errorf("showUntil(parseUntil(2027-03-01)) = %q", got)
	}
	if got := showUntil(end.Add(90 * time.Minute)); got != "2027-03-02 01:30" {
		t.Errorf("an end not at midnight: %q", got)
	}
}
