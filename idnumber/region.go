package idnumber

// provinces are the province-level codes of GB/T 2260 (the first two digits of a six-digit
// administrative region code), plus 81 and 82 (Hong Kong, Macao) and 83 (Taiwan) as used in
// residence permits for residents of Hong Kong, Macao and Taiwan since 2018.
//
// Only this first level is checked: the full region tables change every year (counties merge,
// districts are renamed) while an identity number keeps the code it was issued with, so a
// check against today's table would reject valid numbers.
var provinces = map[string]bool{
	"11": true, "12": true, "13": true, "14": true, "15": true, // 北京 天津 河北 山西 内蒙古
	"21": true, "22": true, "23": true, // 辽宁 吉林 黑龙江
	"31": true, "32": true, "33": true, "34": true, "35": true, "36": true, "37": true, // 上海 … 山东
	"41": true, "42": true, "43": true, "44": true, "45": true, "46": true, // 河南 … 海南
	"50": true, "51": true, "52": true, "53": true, "54": true, // 重庆 四川 贵州 云南 西藏
	"61": true, "62": true, "63": true, "64": true, "65": true, // 陕西 甘肃 青海 宁夏 新疆
	"71": true,                         // 台湾
	"81": true, "82": true, "83": true, // 香港 澳门 台湾 (居住证)
}

// isDigits reports whether s is ASCII digits only.
func isDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}
