package storagetest

import (
	"testing"
	"time"

	"github.com/tongban/tongban/storage"
)

func wantPerson(p storage.Person) storage.Person {
	p.IDNumberSealed = storedBytes(p.IDNumberSealed)
	p.IDNumberIndex = storedBytes(p.IDNumberIndex)
	p.PhoneSealed = storedBytes(p.PhoneSealed)
	p.PhoneIndex = storedBytes(p.PhoneIndex)
	p.OTPSecretSealed = storedBytes(p.OTPSecretSealed)
	p.CreatedAt = stored(p.CreatedAt)
	p.UpdatedAt = stored(p.UpdatedAt)
	return p
}

func testPeople(t *testing.T, s storage.Storage) {
	ctx := t.Context()
	full := storage.Person{
		ID:              "person-full",
		Kind:            storage.NaturalPerson,
		Name:            "张三明",
		IDNumberSealed:  []byte("sealed id number"),
		IDNumberIndex:   index("full"),
		IDNumberMasked:  "640102********123X",
		PhoneSealed:     []byte("sealed phone"),
		PhoneIndex:      index("phone full"),
		PasswordHash:    "$pbkdf2-sm3$i=1$c2FsdA$aGFzaA",
		OTPSecretSealed: []byte("sealed otp"),
		Disabled:        true,
		ElderMode:       true,
		CreatedAt:       t0,
		UpdatedAt:       t0.Add(time.Hour),
	}
	minimal := storage.Person{ // empty byte slices are stored as none
		ID:             "person-minimal",
		Kind:           storage.LegalPerson,
		IDNumberSealed: []byte{},
		IDNumberIndex:  index("minimal"),
		PhoneSealed:    []byte{},
		PhoneIndex:     []byte{},
		CreatedAt:      pre1970,
	}
	noPhone := storage.Person{ID: "person-no-phone", Kind: storage.NaturalPerson, IDNumberIndex: index("no phone")}

	t.Run("CreatePerson", func(t *testing.T) {
		for _, tc := range []struct {
			name    string
			p       storage.Person
			wantErr error
		}{
			{"ok/every field", full, nil},
			{"ok/minimal with empty byte slices", minimal, nil},
			{"ok/second person without phone", noPhone, nil},
			{"fail/duplicate ID", storage.Person{ID: full.ID, IDNumberIndex: index("other")}, storage.ErrConflict},
			{"fail/duplicate ID-number index", storage.Person{ID: "person-x", IDNumberIndex: full.IDNumberIndex}, storage.ErrConflict},
			{"fail/duplicate phone index", storage.Person{ID: "person-y", IDNumberIndex: index("y"), PhoneIndex: full.PhoneIndex}, storage.ErrConflict},
		} {
			t.Run(tc.name, func(t *testing.T) {
				checkErr(t, "CreatePerson", s.CreatePerson(ctx, tc.p), tc.wantErr)
			})
		}
	})

	t.Run("GetPerson", func(t *testing.T) {
		for _, tc := range []struct {
			name    string
			get     func() (storage.Person, error)
			want    storage.Person
			wantErr error
		}{
			{"ok/by ID", func() (storage.Person, error) { return s.GetPerson(ctx, full.ID) }, full, nil},
			{"ok/by ID-number index", func() (storage.Person, error) { return s.GetPersonByIDNumberIndex(ctx, full.IDNumberIndex) }, full, nil},
			{"ok/by phone index", func() (storage.Person, error) { return s.GetPersonByPhoneIndex(ctx, full.PhoneIndex) }, full, nil},
			{"ok/minimal", func() (storage.Person, error) { return s.GetPerson(ctx, minimal.ID) }, minimal, nil},
			{"fail/unknown ID", func() (storage.Person, error) { return s.GetPerson(ctx, "nobody") }, storage.Person{}, storage.ErrNotFound},
			{"fail/unknown ID-number index", func() (storage.Person, error) { return s.GetPersonByIDNumberIndex(ctx, index("nobody")) }, storage.Person{}, storage.ErrNotFound},
			{"fail/unknown phone index", func() (storage.Person, error) { return s.GetPersonByPhoneIndex(ctx, index("nobody")) }, storage.Person{}, storage.ErrNotFound},
			{"fail/nil phone index matches nobody", func() (storage.Person, error) { return s.GetPersonByPhoneIndex(ctx, nil) }, storage.Person{}, storage.ErrNotFound},
			{"fail/empty ID-number index matches nobody", func() (storage.Person, error) { return s.GetPersonByIDNumberIndex(ctx, []byte{}) }, storage.Person{}, storage.ErrNotFound},
		} {
			t.Run(tc.name, func(t *testing.T) {
				got, err := tc.get()
				if checkErr(t, "get", err, tc.wantErr) && tc.wantErr == nil {
					checkEqual(t, "person", got, wantPerson(tc.want))
				}
			})
		}
	})

	t.Run("UpdatePerson", func(t *testing.T) {
		changed := storage.Person{
			ID:             full.ID,
			Kind:           storage.LegalPerson,
			Name:           "李四",
			IDNumberSealed: []byte("new sealed"),
			IDNumberIndex:  index("full, new"),
			IDNumberMasked: "91110000********12",
			PhoneSealed:    nil,
			PhoneIndex:     nil,
			PasswordHash:   "",
			Disabled:       false,
			CreatedAt:      pre1970,
			UpdatedAt:      t0.Add(2 * time.Hour),
		}
		for _, tc := range []struct {
			name    string
			id      string
			fn      func(*storage.Person) error
			want    storage.Person // stored afterwards
			wantErr error
		}{
			{"ok/every field", full.ID, func(p *storage.Person) error {
				if p.Name != full.Name {
					t.Errorf("fn got Name %q, want %q", p.Name, full.Name)
				}
				*p = changed
				return nil
			}, changed, nil},
			{"fail/unknown person", "nobody", func(*storage.Person) error {
				t.Error("fn called for a missing person")
				return nil
			}, storage.Person{}, storage.ErrNotFound},
			{"fail/fn error rolls back", noPhone.ID, func(p *storage.Person) error {
				p.Name = "not written"
				return errBoom
			}, noPhone, errBoom},
			{"fail/fn changes ID", noPhone.ID, func(p *storage.Person) error {
				p.ID = "another"
				return nil
			}, noPhone, errAny},
			{"fail/ID-number index taken", noPhone.ID, func(p *storage.Person) error {
				p.Name = "not written"
				p.IDNumberIndex = minimal.IDNumberIndex
				return nil
			}, noPhone, storage.ErrConflict},
			{"ok/elder mode switched on alone", noPhone.ID, func(p *storage.Person) error {
				if p.ElderMode {
					t.Error("a new person has elder mode on")
				}
				p.ElderMode = true
				return nil
			}, func() storage.Person { p := noPhone; p.ElderMode = true; return p }(), nil},
		} {
			t.Run(tc.name, func(t *testing.T) {
				err := s.UpdatePerson(ctx, tc.id, tc.fn)
				if tc.wantErr == errBoom && err != errBoom {
					t.Errorf("UpdatePerson returned %v, want fn's error as is", err)
				}
				if tc.wantErr == errAny {
					if err == nil {
						t.Error("UpdatePerson: no error")
					}
				} else {
					checkErr(t, "UpdatePerson", err, tc.wantErr)
				}
				if tc.want.ID == "" {
					return
				}
				got, err := s.GetPerson(ctx, tc.id)
				must(t, "GetPerson", err)
				checkEqual(t, "person after update", got, wantPerson(tc.want))
			})
		}
		// The old indexes of full are free again, the new ones are taken.
		if _, err := s.GetPersonByIDNumberIndex(ctx, full.IDNumberIndex); !checkErr(t, "old index", err, storage.ErrNotFound) {
			return
		}
		p, err := s.GetPersonByIDNumberIndex(ctx, changed.IDNumberIndex)
		must(t, "GetPersonByIDNumberIndex", err)
		if p.ID != full.ID {
			t.Errorf("new index finds %q, want %q", p.ID, full.ID)
		}
	})
}

// errAny marks a case that wants some error, not a particular one.
var errAny = &anyError{}

type anyError struct{}

func (*anyError) Error() string { return "any error" }
