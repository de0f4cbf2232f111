package oidc

import (
	"context"
	"encoding/base64"
	"errors"
	"html/template"
	"net/http"
	"net/url"
	"strings"
	"time"

	qrcode "github.com/skip2/go-qrcode"

	"github.com/tongban/tongban/accounts"
	"github.com/tongban/tongban/storage"
)

// One-time passwords on the account pages (我的账户 → 动态口令): the person lists and removes
// their OTP devices, enrols a new one — a page with the otpauth:// QR code and the secret,
// confirmed by a code from the device — and gets ten recovery codes with their first device,
// or new ones on request. Showing a secret, removing a device and making recovery codes want
// a fresh login (Config.FreshLogin); confirming a pending device wants the session only (the
// device was made under a fresh login and expires after accounts.OTPEnrolmentTTL), but a wrong
// code shows the secret again only while the login is fresh.
const (
	pathOTPNew      = "/account/otp/new"      // GET: the start form; POST name, alg: make a pending device
	pathOTPDevice   = "/account/otp/"         // GET {id}: scan page; POST {id} code: confirm; POST {id}/delete: remove
	pathOTPRecovery = "/account/otp/recovery" // POST: new recovery codes
)

// otpEnrolPage is the page of the enrolment and of the recovery codes.
const otpEnrolPage = "otp_enrol.html"

func init() {
	extraPages = append(extraPages, otpEnrolPage)
	selfExportParts = append(selfExportParts, exportOTP)
}

// otpExport is the download's (account_self_data.go) view of one-time passwords: the devices
// (no secrets) and how many recovery codes are left (never the codes).
type otpExport struct {
	Devices           []otpDeviceExport `json:"devices"`
	RecoveryCodesLeft int               `json:"recovery_codes_left"`
}

type otpDeviceExport struct {
	Name      string    `json:"name,omitempty"`
	Algorithm string    `json:"algorithm"`
	CreatedAt time.Time `json:"created_at,omitzero"`
	LastUsed  time.Time `json:"last_used,omitzero"`
}

// exportOTP is the "otp" section of the data download.
func exportOTP(ctx context.Context, s *Server, p storage.Person) (string, any, error) {
	devs, err := s.accounts.ListOTPDevices(ctx, p.ID)
	if err != nil {
		return "", nil, err
	}
	var e otpExport
	e.Devices = []otpDeviceExport{}
	for _, d := range devs {
		e.Devices = append(e.Devices, otpDeviceExport{Name: d.Name, Algorithm: d.Algorithm, CreatedAt: d.CreatedAt, LastUsed: d.LastUsed})
	}
	if e.RecoveryCodesLeft, err = s.accounts.RecoveryCodesLeft(ctx, p.ID); err != nil {
		return "", nil, err
	}
	return "otp", e, nil
}

// otpPage is what the templates see of one-time passwords and recovery codes (pageData.OTP).
type otpPage struct {
	// The account page section.
	Devices      []otpDeviceView
	RecoveryLeft int
	NewURL       string // the start form
	RecoveryURL  string // POST: new recovery codes

	// The enrolment page: Mode "start" (name and algorithm), "scan" (QR code, secret and
	// the confirming code) or "codes" (the recovery codes, shown once).
	Mode      string
	Name      string
	Alg       string
	FormURL   string       // where the page's form posts
	QR        template.URL // data:image/png;base64,… of the otpauth:// URI
	Secret    string       // base32 in groups of four, for typing by hand
	Period    int          // seconds
	ExpiresAt string
	Codes     []string
	BackURL   string // the account page
}

// otpDeviceView is one device as the account page lists it.
type otpDeviceView struct {
	Name, Alg, Created, LastUsed string
	DeleteURL                    string
}

func showTime(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.In(pageZone).Format("2006-01-02 15:04")
}

// withLang returns the local path p with ui_locales=lang.
func (s *Server) withLang(p, lang string) string {
	return s.localPath(p) + "?" + url.Values{"ui_locales": {lang}}.Encode()
}

