// Package accountstest has helpers for tests that register people with package accounts.
package accountstest

import (
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	"github.com/tongban/tongban/idnumber"
)

var seq atomic.Int64

// ResidentID returns a valid resident ID number (GB 11643-1999) that no earlier call of this
// process returned: region 110101, a birth date from 1960-01-01 on and a sequence number,
// with the check character computed. Tests that share a database register each person once.
func ResidentID(t testing.TB) string {
	t.Helper()
	n := int(seq.Add(1))
	first17 := fmt.Sprintf("110101%s%03d", time.Date(1960, 1, 1, 0, 0, 0, 0, time.UTC).AddDate(0, 0, n/900).Format("20060102"), n%900+100)
	c, err := idnumber.ResidentIDCheckChar(first17)
	if err != nil {
		t.Fatal(err)
	}
	return first17 + string(c)
}
