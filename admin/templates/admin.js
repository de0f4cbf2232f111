// Admin console: a copy button for values shown once (no inline script: the CSP allows only
// this file).
document.addEventListener("DOMContentLoaded", function () {
  document.querySelectorAll("button[data-copy]").forEach(function (b) {
    var el = document.getElementById(b.getAttribute("data-copy"));
    if (!el || !navigator.clipboard) return;
    b.hidden = false;
    b.addEventListener("click", function () { navigator.clipboard.writeText(el.textContent); });
  });
});
