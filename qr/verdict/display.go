package verdict

import (
	"encoding/base64"
	"encoding/hex"
)

// Display is a verdict as the browser verifier shows it (the JSON its verify() returns):
// Valid, the reason code with MessageZH and MessageEN, and for a valid code the profile, the
// Rows under bilingual labels, the cti as base64url without padding (RFC 4648 §5: the code id
// of the holder's record and of counter receipts) and the code's times (RFC 3339, UTC).
type Display struct {
	Valid             bool   `json:"valid"`
	Reason            string `json:"reason,omitempty"`
	MessageZH         string `json:"message_zh,omitempty"`
	MessageEN         string `json:"message_en,omitempty"`
	Detail            string `json:"detail,omitempty"`
	Profile           int    `json:"profile,omitempty"`
	ProfileName       string `json:"profile_name,omitempty"`
	CTI               string `json:"cti,omitempty"`
	IssuedAt          string `json:"issued_at,omitempty"`
	ExpiresAt         string `json:"expires_at,omitempty"`
	KeyIssuer         string `json:"key_issuer,omitempty"`
	TrustListSequence uint64 `json:"trust_list_sequence,omitempty"`
	// Colour is a health code's colour (green, yellow, red) when the code shows one licence
	// with a colour: the page paints the verdict with it.
	Colour string `json:"colour,omitempty"`
	Rows   []Row  `json:"rows,omitempty"`
}

// Display returns v for the browser verifier.
func (v *Verdict) Display() *Display {
	d := &Display{
		Valid: v.Valid, Reason: v.Reason, MessageZH: v.MessageZH, MessageEN: v.Message, Detail: v.Detail,
		Profile: v.Profile, ProfileName: v.ProfileName, IssuedAt: v.IssuedAt, ExpiresAt: v.ExpiresAt,
		KeyIssuer: v.KeyIssuer, TrustListSequence: v.TrustListSequence, Rows: v.Rows(),
	}
	if cti, err := hex.DecodeString(v.CTI); err == nil && len(cti) > 0 {
		d.CTI = base64.RawURLEncoding.EncodeToString(cti)
	}
	if len(v.Licences) == 1 {
		d.Colour = v.Licences[0].Colour
	}
	return d
}
