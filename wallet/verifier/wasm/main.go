//go:build js && wasm

// Command wasm is the browser verifier's engine: the qr verifier (through qr/verdict, the
// same Station `wallet verify` runs) compiled to WebAssembly with GOOS=js GOARCH=wasm. It is
// built by `go generate ./wallet/verifier` into wallet/verifier/site/verifier.wasm and loaded
// by verify.js with Go's wasm_exec.js.
//
// It sets globalThis.tongbanVerifier, whose methods take strings or Uint8Arrays and return
// JSON text:
//
//	init(anchorsPEM, stateJSON)  → {"ok", "error", "anchors": [fingerprint…]}
//	    start over with the pinned trust anchors (trust-anchor.pem) and the saved state
//	    (a qr.VerifierSnapshot as JSON, or "" for none)
//	loadTrustList(bytes)         → {"ok", "reason", "message_zh", "message_en", "detail",
//	                                "sequence", "issued_at", "expires_at", "signed_by"}
//	loadStatusList(bytes)        → {"ok", "reason", …, "issued_at", "expires_at"}
//	verify(text)                 → verdict.Display
//	state()                      → the qr.VerifierSnapshot to save (replay cache, trust-list
//	                                sequence, anchors followed)
//	bench(texts, rounds, base)   → {"verifications", "valid", "ms"}: verify every text rounds
//	                                times without the replay cache, for the speed benchmark;
//	                                base true: through a copy of the trust list whose keys are
//	                                not prepared (gmsm's SM2 verification, the baseline)
//
// and then calls globalThis.tongbanVerifierReady() when the page defined it.
package main

import (
	"encoding/json"
	"errors"
	"syscall/js"
	"time"

	"github.com/tongban/tongban/qr"
	"github.com/tongban/tongban/qr/verdict"
	smcrypto "github.com/tongban/tongban/sm-crypto"
)

// maxInput bounds the bytes taken from JavaScript (a trust list or status list).
const maxInput = 4 << 20

var station *verdict.Station

type listInfo struct {
	OK        bool   `json:"ok"`
	Reason    string `json:"reason,omitempty"`
	MessageZH string `json:"message_zh,omitempty"`
	MessageEN string `json:"message_en,omitempty"`
	Detail    string `json:"detail,omitempty"`
	Sequence  uint64 `json:"sequence,omitempty"`
	IssuedAt  string `json:"issued_at,omitempty"`
	ExpiresAt string `json:"expires_at,omitempty"`
	SignedBy  string `json:"signed_by,omitempty"`
}

func failed(err error) listInfo {
	r := verdict.ReasonOf(err)
	return listInfo{Reason: r.Code, MessageZH: r.ZH, MessageEN: r.EN, Detail: err.Error()}
}

var errNotStarted = errors.New("verifier: init has not been called")

func main() {
	api := map[string]any{
		"init":           fn(initFn),
		"loadTrustList":  fn(loadTrustList),
		"loadStatusList": fn(loadStatusList),
		"verify":         fn(verify),
		"state":          fn(state),
		"bench":          fn(bench),
	}
	js.Global().Set("tongbanVerifier", js.ValueOf(api))
	if ready := js.Global().Get("tongbanVerifierReady"); ready.Type() == js.TypeFunction {
		ready.Invoke()
	}
	select {}
}

// fn wraps f as a JavaScript function returning f's result as JSON text.
func fn(f func(args []js.Value) any) js.Func {
	return js.FuncOf(func(_ js.Value, args []js.Value) any {
		b, err := json.Marshal(f(args))
		if err != nil {
			return `{"ok":false,"error":"` + err.Error() + `"}`
		}
		return string(b)
	})
}

func arg(args []js.Value, i int) js.Value {
	if i < len(args) {
		return args[i]
	}
	return js.Undefined()
}

func str(v js.Value) string {
	if v.Type() == js.TypeString {
		return v.String()
	}
	return ""
}

func bytesOf(v js.Value) []byte {
	if v.Type() != js.TypeObject || v.Get("length").Type() != js.TypeNumber {
		return nil
	}
	n := v.Get("length").Int()
	if n > maxInput {
		n = maxInput + 1 // refused by the parser as too large
	}
	b := make([]byte, n)
	js.CopyBytesToGo(b, v)
	return b
}

