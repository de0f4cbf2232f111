// Package admin is the provider's administration console (管理控制台, server-rendered pages
// under /admin, zh-CN first with en) and its JSON API (/admin/api/v1, described in
// docs/operators/admin-api.yaml), mounted on the identity provider's host by
// cmd/internal/idpserver.
//
// Administrators log in at the provider like anyone else (its SSO session, Sessions) and must
// have passed the second factor (acr urn:tongban:acr:mfa); changes want a fresh login
// (oidc.Config.FreshLogin). What each may do is set by their roles (storage.AdminRole:
// operator, reviewer, auditor, department-admin), granted on the shell with
// `idp admins grant` (GrantRole). Every route declares the permission it needs (Permission);
// a refusal answers 403 and is audited as "admin.denied". State-changing requests carry a CSRF
// token bound to the session (HMAC-SM3, httpkit.CSRF) and are refused cross-site.
//
// The package does not know how apps, people or corrections are stored: it declares the
// interfaces it calls (Apps, People, Corrections, Stats), whose methods take the audit.Actor
// and record the change with audit.Actor.Record in the transaction of the change; idpserver
// adapts the oidc and accounts functions to them. A nil backend makes its routes answer 501.
package admin
