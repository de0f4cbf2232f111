package qr

import (
	"fmt"

	"github.com/fxamacker/cbor/v2"

	"github.com/tongban/tongban/credentials"
)

// IdentityCheck is what a ProfileMaskedIdentity code shows.
type IdentityCheck struct {
	Kind         credentials.Kind
	MaskedName   string            // e.g. 林*彤 (Licence.MaskedHolderName)
	MaskedNumber string            // e.g. 110101********0025 (Licence.MaskedNumber)
	ValidUntil   *credentials.Date // nil: long-term (长期)
	Colour       string            // health-code only: green, yellow or red
}

// Bundle is what a ProfileBundle (多码合一) code shows: one holder and
// several licences.
type Bundle struct {
	MaskedName   string // holder name, masked
	MaskedHolder string // holder number, masked
	Entries      []BundleEntry
}

// BundleEntry is one licence of a Bundle: kind, status and validity, plus
// the one detail a verifier needs for some kinds. Licence numbers are not
// shown: the holder is identified by Bundle.MaskedHolder, and card or
// account numbers (social security, medical insurance, transit) identify
// accounts, not the person — data minimisation (DESIGN §5).
type BundleEntry struct {
	Kind       credentials.Kind
	Status     credentials.Status
	ValidUntil *credentials.Date // nil: long-term (长期)
	// MaskedNumber is set only for vehicle-licence: the masked plate number
	// (京A***26), which tells a verifier which of the holder's vehicles it is.
	MaskedNumber string
	// Colour is set only for health-code: green, yellow or red.
	Colour string
}

// --- encoding (Minter) ---

func dateValue(d *credentials.Date) any {
	if d == nil {
		return nil
	}
	return d.DaysSinceEpoch()
}

func colourValue(l *credentials.Licence) (uint64, error) {
	c, ok := colourCode(l.Fields["colour"])
	if !ok {
		return 0, fmt.Errorf("%w: health code colour %q", credentials.ErrInvalidField, l.Fields["colour"])
	}
	return c, nil
}

func identityArray(l *credentials.Licence) ([]any, error) {
	a := []any{uint64(ProfileMaskedIdentity), KindCode(l.Kind), l.MaskedHolderName(), l.MaskedNumber(), dateValue(l.ValidUntil)}
	if l.Kind == credentials.HealthCode {
		c, err := colourValue(l)
		if err != nil {
			return nil, err
		}
		a = append(a, c)
	}
	return a, nil
}

func registrationArray(l *credentials.Licence) ([]any, error) {
	fields := make(map[uint64]string, len(l.Fields))
	for name, v := range l.Fields {
		spec, ok := credentials.FieldSpecByName(l.Kind, name)
		if !ok {
			return nil, fmt.Errorf("%w: %s has no field %q", credentials.ErrUnknownField, l.Kind, name)
		}
		fields[uint64(spec.Code)] = v
	}
	return []any{
		uint64(ProfileFullRegistration), KindCode(l.Kind), l.Number, l.Holder, l.HolderName, l.Issuer,
		l.ValidFrom.DaysSinceEpoch(), dateValue(l.ValidUntil), statusCode(l.Status), fields,
	}, nil
}

func bundleArray(ls []credentials.Licence) ([]any, error) {
	entries := make([]any, len(ls))
	for i := range ls {
		l := &ls[i]
		e := []any{KindCode(l.Kind), statusCode(l.Status), dateValue(l.ValidUntil)}
		switch l.Kind {
		case credentials.HealthCode:
			c, err := colourValue(l)
			if err != nil {
				return nil, err
			}
			e = append(e, c)
		case credentials.VehicleLicence:
			e = append(e, l.MaskedNumber())
		}
		entries[i] = e
	}
	return []any{uint64(ProfileBundle), ls[0].MaskedHolderName(), ls[0].MaskedHolder(), entries}, nil
}

// --- strict decoding (Verifier) ---

// maxText bounds every text string in a display claim.
const maxText = credentials.MaxFieldLength

func decodeKind(raw cbor.RawMessage) (credentials.Kind, error) {
	c, err := decodeUint(raw, "kind")
	if err != nil {
		return "", err
	}
	k, ok := KindFromCode(c)
	if !ok {
		return "", fmt.Errorf("kind: unknown code %d", c)
	}
	return k, nil
}

func decodeStatus(raw cbor.RawMessage) (credentials.Status, error) {
	c, err := decodeUint(raw, "status")
	if err != nil {
		return "", err
	}
	if c >= uint64(len(statusCodes)) {
		return "", fmt.Errorf("status: unknown code %d", c)
	}
	return statusCodes[c], nil
}

func decodeColour(raw cbor.RawMessage) (string, error) {
	c, err := decodeUint(raw, "colour")
	if err != nil {
		return "", err
	}
	if c >= uint64(len(colourCodes)) {
		return "", fmt.Errorf("colour: unknown code %d", c)
	}
	return colourCodes[c], nil
}

// decodeDate decodes a day count since 1970-01-01 (CBOR int) into a Date in
// 1900–2199.
func decodeDate(raw cbor.RawMessage, what string) (credentials.Date, error) {
	if m := major(raw); m != majorUint && m != majorNegInt {
		return credentials.Date{}, fmt.Errorf("%s: want integer day count", what)
	}
	var n int64
	if err := payloadMode.Unmarshal(raw, &n); err != nil {
		return credentials.Date{}, fmt.Errorf("%s: %v", what, err)
	}
	const minDay, maxDay = -25567, 84005 // 1900-01-01, 2199-12-31
	if n < minDay || n > maxDay {
		return credentials.Date{}, fmt.Errorf("%s: day %d outside 1900–2199", what, n)
	}
	return credentials.DateFromDays(n), nil
}

