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
// The holder's record (亮证记录) hooks in through receipts.js (ReceiptsFile), served and
// exported with the rest: it defines window.tongbanReceipts, which the page configures with
// Config.WalletURL (where the counter enrols and sends receipts), asks for the counter's
// enrolment state and queue (the 柜台登记 panel), and whose record(ctiBase64url) it calls
// after every valid verdict. With Config.NoReceipts the page does none of this.
package verifier

//go:generate go run ./internal/genwasm -o site
