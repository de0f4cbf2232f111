package oidc

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"strings"

	"github.com/tongban/tongban/accounts"
	"github.com/tongban/tongban/storage"
)

// The account page's section "Correct my records / 信息纠错" (issue 9, part C): the person's
// corrections with their state, and a form to file one (a fresh login is required); and the
// password-reset page that a link from a service hall opens (accounts.IssuePasswordReset).
// The rules are package accounts' (accounts/corrections.go, accounts/admin.go).
const (
	pathSelfCorrections = "/account/corrections" // POST field, value, reason: file a correction
	pathPasswordReset   = "/account/reset"       // GET ?token=: the form; POST token, new, new2
)

// csrfReset is the CSRF purpose of the password-reset form (no session there).
const csrfReset = "reset"

// correctionsPage is what the templates see of the corrections section and of the reset page
// (pageData.Corrections).
type correctionsPage struct {
	// Account page section.
	FileAction string
	Items      []correctionItem
	Fields     []string // the fields the form offers ("name", "phone")
	CanFile    bool     // fewer than accounts.MaxPendingCorrections pending
	Max        int
	// A refused filing shows its message at the form, with what was typed.
	Error, Field, Value, Reason string

	// Reset page: Step is "form", "done" or "invalid".
	Step        string
	Token       string
	ResetAction string
	LoginURL    string
	MinPassword int
}

// correctionItem is one correction as the person sees it.
type correctionItem struct {
	ID, Target, Field, Current, Proposed, Reason string
	Status                                       string // "pending", "applied" or "rejected"
	StatusText, Filed, Decided, Note             string
}

// correctionFieldKey is the message key of a correction field's label.
func correctionFieldKey(field string) string { return "corrField_" + field }

// fillAccountCorrections fills pageData.Corrections for the account page.
func (s *Server) fillAccountCorrections(ctx context.Context, d *pageData, _ *storage.LoginSession, p storage.Person) error {
	cp := &correctionsPage{FileAction: s.localPath(pathSelfCorrections) + "?ui_locales=" + url.QueryEscape(d.Lang) + "#corrections",
		Fields: []string{accounts.CorrectionFieldName, accounts.CorrectionFieldPhone}, Max: accounts.MaxPendingCorrections}
	list, err := s.accounts.ListCorrections(ctx, storage.CorrectionQuery{PersonID: p.ID, Limit: 20})
	if err != nil {
		return err
	}
	pending := 0
	for _, c := range list {
		proposed, err := s.accounts.ProposedValue(c)
		if err != nil {
			return err
		}
		target := d.T["corrTargetPerson"]
		if c.Target != accounts.CorrectionTargetPerson {
			target = d.T["corrTargetLicence"]
		}
		field := d.T[correctionFieldKey(c.Field)]
		if field == "" {
			field = c.Field
		}
		it := correctionItem{ID: c.ID, Target: target, Field: field, Current: c.CurrentMasked, Proposed: proposed,
			Reason: c.Reason, Status: string(c.Status), StatusText: d.T["corrStatus_"+string(c.Status)],
			Filed: showTime(c.FiledAt), Decided: showTime(c.DecidedAt), Note: c.DecisionNote}
		if c.Status == storage.CorrectionPending {
			pending++
		}
		cp.Items = append(cp.Items, it)
	}
	cp.CanFile = pending < accounts.MaxPendingCorrections
	d.Corrections = cp
	return nil
}

// routesCorrections adds the routes of the corrections section and the password-reset page.
func (s *Server) routesCorrections(handle func(method, path string, h http.HandlerFunc)) {
	handle("POST", pathSelfCorrections, s.handleSelfCorrection)
	handle("GET", pathPasswordReset, s.handlePasswordResetPage)
	handle("POST", pathPasswordReset, s.handlePasswordReset)
}

// correctionMessage maps a FileCorrection error to its page message key; "" for an error
// that is not the person's (a server error).
func correctionMessage(err error) string {
	switch {
	case errors.Is(err, accounts.ErrTooManyCorrections):
		return "corrTooMany"
	case errors.Is(err, accounts.ErrCorrectionPending):
		return "corrPending"
	case errors.Is(err, accounts.ErrInvalidName):
		return "corrBadName"
	case errors.Is(err, accounts.ErrInvalidPhone):
		return "corrBadPhone"
	case errors.Is(err, accounts.ErrCorrectionValue):
		return "corrSame"
	case errors.Is(err, accounts.ErrReasonRequired), errors.Is(err, accounts.ErrInvalidReason):
		return "corrBadReason"
	case errors.Is(err, accounts.ErrCorrectionField), errors.Is(err, accounts.ErrCorrectionTarget):
		return "corrBadField"
	}
	return ""
}

