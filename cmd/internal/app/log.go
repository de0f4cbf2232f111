package app

import (
	"io"
	"log/slog"
)

// NewLogger returns a logger writing JSON lines (slog.JSONHandler) to w at level and above
// (see ParseLevel; an unknown level is an error). Records carry "time", "level", "msg" and
// the attributes given; tongban logs opaque IDs (person ID, client ID, key ID), never names,
// ID numbers, phone numbers, passwords, cookies or tokens.
func NewLogger(w io.Writer, level string) (*slog.Logger, error) {
	l, err := ParseLevel(level)
	if err != nil {
		return nil, err
	}
	return slog.New(slog.NewJSONHandler(w, &slog.HandlerOptions{Level: l})), nil
}
