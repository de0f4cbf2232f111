package admin

import (
	"errors"
	"net/http"
	"testing"

	"github.com/tongban/tongban/storage"
)

func grants(rs ...storage.AdminRole) Principal { return Principal{PersonID: "p", Grants: rs} }

var (
	gOperator = storage.AdminRole{Role: storage.RoleOperator}
	gReviewer = storage.AdminRole{Role: storage.RoleReviewer}
	gAuditor  = storage.AdminRole{Role: storage.RoleAuditor}
	gGongan   = storage.AdminRole{Role: storage.RoleDepartmentAdmin, Department: "gongan"}
	gShebao   = storage.AdminRole{Role: storage.RoleDepartmentAdmin, Department: "shebao"}
)

func TestAllow(t *testing.T) {
	for _, tc := range []struct {
		name     string
		p        Principal
		perm     Permission
		dept     string
		wantRole string
		wantOK   bool
	}{
		{"ok/operator suspends any app", grants(gOperator), PermAppsManage, "shebao", storage.RoleOperator, true},
		{"ok/operator manages people", grants(gOperator), PermPeopleManage, "", storage.RoleOperator, true},
		{"ok/operator reads audit", grants(gOperator), PermAuditRead, "", storage.RoleOperator, true},
		{"fail/operator does not review", grants(gOperator), PermAppsReview, "shebao", "", false},
		{"ok/reviewer reviews", grants(gReviewer), PermAppsReview, "shebao", storage.RoleReviewer, true},
		{"ok/reviewer reviews an app of no department", grants(gReviewer), PermAppsReview, "", storage.RoleReviewer, true},
		{"fail/reviewer suspends", grants(gReviewer), PermAppsManage, "shebao", "", false},
		{"fail/reviewer reads people", grants(gReviewer), PermPeopleRead, "", "", false},
		{"fail/reviewer reads audit", grants(gReviewer), PermAuditRead, "", "", false},
		{"ok/auditor reads audit", grants(gAuditor), PermAuditRead, "", storage.RoleAuditor, true},
		{"fail/auditor reads apps", grants(gAuditor), PermAppsRead, "", "", false},
		{"ok/department-admin reads own app", grants(gGongan), PermAppsRead, "gongan", storage.RoleDepartmentAdmin, true},
		{"ok/department-admin rotates own secret", grants(gGongan), PermAppsSecret, "gongan", storage.RoleDepartmentAdmin, true},
		{"ok/department-admin issues own token", grants(gGongan), PermIATIssue, "gongan", storage.RoleDepartmentAdmin, true},
		{"fail/department-admin reads other app", grants(gGongan), PermAppsRead, "shebao", "", false},
		{"fail/department-admin reads app of no department", grants(gGongan), PermAppsRead, "", "", false},
		{"fail/department-admin approves own app", grants(gGongan), PermAppsReview, "gongan", "", false},
		{"fail/department-admin suspends own app", grants(gGongan), PermAppsManage, "gongan", "", false},
		{"fail/department-admin reads people", grants(gGongan), PermPeopleRead, "", "", false},
		{"ok/department-admin me", grants(gGongan), PermMe, "", storage.RoleDepartmentAdmin, true},
		{"ok/two departments", grants(gGongan, gShebao), PermAppsRead, "shebao", storage.RoleDepartmentAdmin, true},
		{"ok/global role wins", grants(gGongan, gOperator), PermAppsSecret, "shebao", storage.RoleOperator, true},
		{"ok/reviewer and department-admin approve others'", grants(gGongan, gReviewer), PermAppsReview, "shebao", storage.RoleReviewer, true},
		{"fail/no grants", grants(), PermMe, "", "", false},
		{"fail/unknown role", grants(storage.AdminRole{Role: "root"}), PermMe, "", "", false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			role, ok := tc.p.Allow(tc.perm, tc.dept)
			if role != tc.wantRole || ok != tc.wantOK {
				t.Errorf("Allow(%s, %q) = %q, %v; want %q, %v", tc.perm, tc.dept, role, ok, tc.wantRole, tc.wantOK)
			}
		})
	}
}

