package credentials

import "strings"

// ForHolder returns the licences in ls held by number — a resident ID
// number or unified social credit code — in their order in ls (一证通办:
// one number finds all of a holder's licences). The comparison ignores the
// case of a final check character x/X.
func ForHolder(ls []Licence, number string) []Licence {
	var out []Licence
	for _, l := range ls {
		if strings.EqualFold(l.Holder, number) {
			out = append(out, l)
		}
	}
	return out
}

// ForAgent returns the business licences in ls that the person with
// resident ID number id is authorised to show (Licence.Agents).
func ForAgent(ls []Licence, id string) []Licence {
	var out []Licence
	for _, l := range ls {
		for _, a := range l.Agents {
			if strings.EqualFold(a, id) {
				out = append(out, l)
				break
			}
		}
	}
	return out
}
