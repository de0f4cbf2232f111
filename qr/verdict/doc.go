// Package verdict turns the offline verifier of package qr into what a counter sees: a code
// is valid or rejected, a rejection has a stable reason code (the table of
// docs/verifiers/counter-guide.md §3) with an explanation in plain Chinese and English, and a
// valid code shows the fields of its display profile under bilingual labels.
//
// It is the one verifier of tongban's counters: `wallet verify` (cmd/wallet) and the browser
// verifier (the WebAssembly build of wallet/verifier/wasm) both run a Station and print its
// Verdict, so the same code gets the same verdict, reason and words on either.
//
// Like qr, it never imports net/http or storage (DESIGN §1): it runs offline, in a browser.
package verdict
