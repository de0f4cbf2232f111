package oidc

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"

	"github.com/ory/fosite"

	"github.com/tongban/tongban/accounts"
	"github.com/tongban/tongban/oidc/internal/fositeadapter"
	"github.com/tongban/tongban/storage"
)

// Scopes tongban understands (OIDC Core §5.4 and tongban's own id_number scope).
const (
	ScopeOpenID        = "openid"
	ScopeProfile       = "profile"        // name
	ScopePhone         = "phone"          // phone_number
	ScopeIDNumber      = "id_number"      // id_number, id_number_type: the full resident ID number or credit code
	ScopeOfflineAccess = "offline_access" // a refresh token (OIDC Core §11)
)

// SupportedScopes lists every scope a client may be registered for.
var SupportedScopes = []string{ScopeOpenID, ScopeProfile, ScopePhone, ScopeIDNumber, ScopeOfflineAccess}

// Claims tongban issues about a person.
const (
	ClaimName         = "name"           // registered name (scope profile)
	ClaimPhoneNumber  = "phone_number"   // E.164, e.g. "+8613800138000" (scope phone)
	ClaimIDNumber     = "id_number"      // resident ID number or unified social credit code, in full (scope id_number)
	ClaimIDNumberType = "id_number_type" // "resident_id" or "credit_code" (scope id_number)
)

// scopeClaims maps each scope to the person claims it grants.
var scopeClaims = map[string][]string{
	ScopeProfile:  {ClaimName, ClaimElderMode},
	ScopePhone:    {ClaimPhoneNumber},
	ScopeIDNumber: {ClaimIDNumber, ClaimIDNumberType},
}

// claimScope is the inverse of scopeClaims.
var claimScope = func() map[string]string {
	m := map[string]string{}
	for s, cs := range scopeClaims {
		for _, c := range cs {
			m[c] = s
		}
	}
	return m
}()

// parseClaimsRequest parses the claims parameter; "" gives nil.
func parseClaimsRequest(s string) (*fositeadapter.ClaimsRequest, error) {
	if s == "" {
		return nil, nil
	}
	var cr fositeadapter.ClaimsRequest
	if err := json.Unmarshal([]byte(s), &cr); err != nil {
		return nil, fosite.ErrInvalidRequest.WithHint("The claims parameter is not a JSON object as OIDC Core §5.5 describes.")
	}
	if cr.IDToken == nil && cr.UserInfo == nil {
		return nil, nil
	}
	return &cr, nil
}

// acrRequest returns the ACR values asked for by acr_values and by the claims parameter's
// id_token.acr member, and whether the latter was essential (OIDC Core §5.5.1.1).
func acrRequest(acrValues string, cr *fositeadapter.ClaimsRequest) (values []string, essential bool) {
	values = strings.Fields(acrValues)
	if cr != nil {
		if spec := cr.IDToken["acr"]; spec != nil {
			essential = spec.Essential
			if v, ok := spec.Value.(string); ok {
				values = append(values, v)
			}
			for _, v := range spec.Values {
				if s, ok := v.(string); ok {
					values = append(values, s)
				}
			}
		}
	}
	return values, essential
}

// releasedClaims returns the person claims to release: those of the granted scopes, narrowed
// to the names in member when the claims parameter has that member. The claims parameter never
// widens what the scopes grant.
func releasedClaims(granted fosite.Arguments, member map[string]*fositeadapter.ClaimSpec) []string {
	var out []string
	for _, scope := range granted {
		for _, c := range scopeClaims[scope] {
			if member != nil {
				if _, asked := member[c]; !asked {
					continue
				}
			}
			if !slices.Contains(out, c) { // id_number comes with id_number and every licence scope
				out = append(out, c)
			}
		}
	}
	return out
}

// personClaims computes the named claims of p, opening sealed fields as needed.
func personClaims(acc *accounts.Service, p storage.Person, names []string, into map[string]any) error {
	for _, name := range names {
		switch name {
		case ClaimName:
			into[ClaimName] = p.Name
		case ClaimElderMode: // elder.go: true or absent
			if p.ElderMode {
				into[ClaimElderMode] = true
			}
		case ClaimPhoneNumber:
			if p.PhoneSealed == nil {
				continue
			}
			phone, err := acc.PhoneNumber(p)
			if err != nil {
				return fmt.Errorf("oidc: open phone of %s: %w", p.ID, err)
			}
			into[ClaimPhoneNumber] = "+86" + phone
		case ClaimIDNumber:
			num, err := acc.IDNumber(p)
			if err != nil {
				return fmt.Errorf("oidc: open ID number of %s: %w", p.ID, err)
			}
			into[ClaimIDNumber] = num
		case ClaimIDNumberType:
			if p.Kind == storage.LegalPerson {
				into[ClaimIDNumberType] = "credit_code"
			} else {
				into[ClaimIDNumberType] = "resident_id"
			}
		}
	}
	return nil
}

// Authentication context classes (acr, OIDC Core §2), from weakest to strongest (DESIGN §2).
const (
	ACRPassword    = "urn:tongban:acr:password" // password
	ACRMultiFactor = "urn:tongban:acr:mfa"      // password and a TOTP code (RFC 6238), or a passkey
)

// SupportedACRValues lists the acr values in ascending strength.
var SupportedACRValues = []string{ACRPassword, ACRMultiFactor}

// acrLevel returns the strength of an acr value: its index in SupportedACRValues, or -1.
func acrLevel(acr string) int { return slices.Index(SupportedACRValues, acr) }

// requiredACRLevel returns the weakest level among the known requested values, or -1 when
// none is known (unknown values are ignored, OIDC Core §3.1.2.1 makes acr_values voluntary).
func requiredACRLevel(values []string) int {
	min := -1
	for _, v := range values {
		if l := acrLevel(v); l >= 0 && (min < 0 || l < min) {
			min = l
		}
	}
	return min
}
