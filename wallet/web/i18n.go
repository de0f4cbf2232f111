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
		"landingTitle":     "您的证照，随身出示",
		"login":            "统一身份认证登录",
		"relogin":          "重新登录",
		"logout":           "退出登录",
		"logoutConfirm":    "确定要退出电子证照吗？",
		"logoutHelp":       "退出后，正在显示的二维码会立即停止显示；统一身份认证也会一并退出，其他通过它登录的应用需要重新登录。再次亮证需要重新登录。",
		"cancel":           "取消",
		"hello":            "您好",
		"myLicences":       "我的证照",
		"noLicences":       "没有找到您的证照。",
		"show":             "亮证",
		"bundle":           "多码合一",
		"bundleHelp":       "勾选同一持证人的 2 至 8 个证照，合成一个二维码。只出示一个证照时，请在“显示内容”中选择“身份核验”或“完整信息”。",
		"bundleNone":       "您还没有勾选证照。多码合一请勾选 2 至 8 个证照。",
		"bundleOne":        "您只勾选了 1 个证照。多码合一需要 2 至 8 个证照；只出示这一个证照，请在“显示内容”中选择“身份核验”或“完整信息”。",
		"bundleMany":       "“身份核验”和“完整信息”只能出示 1 个证照，您勾选了多个。请只保留一个，或选择“多码合一”。",
		"bundleTooMany":    "多码合一最多 8 个证照，请减少勾选。",
		"selected":         "已选",
		"selectedUnit":     "个",
		"number":           "证号",
		"holder":           "持证人",
		"issuer":           "发证机关",
		"validFrom":        "有效期起",
		"validUntil":       "有效期至",
		"longTerm":         "长期",
		"status":           "状态",
		"asAgent":          "授权经办",
		"profile":          "显示内容",
		"profileMasked":    "身份核验（脱敏）",
		"profileFull":      "完整信息",
		"profileBundle":    "多码合一",
		"fields":           "完整信息中包含的项目",
		"makeCode":         "生成二维码",
		"refreshIn":        "秒后自动刷新",
		"expiresAt":        "二维码有效至",
		"nowTime":          "当前时间",
		"codeHelp":         "请向工作人员出示此二维码。二维码 60 秒内有效，每 30 秒自动刷新；截图无效。",
		"codeAlt":          "动态二维码",
		"save":             "保存二维码图片",
		"more":             "更多操作",
		"back":             "返回我的证照",
		"home":             "返回首页",
		"offline":          "暂时无法刷新二维码，请检查网络。当前二维码在有效期内仍可使用。",
		"noscript":         "您的浏览器未启用脚本：页面每 30 秒自动刷新一次。",
		"switchProfile":    "切换显示内容",
		"codeStopped":      "二维码已停止显示",
		"stateLoggedOut":   "您已退出登录，或登录已过期，二维码已停止显示。请重新登录后再亮证。",
		"stateExpired":     "二维码已过期，已停止显示。请检查网络后点“重试”。",
		"stateRefused":     "二维码已停止显示：",
		"retry":            "重试",
		"codeRefreshed":    "二维码已刷新。",
		"codeLive":         "二维码有效",
		"secondsUnit":      "秒",
		"idpDown":          "统一身份认证服务暂时不可用，请稍后再试。",
		"loginExpired":     "登录请求已失效，请重新登录。",
		"loginFailed":      "登录失败，请重新登录。",
		"loginCancelled":   "您已取消登录。",
		"noIDNumber":       "统一身份认证未提供身份证号码，无法查询证照。",
		"badForm":          "表单已失效，请返回重试。",
		"server":           "服务器内部错误，请稍后再试。",
		"unavailable":      "服务暂时不可用，请稍后再试。",
		"notFound":         "没有找到该证照。",
		"pageNotFound":     "页面不存在",
		"pageNotFoundText": "您访问的页面不存在，或链接已失效。",
		"errorTitle":       "无法完成操作",
		"noticeTitle":      "提示",
		"licenceRevoked":   "该证照已吊销，不能亮证。",
		"licenceSuspended": "该证照已暂扣或冻结，不能亮证。如有疑问，请联系发证机关。",
		"licenceExpired":   "该证照已过期，不能亮证。请向发证机关申请换领。",
		"licenceNotYet":    "该证照尚未生效，不能亮证。",
		"ambiguous":        "您有多个同类证照，请在列表中选择具体证照。",
		"mixedHolders":     "多码合一只能组合同一持证人的证照（个人证照与营业执照不能合成一码）。",
		"licenceCount":     "多码合一需选择 2 至 8 个证照；身份核验和完整信息只能选择 1 个证照。",
		"tooLong":          "内容太多，无法放入一个二维码，请减少显示项目。",
		"badRequest":       "请求有误，请返回重试。",
		"outOfScope":       "本服务的签名密钥不能为该证照或显示内容签发二维码。",
		"loginFirst":       "请先登录。",
		"statusValid":      "有效",
		"statusNotYet":     "未生效",
		"cannotShow":       "不能亮证",
		"colourGreen":      "绿码",
		"colourYellow":     "黄码",
		"colourRed":        "红码",
		"colourLabel":      "健康码颜色",
		"discloseTitle":    "这个二维码包含什么",
		"discloseMasked":   "扫码的工作人员只能看到下列信息。姓名和证号已隐去一部分；二维码中没有您的完整姓名、完整证件号码和住址。",
		"discloseBundle":   "扫码的工作人员只能看到下列信息：持证人的部分隐去的姓名和证件号码，以及每个证照的种类、状态和有效期（行驶证另含部分隐去的号牌，健康码另含颜色）。二维码中没有各证照的号码和住址。",
		"discloseFull":     "注意：此二维码包含您的完整个人信息。扫码的工作人员可以看到下列全部内容，包括",
		"discloseFullEnd":  "。请只在需要登记完整信息时出示。",
		"discloseNote":     "为防他人偷看，本页隐去了部分内容；二维码中是完整内容。",
		"inFull":           "二维码中为完整内容",
		"kindLabel":        "证照种类",
		"fullName":         "完整姓名",
		"fullIDNumber":     "完整身份证号码（含出生日期）",
		"fullCreditCode":   "完整统一社会信用代码",
		"holderName":       "姓名",
		"entityName":       "名称",
		"holderID":         "身份证号码",
		"creditCode":       "统一社会信用代码",
		"licenceNumber":    "证照号码",
		"plate":            "号牌号码",
		"colon":            "：",
		"comma":            "，",
		"sep":              "、",
		"lp":               "（",
		"rp":               "）",
	},
	langEN: {
		"title":            "E-licences",
		"appName":          "Tongban · E-licences",
		"landing":          "Log in with the unified identity service to see your e-licences, show one as a dynamic QR code, or combine several into one code.",
		"landingTitle":     "Your licences, ready to show",
		"login":            "Log in",
		"relogin":          "Log in again",
		"logout":           "Log out",
		"logoutConfirm":    "Log out of the e-licence wallet?",
		"logoutHelp":       "Any code on screen is taken off at once. You are also logged out of the unified login, so the other apps you entered through it ask you to log in again. To show a licence again you log in again.",
		"cancel":           "Cancel",
		"hello":            "Hello",
		"myLicences":       "My licences",
		"noLicences":       "No licences were found for you.",
		"show":             "Show",
		"bundle":           "Combine codes",
		"bundleHelp":       "Tick 2 to 8 licences of one holder for one QR code. To show a single licence, choose identity check or full details under “Show”.",
		"bundleNone":       "You have not ticked any licence. A combined code needs 2 to 8.",
		"bundleOne":        "You ticked one licence. A combined code needs 2 to 8; to show just this one, choose identity check or full details under “Show”.",
		"bundleMany":       "Identity check and full details show one licence only, and you ticked several. Keep one, or choose a combined code.",
		"bundleTooMany":    "A combined code holds at most 8 licences; tick fewer.",
		"selected":         "Ticked:",
		"selectedUnit":     "",
		"number":           "Number",
		"holder":           "Holder",
		"issuer":           "Issued by",
		"validFrom":        "Valid from",
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
		"nowTime":          "Time now",
		"codeHelp":         "Show this code to the officer. A code is valid for 60 seconds and refreshes every 30 seconds; a screenshot does not work.",
		"codeAlt":          "Dynamic QR code",
		"save":             "Save the code image",
		"more":             "More options",
		"back":             "Back to my licences",
		"home":             "Home",
		"offline":          "Could not refresh the code; check the network. The code shown still works until it expires.",
		"noscript":         "Scripts are off: this page reloads every 30 seconds.",
		"switchProfile":    "Change what the code shows",
		"codeStopped":      "The code is no longer shown",
		"stateLoggedOut":   "You are logged out, or your login expired, so the code was taken off the screen. Log in again to show it.",
		"stateExpired":     "The code expired and was taken off the screen. Check the network and press “Try again”.",
		"stateRefused":     "The code was taken off the screen: ",
		"retry":            "Try again",
		"codeRefreshed":    "New code shown.",
		"codeLive":         "Code valid",
		"secondsUnit":      "s",
		"idpDown":          "The identity service is unavailable; try again later.",
		"loginExpired":     "The login request has expired; please log in again.",
		"loginFailed":      "Login failed; please log in again.",
		"loginCancelled":   "You cancelled the login.",
		"noIDNumber":       "The identity service did not release your ID number, so your licences cannot be found.",
		"badForm":          "The form has expired; go back and try again.",
		"server":           "Internal error; try again later.",
		"unavailable":      "The service is temporarily unavailable. Please try again in a moment.",
		"notFound":         "Licence not found.",
		"pageNotFound":     "Page not found",
		"pageNotFoundText": "There is no page at this address, or the link has expired.",
		"errorTitle":       "That did not work",
		"noticeTitle":      "Notice",
		"licenceRevoked":   "This licence is revoked and cannot be shown.",
		"licenceSuspended": "This licence is suspended and cannot be shown. Ask the issuing office if in doubt.",
		"licenceExpired":   "This licence has expired and cannot be shown. Ask the issuing office for a new one.",
		"licenceNotYet":    "This licence is not valid yet and cannot be shown.",
		"ambiguous":        "You have several licences of this kind; pick one from the list.",
		"mixedHolders":     "A combined code holds licences of one holder only (a person's licences and a business licence cannot be combined).",
		"licenceCount":     "A combined code needs 2 to 8 licences; identity check and full details take exactly one.",
		"tooLong":          "Too much to fit in one QR code; choose fewer details.",
		"badRequest":       "Bad request; go back and try again.",
		"outOfScope":       "This service's signing key may not sign codes for that licence or display.",
		"loginFirst":       "Please log in first.",
		"statusValid":      "valid",
		"statusNotYet":     "not yet valid",
		"cannotShow":       "Cannot be shown",
		"colourGreen":      "Green code",
		"colourYellow":     "Yellow code",
		"colourRed":        "Red code",
		"colourLabel":      "Health code colour",
		"discloseTitle":    "What this code discloses",
		"discloseMasked":   "The officer who scans it sees only what is listed here. Name and number are partly hidden; the code does not hold your full name, full ID number or address.",
		"discloseBundle":   "The officer who scans it sees only: the holder's name and ID number, partly hidden, and each licence's kind, status and validity (plus the partly hidden plate of a vehicle licence and the colour of a health code). The code holds no licence numbers and no address.",
		"discloseFull":     "Note: this code holds your personal data in full. The officer who scans it sees everything listed here, including ",
		"discloseFullEnd":  ". Show it only where your full details must be registered.",
		"discloseNote":     "This page hides parts of the values from onlookers; the code holds them in full.",
		"inFull":           "in full in the code",
		"kindLabel":        "Licence",
		"fullName":         "your full name",
		"fullIDNumber":     "your full ID number (which includes your date of birth)",
		"fullCreditCode":   "the full unified social credit code",
		"holderName":       "Name",
		"entityName":       "Registered name",
		"holderID":         "ID number",
		"creditCode":       "Unified social credit code",
		"licenceNumber":    "Licence number",
		"plate":            "Plate number",
		"colon":            ": ",
		"comma":            ", ",
		"sep":              ", ",
		"lp":               " (",
		"rp":               ")",
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

// fieldLabelsEN are the English labels of the kinds' fields (credentials.FieldSpec.Label is
// the Chinese one), so that no English page shows a raw key such as birth_date.
var fieldLabelsEN = map[credentials.Kind]map[string]string{
	credentials.ResidentID:       {"sex": "Sex", "ethnicity": "Ethnicity", "birth_date": "Date of birth", "address": "Address"},
	credentials.SocialSecurity:   {"region": "Insured in", "bank": "Bank"},
	credentials.MedicalInsurance: {"region": "Insured in", "insurance_type": "Insurance scheme"},
	credentials.DrivingLicence:   {"class": "Vehicle classes", "first_issue": "First issued", "file_number": "File number"},
	credentials.VehicleLicence: {"vehicle_type": "Vehicle type", "vin": "Vehicle identification number (VIN)",
		"register_date": "Registered", "brand_model": "Make and model", "engine_number": "Engine number", "use_character": "Use"},
	credentials.BusinessLicence: {"legal_representative": "Legal representative", "entity_type": "Type of entity",
		"address": "Registered address", "established": "Established", "registered_capital": "Registered capital",
		"business_scope": "Business scope"},
	credentials.HealthCode:  {"colour": "Colour"},
	credentials.TransitCode: {"city": "City", "operator": "Operator"},
}

// FieldLabel returns the label of field name of licence kind k in lang ("zh" or "en"): the
// printed Chinese label of credentials.FieldSpec, or its English translation. An unknown
// field gives name itself (which a test rules out for every defined field).
func FieldLabel(k credentials.Kind, name, lang string) string {
	if lang == langEN {
		if l, ok := fieldLabelsEN[k][name]; ok {
			return l
		}
		return name
	}
	if spec, ok := credentials.FieldSpecByName(k, name); ok {
		return spec.Label
	}
	return name
}

// colourKey is the texts key of a health-code colour (credentials.ColourGreen …), "" for
// another value.
func colourKey(c string) string {
	switch c {
	case credentials.ColourGreen:
		return "colourGreen"
	case credentials.ColourYellow:
		return "colourYellow"
	case credentials.ColourRed:
		return "colourRed"
	}
	return ""
}

// fieldValue is a kind-specific field's value as a page in lang shows it: a health code's
// colour in words (绿码, Green code), any other value as stored.
func fieldValue(k credentials.Kind, name, v, lang string) string {
	if k == credentials.HealthCode && name == "colour" {
		if key := colourKey(v); key != "" {
			return texts[lang][key]
		}
	}
	return v
}
