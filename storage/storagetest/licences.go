package storagetest

import (
	"bytes"
	"slices"
	"testing"
	"time"

	"github.com/tongban/tongban/storage"
)

func wantLicence(l storage.Licence) storage.Licence {
	l.HolderIndex = storedBytes(l.HolderIndex)
	l.HolderSealed = storedBytes(l.HolderSealed)
	l.FieldsSealed = storedBytes(l.FieldsSealed)
	l.ValidFrom = stored(l.ValidFrom)
	l.ValidUntil = storedPtr(l.ValidUntil)
	l.UpdatedAt = stored(l.UpdatedAt)
	// A set: byte order, no duplicates, no empty entries, nil when none.
	var agents [][]byte
	for _, a := range l.AgentIndexes {
		if len(a) > 0 {
			agents = append(agents, a)
		}
	}
	slices.SortFunc(agents, bytes.Compare)
	l.AgentIndexes = slices.CompactFunc(agents, bytes.Equal)
	return l
}

// licenceIDs returns the IDs of ls.
func licenceIDs(ls []storage.Licence) []string {
	var ids []string
	for _, l := range ls {
		ids = append(ids, l.ID)
	}
	return ids
}

func licence(id, kind, number, issuer string, holder []byte) storage.Licence {
	return storage.Licence{ID: id, Kind: kind, Number: number, Issuer: issuer, HolderIndex: holder,
		HolderSealed: []byte("sealed holder " + id), FieldsSealed: []byte(`sealed {"n":"` + number + `"}`),
		Status: storage.LicenceValid, ValidFrom: t0, ValidUntil: ptr(t0.AddDate(10, 0, 0)), UpdatedAt: t0}
}

