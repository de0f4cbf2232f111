package verdict

import (
	"encoding/hex"
	"fmt"
	"time"

	"github.com/tongban/tongban/credentials"
	"github.com/tongban/tongban/qr"
)

// Verdict is the outcome of verifying one code: the --json output of `wallet verify`, whose
// field names are stable. A rejection has Valid false and Reason, Message (English),
// MessageZH and Detail (the verifier's error, for logs; it never holds personal data); a valid
// code has the rest. Times are RFC 3339 in UTC; CTI and KeyID are hex.
type Verdict struct {
	Valid     bool   `json:"valid"`
	Reason    string `json:"reason,omitempty"`     // stable code, see counter-guide.md
	Message   string `json:"message,omitempty"`    // English explanation
	MessageZH string `json:"message_zh,omitempty"` // Chinese explanation
	Detail    string `json:"detail,omitempty"`     // the verifier's error

	Profile           int       `json:"profile,omitempty"`
	ProfileName       string    `json:"profile_name,omitempty"`
	IssuedAt          string    `json:"issued_at,omitempty"`
	ExpiresAt         string    `json:"expires_at,omitempty"`
	CTI               string    `json:"cti,omitempty"`
	KeyID             string    `json:"key_id,omitempty"`
	KeyIssuer         string    `json:"key_issuer,omitempty"`
	TrustListSequence uint64    `json:"trust_list_sequence,omitempty"`
	StatusIndex       *uint64   `json:"status_index,omitempty"`  // pre-fetched code: checked against the status list
	HolderName        string    `json:"holder_name,omitempty"`   // bundle: masked
	HolderNumber      string    `json:"holder_number,omitempty"` // bundle: masked
	Licences          []Licence `json:"licences,omitempty"`
}

// Licence is one licence as the code shows it: masked unless the profile is full
// registration. Kind is the credentials.Kind, KindName its Chinese name; Status a
// credentials.Status; Colour a health code's colour (green, yellow, red); dates YYYY-MM-DD.
type Licence struct {
	Kind       string            `json:"kind"`
	KindName   string            `json:"kind_name"`
	Name       string            `json:"name,omitempty"`
	Number     string            `json:"number,omitempty"`
	Holder     string            `json:"holder,omitempty"`
	Issuer     string            `json:"issuer,omitempty"`
	ValidFrom  string            `json:"valid_from,omitempty"`
	ValidUntil string            `json:"valid_until,omitempty"`
	LongTerm   bool              `json:"long_term,omitempty"`
	Status     string            `json:"status,omitempty"`
	Colour     string            `json:"colour,omitempty"`
	Fields     map[string]string `json:"fields,omitempty"`
}

// Rejected is the verdict for err: its Reason (ReasonOf) and err's text as Detail.
func Rejected(err error) *Verdict {
	r := ReasonOf(err)
	return &Verdict{Reason: r.Code, Message: r.EN, MessageZH: r.ZH, Detail: err.Error()}
}

// Describe is the verdict for a valid code: what res shows, checked against the trust list
// with sequence number seq.
func Describe(res *qr.Result, seq uint64) *Verdict {
	out := &Verdict{
		Valid: true, Profile: int(res.Profile), ProfileName: res.Profile.String(), StatusIndex: res.StatusIndex,
		IssuedAt: res.IssuedAt.UTC().Format(time.RFC3339), ExpiresAt: res.ExpiresAt.UTC().Format(time.RFC3339),
		CTI: hex.EncodeToString(res.CTI[:]), KeyID: hex.EncodeToString(res.KeyID[:]), KeyIssuer: res.KeyIssuer,
		TrustListSequence: seq,
	}
	until := func(d *credentials.Date) (string, bool) {
		if d == nil {
			return "", true
		}
		return d.String(), false
	}
	switch {
	case res.Identity != nil:
		id := res.Identity
		s := Licence{Kind: string(id.Kind), KindName: id.Kind.ChineseName(), Name: id.MaskedName, Number: id.MaskedNumber, Colour: id.Colour}
		s.ValidUntil, s.LongTerm = until(id.ValidUntil)
		out.Licences = []Licence{s}
	case res.Registration != nil:
		l := res.Registration
		s := Licence{Kind: string(l.Kind), KindName: l.Kind.ChineseName(), Name: l.HolderName, Number: l.Number,
			Holder: l.Holder, Issuer: l.Issuer, ValidFrom: l.ValidFrom.String(), Status: string(l.Status), Fields: l.Fields}
		s.ValidUntil, s.LongTerm = until(l.ValidUntil)
		out.Licences = []Licence{s}
	case res.Bundle != nil:
		out.HolderName, out.HolderNumber = res.Bundle.MaskedName, res.Bundle.MaskedHolder
		for _, e := range res.Bundle.Entries {
			s := Licence{Kind: string(e.Kind), KindName: e.Kind.ChineseName(), Number: e.MaskedNumber, Status: string(e.Status), Colour: e.Colour}
			s.ValidUntil, s.LongTerm = until(e.ValidUntil)
			out.Licences = append(out.Licences, s)
		}
	}
	return out
}

