package textcheck

import (
	"errors"
	"strings"
	"testing"
)

func TestName(t *testing.T) {
	for _, tc := range []struct {
		name, in, want string
		err            error
	}{
		{"ok/chinese", " 税务局 ", "税务局", nil},
		{"ok/latin with accents", "Zoë Ångström", "Zoë Ångström", nil},
		{"ok/three combining marks", "e\u0301\u0302\u0303", "e\u0301\u0302\u0303", nil},
		{"ok/inner spaces", "电子 税务局", "电子 税务局", nil},
		{"fail/blank", " \u00a0\u3000 ", "", ErrBlank},
		{"fail/empty", "", "", ErrBlank},
		{"fail/too long", strings.Repeat("局", 13), "", ErrTooLong},
		{"fail/not utf-8", "a\xffb", "", ErrNotUTF8},
		{"fail/right-to-left override", "\u202egnp.exe 局务税", "", ErrInvisible},
		{"fail/zero-width space", "税务\u200b局", "", ErrInvisible},
		{"fail/left-to-right mark", "a\u200eb", "", ErrInvisible},
		{"fail/isolate", "a\u2066b\u2069", "", ErrInvisible},
		{"fail/arabic letter mark", "a\u061cb", "", ErrInvisible},
		{"fail/word joiner", "a\u2060b", "", ErrInvisible},
		{"fail/byte order mark", "a\ufeffb", "", ErrInvisible},
		{"fail/bell", "a\u0007b", "", ErrInvisible},
		{"fail/newline", "a\nb", "", ErrInvisible},
		{"fail/line separator", "a\u2028b", "", ErrInvisible},
		{"fail/tag character", "a\U000E0041b", "", ErrInvisible},
		{"fail/hangul filler", "a\u3164b", "", ErrInvisible},
		{"fail/combining stack", "e" + strings.Repeat("\u0301", 5), "", ErrInvisible},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := Name(tc.in, 12)
			if !errors.Is(err, tc.err) || (tc.err == nil && got != tc.want) {
				t.Errorf("Name(%q) = %q, %v; want %q, %v", tc.in, got, err, tc.want, tc.err)
			}
		})
	}
}