func testLicences(t *testing.T, s storage.Storage) {
	ctx := t.Context()
	alice, bob := index("alice"), index("bob")
	drive := licence("lic-drive", "driving-licence", "640102199003071237", "宁夏公安厅交通警察总队", alice)
	id := licence("lic-id", "resident-id", "640102199003071237", "银川市公安局兴庆区分局", alice)
	id.ValidUntil = nil // 长期
	id.ValidFrom = pre1970

	// update of id: same (Kind, Issuer, Number), other ID and contents.
	idUpdate := licence("lic-id-other", id.Kind, id.Number, id.Issuer, alice)
	idUpdate.Status = storage.LicenceSuspended
	idUpdate.HolderSealed = []byte("resealed")
	idUpdate.FieldsSealed = []byte{}
	idUpdate.ValidUntil = ptr(t0.AddDate(20, 0, 0))
	idUpdate.UpdatedAt = t0.Add(time.Hour)
	idAfter := idUpdate
	idAfter.ID = id.ID

	t.Run("UpsertLicence", func(t *testing.T) {
		for _, tc := range []struct {
			name        string
			l           storage.Licence
			wantID      string // "" = any non-empty ID
			wantCreated bool
			wantErr     error
		}{
			{"ok/new", drive, drive.ID, true, nil},
			{"ok/new, long-term", id, id.ID, true, nil},
			{"ok/same kind, issuer and number updates and keeps the ID", idUpdate, id.ID, false, nil},
			{"ok/same again with its own ID", idAfter, id.ID, false, nil},
			{"ok/same number, other issuer is another licence", licence("lic-id-2", id.Kind, id.Number, "other issuer", bob), "lic-id-2", true, nil},
			{"ok/same number, other kind is another licence", licence("lic-x", "business-licence", id.Number, id.Issuer, bob), "lic-x", true, nil},
			{"ok/empty ID gets one", licence("", "business-licence", "91640100MA00000000", "银川市市场监督管理局", bob), "", true, nil},
			{"fail/ID of another licence", licence(drive.ID, "passport", "E00000000", "出入境管理局", alice), "", false, storage.ErrConflict},
		} {
			t.Run(tc.name, func(t *testing.T) {
				gotID, created, err := s.UpsertLicence(ctx, tc.l)
				if !checkErr(t, "UpsertLicence", err, tc.wantErr) || tc.wantErr != nil {
					return
				}
				if created != tc.wantCreated {
					t.Errorf("created = %v, want %v", created, tc.wantCreated)
				}
				if gotID == "" || tc.wantID != "" && gotID != tc.wantID {
					t.Errorf("ID = %q, want %q", gotID, tc.wantID)
				}
				got, err := s.GetLicence(ctx, gotID)
				must(t, "GetLicence", err)
				want := tc.l
				want.ID = gotID
				checkEqual(t, "stored licence", got, wantLicence(want))
			})
		}
	})

	t.Run("GetLicence", func(t *testing.T) {
		for _, tc := range []struct {
			name    string
			id      string
			want    storage.Licence
			wantErr error
		}{
			{"ok/every field", drive.ID, drive, nil},
			{"ok/updated keeps its ID", id.ID, idAfter, nil},
			{"fail/ID given in an update is not an ID", idUpdate.ID, storage.Licence{}, storage.ErrNotFound},
			{"fail/unknown", "nothing", storage.Licence{}, storage.ErrNotFound},
		} {
			t.Run(tc.name, func(t *testing.T) {
				got, err := s.GetLicence(ctx, tc.id)
				if checkErr(t, "GetLicence", err, tc.wantErr) && tc.wantErr == nil {
					checkEqual(t, "licence", got, wantLicence(tc.want))
				}
			})
		}
	})

	t.Run("ListLicencesByHolder", func(t *testing.T) {
		// Inserted out of order; listed by Kind, then Number (byte order).
		for _, l := range []storage.Licence{
			licence("c-2", "z-kind", "200", "issuer", alice),
			licence("c-1", "z-kind", "100", "issuer", alice),
			licence("c-0", "Z-kind", "300", "issuer", alice),
		} {
			_, _, err := s.UpsertLicence(ctx, l)
			must(t, "UpsertLicence", err)
		}
		for _, tc := range []struct {
			name   string
			holder []byte
			want   []string // IDs
		}{
			{"ok/ordered by kind then number", alice, []string{"c-0", drive.ID, id.ID, "c-1", "c-2"}},
			{"ok/other holder", bob, []string{"lic-x", "", "lic-id-2"}},
			{"ok/unknown holder", index("nobody"), nil},
			{"ok/nil holder", nil, nil},
		} {
			t.Run(tc.name, func(t *testing.T) {
				got, err := s.ListLicencesByHolder(ctx, tc.holder)
				must(t, "ListLicencesByHolder", err)
				var ids []string
				for _, l := range got {
					if l.Kind == "business-licence" && l.Number == "91640100MA00000000" {
						l.ID = "" // the generated one
					}
					ids = append(ids, l.ID)
				}
				if len(ids) != len(tc.want) {
					t.Fatalf("ListLicencesByHolder: %q, want %q", ids, tc.want)
				}
				for i := range ids {
					if ids[i] != tc.want[i] {
						t.Fatalf("ListLicencesByHolder: %q, want %q", ids, tc.want)
					}
				}
				if len(got) > 0 && got[0].ID == drive.ID {
					checkEqual(t, "listed licence", got[0], wantLicence(drive))
				}
			})
		}
	})

	corp, carol, dave := index("corp"), index("carol"), index("dave")
	biz := licence("biz-1", "business-licence", "91640100MA11111111", "银川市市场监督管理局", corp)
	biz.AgentIndexes = [][]byte{carol, alice, carol, {}}

	t.Run("AgentIndexes", func(t *testing.T) {
		steps := []struct {
			name   string
			agents [][]byte
		}{
			{"ok/stored as a set: byte order, no duplicates, no empty entries", biz.AgentIndexes},
			{"ok/replaced wholesale on update", [][]byte{dave}},
			{"ok/emptied on update", nil},
			{"ok/set again", [][]byte{dave, carol}},
		}
		for i, st := range steps {
			t.Run(st.name, func(t *testing.T) {
				l := biz
				if i > 0 { // an update: same (Kind, Issuer, Number), other ID and contents
					l.ID = "biz-other"
					l.FieldsSealed = []byte("resealed " + st.name)
				}
				l.AgentIndexes = st.agents
				gotID, created, err := s.UpsertLicence(ctx, l)
				must(t, "UpsertLicence", err)
				if gotID != biz.ID || created != (i == 0) {
					t.Errorf("UpsertLicence = %q, %v; want %q, %v", gotID, created, biz.ID, i == 0)
				}
				got, err := s.GetLicence(ctx, biz.ID)
				must(t, "GetLicence", err)
				l.ID = biz.ID
				checkEqual(t, "stored licence", got, wantLicence(l))
			})
		}
		biz.AgentIndexes = [][]byte{dave, carol}
		biz.FieldsSealed = []byte("resealed " + steps[len(steps)-1].name)
	})

	t.Run("ListLicencesByAgent", func(t *testing.T) {
		// Inserted out of order; listed by Kind, then Number.
		other := licence("biz-0", "business-licence", "91640100MA00000001", "银川市市场监督管理局", corp)
		other.AgentIndexes = [][]byte{carol}
		first := licence("agent-a", "a-kind", "999", "issuer", corp)
		first.AgentIndexes = [][]byte{carol}
		for _, l := range []storage.Licence{other, first} {
			_, _, err := s.UpsertLicence(ctx, l)
			must(t, "UpsertLicence", err)
		}
		for _, tc := range []struct {
			name  string
			agent []byte
			want  []storage.Licence
		}{
			{"ok/ordered by kind then number, with every agent", carol, []storage.Licence{first, other, biz}},
			{"ok/one licence", dave, []storage.Licence{biz}},
			{"ok/agent no longer listed", alice, nil},
			{"ok/a holder is not an agent", corp, nil},
			{"ok/unknown agent", index("nobody"), nil},
			{"ok/nil agent", nil, nil},
		} {
			t.Run(tc.name, func(t *testing.T) {
				got, err := s.ListLicencesByAgent(ctx, tc.agent)
				must(t, "ListLicencesByAgent", err)
				if !slices.Equal(licenceIDs(got), licenceIDs(tc.want)) {
					t.Fatalf("ListLicencesByAgent: %q, want %q", licenceIDs(got), licenceIDs(tc.want))
				}
				for i := range got {
					checkEqual(t, "listed licence", got[i], wantLicence(tc.want[i]))
				}
			})
		}
	})

	t.Run("FindLicences", func(t *testing.T) {
		idOther := licence("lic-id-2", id.Kind, id.Number, "other issuer", bob)
		for _, tc := range []struct {
			name         string
			kind, number string
			want         []storage.Licence
		}{
			{"ok/every issuer, ordered by issuer", id.Kind, id.Number, []storage.Licence{idOther, idAfter}},
			{"ok/kind must match", drive.Kind, drive.Number, []storage.Licence{drive}},
			{"ok/with agents", biz.Kind, biz.Number, []storage.Licence{biz}},
			{"ok/none: number is compared exactly (no case folding)", biz.Kind, "91640100ma11111111", nil},
			{"ok/none: unknown number", id.Kind, "110101199001011237", nil},
			{"ok/none: unknown kind", "nothing", id.Number, nil},
			{"ok/none: empty", "", "", nil},
		} {
			t.Run(tc.name, func(t *testing.T) {
				got, err := s.FindLicences(ctx, tc.kind, tc.number)
				must(t, "FindLicences", err) // no match is not ErrNotFound
				if !slices.Equal(licenceIDs(got), licenceIDs(tc.want)) {
					t.Fatalf("FindLicences: %q, want %q", licenceIDs(got), licenceIDs(tc.want))
				}
				for i := range got {
					checkEqual(t, "found licence", got[i], wantLicence(tc.want[i]))
				}
			})
		}
	})

	t.Run("SetLicenceStatus", func(t *testing.T) {
		at := t0.Add(48 * time.Hour)
		for _, tc := range []struct {
			name    string
			id      string
			status  storage.LicenceStatus
			wantErr error
		}{
			{"ok/revoke", drive.ID, storage.LicenceRevoked, nil},
			{"fail/unknown", "nothing", storage.LicenceRevoked, storage.ErrNotFound},
		} {
			t.Run(tc.name, func(t *testing.T) {
				checkErr(t, "SetLicenceStatus", s.SetLicenceStatus(ctx, tc.id, tc.status, at), tc.wantErr)
			})
		}
		got, err := s.GetLicence(ctx, drive.ID)
		must(t, "GetLicence", err)
		want := drive
		want.Status, want.UpdatedAt = storage.LicenceRevoked, at
		checkEqual(t, "licence after status change", got, wantLicence(want))
	})
}
