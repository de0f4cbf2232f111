package credentials

import (
	"errors"
	"os"
	"strings"
	"testing"
	"time"
)

const (
	demoID      = "11010119900307002X"
	demoCredit  = "91110101MA01TB8K0H"
	examplePath = "../docs/examples/licences.jsonl"
)

// at returns noon China time on the given day.
func at(y int, m time.Month, d int) time.Time {
	return time.Date(y, m, d, 12, 0, 0, 0, ChinaStandardTime)
}

// demo returns the example file's licences keyed by kind.
func demo(t testing.TB) map[Kind]Licence {
	t.Helper()
	f, err := os.Open(examplePath)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	good, bad, err := ParseImport(f)
	if err != nil || len(bad) > 0 {
		t.Fatalf("ParseImport(%s): err %v, bad lines %v", examplePath, err, bad)
	}
	m := make(map[Kind]Licence)
	for _, l := range good {
		m[l.Kind] = l
	}
	return m
}

func TestExampleFile(t *testing.T) {
	m := demo(t)
	now := at(2026, time.December, 1)
	for _, k := range Kinds {
		l, ok := m[k]
		if !ok {
			t.Errorf("example file has no %s", k)
			continue
		}
		if err := l.Validate(); err != nil {
			t.Errorf("%s: %v", k, err)
		}
		if err := l.CheckShowable(now); err != nil {
			t.Errorf("%s not showable on %s: %v", k, DateOf(now), err)
		}
	}
	if len(m) != len(Kinds) {
		t.Errorf("example file has %d kinds, want %d", len(m), len(Kinds))
	}
}

func TestKinds(t *testing.T) {
	names := map[Kind]string{
		ResidentID: "居民身份证", SocialSecurity: "社会保障卡", MedicalInsurance: "医保电子凭证",
		DrivingLicence: "机动车驾驶证", VehicleLicence: "机动车行驶证", BusinessLicence: "营业执照",
		HealthCode: "健康码", TransitCode: "乘车码",
	}
	if len(Kinds) != 8 {
		t.Fatalf("len(Kinds) = %d", len(Kinds))
	}
	for _, k := range Kinds {
		got, err := ParseKind(string(k))
		if err != nil || got != k {
			t.Errorf("ParseKind(%q) = %q, %v", k, got, err)
		}
		if k.ChineseName() != names[k] {
			t.Errorf("%s.ChineseName() = %q, want %q", k, k.ChineseName(), names[k])
		}
		want := NaturalPerson
		if k == BusinessLicence {
			want = LegalPerson
		}
		if k.HolderType() != want {
			t.Errorf("%s.HolderType() = %v", k, k.HolderType())
		}
		if len(FieldSpecs(k)) == 0 {
			t.Errorf("%s has no fields", k)
		}
		seen := map[int]bool{}
		for _, f := range FieldSpecs(k) {
			if f.Code < 1 || f.Code > 31 || seen[f.Code] {
				t.Errorf("%s.%s: bad or repeated code %d", k, f.Name, f.Code)
			}
			seen[f.Code] = true
		}
	}
	for _, bad := range []string{"", "Resident-ID", "passport", "resident_id"} {
		if _, err := ParseKind(bad); !errors.Is(err, ErrUnknownKind) {
			t.Errorf("ParseKind(%q) = %v, want ErrUnknownKind", bad, err)
		}
	}
	if _, err := ParseStatus("valid"); err != nil {
		t.Error(err)
	}
	if _, err := ParseStatus("VALID"); !errors.Is(err, ErrUnknownStatus) {
		t.Errorf("ParseStatus(VALID) = %v", err)
	}
}

func TestDate(t *testing.T) {
	d, err := ParseDate("1990-03-07")
	if err != nil || d != NewDate(1990, time.March, 7) || d.String() != "1990-03-07" {
		t.Fatalf("ParseDate = %v, %v", d, err)
	}
	for _, bad := range []string{"", "1990-3-7", "1990-02-30", "19900307", "1899-12-31", "2200-01-01", "1990-03-07T00:00:00Z"} {
		if _, err := ParseDate(bad); !errors.Is(err, ErrInvalidDates) {
			t.Errorf("ParseDate(%q) = %v, want ErrInvalidDates", bad, err)
		}
	}
	for _, s := range []string{"1900-01-01", "1969-12-31", "1970-01-01", "2036-08-01", "2199-12-31"} {
		d, _ := ParseDate(s)
		if got := DateFromDays(d.DaysSinceEpoch()); got != d {
			t.Errorf("DateFromDays(%d) = %v, want %v", d.DaysSinceEpoch(), got, d)
		}
	}
	if n := NewDate(1970, time.January, 2).DaysSinceEpoch(); n != 1 {
		t.Errorf("1970-01-02 is day %d", n)
	}
	// 23:30 UTC on 1 March is already 2 March in Beijing.
	if got := DateOf(time.Date(2026, 3, 1, 23, 30, 0, 0, time.UTC)); got != NewDate(2026, 3, 2) {
		t.Errorf("DateOf = %v", got)
	}
}

