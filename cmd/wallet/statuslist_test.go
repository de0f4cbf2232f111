package main

import (
	"encoding/json"
	"strings"
	"testing"
	"time"
)

// TestPrefetchStatusList: a pre-fetched code verifies offline with a fresh status list, is
// refused after the licence is revoked and a new list exported, and is refused with a stale
// list or none; an ordinary code ignores the status list.
func TestPrefetchStatusList(t *testing.T) {
	dir := setup(t)
	list, sl := "var/trust-list.cose", "var/status-list.cwt"

	r := run(t, dir, "", nil, "code", "--holder", holder, "--kind", "social-security", "--prefetch", "12h", "--json")
	r.Want(t, 0)
	var c codeJSON
	if err := json.Unmarshal([]byte(r.Stdout), &c); err != nil || c.StatusIndex == nil || *c.StatusIndex != 0 {
		t.Fatalf("prefetch json %s (%v)", r.Stdout, err)
	}
	plain := strings.TrimSpace(run(t, dir, "", nil, "code", "--holder", holder, "--kind", "social-security").Stdout)

	run(t, dir, "", nil, "status-list", "export", sl).Want(t, 0, "wrote status list var/status-list.cwt: 1 licence(s)")
	in3h := time.Now().Add(3 * time.Hour).Format(time.RFC3339)
	run(t, dir, "", nil, "verify", "--trust-list", list, c.Text).Want(t, 1, "status_list_missing")
	run(t, dir, "", nil, "verify", "--trust-list", list, "--status-list", sl, c.Text).Want(t, 0, "VALID")
	run(t, dir, "", nil, "verify", "--trust-list", list, "--status-list", sl, "--at", in3h, c.Text).Want(t, 1, "stale_status_list")
	run(t, dir, "", nil, "verify", "--trust-list", list, "--status-list", sl, plain).Want(t, 0, "VALID")

	run(t, dir, "", nil, "licences", "revoke", "--kind", "social-security", "--number", "B10374261").Want(t, 0)
	run(t, dir, "", nil, "status-list", "export", sl).Want(t, 0)
	run(t, dir, "", nil, "verify", "--trust-list", list, "--status-list", sl, c.Text).Want(t, 1, "licence_revoked", "吊销")

	run(t, dir, "", nil, "code", "--holder", holder, "--kind", "resident-id,health-code", "--prefetch", "1h").Want(t, 2, "pre-fetched")
	run(t, dir, "", nil, "code", "--holder", holder, "--kind", "resident-id", "--prefetch", "48h").Want(t, 2, "--prefetch")
	run(t, dir, "", nil, "verify", "--trust-list", list, "--status-list", list, plain).Want(t, 1, "bad_status_list")
}
