package main

import (
	"context"
	"fmt"
	"os"

	"github.com/tongban/tongban/qr"
	"github.com/tongban/tongban/wallet"
)

// writeTrustFiles writes the signed trust list and its trust anchor and returns the anchor's
// fingerprint.
func writeTrustFiles(ctx context.Context, svc *wallet.Service, listPath, anchorPath string) (string, error) {
	signed, _, err := svc.TrustList(ctx)
	if err != nil {
		return "", err
	}
	anchors, err := svc.TrustAnchors(ctx)
	if err != nil {
		return "", err
	}
	pemBytes, err := wallet.MarshalTrustAnchors(anchors)
	if err != nil {
		return "", err
	}
	for _, f := range []struct {
		path string
		data []byte
	}{{listPath, signed}, {anchorPath, pemBytes}} {
		tmp := f.path + ".tmp"
		if err := os.WriteFile(tmp, f.data, 0o644); err != nil {
			return "", fmt.Errorf("write %s: %w", f.path, err)
		}
		if err := os.Rename(tmp, f.path); err != nil {
			return "", fmt.Errorf("write %s: %w", f.path, err)
		}
	}
	return qr.AnchorFingerprint(anchors[0]), nil
}