func TestValidate(t *testing.T) {
	m := demo(t)
	tests := []struct {
		name   string
		kind   Kind
		mutate func(l *Licence)
		want   error
	}{
		{"ok/resident-id", ResidentID, func(*Licence) {}, nil},
		{"ok/business-licence", BusinessLicence, func(*Licence) {}, nil},
		{"ok/long-term-resident-id", ResidentID, func(l *Licence) { l.ValidUntil = nil }, nil},
		{"fail/unknown-kind", ResidentID, func(l *Licence) { l.Kind = "passport" }, ErrUnknownKind},
		{"fail/unknown-status", ResidentID, func(l *Licence) { l.Status = "lost" }, ErrUnknownStatus},
		{"fail/holder-check-char", ResidentID, func(l *Licence) { l.Holder = "110101199003070021"; l.Number = l.Holder }, ErrInvalidHolder},
		{"fail/holder-empty", SocialSecurity, func(l *Licence) { l.Holder = "" }, ErrMissingField},
		{"fail/business-held-by-person", BusinessLicence, func(l *Licence) { l.Holder = demoID; l.Number = demoID }, ErrInvalidHolder},
		{"fail/person-kind-held-by-company", DrivingLicence, func(l *Licence) { l.Holder = demoCredit; l.Number = demoCredit }, ErrInvalidHolder},
		{"fail/resident-id-number-not-holder", ResidentID, func(l *Licence) { l.Number = "110102198805120131" }, ErrInvalidNumber},
		{"fail/plate", VehicleLicence, func(l *Licence) { l.Number = "AB12345" }, ErrInvalidNumber},
		{"fail/generic-number-lowercase", TransitCode, func(l *Licence) { l.Number = "tc1101000307" }, ErrInvalidNumber},
		{"fail/no-issuer", ResidentID, func(l *Licence) { l.Issuer = "" }, ErrMissingField},
		{"fail/no-name", ResidentID, func(l *Licence) { l.HolderName = "" }, ErrMissingField},
		{"fail/name-control-char", ResidentID, func(l *Licence) { l.HolderName = "林\n晓彤" }, ErrInvalidField},
		{"fail/no-valid-from", ResidentID, func(l *Licence) { l.ValidFrom = Date{} }, ErrMissingField},
		{"fail/until-before-from", ResidentID, func(l *Licence) { d := NewDate(2010, 1, 1); l.ValidUntil = &d }, ErrInvalidDates},
		{"fail/health-code-long-term", HealthCode, func(l *Licence) { l.ValidUntil = nil }, ErrInvalidDates},
		{"fail/vehicle-long-term", VehicleLicence, func(l *Licence) { l.ValidUntil = nil }, ErrInvalidDates},
		{"fail/missing-required-field", ResidentID, func(l *Licence) { delete(l.Fields, "address") }, ErrMissingField},
		{"fail/empty-field", SocialSecurity, func(l *Licence) { l.Fields["bank"] = "" }, ErrMissingField},
		{"fail/unknown-field", ResidentID, func(l *Licence) { l.Fields["blood_type"] = "A" }, ErrUnknownField},
		{"fail/health-colour", HealthCode, func(l *Licence) { l.Fields["colour"] = "blue" }, ErrInvalidField},
		{"fail/birth-date-mismatch", ResidentID, func(l *Licence) { l.Fields["birth_date"] = "1990-03-08" }, ErrInvalidField},
		{"fail/sex-mismatch", ResidentID, func(l *Licence) { l.Fields["sex"] = "男" }, ErrInvalidField},
		{"fail/driving-class", DrivingLicence, func(l *Licence) { l.Fields["class"] = "C9" }, ErrInvalidField},
		{"fail/first-issue-after-valid-from", DrivingLicence, func(l *Licence) { l.Fields["first_issue"] = "2023-01-01" }, ErrInvalidField},
		{"fail/vin-with-letter-o", VehicleLicence, func(l *Licence) { l.Fields["vin"] = "LSVAM4187C2184O67" }, ErrInvalidField},
		{"fail/insurance-type", MedicalInsurance, func(l *Licence) { l.Fields["insurance_type"] = "商业保险" }, ErrInvalidField},
		{"fail/agents-on-person-kind", ResidentID, func(l *Licence) { l.Agents = []string{demoID} }, ErrUnknownField},
		{"fail/agent-invalid", BusinessLicence, func(l *Licence) { l.Agents = []string{"110101199003070021"} }, ErrInvalidHolder},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			l := m[tt.kind].Clone()
			tt.mutate(&l)
			err := l.Validate()
			if tt.want == nil {
				if err != nil {
					t.Fatalf("Validate = %v", err)
				}
				return
			}
			if !errors.Is(err, tt.want) {
				t.Fatalf("Validate = %v, want %v", err, tt.want)
			}
		})
	}
}

