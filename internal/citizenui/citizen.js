// citizen.js — shared by the provider's and the wallet's citizen pages (package citizenui).
// The voice readout (语音播报): the page's button.speak reads aloud the text of the elements
// marked data-speak, in document order, through the Web Speech API; pressed again it stops.
// Without the API the button stays hidden. window.tongbanSpeak(text) lets a page announce a
// change (the wallet's code state) when the reader is on.
(function () {
  "use strict";
  var synth = window.speechSynthesis;
  var btn = document.querySelector("button.speak");
  var reading = false;

  function say(text, lang) {
    if (!synth || !text) { return; }
    var u = new SpeechSynthesisUtterance(text);
    u.lang = lang || (btn && btn.getAttribute("data-speak-lang")) || document.documentElement.lang || "zh-CN";
    u.rate = 0.9;
    u.onend = function () { if (!synth.speaking) { setReading(false); } };
    synth.speak(u);
  }

  function setReading(on) {
    reading = on;
    if (!btn) { return; }
    btn.setAttribute("aria-pressed", on ? "true" : "false");
    var label = btn.querySelector(".speak-label");
    if (label) { label.textContent = on ? btn.getAttribute("data-stop") : btn.getAttribute("data-label"); }
  }

  function pageText() {
    var parts = [];
    document.querySelectorAll("[data-speak]").forEach(function (el) {
      if (el.closest("[hidden]")) { return; }
      var t = (el.getAttribute("data-speak") || el.innerText || el.textContent || "").replace(/\s+/g, " ").trim();
      if (t) { parts.push(t); }
    });
    return parts.join("。");
  }

  window.tongbanSpeak = function (text) { if (reading) { say(text); } };

  if (!btn || !synth || typeof SpeechSynthesisUtterance === "undefined") { return; }
  btn.hidden = false;
  btn.addEventListener("click", function () {
    if (reading) { synth.cancel(); setReading(false); return; }
    setReading(true);
    say(pageText());
  });
})();
