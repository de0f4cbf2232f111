package sm3otp

import (
	"crypto/subtle"
	"encoding/binary"
	"errors"
	"fmt"
	"time"

	"github.com/emmansun/gmsm/sm3"
)

// Errors of Compute, Generate and Validate.
var (
	// ErrShortKey: the seed key is shorter than 128 bits (GM/T 0021-2012 clause 6.2).
	ErrShortKey = errors.New("sm3otp: seed key shorter than 16 bytes")
	// ErrDigits: the password length is below 6 or above 10 digits (an OD mod 10^N of more
	// than 10 digits would only repeat the 32-bit OD).
	ErrDigits = errors.New("sm3otp: password length must be 6 to 10 digits")
	// ErrShortChallenge: a challenge factor shorter than 4 bytes.
	ErrShortChallenge = errors.New("sm3otp: challenge shorter than 4 bytes")
	// ErrPeriod: a period outside 1 s … 60 s, or not a whole number of seconds.
	ErrPeriod = errors.New("sm3otp: period must be 1 to 60 whole seconds")
	// ErrNoFactor: none of time, event and challenge factor is given.
	ErrNoFactor = errors.New("sm3otp: no factor")
)

// MinKeySize is the shortest seed key, in bytes (128 bits).
const MinKeySize = 16

// Factors are the variable inputs of one password: ID = T ‖ C ‖ Q over those that are set.
type Factors struct {
	T *uint64 // time factor ⌊T0/Tc⌋ (TimeFactor), nil when not used
	C *uint32 // event factor (a counter), nil when not used
	Q []byte  // challenge factor, ASCII, at least 4 bytes; nil when not used
}

// ID returns T ‖ C ‖ Q, zero-padded at the end to 16 bytes when shorter.
func (f Factors) ID() []byte {
	id := make([]byte, 0, 16+len(f.Q))
	if f.T != nil {
		id = binary.BigEndian.AppendUint64(id, *f.T)
	}
	if f.C != nil {
		id = binary.BigEndian.AppendUint32(id, *f.C)
	}
	id = append(id, f.Q...)
	for len(id) < 16 {
		id = append(id, 0)
	}
	return id
}

// Truncate is the SM3 truncation of GM/T 0021-2012 clause 6.3: the sum modulo 2^32 of the
// eight 32-bit big-endian words of S.
func Truncate(s [sm3.Size]byte) uint32 {
	var od uint32
	for i := 0; i < sm3.Size; i += 4 {
		od += binary.BigEndian.Uint32(s[i:])
	}
	return od
}

// Compute returns the digits-long password P = Truncate(SM3(key ‖ ID)) mod 10^digits, with
// leading zeros. Errors: ErrShortKey, ErrDigits, ErrShortChallenge, ErrNoFactor.
func Compute(key []byte, f Factors, digits int) (string, error) {
	switch {
	case len(key) < MinKeySize:
		return "", fmt.Errorf("%w: %d bytes", ErrShortKey, len(key))
	case digits < 6 || digits > 10:
		return "", fmt.Errorf("%w: %d", ErrDigits, digits)
	case f.Q != nil && len(f.Q) < 4:
		return "", fmt.Errorf("%w: %d bytes", ErrShortChallenge, len(f.Q))
	case f.T == nil && f.C == nil && f.Q == nil:
		return "", ErrNoFactor
	}
	h := sm3.New()
	h.Write(key)
	h.Write(f.ID())
	var s [sm3.Size]byte
	h.Sum(s[:0])
	mod := uint64(1)
	for range digits {
		mod *= 10
	}
	return fmt.Sprintf("%0*d", digits, uint64(Truncate(s))%mod), nil
}

// Opts are the parameters of time-based passwords. The zero value means 60-second periods
// and 6 digits, what SM3 tokens commonly show.
type Opts struct {
	// Period is Tc, 1 to 60 whole seconds. Zero means 60 seconds.
	Period time.Duration
	// Digits is N, 6 to 10. Zero means 6.
	Digits int
}

func (o Opts) norm() (Opts, error) {
	if o.Period == 0 {
		o.Period = 60 * time.Second
	}
	if o.Digits == 0 {
		o.Digits = 6
	}
	if o.Period < time.Second || o.Period > 60*time.Second || o.Period%time.Second != 0 {
		return o, fmt.Errorf("%w: %v", ErrPeriod, o.Period)
	}
	return o, nil
}

// TimeFactor returns T = ⌊T0/Tc⌋ for the Unix time of t in seconds (times before 1970 give
// 0) and the period of opts. Errors: ErrPeriod.
func TimeFactor(t time.Time, opts Opts) (uint64, error) {
	o, err := opts.norm()
	if err != nil {
		return 0, err
	}
	sec := t.Unix()
	if sec < 0 {
		sec = 0
	}
	return uint64(sec) / uint64(o.Period/time.Second), nil
}

// Generate returns the time-based password of key at t (time factor only). Errors: those of
// TimeFactor and Compute.
func Generate(key []byte, t time.Time, opts Opts) (string, error) {
	o, err := opts.norm()
	if err != nil {
		return "", err
	}
	step, err := TimeFactor(t, o)
	if err != nil {
		return "", err
	}
	return Compute(key, Factors{T: &step}, o.Digits)
}

// Validate reports whether code is the time-based password of key at t — of that period
// only: the caller tries neighbouring periods for clock skew and remembers the periods used
// (a period's password is accepted once). The comparison takes constant time. Errors: those
// of Generate.
func Validate(code string, key []byte, t time.Time, opts Opts) (bool, error) {
	want, err := Generate(key, t, opts)
	if err != nil {
		return false, err
	}
	return subtle.ConstantTimeCompare([]byte(code), []byte(want)) == 1, nil
}