// fillAccountOTP fills pageData.OTP for the account page: the confirmed devices, how many
// recovery codes are left, and the links to add a device or make new codes.
func (s *Server) fillAccountOTP(ctx context.Context, d *pageData, ls *storage.LoginSession, p storage.Person) error {
	devs, err := s.accounts.ListOTPDevices(ctx, p.ID)
	if err != nil {
		return err
	}
	left, err := s.accounts.RecoveryCodesLeft(ctx, p.ID)
	if err != nil {
		return err
	}
	o := &otpPage{RecoveryLeft: left, NewURL: s.withLang(pathOTPNew, d.Lang), RecoveryURL: s.withLang(pathOTPRecovery, d.Lang)}
	for _, dev := range devs {
		v := otpDeviceView{Name: dev.Name, Alg: d.T["otpAlg_"+dev.Algorithm], Created: showTime(dev.CreatedAt),
			LastUsed: showTime(dev.LastUsed), DeleteURL: s.withLang(pathOTPDevice+dev.ID+"/delete", d.Lang)}
		if dev.Legacy {
			v.Name = d.T["otpLegacyName"]
		}
		o.Devices = append(o.Devices, v)
	}
	d.OTP = o
	return nil
}

// routesOTP adds the routes of one-time passwords and recovery codes.
func (s *Server) routesOTP(handle func(method, path string, h http.HandlerFunc)) {
	handle("GET", pathOTPNew, s.handleOTPNewPage)
	handle("POST", pathOTPNew, s.handleOTPNew)
	handle("POST", pathOTPRecovery, s.handleOTPRecovery)
	handle("GET", pathOTPDevice+"{id}", s.handleOTPScanPage)
	handle("POST", pathOTPDevice+"{id}", s.handleOTPConfirm)
	handle("POST", pathOTPDevice+"{id}/delete", s.handleOTPDelete)
}

// otpPageData is the enrolment page in mode for the logged-in person.
func (s *Server) otpPageData(w http.ResponseWriter, r *http.Request, ls *storage.LoginSession, p storage.Person, mode string) pageData {
	d := s.accountPageData(w, r, ls, p)
	d.OTP = &otpPage{Mode: mode, Alg: storage.OTPAlgTOTP, BackURL: s.withLang(pathAccount, d.Lang)}
	return d
}

// renderOTPStart shows the start form with the error message errKey ("" = none).
func (s *Server) renderOTPStart(w http.ResponseWriter, r *http.Request, ls *storage.LoginSession, p storage.Person, status int, errKey string) {
	d := s.otpPageData(w, r, ls, p, "start")
	d.OTP.FormURL = s.withLang(pathOTPNew, d.Lang)
	if r.Method == http.MethodPost {
		d.OTP.Name, d.OTP.Alg = r.PostForm.Get("name"), r.PostForm.Get("alg")
	}
	if errKey != "" {
		d.Error = d.T[errKey]
	}
	s.render(w, status, s.pages.page(otpEnrolPage), d)
}

// handleOTPNewPage shows the form that starts an enrolment (GET /account/otp/new).
func (s *Server) handleOTPNewPage(w http.ResponseWriter, r *http.Request) {
	ls, p, ok := s.accountSession(w, r, true)
	if !ok {
		return
	}
	s.renderOTPStart(w, r, ls, p, http.StatusOK, "")
}

// handleOTPNew makes a pending device (POST /account/otp/new, name and alg) and answers 303
// to its scan page; bad input shows the form again with the reason (422).
func (s *Server) handleOTPNew(w http.ResponseWriter, r *http.Request) {
	if !s.checkAccountForm(w, r) {
		return
	}
	ls, p, ok := s.accountSession(w, r, true)
	if !ok {
		return
	}
	e, err := s.accounts.BeginOTPEnrolment(r.Context(), p.ID, r.PostForm.Get("name"), r.PostForm.Get("alg"))
	switch {
	case errors.Is(err, accounts.ErrInvalidOTPName):
		s.renderOTPStart(w, r, ls, p, http.StatusUnprocessableEntity, "otpErrName")
	case errors.Is(err, accounts.ErrInvalidOTPAlgorithm):
		s.renderOTPStart(w, r, ls, p, http.StatusUnprocessableEntity, "otpErrAlg")
	case errors.Is(err, accounts.ErrTooManyOTPDevices):
		s.renderOTPStart(w, r, ls, p, http.StatusUnprocessableEntity, "otpErrTooMany")
	case err != nil:
		s.pageError(r.Context(), w, r, pickLang(r.URL.Query().Get("ui_locales")), "begin OTP enrolment", err)
	default:
		http.Redirect(w, r, s.withLang(pathOTPDevice+e.DeviceID, pickLang(r.URL.Query().Get("ui_locales"))), http.StatusSeeOther)
	}
}

