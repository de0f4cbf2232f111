package fositeadapter

// ClaimsRequest is the OIDC "claims" request parameter (OIDC Core §5.5), kept in the session of
// every grant (Session.Claims) so the ID token and UserInfo of later requests honour it. It is
// stored as the JSON of the parameter. A member whose value is null has a nil ClaimSpec.
type ClaimsRequest struct {
	IDToken  map[string]*ClaimSpec `json:"id_token,omitempty"`
	UserInfo map[string]*ClaimSpec `json:"userinfo,omitempty"`
}

// ClaimSpec is the value of one member of a ClaimsRequest (OIDC Core §5.5.1).
type ClaimSpec struct {
	Essential bool  `json:"essential,omitempty"`
	Value     any   `json:"value,omitempty"`
	Values    []any `json:"values,omitempty"`
}
