// scan.js: scan-to-login on the login page (the computer). It asks /scan/start for a QR code
// bound to this browser, long-polls /scan/status until the phone confirms, then posts
// /scan/finish and follows the answer. An expired code is removed from the page before the
// server stops accepting it and replaced (a few times while the page is visible; then on a
// click), so a dead code is never shown as live.
"use strict";
(function () {
  var el = document.getElementById("scan");
  // Not shown (a phone-sized screen, where there is nothing to scan the code with): no code.
  if (!el || !window.fetch || !window.URLSearchParams || el.offsetParent === null) return;
  var img = document.getElementById("scan-qr");
  var stateEl = document.getElementById("scan-state");
  var refresh = document.getElementById("scan-refresh");
  var code = "", known = "", gen = 0, autoRenewals = 0, expiryTimer = null;
  var maxAutoRenewals = 5;

  function text(k) {
    var t = el.querySelector('[data-text="' + k + '"]');
    return t ? t.textContent : k;
  }
  function show(k, msg) {
    stateEl.textContent = msg || text(k);
    el.dataset.state = k;
  }
  function params(o) {
    var f = new URLSearchParams();
    for (var k in o) f.set(k, o[k]);
    f.set("csrf", el.dataset.csrf);
    f.set("ui_locales", el.dataset.lang);
    return f;
  }
  function answer(r) {
    return r.json().then(function (b) { return {status: r.status, body: b}; },
      function () { return {status: r.status, body: {}}; });
  }
  // stop makes the current code dead on the page: no image, no polling.
  function stop(state, msg) {
    gen++;
    code = "";
    clearTimeout(expiryTimer);
    img.hidden = true;
    img.removeAttribute("src");
    show(state, msg);
    refresh.hidden = false;
  }
  function expired() {
    stop("expired");
    if (document.visibilityState === "visible" && autoRenewals < maxAutoRenewals) {
      autoRenewals++;
      start();
    }
  }
  function start() {
    var my = ++gen;
    refresh.hidden = true;
    show("loading");
    fetch(el.dataset.start, {method: "POST", credentials: "same-origin", body: params({authz: el.dataset.authz})})
      .then(answer).then(function (res) {
        if (my !== gen) return;
        if (res.status !== 200) { stop("error", res.body.message); return; }
        code = res.body.code;
        known = res.body.state;
        img.src = res.body.qr;
        img.hidden = false;
        el.dataset.code = code;
        show("pending");
        // Remove the code a second before the server's expiry.
        clearTimeout(expiryTimer);
        expiryTimer = setTimeout(function () { if (my === gen) expired(); }, Math.max(0, res.body.expires_in - 1) * 1000);
        poll(my);
      }, function () { if (my === gen) stop("error"); });
  }
  function poll(my) {
    if (my !== gen) return;
    var u = el.dataset.status + "?c=" + encodeURIComponent(code) + "&s=" + encodeURIComponent(known) +
      "&ui_locales=" + encodeURIComponent(el.dataset.lang);
    fetch(u, {credentials: "same-origin"}).then(answer).then(function (res) {
      if (my !== gen) return;
      if (res.status !== 200) { stop("error", res.body.message); return; }
      known = res.body.state;
      switch (known) {
      case "pending":
      case "scanned":
        show(known);
        poll(my);
        return;
      case "approved":
        show("approved");
        finish(my);
        return;
      case "expired":
        expired();
        return;
      default: // denied, used
        stop(known);
      }
    }, function () { if (my === gen) setTimeout(function () { poll(my); }, 1000); });
  }
  function finish(my) {
    fetch(el.dataset.finish, {method: "POST", credentials: "same-origin", body: params({c: code})})
      .then(answer).then(function (res) {
        if (my !== gen) return;
        if (res.status === 200 && res.body.next) {
          clearTimeout(expiryTimer);
          window.location.assign(res.body.next);
          return;
        }
        stop("error", res.body.message);
      }, function () { if (my === gen) stop("error"); });
  }
  refresh.addEventListener("click", function () { autoRenewals = 0; start(); });
  document.addEventListener("visibilitychange", function () {
    if (document.visibilityState === "visible" && el.dataset.state === "expired") { autoRenewals = 0; start(); }
  });
  start();
})();