// renderOTPScan shows the scan page of the pending device id: the QR code, the secret and the
// field for the confirming code, with the error message errKey ("" = none). An expired
// enrolment shows the start form; an unknown device 404.
func (s *Server) renderOTPScan(w http.ResponseWriter, r *http.Request, ls *storage.LoginSession, p storage.Person, id string, status int, errKey string) {
	ctx := r.Context()
	e, err := s.accounts.OTPEnrolment(ctx, p.ID, id)
	switch {
	case errors.Is(err, accounts.ErrOTPDeviceNotFound):
		s.renderError(w, r, http.StatusNotFound, r.URL.Query().Get("ui_locales"), "otpErrNotFound")
		return
	case errors.Is(err, accounts.ErrOTPEnrolmentExpired):
		s.renderOTPStart(w, r, ls, p, http.StatusGone, "otpErrExpired")
		return
	case err != nil:
		s.pageError(ctx, w, r, pickLang(r.URL.Query().Get("ui_locales")), "show OTP enrolment", err)
		return
	}
	png, err := qrcode.Encode(e.URI, qrcode.Medium, 256)
	if err != nil {
		s.pageError(ctx, w, r, pickLang(r.URL.Query().Get("ui_locales")), "render OTP QR code", err)
		return
	}
	d := s.otpPageData(w, r, ls, p, "scan")
	o := d.OTP
	o.Name, o.Alg, o.Period, o.ExpiresAt = e.Name, d.T["otpAlg_"+e.Algorithm], int(e.Period/time.Second), showTime(e.ExpiresAt)
	o.QR = template.URL("data:image/png;base64," + base64.StdEncoding.EncodeToString(png))
	var groups []string
	for sec := e.Secret; sec != ""; {
		n := min(4, len(sec))
		groups, sec = append(groups, sec[:n]), sec[n:]
	}
	o.Secret = strings.Join(groups, " ")
	o.FormURL = s.withLang(pathOTPDevice+e.DeviceID, d.Lang)
	if errKey != "" {
		d.Error = d.T[errKey]
	}
	w.Header().Set("Cache-Control", "no-store")
	s.render(w, status, s.pages.page(otpEnrolPage), d)
}

// handleOTPScanPage shows the scan page of a pending device (GET /account/otp/{id}).
func (s *Server) handleOTPScanPage(w http.ResponseWriter, r *http.Request) {
	ls, p, ok := s.accountSession(w, r, true)
	if !ok {
		return
	}
	s.renderOTPScan(w, r, ls, p, r.PathValue("id"), http.StatusOK, "")
}

// handleOTPConfirm confirms a pending device with a code from it (POST /account/otp/{id},
// code). The first device's recovery codes are shown at once (this response only); otherwise
// 303 to the account page. A wrong code shows the scan page again (422).
func (s *Server) handleOTPConfirm(w http.ResponseWriter, r *http.Request) {
	if !s.checkAccountForm(w, r) {
		return
	}
	ls, p, ok := s.accountSession(w, r, false)
	if !ok {
		return
	}
	ctx := r.Context()
	id := r.PathValue("id")
	codes, err := s.accounts.ConfirmOTPDevice(ctx, p.ID, id, r.PostForm.Get("code"))
	switch {
	case errors.Is(err, accounts.ErrOTPCodeWrong) && s.now().Sub(ls.AuthTime) > s.cfg.FreshLogin:
		// The scan page shows the secret, which wants a fresh login: start again instead.
		s.renderOTPStart(w, r, ls, p, http.StatusUnprocessableEntity, "otpErrCodeStale")
	case errors.Is(err, accounts.ErrOTPCodeWrong):
		s.renderOTPScan(w, r, ls, p, id, http.StatusUnprocessableEntity, "otpErrCode")
	case errors.Is(err, accounts.ErrOTPDeviceNotFound):
		s.renderError(w, r, http.StatusNotFound, r.URL.Query().Get("ui_locales"), "otpErrNotFound")
	case errors.Is(err, accounts.ErrOTPEnrolmentExpired):
		s.renderOTPStart(w, r, ls, p, http.StatusGone, "otpErrExpired")
	case err != nil:
		s.pageError(ctx, w, r, pickLang(r.URL.Query().Get("ui_locales")), "confirm OTP device", err)
	case codes != nil:
		s.renderOTPCodes(w, r, ls, p, codes, "otpAddedCodes")
	default:
		s.accountDone(w, r, "otpAdded")
	}
}

