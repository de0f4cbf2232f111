package storagetest

import (
	"bytes"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/tongban/tongban/storage"
)

func wantPasskey(pk storage.Passkey) storage.Passkey {
	pk.AAGUID = storedBytes(pk.AAGUID)
	pk.CreatedAt = stored(pk.CreatedAt)
	pk.LastUsedAt = storedPtr(pk.LastUsedAt)
	return pk
}

// testPasskeys checks storage.Passkeys: user handles (one per person, unique), credential
// records (every field round-trips, the credential ID is unique across people), the updater
// (row held, so racing signature-counter updates are serialised) and deletion scoped to the
// owner.
func testPasskeys(t *testing.T, s storage.Storage) {
	ctx := t.Context()
	for _, id := range []string{"pk-alice", "pk-bob"} {
		must(t, "CreatePerson", s.CreatePerson(ctx, storage.Person{ID: id, Kind: storage.NaturalPerson, IDNumberIndex: index(id),
			CreatedAt: t0, UpdatedAt: t0}))
	}
	handleA, handleB := bytes.Repeat([]byte{0xa1}, 32), bytes.Repeat([]byte{0xb2}, 64)

	t.Run("EnsurePasskeyUserHandle", func(t *testing.T) {
		for _, tc := range []struct {
			name     string
			person   string
			handle   []byte
			want     []byte
			wantErr  error
			anyError bool
		}{
			{"ok/first handle is stored", "pk-alice", handleA, handleA, nil, false},
			{"ok/second call keeps the first handle", "pk-alice", bytes.Repeat([]byte{0xcc}, 32), handleA, nil, false},
			{"ok/another person, 64-byte handle", "pk-bob", handleB, handleB, nil, false},
			{"fail/person missing", "nobody", bytes.Repeat([]byte{0xdd}, 32), nil, storage.ErrNotFound, false},
			{"fail/empty handle", "pk-bob", nil, nil, nil, true},
		} {
			t.Run(tc.name, func(t *testing.T) {
				got, err := s.EnsurePasskeyUserHandle(ctx, tc.person, tc.handle)
				if tc.anyError {
					if err == nil {
						t.Fatal("EnsurePasskeyUserHandle: want an error")
					}
					return
				}
				if checkErr(t, "EnsurePasskeyUserHandle", err, tc.wantErr) && tc.wantErr == nil && !bytes.Equal(got, tc.want) {
					t.Errorf("handle %x, want %x", got, tc.want)
				}
			})
		}
		t.Run("fail/handle taken by another person", func(t *testing.T) {
			must(t, "CreatePerson", s.CreatePerson(ctx, storage.Person{ID: "pk-carol", Kind: storage.NaturalPerson,
				IDNumberIndex: index("pk-carol")}))
			_, err := s.EnsurePasskeyUserHandle(ctx, "pk-carol", handleA)
			checkErr(t, "EnsurePasskeyUserHandle", err, storage.ErrConflict)
		})
	})

	t.Run("PersonByPasskeyUserHandle", func(t *testing.T) {
		for _, tc := range []struct {
			name    string
			handle  []byte
			want    string
			wantErr error
		}{
			{"ok/alice", handleA, "pk-alice", nil},
			{"ok/bob", handleB, "pk-bob", nil},
			{"fail/unknown", bytes.Repeat([]byte{0xa1}, 31), "", storage.ErrNotFound},
			{"fail/empty", nil, "", storage.ErrNotFound},
		} {
			t.Run(tc.name, func(t *testing.T) {
				got, err := s.PersonByPasskeyUserHandle(ctx, tc.handle)
				if checkErr(t, "PersonByPasskeyUserHandle", err, tc.wantErr) && got != tc.want {
					t.Errorf("person %q, want %q", got, tc.want)
				}
			})
		}
	})

	used := t0.Add(time.Hour)
	full := storage.Passkey{
		CredentialID: []byte("credential-full-0123"), PersonID: "pk-alice", PublicKey: []byte{0xa5, 0x01, 0x02, 0x03, 0x26},
		SignCount: 1<<32 - 1, AAGUID: bytes.Repeat([]byte{0x01}, 16), AttestationType: "self", AttestationFormat: "packed",
		Transports: []string{"internal", "hybrid"}, UserVerified: true, BackupEligible: true, BackupState: true,
		CloneWarning: true, Name: "我的手机", CreatedAt: t0, LastUsedAt: &used,
	}
	minimal := storage.Passkey{
		CredentialID: []byte("credential-minimal"), PersonID: "pk-alice", PublicKey: []byte{0xa0}, AAGUID: []byte{},
		AttestationType: "none", AttestationFormat: "none", CreatedAt: pre1970,
	}
	bobs := storage.Passkey{CredentialID: []byte("credential-bob"), PersonID: "pk-bob", PublicKey: []byte{0xa0},
		Transports: []string{}, CreatedAt: t0}

	t.Run("CreatePasskey", func(t *testing.T) {
		for _, tc := range []struct {
			name    string
			pk      storage.Passkey
			wantErr error
		}{
			{"ok/every field, counter at 2^32-1", full, nil},
			{"ok/minimal, registered before 1970", minimal, nil},
			{"ok/another person, empty transports", bobs, nil},
			{"fail/credential ID of the same person", storage.Passkey{CredentialID: full.CredentialID, PersonID: "pk-alice",
				PublicKey: []byte{1}}, storage.ErrConflict},
			{"fail/credential ID of another person", storage.Passkey{CredentialID: full.CredentialID, PersonID: "pk-bob",
				PublicKey: []byte{1}}, storage.ErrConflict},
			{"fail/person missing", storage.Passkey{CredentialID: []byte("orphan"), PersonID: "nobody", PublicKey: []byte{1}},
				storage.ErrNotFound},
		} {
			t.Run(tc.name, func(t *testing.T) {
				checkErr(t, "CreatePasskey", s.CreatePasskey(ctx, tc.pk), tc.wantErr)
			})
		}
		if err := s.CreatePasskey(ctx, storage.Passkey{CredentialID: nil, PersonID: "pk-bob", PublicKey: []byte{1}}); err == nil {
			t.Error("CreatePasskey with an empty credential ID: want an error")
		}
	})

	t.Run("GetPasskey", func(t *testing.T) {
		for _, tc := range []struct {
			name    string
			id      []byte
			want    storage.Passkey
			wantErr error
		}{
			{"ok/every field", full.CredentialID, full, nil},
			{"ok/minimal: empty AAGUID is nil, nil transports stay nil", minimal.CredentialID, minimal, nil},
			{"ok/empty transports stay empty", bobs.CredentialID, bobs, nil},
			{"fail/unknown", []byte("credential-none"), storage.Passkey{}, storage.ErrNotFound},
			{"fail/prefix of a known ID", full.CredentialID[:10], storage.Passkey{}, storage.ErrNotFound},
			{"fail/empty", nil, storage.Passkey{}, storage.ErrNotFound},
		} {
			t.Run(tc.name, func(t *testing.T) {
				got, err := s.GetPasskey(ctx, tc.id)
				if checkErr(t, "GetPasskey", err, tc.wantErr) && tc.wantErr == nil {
					checkEqual(t, "passkey", got, wantPasskey(tc.want))
				}
			})
		}
	})

	t.Run("ListPasskeys", func(t *testing.T) {
		for _, tc := range []struct {
			name   string
			person string
			want   []storage.Passkey
		}{
			{"ok/oldest first", "pk-alice", []storage.Passkey{wantPasskey(minimal), wantPasskey(full)}},
			{"ok/only the person's own", "pk-bob", []storage.Passkey{wantPasskey(bobs)}},
			{"ok/none is empty", "pk-carol", []storage.Passkey{}},
		} {
			t.Run(tc.name, func(t *testing.T) {
				got, err := s.ListPasskeys(ctx, tc.person)
				must(t, "ListPasskeys", err)
				if got == nil {
					t.Fatal("ListPasskeys returned nil, want an empty list")
				}
				checkEqual(t, "passkeys", got, tc.want)
			})
		}
	})

	t.Run("UpdatePasskey", func(t *testing.T) {
		later := t0.Add(2 * time.Hour)
		t.Run("ok/counter, flags, name and last use", func(t *testing.T) {
			must(t, "UpdatePasskey", s.UpdatePasskey(ctx, "pk-alice", minimal.CredentialID, func(pk *storage.Passkey) error {
				pk.SignCount, pk.BackupState, pk.Name, pk.LastUsedAt = 42, true, "平板", &later
				return nil
			}))
			want := minimal
			want.SignCount, want.BackupState, want.Name, want.LastUsedAt = 42, true, "平板", &later
			got, err := s.GetPasskey(ctx, minimal.CredentialID)
			must(t, "GetPasskey", err)
			checkEqual(t, "passkey", got, wantPasskey(want))
		})
		t.Run("fail/fn error writes nothing", func(t *testing.T) {
			err := s.UpdatePasskey(ctx, "pk-alice", minimal.CredentialID, func(pk *storage.Passkey) error {
				pk.SignCount = 99
				return errBoom
			})
			checkErr(t, "UpdatePasskey", err, errBoom)
			got, err := s.GetPasskey(ctx, minimal.CredentialID)
			must(t, "GetPasskey", err)
			if got.SignCount != 42 {
				t.Errorf("sign count %d after a failed update, want 42", got.SignCount)
			}
		})
		t.Run("fail/another person's passkey", func(t *testing.T) {
			err := s.UpdatePasskey(ctx, "pk-bob", minimal.CredentialID, func(*storage.Passkey) error { return nil })
			checkErr(t, "UpdatePasskey", err, storage.ErrNotFound)
		})
		t.Run("fail/unknown", func(t *testing.T) {
			err := s.UpdatePasskey(ctx, "pk-alice", []byte("credential-none"), func(*storage.Passkey) error { return nil })
			checkErr(t, "UpdatePasskey", err, storage.ErrNotFound)
		})
		t.Run("fail/fn changes the owner", func(t *testing.T) {
			err := s.UpdatePasskey(ctx, "pk-alice", minimal.CredentialID, func(pk *storage.Passkey) error {
				pk.PersonID = "pk-bob"
				return nil
			})
			if err == nil {
				t.Fatal("UpdatePasskey let fn change PersonID")
			}
			got, _ := s.GetPasskey(ctx, minimal.CredentialID)
			if got.PersonID != "pk-alice" {
				t.Fatalf("owner %q after a refused update", got.PersonID)
			}
		})
		t.Run("ok/racing counter updates: exactly one wins", func(t *testing.T) {
			const n = 8
			errStale := errors.New("counter did not increase")
			var wg sync.WaitGroup
			errs := make([]error, n)
			for i := range n {
				wg.Go(func() {
					errs[i] = s.UpdatePasskey(ctx, "pk-alice", minimal.CredentialID, func(pk *storage.Passkey) error {
						if pk.SignCount >= 43 {
							return errStale
						}
						pk.SignCount = 43
						return nil
					})
				})
			}
			wg.Wait()
			wins := 0
			for _, err := range errs {
				switch {
				case err == nil:
					wins++
				case !errors.Is(err, errStale):
					t.Errorf("racing update: %v", err)
				}
			}
			if wins != 1 {
				t.Errorf("%d racing updates to the same counter value won, want 1", wins)
			}
		})
	})

	t.Run("DeletePasskey", func(t *testing.T) {
		for _, tc := range []struct {
			name    string
			person  string
			id      []byte
			wantErr error
		}{
			{"fail/another person's passkey", "pk-bob", full.CredentialID, storage.ErrNotFound},
			{"ok/own passkey", "pk-alice", full.CredentialID, nil},
			{"fail/already deleted", "pk-alice", full.CredentialID, storage.ErrNotFound},
			{"fail/unknown", "pk-alice", []byte("credential-none"), storage.ErrNotFound},
		} {
			t.Run(tc.name, func(t *testing.T) {
				checkErr(t, "DeletePasskey", s.DeletePasskey(ctx, tc.person, tc.id), tc.wantErr)
			})
		}
		if _, err := s.GetPasskey(ctx, full.CredentialID); !errors.Is(err, storage.ErrNotFound) {
			t.Errorf("GetPasskey after delete: %v, want ErrNotFound", err)
		}
		got, err := s.ListPasskeys(ctx, "pk-alice")
		must(t, "ListPasskeys", err)
		if len(got) != 1 || !bytes.Equal(got[0].CredentialID, minimal.CredentialID) {
			t.Errorf("after delete the person has %d passkeys, want the minimal one", len(got))
		}
		// The credential ID is free again: registering it anew (a reset authenticator) works.
		must(t, "CreatePasskey", s.CreatePasskey(ctx, storage.Passkey{CredentialID: full.CredentialID, PersonID: "pk-bob",
			PublicKey: []byte{2}, CreatedAt: t0}))
	})
}
