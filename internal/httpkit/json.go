package httpkit

import (
	"encoding/json"
	"net/http"
)

// JSON writes JSON answers, in the dialect of one server: the two servers' bodies differ in
// two details, which are kept so that no client sees a change. The zero value is the
// identity provider's dialect; the wallet's API sets both fields.
type JSON struct {
	// Newline ends every body with "\n", as json.Encoder does (the wallet's API). Without it
	// the body is json.Marshal's output exactly (the identity provider's endpoints).
	Newline bool
	// EmptyDescription keeps "error_description":"" in an error whose description is empty
	// (the wallet's API). Without it the member is left out (RFC 6749 §5.2 makes it optional).
	EmptyDescription bool
}

// serverErrorBody is the answer when a value cannot be marshalled.
const serverErrorBody = `{"error":"server_error"}`

// Write writes v as JSON (encoding/json.Marshal: keys of maps sorted, <, > and & escaped as
// \u003c, \u003e, \u0026) with status and Content-Type: application/json. When v cannot be
// marshalled (a channel, a NaN, a cycle) it writes 500 {"error":"server_error"} as
// http.Error does (text/plain, with a newline) instead; the caller's v is a program error
// then, so nothing is returned.
func (j JSON) Write(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		http.Error(w, serverErrorBody, http.StatusInternalServerError)
		return
	}
	if j.Newline {
		b = append(b, '\n')
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, _ = w.Write(b)
}

// errorBody is an OAuth 2.0 style error (RFC 6749 §5.2, RFC 6750 §3, RFC 7662 §2.3), which
// both servers use outside fosite's own answers.
type errorBody struct {
	Error       string `json:"error"`
	Description string `json:"error_description"`
}

type errorBodyOmitEmpty struct {
	Error       string `json:"error"`
	Description string `json:"error_description,omitempty"`
}

// Error writes {"error": code, "error_description": desc} with status (see Write): code is
// the machine-readable error ("invalid_request", "server_error", …), desc the public English
// text for the developer — never a Go error chain, which goes to the log. An empty desc is
// left out unless EmptyDescription.
func (j JSON) Error(w http.ResponseWriter, status int, code, desc string) {
	if j.EmptyDescription {
		j.Write(w, status, errorBody{code, desc})
		return
	}
	j.Write(w, status, errorBodyOmitEmpty{code, desc})
}