// renderOTPCodes shows recovery codes, once, with the message key intro.
func (s *Server) renderOTPCodes(w http.ResponseWriter, r *http.Request, ls *storage.LoginSession, p storage.Person, codes []string, intro string) {
	d := s.otpPageData(w, r, ls, p, "codes")
	d.OTP.Codes = codes
	d.Message = d.T[intro]
	d.SwitchURL = "" // the codes are shown once; another language would not show them again
	w.Header().Set("Cache-Control", "no-store")
	s.render(w, http.StatusOK, s.pages.page(otpEnrolPage), d)
}

// handleOTPDelete removes a device (POST /account/otp/{id}/delete) and answers 303 to the
// account page.
func (s *Server) handleOTPDelete(w http.ResponseWriter, r *http.Request) {
	if !s.checkAccountForm(w, r) {
		return
	}
	_, p, ok := s.accountSession(w, r, true)
	if !ok {
		return
	}
	err := s.accounts.RemoveOTPDevice(r.Context(), p.ID, r.PathValue("id"))
	switch {
	case errors.Is(err, accounts.ErrOTPDeviceNotFound):
		s.renderError(w, r, http.StatusNotFound, r.URL.Query().Get("ui_locales"), "otpErrNotFound")
	case err != nil:
		s.pageError(r.Context(), w, r, pickLang(r.URL.Query().Get("ui_locales")), "remove OTP device", err)
	default:
		s.accountDone(w, r, "otpRemoved")
	}
}

// handleOTPRecovery replaces the recovery codes (POST /account/otp/recovery) and shows the
// new ones, once.
func (s *Server) handleOTPRecovery(w http.ResponseWriter, r *http.Request) {
	if !s.checkAccountForm(w, r) {
		return
	}
	ls, p, ok := s.accountSession(w, r, true)
	if !ok {
		return
	}
	codes, err := s.accounts.RegenerateRecoveryCodes(r.Context(), p.ID)
	switch {
	case errors.Is(err, accounts.ErrNoSecondFactor):
		s.accountDone(w, r, "otpErrNoDevice")
	case err != nil:
		s.pageError(r.Context(), w, r, pickLang(r.URL.Query().Get("ui_locales")), "regenerate recovery codes", err)
	default:
		s.renderOTPCodes(w, r, ls, p, codes, "otpNewCodes")
	}
}

