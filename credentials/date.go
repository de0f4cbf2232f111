package credentials

import (
	"fmt"
	"time"
)

// ChinaStandardTime is UTC+8 (北京时间), the zone in which licence dates
// begin and end. It is a fixed zone so no tzdata is needed.
var ChinaStandardTime = time.FixedZone("CST", 8*60*60)

// Date is a calendar date as printed on a licence (e.g. 有效期限 2020.03.07),
// with no time of day and no zone; it is read in ChinaStandardTime. Its
// text form is ISO 8601 "YYYY-MM-DD". The zero Date is not a valid date.
type Date struct {
	Year  int
	Month time.Month
	Day   int
}

// NewDate returns the Date y-m-d; it does not normalise out-of-range values
// (use ParseDate or Valid to check).
func NewDate(y int, m time.Month, d int) Date { return Date{y, m, d} }

// DateOf returns the calendar day of t in ChinaStandardTime.
func DateOf(t time.Time) Date {
	y, m, d := t.In(ChinaStandardTime).Date()
	return Date{y, m, d}
}

// ParseDate parses "YYYY-MM-DD" (exactly 10 characters, a real calendar
// day, year 1900–2199). It returns ErrInvalidDates on any other input; the
// error does not repeat the input, which may be a birth date.
func ParseDate(s string) (Date, error) {
	t, err := time.Parse(time.DateOnly, s)
	if err != nil || len(s) != 10 {
		return Date{}, fmt.Errorf("%w: not a YYYY-MM-DD date", ErrInvalidDates)
	}
	d := Date{t.Year(), t.Month(), t.Day()}
	if !d.Valid() {
		return Date{}, fmt.Errorf("%w: outside 1900–2199", ErrInvalidDates)
	}
	return d, nil
}

// Valid reports whether d is a real calendar day in 1900–2199.
func (d Date) Valid() bool {
	if d.Year < 1900 || d.Year > 2199 {
		return false
	}
	y, m, dd := d.midnightUTC().Date()
	return y == d.Year && m == d.Month && dd == d.Day
}

// IsZero reports whether d is the zero Date.
func (d Date) IsZero() bool { return d == Date{} }

// String returns "YYYY-MM-DD".
func (d Date) String() string { return fmt.Sprintf("%04d-%02d-%02d", d.Year, d.Month, d.Day) }

// Compare returns -1, 0 or +1 as d is before, equal to or after e.
func (d Date) Compare(e Date) int {
	switch {
	case d.Year != e.Year:
		return sign(d.Year - e.Year)
	case d.Month != e.Month:
		return sign(int(d.Month) - int(e.Month))
	default:
		return sign(d.Day - e.Day)
	}
}

// Before reports whether d is before e.
func (d Date) Before(e Date) bool { return d.Compare(e) < 0 }

// After reports whether d is after e.
func (d Date) After(e Date) bool { return d.Compare(e) > 0 }

// Start returns the first instant of d in ChinaStandardTime (00:00:00 +08:00).
func (d Date) Start() time.Time {
	return time.Date(d.Year, d.Month, d.Day, 0, 0, 0, 0, ChinaStandardTime)
}

// DaysSinceEpoch returns the number of days from 1970-01-01 to d, the
// integer form of RFC 8943 (CBOR tag 100) without the tag. Negative before
// 1970.
func (d Date) DaysSinceEpoch() int64 {
	return d.midnightUTC().Unix() / 86400
}

// DateFromDays is the inverse of DaysSinceEpoch.
func DateFromDays(n int64) Date {
	y, m, d := time.Unix(n*86400, 0).UTC().Date()
	return Date{y, m, d}
}

// MarshalText returns "YYYY-MM-DD"; it fails for an invalid Date.
func (d Date) MarshalText() ([]byte, error) {
	if !d.Valid() {
		return nil, fmt.Errorf("%w: not a date in 1900–2199", ErrInvalidDates)
	}
	return []byte(d.String()), nil
}

// UnmarshalText parses "YYYY-MM-DD" as ParseDate does.
func (d *Date) UnmarshalText(b []byte) error {
	v, err := ParseDate(string(b))
	if err != nil {
		return err
	}
	*d = v
	return nil
}

func (d Date) midnightUTC() time.Time {
	return time.Date(d.Year, d.Month, d.Day, 0, 0, 0, 0, time.UTC)
}

func sign(n int) int {
	switch {
	case n < 0:
		return -1
	case n > 0:
		return 1
	}
	return 0
}