func decodeOptionalDate(raw cbor.RawMessage, what string) (*credentials.Date, error) {
	if isNull(raw) {
		return nil, nil
	}
	d, err := decodeDate(raw, what)
	if err != nil {
		return nil, err
	}
	return &d, nil
}

// wantLen checks the element count of a display array: n, plus one for the
// colour of a health code.
func wantLen(a []cbor.RawMessage, n int, k credentials.Kind, what string) error {
	if k == credentials.HealthCode {
		n++
	}
	if len(a) != n {
		return fmt.Errorf("%s: %d elements, want %d", what, len(a), n)
	}
	return nil
}

func decodeIdentity(a []cbor.RawMessage) (*IdentityCheck, error) {
	if len(a) < 5 {
		return nil, fmt.Errorf("profile 1: %d elements", len(a))
	}
	var (
		v   IdentityCheck
		err error
	)
	if v.Kind, err = decodeKind(a[1]); err != nil {
		return nil, err
	}
	if err = wantLen(a, 5, v.Kind, "profile 1"); err != nil {
		return nil, err
	}
	if v.MaskedName, err = decodeText(a[2], "masked name", maxText); err != nil {
		return nil, err
	}
	if v.MaskedNumber, err = decodeText(a[3], "masked number", maxText); err != nil {
		return nil, err
	}
	if v.ValidUntil, err = decodeOptionalDate(a[4], "valid-until"); err != nil {
		return nil, err
	}
	if v.Kind == credentials.HealthCode {
		if v.Colour, err = decodeColour(a[5]); err != nil {
			return nil, err
		}
	}
	return &v, nil
}

func decodeRegistration(a []cbor.RawMessage) (*credentials.Licence, error) {
	if len(a) != 10 {
		return nil, fmt.Errorf("profile 2: %d elements, want 10", len(a))
	}
	var (
		l   credentials.Licence
		err error
	)
	if l.Kind, err = decodeKind(a[1]); err != nil {
		return nil, err
	}
	if l.Number, err = decodeText(a[2], "number", maxText); err != nil {
		return nil, err
	}
	if l.Holder, err = decodeText(a[3], "holder", maxText); err != nil {
		return nil, err
	}
	if l.HolderName, err = decodeText(a[4], "holder name", maxText); err != nil {
		return nil, err
	}
	if l.Issuer, err = decodeText(a[5], "issuer", maxText); err != nil {
		return nil, err
	}
	if l.ValidFrom, err = decodeDate(a[6], "valid-from"); err != nil {
		return nil, err
	}
	if l.ValidUntil, err = decodeOptionalDate(a[7], "valid-until"); err != nil {
		return nil, err
	}
	if l.ValidUntil != nil && l.ValidUntil.Before(l.ValidFrom) {
		return nil, fmt.Errorf("valid-until before valid-from")
	}
	if l.Status, err = decodeStatus(a[8]); err != nil {
		return nil, err
	}
	if major(a[9]) != majorMap {
		return nil, fmt.Errorf("fields: want map")
	}
	var raw map[uint64]cbor.RawMessage
	if err := payloadMode.Unmarshal(a[9], &raw); err != nil {
		return nil, fmt.Errorf("fields: %v", err)
	}
	l.Fields = make(map[string]string, len(raw))
	for code, rv := range raw {
		if code > 31 {
			return nil, fmt.Errorf("fields: field code %d out of range", code)
		}
		spec, ok := credentials.FieldSpecByCode(l.Kind, int(code))
		if !ok {
			return nil, fmt.Errorf("fields: %s has no field code %d", l.Kind, code)
		}
		if l.Fields[spec.Name], err = decodeText(rv, "field "+spec.Name, maxText); err != nil {
			return nil, err
		}
	}
	return &l, nil
}

func decodeBundle(a []cbor.RawMessage) (*Bundle, error) {
	if len(a) != 4 {
		return nil, fmt.Errorf("profile 3: %d elements, want 4", len(a))
	}
	var (
		b   Bundle
		err error
	)
	if b.MaskedName, err = decodeText(a[1], "masked name", maxText); err != nil {
		return nil, err
	}
	if b.MaskedHolder, err = decodeText(a[2], "masked holder", maxText); err != nil {
		return nil, err
	}
	entries, err := decodeArray(a[3], "entries")
	if err != nil {
		return nil, err
	}
	if len(entries) < 2 || len(entries) > MaxBundle {
		return nil, fmt.Errorf("entries: %d, want 2..%d", len(entries), MaxBundle)
	}
	b.Entries = make([]BundleEntry, len(entries))
	for i, raw := range entries {
		e, err := decodeArray(raw, "entry")
		if err != nil {
			return nil, err
		}
		if len(e) < 3 {
			return nil, fmt.Errorf("entry: %d elements", len(e))
		}
		v := &b.Entries[i]
		if v.Kind, err = decodeKind(e[0]); err != nil {
			return nil, err
		}
		want := 3
		if v.Kind == credentials.HealthCode || v.Kind == credentials.VehicleLicence {
			want = 4
		}
		if len(e) != want {
			return nil, fmt.Errorf("entry: %d elements, want %d for %s", len(e), want, v.Kind)
		}
		if v.Status, err = decodeStatus(e[1]); err != nil {
			return nil, err
		}
		if v.ValidUntil, err = decodeOptionalDate(e[2], "valid-until"); err != nil {
			return nil, err
		}
		switch v.Kind {
		case credentials.HealthCode:
			v.Colour, err = decodeColour(e[3])
		case credentials.VehicleLicence:
			v.MaskedNumber, err = decodeText(e[3], "masked plate", maxText)
		}
		if err != nil {
			return nil, err
		}
	}
	return &b, nil
}
