// wallet.js — the wallet's pages.
// The code page (#code): a live clock (seconds ticking) beside the moving bar, the countdown,
// and a fresh code from data-refresh-url every data-refresh seconds. A dead code is never left
// on screen: when the session ends (the refresh answers 401, or the session's time is up),
// when the refresh is refused (a licence suspended meanwhile …) or when the code's own 60 s
// run out without a refresh, the code is removed, the countdown stops, and the page says why
// in plain words with the way on (重新登录, 重试). State changes are announced through
// window.tongbanSpeak (citizen.js) when the readout is on, and through the status region.
// A logout in another tab of this browser stops the code at once (BroadcastChannel).
// The 多码合一 form (#bundle-form): the count of ticked licences.
(function () {
  "use strict";
  var channel = null;
  try { channel = new BroadcastChannel("tongban-wallet"); } catch (e) { channel = null; }

  function speak(text) { if (window.tongbanSpeak) { window.tongbanSpeak(text); } }

  function codePage(box) {
    var url = box.getAttribute("data-refresh-url");
    var period = parseInt(box.getAttribute("data-refresh"), 10) || 30;
    var validity = parseInt(box.getAttribute("data-valid"), 10) || 60;
    var sessionLeft = parseInt(box.getAttribute("data-session"), 10);
    var live = document.getElementById("code-live");
    var dead = document.getElementById("code-dead");
    var img = document.getElementById("code-img");
    var count = document.getElementById("countdown");
    var expires = document.getElementById("expires");
    var clock = document.getElementById("clock");
    var status = document.getElementById("code-status");
    var t = function (k) { return box.getAttribute("data-t-" + k) || ""; };
    var start = Date.now();
    var codeDeadline = start + validity * 1000;
    var sessionDeadline = isNaN(sessionLeft) ? Infinity : start + sessionLeft * 1000;
    var next = start + period * 1000;
    var busy = false, stopped = false, timer;
    var fmt = null;
    try {
      fmt = new Intl.DateTimeFormat(box.getAttribute("data-lang") === "en" ? "en-GB" : "zh-CN",
        { timeZone: "Asia/Shanghai", hour: "2-digit", minute: "2-digit", second: "2-digit", hour12: false });
    } catch (e) { fmt = null; }

    function stop(kind, reason) {
      if (stopped) { return; }
      stopped = true;
      clearInterval(timer);
      if (img && img.parentNode) { img.parentNode.removeChild(img); }
      img = null;
      live.hidden = true;
      status.textContent = "";
      document.getElementById("dead-reason").textContent = reason;
      document.getElementById("dead-login").hidden = kind !== "login";
      document.getElementById("dead-retry").hidden = kind !== "expired";
      dead.hidden = false;
      box.classList.add("stopped");
      if (kind === "login") {
        // The header no longer has anybody to greet or log out.
        ["logout-link", "who"].forEach(function (id) { var e = document.getElementById(id); if (e) { e.hidden = true; } });
      }
      dead.setAttribute("role", "alert");
      speak(reason);
    }

    function refresh() {
      if (busy || stopped) { return; }
      busy = true;
      fetch(url, { credentials: "same-origin", cache: "no-store", headers: { "Accept": "application/json" } })
        .then(function (r) {
          return r.json().then(function (j) { return { status: r.status, j: j }; }, function () { return { status: r.status, j: {} }; });
        })
        .then(function (x) {
          busy = false;
          if (stopped) { return; }
          if (x.status === 200 && x.j.png) {
            var got = Date.now();
            img.src = "data:image/png;base64," + x.j.png;
            expires.textContent = x.j.expires_local || x.j.expires_at;
            expires.setAttribute("datetime", x.j.expires_at);
            var life = (Date.parse(x.j.expires_at) - Date.parse(x.j.issued_at)) || validity * 1000;
            codeDeadline = got + life;
            next = got + period * 1000;
            if (status.textContent) { status.textContent = ""; }
            speak(t("refreshed"));
            return;
          }
          if (x.status === 401) { stop("login", t("loggedout")); return; }
          if (x.status >= 400 && x.status < 500) {
            stop("refused", t("refused") + (x.j.error_description || x.j.error || ""));
            return;
          }
          offline();
        })
        .catch(function () { busy = false; offline(); });
    }

    // The wallet could not be reached (or is unavailable): the code shown stays valid until its
    // deadline, so keep it, say so, and try again in 5 s.
    function offline() {
      if (stopped) { return; }
      if (status.textContent !== t("offline")) { status.textContent = t("offline"); speak(t("offline")); }
      next = Date.now() + 5000;
    }

    function tick() {
      var now = Date.now();
      if (now >= sessionDeadline) { stop("login", t("loggedout")); return; }
      if (now >= codeDeadline) { stop("expired", t("expired")); return; }
      if (fmt) { clock.textContent = fmt.format(new Date()); }
      clock.setAttribute("datetime", new Date().toISOString());
      var left = Math.max(0, Math.ceil((next - now) / 1000));
      count.textContent = String(left);
      if (now >= next) { refresh(); }
    }

    if (channel) {
      channel.addEventListener("message", function (e) { if (e.data === "logout") { stop("login", t("loggedout")); } });
    }
    // Back to the page after the phone slept or another tab: check at once.
    document.addEventListener("visibilitychange", function () {
      if (document.visibilityState === "visible" && !stopped) { tick(); refresh(); }
    });
    window.addEventListener("pageshow", function (e) { if (e.persisted && !stopped) { tick(); refresh(); } });
    timer = setInterval(tick, 1000);
    tick();

    // The code is the page's one main action. When the header, the greeting and the licence's
    // band push it below the screen (elder mode with the phone's text at 200 %, a small phone),
    // the page opens with the code at the top, the moving bar and the clock under it; the rest
    // is a scroll up.
    function showCode() {
      var frame = img && img.parentNode;
      if (!frame || window.scrollY > 0) { return; }
      var r = frame.getBoundingClientRect();
      if (r.bottom > window.innerHeight) { window.scrollTo(0, window.scrollY + r.top - 8); }
    }
    if (document.readyState === "complete") { showCode(); } else { window.addEventListener("load", showCode); }
  }

  function bundleForm(form) {
    var out = document.getElementById("pick-count");
    if (!out) { return; }
    function update() {
      var n = form.querySelectorAll('input[name="l"]:checked').length;
      out.textContent = out.getAttribute("data-label") + " " + n + " " + out.getAttribute("data-unit");
    }
    form.addEventListener("change", update);
    update();
  }

  var logout = document.getElementById("logout-form");
  if (logout && channel) {
    logout.addEventListener("submit", function () { channel.postMessage("logout"); });
  }
  var box = document.getElementById("code");
  if (box) { codePage(box); }
  var form = document.getElementById("bundle-form");
  if (form) { bundleForm(form); }
})();
