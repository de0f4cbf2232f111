package storagetest

import (
	"bytes"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/tongban/tongban/storage"
)

// Run runs the conformance suite, one subtest per interface. newStore must return a new,
// empty store each time it is called and close it when the test ends (t.Cleanup), as SQLite
// and Postgres do.
func Run(t *testing.T, newStore func(t *testing.T) storage.Storage) {
	for _, c := range []struct {
		name string
		test func(*testing.T, storage.Storage)
	}{
		{"People", testPeople},
		{"Clients", testClients},
		{"Tokens", testTokens},
		{"LoginSessions", testLoginSessions},
		{"Consents", testConsents},
		{"Keys", testKeys},
		{"Licences", testLicences},
		{"LicenceStatusIndexes", testLicenceStatusIndexes},
		{"Nonces", testNonces},
		{"Audit", testAudit},
		{"Throttle", testThrottle},
		{"Ping", testPing},
		{"Heartbeat", testHeartbeat},
		{"Revocations", testRevocations},
		{"Transactions", testTransactions},
		{"Concurrency", testConcurrency},
		{"FailureStats", testFailureStats},
		{"DeviceAuthorizations", testDeviceAuthorizations},
		{"OTPDevices", testOTPDevices},
		{"ScanLogins", testScanLogins},
		{"SelfService", testSelfService},
		{"Passkeys", testPasskeys},
		{"ClientPurpose", testClientPurpose},       // lookup.go
		{"AppStats", testAppStats},                 // appstats.go
		{"Apps", testApps},                         // apps.go
		{"PeopleAdmin", testPeopleAdmin},           // people_admin.go
		{"Agents", testAgents},                     // agents.go
		{"AdminRoles", testAdminRoles},             // admin_roles.go
		{"AppGaps", testAppGaps},                   // appgaps.go
		{"ExchangePolicies", testExchangePolicies}, // exchange.go
		{"Upstreams", testUpstreams},               // broker.go
		{"SingleLogout", testSingleLogout},         // logout.go
		{"UpstreamLogout", testUpstreamLogout},     // logout2.go
		{"NonceChecks", testNonceChecks},           // brokerspeed.go
		{"CodeRecords", testCodeRecords},           // receipts.go
		{"Counters", testCounters},                 // receipts.go
		{"Federation", testFederation},             // federation.go
		{"FederationRP", testFederationRP},         // federation_rp.go
	} {
		t.Run(c.name, func(t *testing.T) {
			c.test(t, newStore(t))
		})
	}
}

// t0 is the suite's reference instant: nanoseconds below the microsecond and a zone other
// than UTC, so every round trip checks truncation and the UTC result.
var t0 = time.Date(2025, 3, 7, 9, 30, 15, 123456789, time.FixedZone("CST", 8*60*60))

// pre1970 is before the Unix epoch (negative microseconds), with sub-microsecond digits.
var pre1970 = time.Date(1969, 12, 31, 23, 59, 59, 999999500, time.UTC)

// stored is t as the store returns it.
func stored(t time.Time) time.Time { return t.Truncate(time.Microsecond).UTC() }

// storedPtr is *t as the store returns it.
func storedPtr(t *time.Time) *time.Time {
	if t == nil {
		return nil
	}
	v := stored(*t)
	return &v
}

// storedBytes is b as the store returns it: empty is nil.
func storedBytes(b []byte) []byte {
	if len(b) == 0 {
		return nil
	}
	return b
}

// ptr returns a pointer to t.
func ptr(t time.Time) *time.Time { return &t }

// index returns a 32-byte stand-in for a blind index.
func index(name string) []byte {
	b := bytes.Repeat([]byte{0}, 32)
	copy(b, name)
	return b
}

var errBoom = errors.New("storagetest: the update function failed")

// checkErr reports whether err is what the case wants (nil or errors.Is want).
func checkErr(t *testing.T, op string, err, want error) bool {
	t.Helper()
	switch {
	case want == nil && err != nil:
		t.Errorf("%s: unexpected error %v", op, err)
		return false
	case want != nil && !errors.Is(err, want):
		t.Errorf("%s: error %v, want %v", op, err, want)
		return false
	}
	return true
}

// must fails the test now when err is not nil.
func must(t *testing.T, op string, err error) {
	t.Helper()
	if err != nil {
		t.Fatalf("%s: %v", op, err)
	}
}

// checkEqual reports the fields in which got and want (structs, or slices of structs) differ.
func checkEqual(t *testing.T, what string, got, want any) {
	t.Helper()
	if reflect.DeepEqual(got, want) {
		return
	}
	t.Errorf("%s differs:\n%s", what, diff(reflect.ValueOf(got), reflect.ValueOf(want), ""))
}

func diff(got, want reflect.Value, path string) string {
	if got.Kind() == reflect.Slice && got.Type().Elem().Kind() == reflect.Struct {
		if got.Len() != want.Len() {
			return fmt.Sprintf("  %s: %d elements, want %d\n    got  %s\n    want %s\n", path, got.Len(), want.Len(),
				show(got), show(want))
		}
		var b strings.Builder
		for i := range got.Len() {
			b.WriteString(diff(got.Index(i), want.Index(i), fmt.Sprintf("%s[%d]", path, i)))
		}
		return b.String()
	}
	if got.Kind() != reflect.Struct || got.Type() == reflect.TypeFor[time.Time]() {
		return fmt.Sprintf("  %s: got %s, want %s\n", path, show(got), show(want))
	}
	var b strings.Builder
	for i := range got.NumField() {
		g, w := got.Field(i), want.Field(i)
		if !reflect.DeepEqual(g.Interface(), w.Interface()) {
			b.WriteString(fmt.Sprintf("  %s%s: got %s, want %s\n", path, "."+got.Type().Field(i).Name, show(g), show(w)))
		}
	}
	return b.String()
}

// show formats v for a diff, with nil and empty slices told apart and pointers followed.
func show(v reflect.Value) string {
	switch v.Kind() {
	case reflect.Pointer:
		if v.IsNil() {
			return "nil"
		}
		return "&" + show(v.Elem())
	case reflect.Slice:
		if v.IsNil() {
			return fmt.Sprintf("%s(nil)", v.Type())
		}
	}
	if t, ok := v.Interface().(time.Time); ok {
		return t.Format(time.RFC3339Nano + " MST")
	}
	return fmt.Sprintf("%#v", v.Interface())
}
