package accounts

import (
	"context"
	"time"

	"github.com/tongban/tongban/storage"
)

// CheckSecondFactor is Service.checkSecondFactor.
func CheckSecondFactor(s *Service, ctx context.Context, p storage.Person, code string, now time.Time) (bool, bool) {
	return s.checkSecondFactor(ctx, p, code, now)
}
