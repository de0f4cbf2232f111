package storagetest

import (
	"testing"
	"time"

	"github.com/tongban/tongban/storage"
)

// testAppGaps checks Client.TokensNotBefore (migration 00020): stored at microsecond
// precision, zero kept as zero, changed by UpdateClient.
func testAppGaps(t *testing.T, s storage.Storage) {
	ctx := t.Context()

	t.Run("Client/ok/tokens not before round trip", func(t *testing.T) {
		c := lifecycleClient("gaps-1", "gongan", storage.ClientPublished)
		must(t, "CreateClient", s.CreateClient(ctx, c))
		got, err := s.GetClient(ctx, c.ID)
		must(t, "GetClient", err)
		if !got.TokensNotBefore.IsZero() {
			t.Errorf("TokensNotBefore = %v, want zero", got.TokensNotBefore)
		}
		nb := t0.Add(90 * time.Minute)
		must(t, "UpdateClient", s.UpdateClient(ctx, c.ID, func(c *storage.Client) error {
			c.TokensNotBefore = nb
			return nil
		}))
		got, err = s.GetClient(ctx, c.ID)
		must(t, "GetClient", err)
		c.TokensNotBefore = nb
		checkEqual(t, "GetClient after update", got, wantClient(c))
		page, err := s.ListClientsPage(ctx, storage.ClientQuery{After: "gaps-0", Limit: 1})
		must(t, "ListClientsPage", err)
		if len(page) != 1 || !page[0].TokensNotBefore.Equal(stored(nb)) {
			t.Errorf("ListClientsPage: %+v, want TokensNotBefore %v", page, stored(nb))
		}
		must(t, "DeleteClient", s.DeleteClient(ctx, c.ID))
	})
}
