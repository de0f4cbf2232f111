package web

import (
	"strings"

	"github.com/tongban/tongban/credentials"
	"github.com/tongban/tongban/idnumber"
	"github.com/tongban/tongban/qr"
)

// disclosure is what the code page says a code discloses to whoever scans it: exactly the
// elements of the code's display claim for its profile (qr/layout.go,
// docs/formats/qr-payload.md), in the claim's order, each with the label and the value the
// page shows. Where the code holds a value in full and the page masks it (against onlookers),
// the item says so (Full): the masking is the page's, never the code's.
type disclosure struct {
	// Intro says in plain words what the code holds; for a full-registration code it names the
	// personal data in it (full name, full ID number, address, date of birth).
	Intro string
	// Head are the items of the code as a whole (profile 1 and 2: all of them; a bundle: the
	// holder's masked name and number).
	Head []disclosedItem
	// Entries are a bundle's licences, one list of items each.
	Entries []disclosedEntry
	// Full is true for a full-registration code: the page shows the intro as a warning.
	Full bool
}

// disclosedEntry is one licence of a 多码合一 code.
type disclosedEntry struct {
	Kind  string // display name
	Items []disclosedItem
}

// disclosedItem is one element of a display claim.
type disclosedItem struct {
	// Key names the element: kind, holder_name, number, holder, issuer, valid_from,
	// valid_until, status, colour, plate, or field:NAME for a kind-specific field.
	Key   string
	Label string
	// Value is what the page shows: the code's value, or a masked form of it when Full.
	Value string
	// Full: the code holds the value in full and the page shows it masked.
	Full bool
}

// sensitiveFields are the kind-specific fields a page masks while the code holds them in
// full, and names in a full-registration code's warning.
var sensitiveFields = map[string]bool{"address": true, "birth_date": true, "legal_representative": true}

// disclose returns the disclosure of a code of profile p showing ls (for a full-registration
// code, ls[0] reduced to the fields the holder chose, as Mint signs it) in lang.
func disclose(p qr.DisplayProfile, ls []credentials.Licence, lang string) disclosure {
	T := texts[lang]
	var d disclosure
	if len(ls) == 0 {
		return d
	}
	validUntil := func(l *credentials.Licence) string {
		if l.ValidUntil == nil {
			return T["longTerm"]
		}
		return l.ValidUntil.String()
	}
	nameLabel, idLabel := T["holderName"], T["holderID"]
	if ls[0].Kind.HolderType() == credentials.LegalPerson {
		nameLabel, idLabel = T["entityName"], T["creditCode"]
	}
	switch p {
	case qr.ProfileMaskedIdentity:
		l := &ls[0]
		d.Intro = T["discloseMasked"]
		d.Head = []disclosedItem{
			{Key: "kind", Label: T["kindLabel"], Value: KindName(l.Kind, lang)},
			{Key: "holder_name", Label: nameLabel, Value: l.MaskedHolderName()},
			{Key: "number", Label: numberLabel(l.Kind, T), Value: l.MaskedNumber()},
			{Key: "valid_until", Label: T["validUntil"], Value: validUntil(l)},
		}
		if l.Kind == credentials.HealthCode {
			d.Head = append(d.Head, disclosedItem{Key: "colour", Label: T["colourLabel"],
				Value: fieldValue(l.Kind, "colour", l.Fields["colour"], lang)})
		}
	case qr.ProfileFullRegistration:
		l := &ls[0]
		d.Full = true
		d.Head = []disclosedItem{
			{Key: "kind", Label: T["kindLabel"], Value: KindName(l.Kind, lang)},
			{Key: "number", Label: numberLabel(l.Kind, T), Value: l.MaskedNumber(), Full: l.MaskedNumber() != l.Number},
			{Key: "holder", Label: idLabel, Value: l.MaskedHolder(), Full: true},
			{Key: "holder_name", Label: nameLabel, Value: l.MaskedHolderName(), Full: l.MaskedHolderName() != l.HolderName},
			{Key: "issuer", Label: T["issuer"], Value: l.Issuer},
			{Key: "valid_from", Label: T["validFrom"], Value: l.ValidFrom.String()},
			{Key: "valid_until", Label: T["validUntil"], Value: validUntil(l)},
			{Key: "status", Label: T["status"], Value: statusName(l.Status, lang)},
		}
		var named []string
		if l.Kind.HolderType() == credentials.LegalPerson {
			named = append(named, T["fullCreditCode"])
		} else {
			named = append(named, T["fullName"], T["fullIDNumber"])
		}
		for _, spec := range credentials.FieldSpecs(l.Kind) {
			v, ok := l.Fields[spec.Name]
			if !ok {
				continue
			}
			label := FieldLabel(l.Kind, spec.Name, lang)
			it := disclosedItem{Key: "field:" + spec.Name, Label: label, Value: fieldValue(l.Kind, spec.Name, v, lang)}
			if sensitiveFields[spec.Name] {
				it.Value, it.Full = maskField(spec.Name, v), true
				named = append(named, label)
			}
			d.Head = append(d.Head, it)
		}
		d.Intro = T["discloseFull"] + strings.Join(named, T["sep"]) + T["discloseFullEnd"]
	case qr.ProfileBundle:
		d.Intro = T["discloseBundle"]
		d.Head = []disclosedItem{
			{Key: "holder_name", Label: nameLabel, Value: ls[0].MaskedHolderName()},
			{Key: "holder", Label: idLabel, Value: ls[0].MaskedHolder()},
		}
		for i := range ls {
			l := &ls[i]
			e := disclosedEntry{Kind: KindName(l.Kind, lang), Items: []disclosedItem{
				{Key: "status", Label: T["status"], Value: statusName(l.Status, lang)},
				{Key: "valid_until", Label: T["validUntil"], Value: validUntil(l)},
			}}
			switch l.Kind {
			case credentials.HealthCode:
				e.Items = append(e.Items, disclosedItem{Key: "colour", Label: T["colourLabel"],
					Value: fieldValue(l.Kind, "colour", l.Fields["colour"], lang)})
			case credentials.VehicleLicence:
				e.Items = append(e.Items, disclosedItem{Key: "plate", Label: T["plate"], Value: l.MaskedNumber()})
			}
			d.Entries = append(d.Entries, e)
		}
	}
	return d
}

// numberLabel is the label of a licence's number: 号牌号码 for a vehicle licence, 证号 else.
func numberLabel(k credentials.Kind, T map[string]string) string {
	if k == credentials.VehicleLicence {
		return T["plate"]
	}
	return T["number"]
}

// maskField masks a sensitive field's value for display: a date keeps its year
// (1990-**-**), a name its first and last character (idnumber.MaskName), other text its
// first six characters followed by ****.
func maskField(name, v string) string {
	switch name {
	case "birth_date":
		if len(v) == 10 {
			return v[:4] + "-**-**"
		}
		return "****"
	case "legal_representative":
		return idnumber.MaskName(v)
	}
	r := []rune(v)
	if len(r) <= 6 {
		return "****"
	}
	return string(r[:6]) + "****"
}
