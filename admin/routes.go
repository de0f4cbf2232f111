package admin

import (
	"net/http"
)

// routeTable is the one route table of the console and API. Every route names the permission
// it needs; guard enforces it before the handler runs.
func (h *Handler) routeTable() []route {
	const api = APIPrefix
	rs := []route{
		// JSON API: reads.
		{method: "GET", path: api + "/me", perm: PermMe, action: "admin.me", fn: (*Handler).apiMe},
		{method: "GET", path: api + "/apps", perm: PermAppsRead, scope: scopeDept, action: "apps.list", fn: (*Handler).apiApps},
		{method: "GET", path: api + "/apps/{id}", perm: PermAppsRead, scope: scopeApp, action: "apps.read", fn: (*Handler).apiApp},
		{method: "POST", path: api + "/apps", perm: PermAppsRegister, scope: scopeDept, action: "client.register", fn: (*Handler).apiRegisterApp},
		{method: "PUT", path: api + "/apps/{id}", perm: PermAppsChange, scope: scopeApp, action: "client.update", fn: (*Handler).apiChangeApp},
		{method: "GET", path: api + "/apps/{id}/stats", perm: PermAppsStats, scope: scopeApp, action: "apps.stats", fn: (*Handler).apiStats},
		{method: "GET", path: api + "/people", perm: PermPeopleRead, action: "people.find", fn: (*Handler).apiPeople},
		{method: "GET", path: api + "/people/{id}", perm: PermPeopleRead, action: "people.read", fn: (*Handler).apiPerson},
		{method: "GET", path: api + "/corrections", perm: PermCorrectionsRead, action: "corrections.list", fn: (*Handler).apiCorrections},
		{method: "GET", path: api + "/audit", perm: PermAuditRead, action: "audit.read", fn: (*Handler).apiAudit},

		// Console pages.
		{method: "GET", path: "/{$}", perm: PermMe, action: "console.overview", fn: (*Handler).pageOverview},
		{method: "GET", path: "/apps", perm: PermAppsRead, scope: scopeDept, action: "apps.list", fn: (*Handler).pageApps},
		{method: "GET", path: "/apps/{id}", perm: PermAppsRead, scope: scopeApp, action: "apps.read", fn: (*Handler).pageApp},
		{method: "GET", path: "/register", perm: PermAppsRegister, scope: scopeDept, action: "client.register.form", fn: (*Handler).pageRegisterForm},
		{method: "POST", path: "/register", perm: PermAppsRegister, scope: scopeDept, action: "client.register", fn: (*Handler).pageRegister},
		{method: "GET", path: "/apps/{id}/change", perm: PermAppsChange, scope: scopeApp, action: "client.update.form", fn: (*Handler).pageChangeForm},
		{method: "POST", path: "/apps/{id}/change", perm: PermAppsChange, scope: scopeApp, action: "client.update", fn: (*Handler).pageChange},
		{method: "GET", path: "/initial-access-tokens", perm: PermIATIssue, scope: scopeDept, action: "iat.form", fn: (*Handler).pageIAT},
		{method: "GET", path: "/people", perm: PermPeopleRead, action: "people.find", fn: (*Handler).pagePeople},
		{method: "POST", path: "/people", perm: PermPeopleRead, action: "people.find", fn: (*Handler).pagePeople, reads: true},
		{method: "GET", path: "/people/{id}", perm: PermPeopleRead, action: "people.read", fn: (*Handler).pagePerson},
		{method: "GET", path: "/people/{id}/confirm", perm: PermPeopleManage, action: "people.confirm", fn: (*Handler).pageConfirm},
		{method: "GET", path: "/corrections", perm: PermCorrectionsRead, action: "corrections.list", fn: (*Handler).pageCorrections},
		{method: "GET", path: "/corrections/{id}", perm: PermCorrectionsRead, action: "corrections.read", fn: (*Handler).pageCorrection},
		{method: "GET", path: "/audit", perm: PermAuditRead, action: "audit.read", fn: (*Handler).pageAudit},
	}
	// State changes, each in the API and in the console.
	for _, a := range actions {
		p := "/" + a.kind
		if a.seg != "" {
			p += "/{id}/" + a.seg
		}
		rs = append(rs,
			route{method: http.MethodPost, path: api + p, perm: a.perm, scope: a.scope, action: a.name, fn: a.apiHandler()},
			route{method: http.MethodPost, path: p, perm: a.perm, scope: a.scope, action: a.name, fn: a.pageHandler()})
	}
	return rs
}

// APIRoutes returns "METHOD /path" of every API route, the path below Config.Path with
// {id} parameters, in table order (for the OpenAPI file's test and the documentation).
func (h *Handler) APIRoutes() []string {
	var out []string
	for _, rt := range h.routes {
		if rt.api() {
			out = append(out, rt.method+" "+rt.path)
		}
	}
	return out
}
