package oidc

import (
	"context"
	"net/http"
	"net/url"

	"github.com/tongban/tongban/audit"
	"github.com/tongban/tongban/storage"
)

// linksPage is the account page's section of linked accounts (关联账号): the upstream
// subjects linked to the person, each with a remove button.
type linksPage struct {
	Items     []linkItem
	RemoveURL string
}

type linkItem struct {
	Upstream, Subject, Label string
	Created, LastUsed        string // "2006-01-02 15:04" in China time
}

// fillAccountLinks fills the linked-accounts section (an accountSection).
func (s *Server) fillAccountLinks(ctx context.Context, d *pageData, _ *storage.LoginSession, p storage.Person) error {
	links, err := s.store.ListUpstreamLinks(ctx, p.ID)
	if err != nil {
		return err
	}
	lp := &linksPage{RemoveURL: s.localPath(pathAccount+"/upstreams/remove") + "?" + url.Values{"ui_locales": {d.Lang}}.Encode()}
	for _, l := range links {
		label := l.UpstreamID
		if u, err := s.store.GetUpstream(ctx, l.UpstreamID); err == nil {
			label = u.LabelZH
			if d.Lang == langEN && u.LabelEN != "" {
				label = u.LabelEN
			}
		}
		lp.Items = append(lp.Items, linkItem{Upstream: l.UpstreamID, Subject: l.Subject, Label: label,
			Created: l.CreatedAt.In(pageZone).Format("2006-01-02 15:04"), LastUsed: l.LastUsedAt.In(pageZone).Format("2006-01-02 15:04")})
	}
	d.Links = lp
	return nil
}

// handleUpstreamUnlink removes one of the person's links from the account page
// (POST /account/upstreams/remove, fields upstream and subject, the account CSRF token) and
// audits "upstream.unlink" in the same transaction.
func (s *Server) handleUpstreamUnlink(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	lang := pickLang(r.URL.Query().Get("ui_locales"))
	ls, err := s.loginSession(ctx, r)
	if err != nil || ls == nil {
		http.Redirect(w, r, s.localPath(pathAccount), http.StatusSeeOther)
		return
	}
	if !s.checkAccountForm(w, r) {
		return
	}
	up, sub := r.PostForm.Get("upstream"), r.PostForm.Get("subject")
	link, err := s.store.GetUpstreamLink(ctx, up, sub)
	if err != nil || link.PersonID != ls.PersonID {
		s.renderError(w, r, http.StatusNotFound, lang, msgBadRequest)
		return
	}
	err = UnlinkUpstream(ctx, s.store, audit.Actor{ID: ls.PersonID}, ls.PersonID, up, sub, s.now())
	if err != nil {
		s.pageError(ctx, w, r, lang, "unlink upstream", err)
		return
	}
	s.accountDone(w, r, "upstreamUnlinked")
}

func init() {
	addMessages(map[string]map[string]string{
		langZH: {"upstreamOr": "或使用其他地区、部门的账号", "linksHeading": "关联账号",
			"linksHelp": "这些其他地区或部门的账号可以直接登录本站。", "linksNone": "没有关联账号。",
			"linkCreated": "关联于", "linkLastUsed": "最近使用", "linkRemove": "取消关联", "upstreamUnlinked": "已取消关联。"},
		langEN: {"upstreamOr": "or use an account of another region or department", "linksHeading": "Linked accounts",
			"linksHelp": "These accounts of other regions or departments log you in here directly.", "linksNone": "No linked accounts.",
			"linkCreated": "Linked", "linkLastUsed": "last used", "linkRemove": "Unlink", "upstreamUnlinked": "The account is no longer linked."},
	})
}
