// The code page: count down and fetch a fresh code from the wallet every data-refresh seconds.
(function () {
  "use strict";
  var box = document.getElementById("code");
  if (!box) { return; }
  var url = box.getAttribute("data-refresh-url");
  var period = parseInt(box.getAttribute("data-refresh"), 10) || 30;
  var img = document.getElementById("code-img");
  var count = document.getElementById("countdown");
  var expires = document.getElementById("expires");
  var status = document.getElementById("code-status");
  var left = period;

  function refresh() {
    fetch(url, { credentials: "same-origin", cache: "no-store", headers: { "Accept": "application/json" } })
      .then(function (r) { return r.json().then(function (j) { return { ok: r.ok, j: j }; }); })
      .then(function (x) {
        if (!x.ok) { status.textContent = x.j.error_description || x.j.error || ""; return; }
        img.src = "data:image/png;base64," + x.j.png;
        expires.textContent = x.j.expires_local || x.j.expires_at;
        expires.setAttribute("datetime", x.j.expires_at);
        status.textContent = "";
      })
      .catch(function () { status.textContent = box.getAttribute("data-offline"); });
  }

  setInterval(function () {
    left -= 1;
    if (left <= 0) { refresh(); left = period; }
    count.textContent = String(left);
  }, 1000);
})();
