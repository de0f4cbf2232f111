package web

import "testing"

func TestLocalPath(t *testing.T) {
	for in, want := range map[string]string{
		"": "/", "/": "/", "/show?l=1": "/show?l=1", "//evil.example": "/", "/\\evil.example": "/",
		"https://evil.example/": "/", "show": "/", "/a\r\nSet-Cookie: x": "/",
	} {
		if got := localPath(in); got != want {
			t.Errorf("localPath(%q) = %q, want %q", in, got, want)
		}
	}
}