// Row is one line of what a valid code shows, for people: a label in English and Chinese,
// the value as `wallet verify` prints it, and where a page says it differently in each
// language, ValueZH and ValueEN (empty: Value). Key names the line for styling ("kind",
// "name", "number", "colour", "status", a field name, …); Level 1 lines belong to the licence
// named by the last Level 0 line with Key "kind".
type Row struct {
	Key     string `json:"key"`
	EN      string `json:"label_en"`
	ZH      string `json:"label_zh"`
	Value   string `json:"value"`
	ValueZH string `json:"value_zh,omitempty"`
	ValueEN string `json:"value_en,omitempty"`
	Level   int    `json:"level"`
}

// Rows returns what a valid verdict shows, in order: the profile, the bundle's holder, each
// licence with its fields (only those present), then the code's times, signer and trust list.
// A rejected verdict has none.
func (v *Verdict) Rows() []Row {
	if !v.Valid {
		return nil
	}
	var rows []Row
	add := func(r Row) {
		if r.Value != "" {
			rows = append(rows, r)
		}
	}
	p := qr.DisplayProfile(v.Profile)
	add(Row{Key: "profile", EN: "profile", ZH: "显示内容", Value: fmt.Sprintf("%d %s", v.Profile, v.ProfileName),
		ValueZH: profileZH[p], ValueEN: profileEN[p]})
	add(Row{Key: "holder_name", EN: "holder", ZH: "持证人", Value: v.HolderName})
	add(Row{Key: "holder_number", EN: "holder number", ZH: "证件号码", Value: v.HolderNumber})
	for i, l := range v.Licences {
		kind, _ := credentials.ParseKind(l.Kind)
		head := Row{Key: "kind", EN: "licence", ZH: "证照", Value: fmt.Sprintf("%s (%s)", l.KindName, l.Kind),
			ValueZH: l.KindName, ValueEN: kind.EnglishName()}
		if len(v.Licences) > 1 {
			head.EN = fmt.Sprintf("licence %d", i+1)
		}
		add(head)
		add(Row{Key: "name", EN: "name", ZH: "姓名/名称", Value: l.Name, Level: 1})
		add(Row{Key: "number", EN: "number", ZH: "证号", Value: l.Number, Level: 1})
		if l.Holder != l.Number {
			add(Row{Key: "holder", EN: "holder number", ZH: "持证人证件号码", Value: l.Holder, Level: 1})
		}
		add(Row{Key: "issuer", EN: "issuer", ZH: "发证机关", Value: l.Issuer, Level: 1})
		add(Row{Key: "valid_from", EN: "valid from", ZH: "起始日期", Value: l.ValidFrom, Level: 1})
		if l.LongTerm {
			add(Row{Key: "valid_until", EN: "valid until", ZH: "有效期至", Value: "长期 long-term", ValueZH: "长期", ValueEN: "long-term", Level: 1})
		} else {
			add(Row{Key: "valid_until", EN: "valid until", ZH: "有效期至", Value: l.ValidUntil, Level: 1})
		}
		st := credentials.Status(l.Status)
		add(Row{Key: "status", EN: "status", ZH: "状态", Value: l.Status, ValueZH: st.ChineseName(), ValueEN: l.Status, Level: 1})
		add(Row{Key: "colour", EN: "colour", ZH: "颜色", Value: l.Colour, ValueZH: colourZH[l.Colour], ValueEN: l.Colour, Level: 1})
		for _, spec := range credentials.FieldSpecs(kind) {
			if val, ok := l.Fields[spec.Name]; ok {
				add(Row{Key: "field:" + spec.Name, EN: spec.Name, ZH: spec.Label, Value: val, Level: 1})
			}
		}
	}
	add(Row{Key: "issued_at", EN: "code issued", ZH: "签发时间", Value: local(v.IssuedAt)})
	add(Row{Key: "expires_at", EN: "code expires", ZH: "过期时间", Value: local(v.ExpiresAt)})
	add(Row{Key: "signed_by", EN: "signed by", ZH: "签发方", Value: fmt.Sprintf("%s (key %s)", v.KeyIssuer, v.KeyID),
		ValueZH: fmt.Sprintf("%s（密钥 %s）", v.KeyIssuer, v.KeyID)})
	add(Row{Key: "trust_list", EN: "trust list", ZH: "信任列表", Value: fmt.Sprintf("sequence %d", v.TrustListSequence),
		ValueZH: fmt.Sprintf("序号 %d", v.TrustListSequence)})
	return rows
}

var (
	profileZH = map[qr.DisplayProfile]string{qr.ProfileMaskedIdentity: "身份核验", qr.ProfileFullRegistration: "完整信息", qr.ProfileBundle: "多码合一"}
	profileEN = map[qr.DisplayProfile]string{qr.ProfileMaskedIdentity: "identity check", qr.ProfileFullRegistration: "full registration", qr.ProfileBundle: "several licences"}
	colourZH  = map[string]string{credentials.ColourGreen: "绿码", credentials.ColourYellow: "黄码", credentials.ColourRed: "红码"}
)

// local shows an RFC 3339 time in China Standard Time, as counters read clocks.
func local(s string) string {
	t, err := time.Parse(time.RFC3339, s)
	if err != nil {
		return s
	}
	return t.In(credentials.ChinaStandardTime).Format("2006-01-02 15:04:05 -07:00")
}
