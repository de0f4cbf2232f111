package app

import (
	"errors"
	"fmt"
	"testing"
)

func TestMessage(t *testing.T) {
	for in, want := range map[string]string{
		"wallet: wallet: mint: qr: code too long": "mint: code too long",
		"oidc: person exists":                     "person exists",
		"--db /x: no such file":                   "--db /x: no such file",
		"wallet: licence not found":               "licence not found",
		"qr":                                      "qr",
	} {
		if got := Message(fmt.Errorf("%w", errors.New(in))); got != want {
			t.Errorf("Message(%q) = %q, want %q", in, got, want)
		}
	}
}
