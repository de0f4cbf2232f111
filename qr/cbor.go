package qr

import (
	"fmt"

	"github.com/fxamacker/cbor/v2"
)

// CBOR modes. Encoding is deterministic (RFC 8949 §4.2.1: shortest
// arguments, definite lengths, map keys sorted bytewise). Decoding is
// strict: duplicate map keys, indefinite lengths, tags (except the outer
// COSE tag 18, checked by hand), invalid UTF-8 and anything past the size
// caps are errors.
var (
	encMode cbor.EncMode

	// envelopeMode checks the COSE_Sign1 as a whole.
	envelopeMode cbor.DecMode
	// payloadMode decodes the claims of a code.
	payloadMode cbor.DecMode
	// trustListMode decodes a trust list payload; it allows more entries.
	trustListMode cbor.DecMode
	// trustEnvelopeMode checks a trust list's COSE_Sign1 as a whole.
	trustEnvelopeMode cbor.DecMode
)

// Caps on decoded CBOR.
const (
	// maxCodeNesting bounds array/map depth of a code payload: claims map,
	// display array, bundle entries, entry.
	maxCodeNesting = 4
	// maxCodeItems bounds the elements of any array and pairs of any map in
	// a code (the library minimum, 16).
	maxCodeItems = 16
	// MaxTrustListKeys is the largest number of keys in a trust list.
	MaxTrustListKeys = 1024
)

func init() {
	var err error
	if encMode, err = cbor.CoreDetEncOptions().EncMode(); err != nil {
		panic(err)
	}
	strict := cbor.DecOptions{
		DupMapKey:         cbor.DupMapKeyEnforcedAPF,
		IndefLength:       cbor.IndefLengthForbidden,
		TagsMd:            cbor.TagsForbidden,
		MaxNestedLevels:   maxCodeNesting,
		MaxArrayElements:  maxCodeItems,
		MaxMapPairs:       maxCodeItems,
		UTF8:              cbor.UTF8RejectInvalid,
		IntDec:            cbor.IntDecConvertSigned,
		BignumTag:         cbor.BignumTagForbidden,
		ExtraReturnErrors: cbor.ExtraDecErrorUnknownField,
	}
	if payloadMode, err = strict.DecMode(); err != nil {
		panic(err)
	}
	env := strict
	env.TagsMd = cbor.TagsAllowed
	if envelopeMode, err = env.DecMode(); err != nil {
		panic(err)
	}
	tl := strict
	tl.MaxNestedLevels = 8
	tl.MaxArrayElements = MaxTrustListKeys
	if trustListMode, err = tl.DecMode(); err != nil {
		panic(err)
	}
	tl.TagsMd = cbor.TagsAllowed
	if trustEnvelopeMode, err = tl.DecMode(); err != nil {
		panic(err)
	}
}

// CBOR major types.
const (
	majorUint   = 0
	majorNegInt = 1
	majorBytes  = 2
	majorText   = 3
	majorArray  = 4
	majorMap    = 5
)

var cborNull = []byte{0xf6}

func major(raw cbor.RawMessage) int {
	if len(raw) == 0 {
		return -1
	}
	return int(raw[0] >> 5)
}

func isNull(raw cbor.RawMessage) bool { return len(raw) == 1 && raw[0] == 0xf6 }

// decodeUint decodes raw, which must be a CBOR unsigned integer (major 0).
func decodeUint(raw cbor.RawMessage, what string) (uint64, error) {
	var v uint64
	if major(raw) != majorUint {
		return 0, fmt.Errorf("%s: want unsigned integer", what)
	}
	if err := payloadMode.Unmarshal(raw, &v); err != nil {
		return 0, fmt.Errorf("%s: %v", what, err)
	}
	return v, nil
}

// decodeText decodes raw, which must be a CBOR text string of 1 to max bytes.
func decodeText(raw cbor.RawMessage, what string, max int) (string, error) {
	var v string
	if major(raw) != majorText {
		return "", fmt.Errorf("%s: want text string", what)
	}
	if err := payloadMode.Unmarshal(raw, &v); err != nil {
		return "", fmt.Errorf("%s: %v", what, err)
	}
	if v == "" || len(v) > max {
		return "", fmt.Errorf("%s: length %d outside 1..%d", what, len(v), max)
	}
	return v, nil
}

// decodeBytes decodes raw, which must be a CBOR byte string of exactly n bytes.
func decodeBytes(raw cbor.RawMessage, what string, n int) ([]byte, error) {
	var v []byte
	if major(raw) != majorBytes {
		return nil, fmt.Errorf("%s: want byte string", what)
	}
	if err := payloadMode.Unmarshal(raw, &v); err != nil {
		return nil, fmt.Errorf("%s: %v", what, err)
	}
	if len(v) != n {
		return nil, fmt.Errorf("%s: %d bytes, want %d", what, len(v), n)
	}
	return v, nil
}

// decodeArray decodes raw, which must be a CBOR array, into its elements.
func decodeArray(raw cbor.RawMessage, what string) ([]cbor.RawMessage, error) {
	var v []cbor.RawMessage
	if major(raw) != majorArray {
		return nil, fmt.Errorf("%s: want array", what)
	}
	if err := payloadMode.Unmarshal(raw, &v); err != nil {
		return nil, fmt.Errorf("%s: %v", what, err)
	}
	return v, nil
}