func TestValidateReportsAll(t *testing.T) {
	l := demo(t)[ResidentID].Clone()
	l.Issuer = ""
	l.Fields["sex"] = "男"
	err := l.Validate()
	if !errors.Is(err, ErrMissingField) || !errors.Is(err, ErrInvalidField) {
		t.Errorf("Validate = %v, want both problems", err)
	}
}

func TestValidateSelection(t *testing.T) {
	l := demo(t)[ResidentID].WithFields("ethnicity")
	if len(l.Fields) != 1 {
		t.Fatalf("WithFields kept %v", l.Fields)
	}
	if err := l.ValidateSelection(); err != nil {
		t.Errorf("ValidateSelection = %v", err)
	}
	if err := l.Validate(); !errors.Is(err, ErrMissingField) {
		t.Errorf("Validate = %v, want ErrMissingField", err)
	}
	l.Fields["ethnicity"] = "汉\x00"
	if err := l.ValidateSelection(); !errors.Is(err, ErrInvalidField) {
		t.Errorf("ValidateSelection = %v, want ErrInvalidField", err)
	}
}

func TestStatus(t *testing.T) {
	m := demo(t)
	until := func(l Licence) Licence { d := NewDate(2026, 12, 31); l.ValidUntil = &d; return l }
	tests := []struct {
		name      string
		l         Licence
		now       time.Time
		effective Status
		want      error
	}{
		{"ok/valid", m[ResidentID], at(2026, 12, 1), StatusValid, nil},
		{"ok/last-day", until(m[ResidentID]), time.Date(2026, 12, 31, 23, 59, 59, 0, ChinaStandardTime), StatusValid, nil},
		{"fail/day-after", until(m[ResidentID]), time.Date(2027, 1, 1, 0, 0, 0, 0, ChinaStandardTime), StatusExpired, ErrLicenceExpired},
		{"fail/day-after-utc", until(m[ResidentID]), time.Date(2026, 12, 31, 16, 0, 0, 0, time.UTC), StatusExpired, ErrLicenceExpired},
		{"fail/revoked", withStatus(m[DrivingLicence], StatusRevoked), at(2026, 12, 1), StatusRevoked, ErrLicenceRevoked},
		{"fail/suspended", withStatus(m[DrivingLicence], StatusSuspended), at(2026, 12, 1), StatusSuspended, ErrLicenceSuspended},
		{"fail/marked-expired", withStatus(m[DrivingLicence], StatusExpired), at(2026, 12, 1), StatusExpired, ErrLicenceExpired},
		{"fail/not-yet-valid", m[HealthCode], at(2026, 10, 31), StatusValid, ErrLicenceNotYetValid},
		{"ok/long-term", m[MedicalInsurance], at(2199, 1, 1), StatusValid, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.l.EffectiveStatus(tt.now); got != tt.effective {
				t.Errorf("EffectiveStatus = %s, want %s", got, tt.effective)
			}
			err := tt.l.CheckShowable(tt.now)
			if (tt.want == nil && err != nil) || !errors.Is(err, tt.want) {
				t.Errorf("CheckShowable = %v, want %v", err, tt.want)
			}
		})
	}
}

func withStatus(l Licence, s Status) Licence { l.Status = s; return l }

func TestHolderLinks(t *testing.T) {
	f, err := os.Open(examplePath)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	all, _, err := ParseImport(f)
	if err != nil {
		t.Fatal(err)
	}
	if got := ForHolder(all, demoID); len(got) != 7 {
		t.Errorf("ForHolder(citizen) = %d licences, want 7", len(got))
	}
	if got := ForHolder(all, strings.ToLower(demoID)); len(got) != 7 {
		t.Errorf("ForHolder(lowercase x) = %d licences, want 7", len(got))
	}
	if got := ForHolder(all, demoCredit); len(got) != 1 || got[0].Kind != BusinessLicence {
		t.Errorf("ForHolder(company) = %v", got)
	}
	if got := ForAgent(all, demoID); len(got) != 1 || got[0].Holder != demoCredit {
		t.Errorf("ForAgent(citizen) = %v", got)
	}
	if got := ForAgent(all, "110102198805120131"); len(got) != 0 {
		t.Errorf("ForAgent(stranger) = %v", got)
	}
}

func TestMasking(t *testing.T) {
	m := demo(t)
	tests := []struct {
		kind         Kind
		name, number string
	}{
		{ResidentID, "林*彤", "110101********002X"},
		{SocialSecurity, "林*彤", "****4261"},
		{VehicleLicence, "林*彤", "京A***26"},
		{BusinessLicence, "北京同办示例科技有限公司", ""},
	}
	for _, tt := range tests {
		l := m[tt.kind]
		if got := l.MaskedHolderName(); got != tt.name {
			t.Errorf("%s MaskedHolderName = %q, want %q", tt.kind, got, tt.name)
		}
		if tt.number != "" && l.MaskedNumber() != tt.number {
			t.Errorf("%s MaskedNumber = %q, want %q", tt.kind, l.MaskedNumber(), tt.number)
		}
	}
}
