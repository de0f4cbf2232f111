package idnumber

import "testing"

func TestMask(t *testing.T) {
	for _, tc := range []struct {
		name string
		mask func(string) string
		in   string
		want string
	}{
		{"ok/resident ID", MaskResidentID, "640102199003071233", "640102********1233"},
		{"ok/resident ID ending in X", MaskResidentID, "11010519491231002X", "110105********002X"},
		{"ok/credit code", MaskCreditCode, "91110108551385082Q", "911101********082Q"},
		{"ok/short input masked entirely", MaskResidentID, "1234567890", "**********"},
		{"ok/11 characters", MaskResidentID, "12345678901", "123456*8901"},
		{"ok/empty number", MaskResidentID, "", ""},
		{"ok/runes, not bytes", MaskResidentID, "１２３４５６７８９０１２", "１２３４５６**９０１２"},
		{"ok/one-character name", MaskName, "明", "*"},
		{"ok/two-character name", MaskName, "张三", "*三"},
		{"ok/three-character name", MaskName, "张三明", "张*明"},
		{"ok/four-character name", MaskName, "欧阳娜娜", "欧**娜"},
		{"ok/name with middle dot", MaskName, "阿沛·阿旺晋美", "阿*****美"},
		{"ok/Latin name", MaskName, "Li", "*i"},
		{"ok/empty name", MaskName, "", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := tc.mask(tc.in); got != tc.want {
				t.Errorf("mask(%q) = %q, want %q", tc.in, got, tc.want)
			}
		})
	}
}
