package web

import (
	"net/http"
	"net/url"

	"github.com/tongban/tongban/credentials"
	"github.com/tongban/tongban/qr"
)

// Languages of the pages: zh (zh-CN, the default) and en.
const (
	langZH = "zh"
	langEN = "en"
)

// lang returns the page language: ?lang= if given, else the tbw_lang cookie, else zh.
func (s *Server) lang(r *http.Request) string {
	if l := r.URL.Query().Get("lang"); l == langEN || l == langZH {
		return l
	}
	if c, err := r.Cookie(cookieLang); err == nil && c.Value == langEN {
		return langEN
	}
	return langZH
}

// handleLang sets the language cookie (?set=zh|en) and returns to ?next= (a local path).
func (s *Server) handleLang(w http.ResponseWriter, r *http.Request) {
	l := r.URL.Query().Get("set")
	if l != langEN {
		l = langZH
	}
	s.cookies.SetUnprefixed(w, cookieLang, l, 365*24*3600) // one name over http and https
	http.Redirect(w, r, localPath(r.URL.Query().Get("next")), http.StatusSeeOther)
}

// langSwitch returns the link that switches r's page to the other language.
func langSwitch(r *http.Request, cur string) (href, label string) {
	other, label := langEN, "English"
	if cur == langEN {
		other, label = langZH, "中文"
	}
	return pathLang + "?" + url.Values{"set": {other}, "next": {r.URL.RequestURI()}}.Encode(), label
}

