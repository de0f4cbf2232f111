package web

import (
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/tongban/tongban/credentials"
	"github.com/tongban/tongban/storage"
)

// The holder's record (亮证记录, GET /records): one place for the holder — each code shown
// (when, which licences, what it disclosed) with the counters that verified it, and each read
// of their licences by a department app (查阅记录, lookup.go) — newest first, a page at a
// time. Masked data only.

// recordPageSize is about how many entries one page of the record lists
// (wallet.Service.HolderRecord).
const recordPageSize = 30

// recordView is the record page.
type recordView struct {
	Entries  []recordEntryView
	NextHref string // the next, older page; "" on the last
	First    bool   // the newest page
}

// recordEntryView is one line of the record: a code shown (IsCode) or a read by an app.
type recordEntryView struct {
	Time   string // Beijing time
	IsCode bool
	// A code: the licence kinds in words, the profile, and the counters that verified it.
	Kinds    string
	Profile  string
	Verified []verificationView
	// A read: the app (its name where known), the licence kind and its masked number.
	App, Licence, Number string
}

// verificationView is one counter's receipt for a code.
type verificationView struct {
	Counter string // office and counter name
	Time    string // when it verified the code, Beijing time
}

// timeLayout is how the record shows times (Beijing time).
const timeLayout = "2006-01-02 15:04:05"

// handleRecords serves GET /records[?until=M]: a page of the holder's record older than M
// (Unix microseconds, from the previous page's link); without until, the newest page. A
// malformed until is 400 with the "bad request" page.
func (s *Server) handleRecords(w http.ResponseWriter, r *http.Request) {
	sess := s.requireSession(w, r)
	if sess == nil {
		return
	}
	ctx := r.Context()
	d := s.newPage(r, sess)
	var until time.Time
	if v := r.URL.Query().Get("until"); v != "" {
		us, err := strconv.ParseInt(v, 10, 64)
		if err != nil || us <= 0 {
			s.renderMessage(w, r, http.StatusBadRequest, "badRequest")
			return
		}
		until = time.UnixMicro(us)
	}
	page, err := s.svc.HolderRecord(ctx, sess.Index, until, recordPageSize)
	if err != nil {
		s.serverError(w, r, "records: read", err)
		return
	}
	lics, err := s.svc.LicencesByIndex(ctx, sess.Index)
	if err != nil {
		s.serverError(w, r, "records: list licences", err)
		return
	}
	masked := map[string]string{}
	for _, l := range lics {
		masked[l.ID] = l.Licence.MaskedNumber()
	}
	clients, _ := s.svc.Store().(storage.Clients)
	apps := map[string]string{}
	appName := func(id string) string {
		name, ok := apps[id]
		if !ok {
			name = id
			if clients != nil {
				if c, err := clients.GetClient(ctx, id); err == nil && c.Name != "" {
					name = c.Name
				}
			}
			apps[id] = name
		}
		return name
	}
	rv := &recordView{First: until.IsZero()}
	for _, e := range page.Entries {
		v := recordEntryView{Time: e.Time.In(credentials.ChinaStandardTime).Format(timeLayout)}
		if c := e.Code; c != nil {
			names := make([]string, len(c.Kinds))
			for i, k := range c.Kinds {
				names[i] = KindName(k, d.Lang)
			}
			v.IsCode, v.Kinds, v.Profile = true, strings.Join(names, d.T["sep"]), d.T[profileKey(c.Profile)]
			for _, ver := range c.Verifications {
				who := ver.Counter.Name
				if ver.Counter.Office != "" {
					who = ver.Counter.Office + " · " + who
				}
				if who == "" {
					who = d.T["recordCounterGone"]
				}
				v.Verified = append(v.Verified, verificationView{Counter: who,
					Time: ver.VerifiedAt.In(credentials.ChinaStandardTime).Format(timeLayout)})
			}
		} else {
			l := e.Lookup
			v.App, v.Licence, v.Number = appName(l.ClientID), KindName(l.Kind, d.Lang), masked[l.LicenceID]
		}
		rv.Entries = append(rv.Entries, v)
	}
	if !page.Next.IsZero() {
		rv.NextHref = pathRecords + "?" + url.Values{"until": {strconv.FormatInt(page.Next.UnixMicro(), 10)}}.Encode()
	}
	d.Record = rv
	s.render(w, http.StatusOK, s.pages.records, d)
}

func init() {
	for lang, m := range map[string]map[string]string{
		langZH: {
			"records":           "亮证记录",
			"recordsHelp":       "您每次出示二维码（亮证）的记录，以及柜台核验和政务服务应用读取您证照的记录，最新的在前。记录保存 180 天。",
			"recordsNone":       "还没有记录。",
			"recordsTime":       "时间（北京时间）",
			"recordShown":       "亮证",
			"recordVerified":    "已核验",
			"recordNotVerified": "未收到柜台核验回执（柜台离线时，联网后才会上传）。",
			"recordRead":        "查阅",
			"recordReadBy":      "读取了您的",
			"recordsOlder":      "更早的记录",
			"recordsNewest":     "最新记录",
			"recordCounterGone": "柜台",
			"recordLookupHelp":  "应用读取证照须经您在统一身份认证授权；如有疑问，可在统一身份认证的账户页面撤回授权。",
		},
		langEN: {
			"records":           "My record",
			"recordsHelp":       "Every time you showed a code, which counter verified it, and every time an app read one of your licences, newest first. Kept for 180 days.",
			"recordsNone":       "Nothing yet.",
			"recordsTime":       "Time (Beijing)",
			"recordShown":       "Code shown",
			"recordVerified":    "Verified by",
			"recordNotVerified": "No receipt from a counter (an offline counter sends it once it is back online).",
			"recordRead":        "Read by an app",
			"recordReadBy":      "read your",
			"recordsOlder":      "Older entries",
			"recordsNewest":     "Newest entries",
			"recordCounterGone": "a counter",
			"recordLookupHelp":  "An app reads a licence only with the consent you gave it at the unified identity service; you can withdraw it on your account page there.",
		},
	} {
		for k, v := range m {
			if _, dup := texts[lang][k]; dup {
				panic("wallet/web: text defined twice: " + k)
			}
			texts[lang][k] = v
		}
	}
}
