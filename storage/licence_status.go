package storage

import "context"

// LicenceStatusEntry is one licence's entry in the status list: its status index and status.
type LicenceStatusEntry struct {
	Index  uint64
	Status LicenceStatus
}

// LicenceStatusIndexes gives licences stable status indexes for the wallet's status list
// (pre-fetched codes, docs/formats/qr-payload.md §15). Every backend implements it.
type LicenceStatusIndexes interface {
	// LicenceStatusIndex returns the licence's status index, allocating the next free one
	// (0, 1, 2, …; one more than the highest allocated) on first call. An index never
	// changes and is never given to another licence. ErrNotFound when the licence is missing.
	LicenceStatusIndex(ctx context.Context, id string) (uint64, error)
	// ListLicenceStatuses returns every licence that has a status index, ordered by index.
	ListLicenceStatuses(ctx context.Context) ([]LicenceStatusEntry, error)
}