func init() {
	addMessages(map[string]map[string]string{
		langZH: {
			"otpHeading":      "动态口令",
			"otpIntro":        "登录时除密码外再输入验证器应用或动态令牌上的 6 位数字，账户更安全。",
			"otpNone":         "尚未添加动态口令设备。",
			"otpAdd":          "添加设备",
			"otpRemove":       "删除",
			"otpCreated":      "添加于",
			"otpLastUsed":     "最近使用",
			"otpLegacyName":   "管理员设置的验证器",
			"otpAlg_totp":     "验证器应用（TOTP）",
			"otpAlg_sm3-otp":  "国密动态令牌（SM3）",
			"otpRecoveryLeft": "剩余恢复码",
			"otpRecoveryNew":  "重新生成恢复码",
			"otpRecoveryHelp": "手机丢失时，可在登录时用一个恢复码代替动态口令，每个只能用一次。重新生成后，旧的恢复码全部作废。",
			"otpEnrolHeading": "添加动态口令设备",
			"otpName":         "设备名称",
			"otpNameHelp":     "例如“我的手机”，便于日后辨认，最多 32 个字。",
			"otpAlg":          "类型",
			"otpAlgHelp":      "一般选择验证器应用；持有支持 GM/T 0021-2012 的国密动态令牌时选择国密令牌。",
			"otpContinue":     "下一步",
			"otpScan":         "用验证器应用扫描下面的二维码：",
			"otpQRAlt":        "动态口令设备的二维码",
			"otpSecretHelp":   "无法扫码时，请手动输入以下密钥：",
			"otpPeriodHelp":   "口令每 %d 秒变化一次。",
			"otpExpires":      "完成期限：",
			"otpCode":         "设备上显示的 6 位数字",
			"otpConfirm":      "确认添加",
			"otpCodesHeading": "恢复码",
			"otpCodesHelp":    "请抄写或打印并妥善保存。本页关闭后将无法再次查看。",
			"otpAddedCodes":   "设备已添加。以下是您的 10 个恢复码，每个只能使用一次：",
			"otpNewCodes":     "已生成新的恢复码，旧的恢复码已全部作废：",
			"otpBack":         "返回我的账户",
			"otpAdded":        "动态口令设备已添加。",
			"otpRemoved":      "动态口令设备已删除。",
			"otpErrName":      "请填写设备名称（1 至 32 个字，不含控制字符）。",
			"otpErrAlg":       "请选择设备类型。",
			"otpErrTooMany":   "最多可添加 5 个设备，请先删除不用的设备。",
			"otpErrExpired":   "添加已超时或验证失败次数过多，请重新开始。",
			"otpErrCode":      "口令不正确，请输入设备上当前显示的 6 位数字。",
			"otpErrNotFound":  "未找到该设备。",
			"otpErrCodeStale": "口令不正确。为保护您的账户，请重新开始添加设备。",
			"otpErrNoDevice":  "请先添加动态口令设备，再生成恢复码。",
		},
		langEN: {
			"otpHeading":      "One-time codes",
			"otpIntro":        "Sign in with the 6 digits from an authenticator app or token in addition to your password.",
			"otpNone":         "No one-time code device yet.",
			"otpAdd":          "Add a device",
			"otpRemove":       "Remove",
			"otpCreated":      "Added",
			"otpLastUsed":     "Last used",
			"otpLegacyName":   "Authenticator set up by an administrator",
			"otpAlg_totp":     "Authenticator app (TOTP)",
			"otpAlg_sm3-otp":  "SM3 token (GM/T 0021)",
			"otpRecoveryLeft": "Recovery codes left",
			"otpRecoveryNew":  "New recovery codes",
			"otpRecoveryHelp": "If you lose your phone, sign in with a recovery code instead of a one-time code. Each works once. New codes replace all old ones.",
			"otpEnrolHeading": "Add a one-time code device",
			"otpName":         "Device name",
			"otpNameHelp":     "For example “My phone”, so you can tell your devices apart. Up to 32 characters.",
			"otpAlg":          "Type",
			"otpAlgHelp":      "Choose the authenticator app unless you have an SM3 token (GM/T 0021-2012).",
			"otpContinue":     "Continue",
			"otpScan":         "Scan this QR code with your authenticator app:",
			"otpQRAlt":        "QR code of the one-time code device",
			"otpSecretHelp":   "Cannot scan? Enter this key by hand:",
			"otpPeriodHelp":   "The code changes every %d seconds.",
			"otpExpires":      "Finish by: ",
			"otpCode":         "The 6 digits on the device",
			"otpConfirm":      "Add device",
			"otpCodesHeading": "Recovery codes",
			"otpCodesHelp":    "Write them down or print them and keep them safe. You cannot see them again after leaving this page.",
			"otpAddedCodes":   "Your device was added. These are your 10 recovery codes; each works once:",
			"otpNewCodes":     "New recovery codes; all old ones no longer work:",
			"otpBack":         "Back to my account",
			"otpAdded":        "The one-time code device was added.",
			"otpRemoved":      "The one-time code device was removed.",
			"otpErrName":      "Enter a device name (1 to 32 characters, no control characters).",
			"otpErrAlg":       "Choose a device type.",
			"otpErrTooMany":   "You can have at most 5 devices. Remove one you no longer use first.",
			"otpErrExpired":   "Adding the device timed out or had too many wrong codes. Please start again.",
			"otpErrCode":      "Wrong code. Enter the 6 digits the device shows now.",
			"otpErrNotFound":  "No such device.",
			"otpErrCodeStale": "Wrong code. For your protection, please start adding the device again.",
			"otpErrNoDevice":  "Add a one-time code device before making recovery codes.",
		},
	})
}
