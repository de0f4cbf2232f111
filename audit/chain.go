package audit

import (
	"bytes"
	"encoding/binary"
	"hash"

	"github.com/emmansun/gmsm/sm3"

	"github.com/tongban/tongban/storage"
)

// HashSize is the length of a chain hash in bytes (SM3).
const HashSize = sm3.Size

// chainDomain starts every chain hash's input, so a chain hash is never mistaken for the SM3
// of anything else tongban hashes.
const chainDomain = "tongban-audit-v1"

// Genesis is the hash before the first entry: 32 zero bytes.
var Genesis = make([]byte, HashSize)

// AppendCanonical appends the canonical encoding of e to dst and returns the extended slice
// (docs/formats/audit-chain.md):
//
//	Pos (8 bytes, big-endian) ‖ Time in Unix microseconds (8 bytes, big-endian, two's
//	complement) ‖ for Actor, Action, Subject, ClientID, Detail in that order: length in bytes
//	(4 bytes, big-endian) ‖ the UTF-8 bytes
//
// Seq and Hash are not part of it: Seq is the database's numbering, which may skip values.
func AppendCanonical(dst []byte, e storage.AuditEvent) []byte {
	dst = binary.BigEndian.AppendUint64(dst, uint64(e.Pos))
	dst = binary.BigEndian.AppendUint64(dst, uint64(e.Time.UnixMicro()))
	for _, f := range [...]string{e.Actor, e.Action, e.Subject, e.ClientID, e.Detail} {
		dst = binary.BigEndian.AppendUint32(dst, uint32(len(f)))
		dst = append(dst, f...)
	}
	return dst
}

// Linker computes chain hashes, reusing its buffers; it is not safe for concurrent use. The
// zero value is ready.
type Linker struct {
	h   hash.Hash
	buf []byte
	sum [HashSize]byte // matches' result, reused
}

// Link returns SM3("tongban-audit-v1" ‖ prev ‖ AppendCanonical(e)), 32 bytes: the Hash of e
// when prev is the Hash of the entry before it (Genesis for Pos 1). The result is written to
// dst[:0] when dst has room, else newly allocated.
func (l *Linker) Link(dst, prev []byte, e storage.AuditEvent) []byte {
	if l.h == nil {
		l.h = sm3.New()
	}
	l.buf = append(l.buf[:0], chainDomain...)
	l.buf = append(l.buf, prev...)
	l.buf = AppendCanonical(l.buf, e)
	l.h.Reset()
	l.h.Write(l.buf)
	return l.h.Sum(dst[:0])
}

// matches reports whether want is the Hash of e after an entry whose Hash is prev, without
// allocating.
func (l *Linker) matches(prev []byte, e storage.AuditEvent, want []byte) bool {
	return bytes.Equal(l.Link(l.sum[:0], prev, e), want)
}

// Link is Linker.Link with a fresh Linker: the Hash of e after an entry whose Hash is prev.
func Link(prev []byte, e storage.AuditEvent) []byte {
	var l Linker
	return l.Link(nil, prev, e)
}