// handleSelfCorrection files a correction of the person record (POST /account/corrections:
// field, value, reason; a fresh login is required). A refused one shows the page again with
// what was wrong (400; 429 past accounts.MaxPendingCorrections).
func (s *Server) handleSelfCorrection(w http.ResponseWriter, r *http.Request) {
	ls, p, ok := s.selfForm(w, r, true)
	if !ok {
		return
	}
	ctx := r.Context()
	_, err := s.accounts.FileCorrection(ctx, p.ID, accounts.CorrectionRequest{Target: accounts.CorrectionTargetPerson,
		Field: r.PostForm.Get("field"), Value: r.PostForm.Get("value"), Reason: r.PostForm.Get("reason")})
	if err == nil {
		s.accountDone(w, r, "corrFiled")
		return
	}
	msg := correctionMessage(err)
	if msg == "" {
		s.pageError(ctx, w, r, pickLang(r.URL.Query().Get("ui_locales")), "file correction", err)
		return
	}
	status := http.StatusBadRequest
	if msg == "corrTooMany" {
		status = http.StatusTooManyRequests
	}
	s.accountFailedWith(w, r, ls, p, status, msg, func(d *pageData) {
		if d.Corrections != nil && d.Corrections.CanFile { // the message at the form, with what was typed
			d.Corrections.Error, d.Error = d.T[msg], ""
			d.Corrections.Field, d.Corrections.Value, d.Corrections.Reason = r.PostForm.Get("field"), r.PostForm.Get("value"), r.PostForm.Get("reason")
		}
	})
}

// resetPage is the password-reset page's data at step.
func (s *Server) resetPage(w http.ResponseWriter, r *http.Request, lang, step, token string) pageData {
	d := s.newPage(r, lang, pathPasswordReset, nil)
	d.CSRF = s.csrf.CookieToken(w, r, csrfReset)
	q := "?ui_locales=" + url.QueryEscape(lang)
	d.Corrections = &correctionsPage{Step: step, Token: token, ResetAction: s.localPath(pathPasswordReset) + q,
		LoginURL: s.localPath(pathAccountLogin) + q, MinPassword: accounts.MinPasswordLength}
	return d
}

// renderReset writes the reset page; the token is in its URL and form, so no referrer leaves it.
func (s *Server) renderReset(w http.ResponseWriter, status int, d pageData) {
	w.Header().Set("Referrer-Policy", "no-referrer")
	w.Header().Set("Cache-Control", "no-store")
	s.render(w, status, s.pages.page("reset.html"), d)
}

// handlePasswordResetPage shows the new-password form of a reset link (GET
// /account/reset?token=), or a page that says the link is invalid, expired or used (410).
func (s *Server) handlePasswordResetPage(w http.ResponseWriter, r *http.Request) {
	lang := pickLang(r.URL.Query().Get("ui_locales"))
	token := strings.TrimSpace(r.URL.Query().Get("token"))
	_, err := s.accounts.PasswordResetPerson(r.Context(), token)
	switch {
	case err == nil:
		s.renderReset(w, http.StatusOK, s.resetPage(w, r, lang, "form", token))
	case errors.Is(err, accounts.ErrResetLink):
		s.renderReset(w, http.StatusGone, s.resetPage(w, r, lang, "invalid", ""))
	default:
		s.pageError(r.Context(), w, r, lang, "read reset link", err)
	}
}

// handlePasswordReset sets the new password of a reset link (POST /account/reset: token, new,
// new2); the link is used up and every session of the person ends.
func (s *Server) handlePasswordReset(w http.ResponseWriter, r *http.Request) {
	lang := pickLang(r.URL.Query().Get("ui_locales"))
	if err := r.ParseForm(); err != nil {
		s.renderError(w, r, http.StatusBadRequest, lang, msgBadRequest)
		return
	}
	token := strings.TrimSpace(r.PostForm.Get("token"))
	d := s.resetPage(w, r, lang, "form", token)
	fail := func(status int, msg string) {
		d.Error = d.T[msg]
		s.renderReset(w, status, d)
	}
	if !s.csrf.CheckCookie(r, csrfReset) {
		fail(http.StatusForbidden, msgCSRF)
		return
	}
	nw := r.PostForm.Get("new")
	if nw != r.PostForm.Get("new2") {
		fail(http.StatusBadRequest, "selfPwMismatch")
		return
	}
	err := s.accounts.FinishPasswordReset(r.Context(), token, []byte(nw))
	switch {
	case err == nil:
		d.Corrections.Step, d.Corrections.Token = "done", ""
		s.renderReset(w, http.StatusOK, d)
	case errors.Is(err, accounts.ErrWeakPassword):
		fail(http.StatusBadRequest, passwordMessage(err))
	case errors.Is(err, accounts.ErrResetLink):
		d.Corrections.Step, d.Corrections.Token = "invalid", ""
		s.renderReset(w, http.StatusGone, d)
	default:
		s.pageError(r.Context(), w, r, lang, "finish password reset", err)
	}
}

