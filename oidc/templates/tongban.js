// tongban.js: helpers shared by the provider's page scripts (passkeys, scan-to-login). The
// CSP allows scripts only from /assets/, so every page script is a file next to this one.
"use strict";
var tongban = {
  // csrf returns the page's CSRF token (the hidden field named csrf of the first form, or the
  // data-csrf attribute of <body>).
  csrf: function () {
    var f = document.querySelector("input[name=csrf]");
    return f ? f.value : (document.body.dataset.csrf || "");
  },
  // postJSON posts obj as JSON to url with the CSRF token in X-CSRF-Token and resolves to
  // {status, body} (body parsed when the answer is JSON).
  postJSON: function (url, obj) {
    return fetch(url, {
      method: "POST", credentials: "same-origin",
      headers: {"Content-Type": "application/json", "X-CSRF-Token": tongban.csrf()},
      body: JSON.stringify(obj || {})
    }).then(function (r) {
      var ct = r.headers.get("Content-Type") || "";
      return (ct.indexOf("json") >= 0 ? r.json() : r.text()).then(function (b) { return {status: r.status, body: b}; });
    });
  },
  // b64u encodes an ArrayBuffer as base64url without padding; unb64u decodes one.
  b64u: function (buf) {
    var s = "", b = new Uint8Array(buf);
    for (var i = 0; i < b.length; i++) s += String.fromCharCode(b[i]);
    return btoa(s).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
  },
  unb64u: function (s) {
    s = s.replace(/-/g, "+").replace(/_/g, "/");
    while (s.length % 4) s += "=";
    var bin = atob(s), b = new Uint8Array(bin.length);
    for (var i = 0; i < bin.length; i++) b[i] = bin.charCodeAt(i);
    return b.buffer;
  }
};
