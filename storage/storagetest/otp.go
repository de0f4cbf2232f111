package storagetest

import (
	"bytes"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/tongban/tongban/storage"
)

func wantOTPDevice(d storage.OTPDevice) storage.OTPDevice {
	d.CreatedAt = stored(d.CreatedAt)
	d.SecretSealed = storedBytes(d.SecretSealed)
	return d
}

// testOTPDevices is the conformance suite of storage.OTPDevices: devices and recovery codes.
func testOTPDevices(t *testing.T, s storage.Storage) {
	ctx := t.Context()
	for _, id := range []string{"otp-alice", "otp-bob"} {
		must(t, "CreatePerson", s.CreatePerson(ctx, storage.Person{ID: id, Kind: storage.NaturalPerson, IDNumberIndex: index(id),
			CreatedAt: t0, UpdatedAt: t0}))
	}
	totp := storage.OTPDevice{ID: "dev-b", PersonID: "otp-alice", Name: "我的手机", Algorithm: storage.OTPAlgTOTP,
		SecretSealed: []byte("sealed-1"), Confirmed: true, LastUsedStep: 58_000_000, CreatedAt: t0}
	sm3 := storage.OTPDevice{ID: "dev-a", PersonID: "otp-alice", Name: "token", Algorithm: storage.OTPAlgSM3,
		SecretSealed: []byte("sealed-2"), CreatedAt: t0} // same time as totp: ordered by ID
	later := storage.OTPDevice{ID: "dev-0", PersonID: "otp-alice", Name: "later", Algorithm: storage.OTPAlgTOTP,
		SecretSealed: []byte("sealed-3"), CreatedAt: t0.Add(time.Minute)}
	old := storage.OTPDevice{ID: "dev-old", PersonID: "otp-bob", Name: "old", Algorithm: storage.OTPAlgTOTP,
		SecretSealed: []byte("sealed-4"), CreatedAt: pre1970}

	t.Run("CreateOTPDevice", func(t *testing.T) {
		for _, tc := range []struct {
			name    string
			d       storage.OTPDevice
			wantErr error
		}{
			{"ok/confirmed TOTP", totp, nil},
			{"ok/unconfirmed SM3", sm3, nil},
			{"ok/later", later, nil},
			{"ok/before 1970", old, nil},
			{"fail/duplicate ID", storage.OTPDevice{ID: totp.ID, PersonID: "otp-bob", SecretSealed: []byte("x"), CreatedAt: t0}, storage.ErrConflict},
			{"fail/unknown person", storage.OTPDevice{ID: "dev-x", PersonID: "nobody", SecretSealed: []byte("x"), CreatedAt: t0}, storage.ErrNotFound},
		} {
			t.Run(tc.name, func(t *testing.T) {
				checkErr(t, "CreateOTPDevice", s.CreateOTPDevice(ctx, tc.d), tc.wantErr)
			})
		}
	})
	t.Run("GetOTPDevice", func(t *testing.T) {
		got, err := s.GetOTPDevice(ctx, totp.ID)
		must(t, "GetOTPDevice", err)
		checkEqual(t, "device", got, wantOTPDevice(totp))
		got, err = s.GetOTPDevice(ctx, old.ID)
		must(t, "GetOTPDevice", err)
		checkEqual(t, "device before 1970", got, wantOTPDevice(old))
		_, err = s.GetOTPDevice(ctx, "nobody")
		checkErr(t, "GetOTPDevice unknown", err, storage.ErrNotFound)
	})
	t.Run("ListOTPDevices", func(t *testing.T) {
		got, err := s.ListOTPDevices(ctx, "otp-alice")
		must(t, "ListOTPDevices", err)
		checkEqual(t, "alice's devices", got, []storage.OTPDevice{wantOTPDevice(sm3), wantOTPDevice(totp), wantOTPDevice(later)})
		got, err = s.ListOTPDevices(ctx, "nobody")
		must(t, "ListOTPDevices", err)
		if got == nil || len(got) != 0 {
			t.Errorf("no devices: got %#v, want an empty list", got)
		}
	})
	t.Run("UpdateOTPDevice", func(t *testing.T) {
		must(t, "UpdateOTPDevice", s.UpdateOTPDevice(ctx, sm3.ID, func(d *storage.OTPDevice) error {
			d.Confirmed, d.LastUsedStep, d.Name = true, 28_000_000, "令牌"
			return nil
		}))
		want := sm3
		want.Confirmed, want.LastUsedStep, want.Name = true, 28_000_000, "令牌"
		got, _ := s.GetOTPDevice(ctx, sm3.ID)
		checkEqual(t, "updated device", got, wantOTPDevice(want))
		err := s.UpdateOTPDevice(ctx, sm3.ID, func(d *storage.OTPDevice) error {
			d.Name = "not written"
			return errBoom
		})
		if !errors.Is(err, errBoom) {
			t.Errorf("fn error: got %v", err)
		}
		err = s.UpdateOTPDevice(ctx, sm3.ID, func(d *storage.OTPDevice) error {
			d.PersonID = "otp-bob"
			return nil
		})
		if err == nil {
			t.Error("changing the person was accepted")
		}
		got, _ = s.GetOTPDevice(ctx, sm3.ID)
		checkEqual(t, "device after refused updates", got, wantOTPDevice(want))
		checkErr(t, "UpdateOTPDevice unknown", s.UpdateOTPDevice(ctx, "nobody", func(*storage.OTPDevice) error { return nil }), storage.ErrNotFound)
	})
	t.Run("DeleteUnconfirmedOTPDevices", func(t *testing.T) {
		// later (unconfirmed, t0+1m) and old (unconfirmed, 1969) are candidates; sm3 and totp
		// are confirmed. A device created exactly at the bound is kept.
		n, err := s.DeleteUnconfirmedOTPDevices(ctx, later.CreatedAt)
		must(t, "DeleteUnconfirmedOTPDevices", err)
		if n != 1 {
			t.Errorf("deleted %d, want 1 (the one before 1970)", n)
		}
		if _, err := s.GetOTPDevice(ctx, later.ID); err != nil {
			t.Errorf("device at the bound: %v", err)
		}
		n, err = s.DeleteUnconfirmedOTPDevices(ctx, later.CreatedAt.Add(time.Microsecond))
		must(t, "DeleteUnconfirmedOTPDevices", err)
		if n != 1 {
			t.Errorf("deleted %d, want 1", n)
		}
		if got, _ := s.ListOTPDevices(ctx, "otp-alice"); len(got) != 2 {
			t.Errorf("confirmed devices left: %d, want 2", len(got))
		}
	})
	t.Run("DeleteOTPDevice", func(t *testing.T) {
		must(t, "DeleteOTPDevice", s.DeleteOTPDevice(ctx, totp.ID))
		checkErr(t, "DeleteOTPDevice again", s.DeleteOTPDevice(ctx, totp.ID), storage.ErrNotFound)
		_, err := s.GetOTPDevice(ctx, totp.ID)
		checkErr(t, "GetOTPDevice deleted", err, storage.ErrNotFound)
	})

	h := func(i byte) []byte { return bytes.Repeat([]byte{i}, 32) }
	t.Run("RecoveryCodes", func(t *testing.T) {
		count := func(person string) int {
			t.Helper()
			n, err := s.CountRecoveryCodes(ctx, person)
			must(t, "CountRecoveryCodes", err)
			return n
		}
		if n := count("otp-alice"); n != 0 {
			t.Fatalf("no codes yet: count %d", n)
		}
		must(t, "SetRecoveryCodes", s.SetRecoveryCodes(ctx, "otp-alice", [][]byte{h(1), h(2), h(3)}, t0))
		must(t, "SetRecoveryCodes bob", s.SetRecoveryCodes(ctx, "otp-bob", [][]byte{h(9)}, t0))
		if n := count("otp-alice"); n != 3 {
			t.Fatalf("count %d, want 3", n)
		}
		for _, tc := range []struct {
			name    string
			person  string
			hash    []byte
			wantErr error
		}{
			{"ok/first use", "otp-alice", h(2), nil},
			{"fail/second use", "otp-alice", h(2), storage.ErrAlreadyUsed},
			{"fail/unknown code", "otp-alice", h(7), storage.ErrNotFound},
			{"fail/another person's code", "otp-alice", h(9), storage.ErrNotFound},
			{"fail/empty hash", "otp-alice", nil, storage.ErrNotFound},
		} {
			t.Run(tc.name, func(t *testing.T) {
				checkErr(t, "UseRecoveryCode", s.UseRecoveryCode(ctx, tc.person, tc.hash, t0), tc.wantErr)
			})
		}
		if n := count("otp-alice"); n != 2 {
			t.Errorf("count after one use %d, want 2", n)
		}
		// Duplicates are refused and change nothing.
		checkErr(t, "SetRecoveryCodes duplicates", s.SetRecoveryCodes(ctx, "otp-alice", [][]byte{h(4), h(4)}, t0), storage.ErrConflict)
		if n := count("otp-alice"); n != 2 {
			t.Errorf("count after refused replacement %d, want 2", n)
		}
		checkErr(t, "SetRecoveryCodes unknown person", s.SetRecoveryCodes(ctx, "nobody", [][]byte{h(5)}, t0), storage.ErrNotFound)
		// Replacing drops the old codes, used or not.
		must(t, "SetRecoveryCodes replace", s.SetRecoveryCodes(ctx, "otp-alice", [][]byte{h(2), h(5)}, t0.Add(time.Hour)))
		if n := count("otp-alice"); n != 2 {
			t.Errorf("count after replacement %d, want 2", n)
		}
		checkErr(t, "old code after replacement", s.UseRecoveryCode(ctx, "otp-alice", h(1), t0), storage.ErrNotFound)
		checkErr(t, "re-issued hash is unused again", s.UseRecoveryCode(ctx, "otp-alice", h(2), t0), nil)
		n, err := s.DeleteRecoveryCodes(ctx, "otp-alice")
		must(t, "DeleteRecoveryCodes", err)
		if n != 2 || count("otp-alice") != 0 || count("otp-bob") != 1 {
			t.Errorf("DeleteRecoveryCodes removed %d; left alice %d, bob %d", n, count("otp-alice"), count("otp-bob"))
		}
	})
	t.Run("RecoveryCodeConcurrentUse", func(t *testing.T) {
		must(t, "SetRecoveryCodes", s.SetRecoveryCodes(ctx, "otp-bob", [][]byte{h(8)}, t0))
		var wg sync.WaitGroup
		errs := make([]error, 8)
		for i := range errs {
			wg.Go(func() { errs[i] = s.UseRecoveryCode(ctx, "otp-bob", h(8), t0) })
		}
		wg.Wait()
		ok := 0
		for _, err := range errs {
			switch {
			case err == nil:
				ok++
			case !errors.Is(err, storage.ErrAlreadyUsed):
				t.Errorf("concurrent use: %v", err)
			}
		}
		if ok != 1 {
			t.Errorf("%d of 8 concurrent uses succeeded, want exactly 1", ok)
		}
	})
}
