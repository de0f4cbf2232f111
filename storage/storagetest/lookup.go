package storagetest

import (
	"reflect"
	"strings"
	"testing"

	"github.com/tongban/tongban/storage"
)

// testClientPurpose: Client.Purpose and PurposeEn (the text the consent page shows beside
// licence scopes, 一证通办 licence lookup) survive create, get, list and update byte for
// byte, Chinese text of 200 characters included; old clients have none.
func testClientPurpose(t *testing.T, s storage.Storage) {
	ctx := t.Context()
	c := testClient("lookup-app")
	c.Scopes = []string{"openid", "licence:resident-id"}
	c.Purpose = strings.Repeat("核验", 99) + "身份"
	c.PurposeEn = "To check your identity when you apply for a residence permit."
	must(t, "CreateClient", s.CreateClient(ctx, c))
	plain := testClient("plain-app")
	must(t, "CreateClient", s.CreateClient(ctx, plain))

	got, err := s.GetClient(ctx, c.ID)
	must(t, "GetClient", err)
	if want := wantClient(c); !reflect.DeepEqual(got, want) {
		t.Errorf("GetClient:\n got %+v\nwant %+v", got, want)
	}
	if got, err := s.GetClient(ctx, plain.ID); err != nil || got.Purpose != "" || got.PurposeEn != "" {
		t.Errorf("GetClient of a client without purpose: %q %q %v", got.Purpose, got.PurposeEn, err)
	}
	list, err := s.ListClients(ctx)
	must(t, "ListClients", err)
	found := false
	for _, l := range list {
		if l.ID == c.ID {
			found = l.Purpose == c.Purpose && l.PurposeEn == c.PurposeEn
		}
	}
	if !found {
		t.Error("ListClients lost the purpose")
	}
	must(t, "UpdateClient", s.UpdateClient(ctx, c.ID, func(cl *storage.Client) error {
		cl.Purpose, cl.PurposeEn = "办理居住证时核验身份", ""
		return nil
	}))
	got, err = s.GetClient(ctx, c.ID)
	must(t, "GetClient", err)
	if got.Purpose != "办理居住证时核验身份" || got.PurposeEn != "" || got.Name != c.Name {
		t.Errorf("after UpdateClient: purpose %q, en %q, name %q", got.Purpose, got.PurposeEn, got.Name)
	}
}
