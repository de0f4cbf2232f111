// passkey.js: passkeys (WebAuthn) on the login page (passwordless login) and the account page
// (enrolment). The server's options arrive as JSON with base64url binary members; the browser
// wants ArrayBuffers, and the answer goes back as JSON with base64url members (WebAuthn L3
// §5.1 toJSON()). Texts come from data attributes (no inline script).
"use strict";
(function () {
  var b = tongban.b64u, u = tongban.unb64u;

  function creationOptions(o) {
    var pk = o.publicKey;
    pk.challenge = u(pk.challenge);
    pk.user.id = u(pk.user.id);
    (pk.excludeCredentials || []).forEach(function (c) { c.id = u(c.id); });
    return {publicKey: pk};
  }

  function requestOptions(o) {
    var pk = o.publicKey;
    pk.challenge = u(pk.challenge);
    (pk.allowCredentials || []).forEach(function (c) { c.id = u(c.id); });
    return {publicKey: pk};
  }

  function credentialJSON(c) {
    var r = c.response, out = {
      id: c.id, rawId: b(c.rawId), type: c.type,
      authenticatorAttachment: c.authenticatorAttachment || undefined,
      clientExtensionResults: c.getClientExtensionResults ? c.getClientExtensionResults() : {},
      response: {clientDataJSON: b(r.clientDataJSON)}
    };
    if (r.attestationObject) {
      out.response.attestationObject = b(r.attestationObject);
      out.response.transports = r.getTransports ? r.getTransports() : [];
    } else {
      out.response.authenticatorData = b(r.authenticatorData);
      out.response.signature = b(r.signature);
      if (r.userHandle) out.response.userHandle = b(r.userHandle);
    }
    return out;
  }

  function show(el, text) {
    el.textContent = text;
    el.hidden = false;
  }

  // run: begin → the browser's ceremony → finish; then follow the server's redirect, or show
  // its error (or the box's cancelled text when the person cancelled or the time ran out).
  function run(box, errEl, ceremony, extra) {
    var lang = "?ui_locales=" + encodeURIComponent(box.dataset.lang || "");
    errEl.hidden = true;
    if (!window.PublicKeyCredential || !navigator.credentials) {
      show(errEl, box.dataset.msgNosupport);
      return Promise.resolve();
    }
    return tongban.postJSON(box.dataset.begin + lang, {}).then(function (res) {
      if (typeof res.body !== "object") { // not JSON: sent to the login page (login not fresh)
        window.location.assign(box.dataset.relogin || window.location.href);
        return null;
      }
      if (res.status !== 200) throw {server: res.body.error};
      return ceremony(res.body.options).then(function (cred) {
        var body = extra();
        body.state = res.body.state;
        body.credential = credentialJSON(cred);
        return tongban.postJSON(box.dataset.finish + lang, body);
      });
    }).then(function (res) {
      if (!res) return;
      if (res.status === 200 && res.body.redirect) {
        window.location.assign(res.body.redirect);
        return;
      }
      show(errEl, (res.body && res.body.error) || box.dataset.msgCancelled);
    }).catch(function (e) {
      show(errEl, (e && e.server) || box.dataset.msgCancelled);
    });
  }

  // Exposed for tests that drive a ceremony by hand (replays).
  tongban.passkey = {creationOptions: creationOptions, requestOptions: requestOptions, credentialJSON: credentialJSON};

  document.addEventListener("DOMContentLoaded", function () {
    var login = document.getElementById("passkey-login");
    if (login) {
      document.getElementById("passkey-signin").addEventListener("click", function () {
        run(login, document.getElementById("passkey-login-error"), function (o) {
          return navigator.credentials.get(requestOptions(o));
        }, function () {
          var a = document.querySelector("input[name=authz]");
          return {authz: a ? a.value : "", ui_locales: login.dataset.lang};
        });
      });
    }
    var enrol = document.getElementById("passkey-enrol");
    if (enrol) {
      document.getElementById("passkey-add").addEventListener("click", function () {
        run(enrol, document.getElementById("passkey-error"), function (o) {
          return navigator.credentials.create(creationOptions(o));
        }, function () {
          return {name: document.getElementById("passkey-new-name").value, ui_locales: enrol.dataset.lang};
        });
      });
    }
  });
})();