func init() {
	addMessages(map[string]map[string]string{
		langZH: {
			"corrHeading":         "信息纠错",
			"corrIntro":           "如果您的姓名或手机号码登记有误，可以在这里提出纠错申请。工作人员核对证件后予以更正或答复。",
			"corrField":           "要更正的信息",
			"corrField_name":      "姓名",
			"corrField_phone":     "手机号码",
			"corrValue":           "正确的内容",
			"corrReason":          "说明（例如：户口簿已更正）",
			"corrFile":            "提交纠错申请",
			"corrFiled":           "纠错申请已提交，工作人员处理后您可在此查看结果。",
			"corrNone":            "您还没有提交过纠错申请。",
			"corrTargetPerson":    "个人信息",
			"corrTargetLicence":   "电子证照",
			"corrNow":             "申请时登记",
			"corrProposed":        "申请改为",
			"corrFiledAt":         "提交于",
			"corrDecidedAt":       "处理于",
			"corrNote":            "答复",
			"corrStatus_pending":  "待处理",
			"corrStatus_applied":  "已更正",
			"corrStatus_rejected": "未予更正",
			"corrTooMany":         "您待处理的纠错申请已达上限，请等待处理后再提交。",
			"corrPending":         "您已就此项提交过纠错申请，正在处理中，请等待处理结果。",
			"corrMax":             "最多可同时有 5 项待处理的申请。",
			"corrBadName":         "姓名须为 1 至 64 个可打印字符。",
			"corrBadPhone":        "请输入 11 位手机号码。",
			"corrSame":            "申请的内容与现登记的相同。",
			"corrBadReason":       "请填写说明，不超过 200 字。",
			"corrBadField":        "无法更正该项信息。",
			"resetHeading":        "设置新密码",
			"resetIntro":          "这是工作人员为您开具的一次性链接。设置新密码后，链接失效，您在各设备上的登录会退出。",
			"resetButton":         "设置新密码",
			"resetDone":           "新密码已设置，请用新密码登录。",
			"resetInvalid":        "此链接无效、已过期或已使用。如需帮助，请到政务服务大厅办理。",
		},
		langEN: {
			"corrHeading":         "Correct my records",
			"corrIntro":           "If your name or mobile number is recorded wrongly, ask for a correction here. Staff check your papers, then correct the record or reply.",
			"corrField":           "What to correct",
			"corrField_name":      "Name",
			"corrField_phone":     "Mobile number",
			"corrValue":           "Correct value",
			"corrReason":          "Explanation (e.g. household register corrected)",
			"corrFile":            "Ask for a correction",
			"corrFiled":           "Your request was filed. You will see the outcome here once staff have dealt with it.",
			"corrNone":            "You have not asked for any correction.",
			"corrTargetPerson":    "Personal details",
			"corrTargetLicence":   "Licence",
			"corrNow":             "Recorded when asked",
			"corrProposed":        "Asked for",
			"corrFiledAt":         "Filed",
			"corrDecidedAt":       "Decided",
			"corrNote":            "Reply",
			"corrStatus_pending":  "Pending",
			"corrStatus_applied":  "Applied",
			"corrStatus_rejected": "Rejected",
			"corrTooMany":         "You have too many pending requests. Wait until they are dealt with.",
			"corrPending":         "You have already asked to correct this; wait until that request is dealt with.",
			"corrMax":             "At most 5 requests can be pending at a time.",
			"corrBadName":         "A name is 1 to 64 printable characters.",
			"corrBadPhone":        "Enter an 11-digit mobile number.",
			"corrSame":            "That is what is recorded already.",
			"corrBadReason":       "Give an explanation of at most 200 characters.",
			"corrBadField":        "That detail cannot be corrected.",
			"resetHeading":        "Set a new password",
			"resetIntro":          "Staff made this single-use link for you. Once you set a new password the link stops working and you are logged out on every device.",
			"resetButton":         "Set new password",
			"resetDone":           "Your new password is set. Log in with it.",
			"resetInvalid":        "This link is invalid, expired or used already. For help, visit a government service hall.",
		},
	})
}