func initFn(args []js.Value) any {
	type result struct {
		OK      bool     `json:"ok"`
		Error   string   `json:"error,omitempty"`
		Anchors []string `json:"anchors,omitempty"`
	}
	anchors, err := qr.ParseTrustAnchors([]byte(str(arg(args, 0))))
	if err != nil {
		return result{Error: err.Error()}
	}
	var snap *qr.VerifierSnapshot
	if s := str(arg(args, 1)); s != "" {
		snap = new(qr.VerifierSnapshot)
		if err := json.Unmarshal([]byte(s), snap); err != nil {
			// A damaged saved state is dropped, not fatal: the counter keeps working, and
			// says so.
			snap = nil
		}
	}
	st, err := verdict.NewStation(anchors, snap, nil)
	if err != nil {
		if st, err = verdict.NewStation(anchors, nil, nil); err != nil {
			return result{Error: err.Error()}
		}
	}
	station = st
	out := result{OK: true}
	for _, a := range anchors {
		out.Anchors = append(out.Anchors, qr.AnchorFingerprint(a))
	}
	return out
}

func loadTrustList(args []js.Value) any {
	if station == nil {
		return failed(errNotStarted)
	}
	list, err := station.LoadTrustList(bytesOf(arg(args, 0)))
	if err != nil {
		return failed(err)
	}
	out := listInfo{OK: true, Sequence: list.Sequence, IssuedAt: rfc3339(list.IssuedAt), ExpiresAt: rfc3339(list.ExpiresAt)}
	for _, a := range station.State().Anchors() {
		if smcrypto.KeyID(a) == list.SignerKID {
			out.SignedBy = qr.AnchorFingerprint(a)
		}
	}
	return out
}

func loadStatusList(args []js.Value) any {
	if station == nil {
		return failed(errNotStarted)
	}
	sl, err := station.LoadStatusList(bytesOf(arg(args, 0)))
	if err != nil {
		return failed(err)
	}
	return listInfo{OK: true, IssuedAt: rfc3339(sl.IssuedAt), ExpiresAt: rfc3339(sl.ExpiresAt)}
}

func verify(args []js.Value) any {
	if station == nil {
		return verdict.Rejected(errNotStarted).Display()
	}
	return station.Verify(str(arg(args, 0))).Display()
}

func state(_ []js.Value) any {
	if station == nil {
		return nil
	}
	return station.State().Snapshot()
}

// bench verifies each text of the array texts rounds times with the station's trust list and
// no replay cache (so a text verifies every time), and reports how many verifications took how
// long: the cost of one scan in this browser.
func bench(args []js.Value) any {
	type result struct {
		Verifications int     `json:"verifications"`
		Valid         int     `json:"valid"`
		MS            float64 `json:"ms"`
	}
	if station == nil {
		return result{}
	}
	texts := arg(args, 0)
	rounds := arg(args, 1).Int()
	var list []string
	for i := 0; i < texts.Length(); i++ {
		list = append(list, texts.Index(i).String())
	}
	v := qr.Verifier{Trust: station.State()}
	if arg(args, 2).Truthy() {
		v.Trust = unprepared(station.State().CurrentTrustList())
	}
	out := result{}
	start := time.Now()
	for range rounds {
		for _, t := range list {
			if _, err := v.Verify(t); err == nil {
				out.Valid++
			}
			out.Verifications++
		}
	}
	out.MS = float64(time.Since(start).Microseconds()) / 1000
	return out
}

// unprepared copies l as a list built by hand, whose keys verify through gmsm each time
// (smcose.NewVerifier), not through prepared tables (smcose.NewPreparedVerifier).
func unprepared(l *qr.TrustList) *qr.TrustList {
	if l == nil {
		return nil
	}
	c := *l
	c.Keys = nil
	for _, k := range l.Keys {
		c.Keys = append(c.Keys, qr.TrustedKey{KID: k.KID, PublicKey: k.PublicKey, Certificate: k.Certificate,
			Issuer: k.Issuer, Kinds: k.Kinds, Profiles: k.Profiles, NotBefore: k.NotBefore, NotAfter: k.NotAfter})
	}
	return &c
}

func rfc3339(t time.Time) string { return t.UTC().Format(time.RFC3339) }
