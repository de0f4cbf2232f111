package storage

import "context"

// NonceChecks reads the single-use values of Nonces without using them.
type NonceChecks interface {
	// NonceUsed reports whether (namespace, value) has been recorded by UseNonce and not yet
	// purged (an expired, unpurged value counts as used, as in UseNonce). It writes nothing and
	// is therefore no guard on its own: a caller refusing a used value early, before costly
	// work, still makes the value single use with UseNonce, which alone is atomic. Inside
	// InTx it sees the transaction's own writes.
	NonceUsed(ctx context.Context, namespace, value string) (bool, error)
}