var texts = map[string]map[string]string{
	langZH: {
		"title":            "电子证照",
		"appName":          "通办 · 电子证照",
		"landing":          "使用统一身份认证登录后，查看您的电子证照，出示动态二维码（扫码亮证），或将多个证照合成一码（多码合一）。",
		"login":            "统一身份认证登录",
		"logout":           "退出登录",
		"hello":            "您好",
		"myLicences":       "我的证照",
		"noLicences":       "没有找到您的证照。",
		"show":             "亮证",
		"bundle":           "多码合一",
		"bundleHelp":       "选择同一持证人的 2 至 8 个证照，合成一个二维码。只选一个证照时，可选择“身份核验”或“完整信息”。",
		"number":           "证号",
		"holder":           "持证人",
		"issuer":           "发证机关",
		"validUntil":       "有效期至",
		"longTerm":         "长期",
		"status":           "状态",
		"asAgent":          "授权经办",
		"profile":          "显示内容",
		"profileMasked":    "身份核验（脱敏）",
		"profileFull":      "完整信息",
		"profileBundle":    "多码合一",
		"fields":           "完整信息中显示的项目",
		"makeCode":         "生成二维码",
		"refreshIn":        "秒后自动刷新",
		"expiresAt":        "二维码有效至",
		"codeHelp":         "请向工作人员出示此二维码。二维码 60 秒内有效，每 30 秒自动刷新。",
		"save":             "保存二维码图片",
		"back":             "返回我的证照",
		"offline":          "无法刷新二维码，请检查网络。",
		"noscript":         "您的浏览器未启用脚本：请每 30 秒刷新本页。",
		"switchProfile":    "切换显示内容",
		"idpDown":          "统一身份认证服务暂时不可用，请稍后再试。",
		"loginExpired":     "登录请求已失效，请重新登录。",
		"loginFailed":      "登录失败，请重新登录。",
		"loginCancelled":   "您已取消登录。",
		"noIDNumber":       "统一身份认证未提供身份证号码，无法查询证照。",
		"badForm":          "表单已失效，请返回重试。",
		"server":           "服务器内部错误，请稍后再试。",
		"unavailable":      "服务暂时不可用，请稍后再试。",
		"notFound":         "没有找到该证照。",
		"licenceRevoked":   "该证照已吊销，不能亮证。",
		"licenceSuspended": "该证照已暂扣或冻结，不能亮证。",
		"licenceExpired":   "该证照已过期，不能亮证。",
		"licenceNotYet":    "该证照尚未生效，不能亮证。",
		"ambiguous":        "您有多个同类证照，请在列表中选择具体证照。",
		"mixedHolders":     "多码合一只能组合同一持证人的证照（个人证照与营业执照不能合成一码）。",
		"licenceCount":     "多码合一需选择 2 至 8 个证照；身份核验和完整信息只能选择 1 个证照。",
		"tooLong":          "内容太多，无法放入一个二维码，请减少显示项目。",
		"badRequest":       "请求有误，请返回重试。",
		"outOfScope":       "本服务的签名密钥不能为该证照或显示内容签发二维码。",
		"loginFirst":       "请先登录。",
		"statusValid":      "有效",
	},
	langEN: {
		"title":            "E-licences",
		"appName":          "Tongban · E-licences",
		"landing":          "Log in with the unified identity service to see your e-licences, show one as a dynamic QR code, or combine several into one code.",
		"login":            "Log in",
		"logout":           "Log out",
		"hello":            "Hello",
		"myLicences":       "My licences",
		"noLicences":       "No licences were found for you.",
		"show":             "Show",
		"bundle":           "Combine codes",
		"bundleHelp":       "Pick 2 to 8 licences of one holder for one QR code. With a single licence, choose identity check or full details.",
		"number":           "Number",
		"holder":           "Holder",
		"issuer":           "Issued by",
		"validUntil":       "Valid until",
		"longTerm":         "long-term",
		"status":           "Status",
		"asAgent":          "as authorised agent",
		"profile":          "Show",
		"profileMasked":    "Identity check (masked)",
		"profileFull":      "Full details",
		"profileBundle":    "Combined code",
		"fields":           "Details in the full code",
		"makeCode":         "Make the code",
		"refreshIn":        "s until the code refreshes",
		"expiresAt":        "Code valid until",
		"codeHelp":         "Show this code to the officer. A code is valid for 60 seconds and refreshes every 30 seconds.",
		"save":             "Save the code image",
		"back":             "Back to my licences",
		"offline":          "Could not refresh the code; check the network.",
		"noscript":         "Scripts are off: reload this page every 30 seconds.",
		"switchProfile":    "Change what the code shows",
		"idpDown":          "The identity service is unavailable; try again later.",
		"loginExpired":     "The login request has expired; please log in again.",
		"loginFailed":      "Login failed; please log in again.",
		"loginCancelled":   "You cancelled the login.",
		"noIDNumber":       "The identity service did not release your ID number, so your licences cannot be found.",
		"badForm":          "The form has expired; go back and try again.",
		"server":           "Internal error; try again later.",
		"unavailable":      "The service is temporarily unavailable. Please try again in a moment.",
		"notFound":         "Licence not found.",
		"licenceRevoked":   "This licence is revoked and cannot be shown.",
		"licenceSuspended": "This licence is suspended and cannot be shown.",
		"licenceExpired":   "This licence has expired and cannot be shown.",
		"licenceNotYet":    "This licence is not valid yet and cannot be shown.",
		"ambiguous":        "You have several licences of this kind; pick one from the list.",
		"mixedHolders":     "A combined code holds licences of one holder only (a person's licences and a business licence cannot be combined).",
		"licenceCount":     "A combined code needs 2 to 8 licences; identity check and full details take exactly one.",
		"tooLong":          "Too much to fit in one QR code; choose fewer details.",
		"badRequest":       "Bad request; go back and try again.",
		"outOfScope":       "This service's signing key may not sign codes for that licence or display.",
		"loginFirst":       "Please log in first.",
		"statusValid":      "valid",
	},
}

var kindNamesEN = map[credentials.Kind]string{
	credentials.ResidentID:       "Resident ID card",
	credentials.SocialSecurity:   "Social security card",
	credentials.MedicalInsurance: "Medical insurance e-voucher",
	credentials.DrivingLicence:   "Driving licence",
	credentials.VehicleLicence:   "Vehicle licence",
	credentials.BusinessLicence:  "Business licence",
	credentials.HealthCode:       "Health code",
	credentials.TransitCode:      "Transit code",
}

var statusNamesEN = map[credentials.Status]string{
	credentials.StatusValid: "valid", credentials.StatusSuspended: "suspended",
	credentials.StatusRevoked: "revoked", credentials.StatusExpired: "expired",
}

// KindName returns the display name of a licence kind in lang ("zh" or "en").
func KindName(k credentials.Kind, lang string) string {
	if lang == langEN {
		return kindNamesEN[k]
	}
	return k.ChineseName()
}

func statusName(st credentials.Status, lang string) string {
	if lang == langEN {
		return statusNamesEN[st]
	}
	return st.ChineseName()
}

func profileKey(p qr.DisplayProfile) string {
	switch p {
	case qr.ProfileFullRegistration:
		return "profileFull"
	case qr.ProfileBundle:
		return "profileBundle"
	}
	return "profileMasked"
}
