// Package verifier is the counter verifier in the browser (扫码核验): a static site — the
// page, its stylesheet and script, a service worker, the Go qr verifier compiled to
// WebAssembly (built from ./wasm by `go generate`, checked in as site/verifier.wasm with Go's
// wasm_exec.js) and the jsQR decoder (vendored from npm by vendor-jsqr.sh) — that the wallet
// serves at /verify/ and `wallet verifier export DIR` writes for an office to host on any web
// server.
//
// What a deployment adds to the files: config.json (Config: where the page fetches the trust
// list and the status list), trust-anchor.pem (the trust anchor the page pins) and, in an
// exported folder, trust-list.cose (the snapshot used until the configured URL answers).
//
// The holder's record hooks in through receipts.js: when the site has a file of that name
// (site/receipts.js), it is served and exported with the rest and the page loads it; it
// defines window.tongbanReceipts, whose record(ctiBase64url) the page calls after every valid
// verdict. Without the file the page's request for it fails with 404 and nothing else changes.
package verifier

//go:generate go run ./internal/genwasm -o site