func TestCheckGrant(t *testing.T) {
	for _, tc := range []struct {
		name, role, dept string
		wantErr          error
	}{
		{"ok/operator", storage.RoleOperator, "", nil},
		{"ok/department-admin", storage.RoleDepartmentAdmin, "gongan", nil},
		{"fail/unknown role", "admin", "", ErrInvalid},
		{"fail/department-admin without department", storage.RoleDepartmentAdmin, "", ErrInvalid},
		{"fail/department upper case", storage.RoleDepartmentAdmin, "GongAn", ErrInvalid},
		{"fail/department too long", storage.RoleDepartmentAdmin, "a1234567890123456789012345678901234567890123456789012345678901234", ErrInvalid},
		{"fail/operator with department", storage.RoleOperator, "gongan", ErrInvalid},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if err := checkGrant(tc.role, tc.dept); !errors.Is(err, tc.wantErr) || (tc.wantErr == nil && err != nil) {
				t.Errorf("checkGrant(%q, %q) = %v, want %v", tc.role, tc.dept, err, tc.wantErr)
			}
		})
	}
}

func TestCheckReason(t *testing.T) {
	long := make([]rune, MaxReasonLen+1)
	for i := range long {
		long[i] = '字'
	}
	for _, tc := range []struct {
		name, reason string
		wantErr      error
	}{
		{"ok/chinese", "材料不全，请补充", nil},
		{"ok/line breaks", "第一行\r\n\r\n第二行\t完", nil},
		{"ok/only breaks around", "\n 理由 \t\n", nil},
		{"fail/only breaks", "\r\n\t", ErrInvalid},
		{"fail/vertical tab", "a\vb", ErrInvalid},
		{"fail/empty", "", ErrInvalid},
		{"fail/too long", string(long), ErrInvalid},
		{"fail/bidi override", "ok\u202egnp.exe", ErrInvalid},
		{"fail/control", "a\x00b", ErrInvalid},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if err := checkReason(NormaliseReason(tc.reason)); !errors.Is(err, tc.wantErr) || (tc.wantErr == nil && err != nil) {
				t.Errorf("checkReason = %v, want %v", err, tc.wantErr)
			}
		})
	}
}

func TestNormaliseReason(t *testing.T) {
	for in, want := range map[string]string{
		"第一行\r\n第二行":   "第一行 第二行",
		"a\n\n\t\r\nb": "a b",
		" a\tb \n":     "a b",
		"a  b":         "a  b", // spaces stay as typed
		"a\vb":         "a\vb", // other controls are left for checkReason to refuse
	} {
		if got := NormaliseReason(in); got != want {
			t.Errorf("NormaliseReason(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestCrossSite(t *testing.T) {
	// tested through the e2e suite too; here the header rules alone.
	for _, tc := range []struct {
		name, site, origin string
		want               bool
	}{
		{"ok/no headers", "", "", false},
		{"ok/same origin", "same-origin", "https://idp.example", false},
		{"ok/typed", "none", "", false},
		{"fail/same site", "same-site", "", true},
		{"fail/cross site", "cross-site", "", true},
		{"fail/other origin", "", "https://evil.example", true},
		{"fail/null origin", "", "null", true},
		{"ok/null origin of a same-origin post", "same-origin", "null", false},
		{"fail/cross site with our origin", "cross-site", "https://idp.example", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r, _ := newRequest(tc.site, tc.origin)
			if got := crossSite(r, "https://idp.example"); got != tc.want {
				t.Errorf("crossSite = %v, want %v", got, tc.want)
			}
		})
	}
}

func newRequest(site, origin string) (*http.Request, error) {
	r, err := http.NewRequest(http.MethodPost, "https://idp.example/admin/apps/x/approve", nil)
	if site != "" {
		r.Header.Set("Sec-Fetch-Site", site)
	}
	if origin != "" {
		r.Header.Set("Origin", origin)
	}
	return r, err
}
