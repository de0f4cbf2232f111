// receipts.js: counter receipts for the holder's record (亮证记录), loaded by the verifier page.
//
// After a valid verdict the page calls window.tongbanReceipts.record(ctiB64u). The first time,
// the counter enrols: tongbanReceipts.enrol(code) (or the prompt of promptEnrol) sends the
// operator's one-time enrolment code and the public half of a new ECDSA P-256 key that
// WebCrypto generates non-extractable; the wallet answers the counter ID and key ID, kept
// with the key in IndexedDB. Each receipt is a compact JWS (ES256, typ tongban-receipt+jwt,
// kid; claims cti, ctr, iat) signed at once and queued in IndexedDB, then POSTed to
// /api/v1/receipts when online; the queue is flushed on the "online" event and on the next
// load. Self-contained: no external scripts. Contract: docs/design/citizens-counters.md.
//
// The wallet's address is the origin this script came from, or the data-wallet attribute of
// its <script> tag (a verifier folder an office hosts itself), or tongbanReceipts.configure.
(function () {
  'use strict';
  var script = document.currentScript;
  var wallet = (script && script.getAttribute('data-wallet')) ||
    (script && script.src ? new URL(script.src, location.href).origin : location.origin);
  var DB_NAME = 'tongban-receipts';
  var STATE = 'state';   // key "counter": {counterId, kid, name, office, privateKey}
  var QUEUE = 'queue';   // auto-increment: {jws, cti, at}
  var MAX_QUEUE = 5000;  // oldest dropped beyond this
  var lastError = '';
  var flushing = null;

  function openDB() {
    return new Promise(function (resolve, reject) {
      var req = indexedDB.open(DB_NAME, 1);
      req.onupgradeneeded = function () {
        var db = req.result;
        db.createObjectStore(STATE);
        db.createObjectStore(QUEUE, { autoIncrement: true });
      };
      req.onsuccess = function () { resolve(req.result); };
      req.onerror = function () { reject(req.error); };
    });
  }

  // tx runs fn(store) in a transaction on store name and resolves with the request's result.
  function tx(name, mode, fn) {
    return openDB().then(function (db) {
      return new Promise(function (resolve, reject) {
        var t = db.transaction(name, mode);
        var req = fn(t.objectStore(name));
        t.oncomplete = function () { db.close(); resolve(req ? req.result : undefined); };
        t.onerror = t.onabort = function () { db.close(); reject(t.error); };
      });
    });
  }

  function getState() { return tx(STATE, 'readonly', function (s) { return s.get('counter'); }); }

  function b64u(bytes) {
    var s = '';
    for (var i = 0; i < bytes.length; i++) { s += String.fromCharCode(bytes[i]); }
    return btoa(s).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
  }
  function utf8(s) { return new TextEncoder().encode(s); }

  function apiError(resp) {
    return resp.json().then(function (b) {
      return new Error((b && b.error_description) || (b && b.error) || ('HTTP ' + resp.status));
    }, function () { return new Error('HTTP ' + resp.status); });
  }

  // enrol binds a new non-extractable P-256 key to the counter of the one-time enrolment
  // code; it resolves with {counterId, name, office} or rejects with the wallet's reason.
  function enrol(code) {
    var kp;
    return crypto.subtle.generateKey({ name: 'ECDSA', namedCurve: 'P-256' }, false, ['sign'])
      .then(function (k) { kp = k; return crypto.subtle.exportKey('jwk', k.publicKey); })
      .then(function (jwk) {
        return fetch(wallet + '/api/v1/counters/enrol', {
          method: 'POST', headers: { 'Content-Type': 'application/json' },
          body: JSON.stringify({ enrolment_code: String(code), jwk: { kty: jwk.kty, crv: jwk.crv, x: jwk.x, y: jwk.y } })
        });
      })
      .then(function (resp) {
        if (!resp.ok) { return apiError(resp).then(function (e) { throw e; }); }
        return resp.json();
      })
      .then(function (b) {
        var st = { counterId: b.counter_id, kid: b.kid, name: b.name || '', office: b.office || '', privateKey: kp.privateKey };
        return tx(STATE, 'readwrite', function (s) { return s.put(st, 'counter'); })
          .then(function () { return { counterId: st.counterId, name: st.name, office: st.office }; });
      });
  }

  // sign returns the compact JWS receipt for the code ctiB64u, verified now, without sending it.
  function sign(ctiB64u) {
    return getState().then(function (st) {
      if (!st) { throw new Error('not enrolled'); }
      var head = b64u(utf8(JSON.stringify({ alg: 'ES256', typ: 'tongban-receipt+jwt', kid: st.kid })));
      var body = b64u(utf8(JSON.stringify({ cti: String(ctiB64u), ctr: st.counterId, iat: Math.floor(Date.now() / 1000) })));
      var input = head + '.' + body;
      // WebCrypto's ECDSA signature is r ‖ s (64 bytes), as JWS ES256 wants (RFC 7518 §3.4).
      return crypto.subtle.sign({ name: 'ECDSA', hash: 'SHA-256' }, st.privateKey, utf8(input))
        .then(function (sig) { return input + '.' + b64u(new Uint8Array(sig)); });
    });
  }

  // record signs a receipt for the code ctiB64u, queues it and sends the queue when online.
  // Not enrolled: it shows the enrolment prompt once and records nothing.
  function record(ctiB64u) {
    return getState().then(function (st) {
      if (!st) {
        if (!document.getElementById('tongban-enrol')) { promptEnrol(); }
        return status();
      }
      return sign(ctiB64u)
        .then(function (jws) {
          return tx(QUEUE, 'readwrite', function (s) { return s.add({ jws: jws, cti: String(ctiB64u), at: Date.now() }); });
        })
        .then(trimQueue)
        .then(flush)
        .then(status);
    });
  }

  function trimQueue() {
    return tx(QUEUE, 'readwrite', function (s) {
      var req = s.getAllKeys();
      req.onsuccess = function () {
        var keys = req.result;
        for (var i = 0; i < keys.length - MAX_QUEUE; i++) { s.delete(keys[i]); }
      };
      return req;
    });
  }

  // flush sends the queued receipts in order. A receipt the wallet answered (202, or a
  // refusal 400/401 that sending again cannot change) leaves the queue; on a network error,
  // 429 or 5xx it stops and keeps the rest for later.
  function flush() {
    if (flushing) { return flushing; }
    if (!navigator.onLine) { return Promise.resolve(); }
    flushing = tx(QUEUE, 'readonly', function (s) { return s.getAllKeys(); })
      .then(function (keys) {
        return keys.reduce(function (p, key) {
          return p.then(function (go) {
            if (!go) { return false; }
            return tx(QUEUE, 'readonly', function (s) { return s.get(key); }).then(function (item) {
              if (!item) { return true; }
              return fetch(wallet + '/api/v1/receipts', {
                method: 'POST', headers: { 'Content-Type': 'application/jose' }, body: item.jws
              }).then(function (resp) {
                if (resp.status === 202 || resp.status === 400 || resp.status === 401) {
                  lastError = resp.status === 202 ? '' : 'HTTP ' + resp.status;
                  return tx(QUEUE, 'readwrite', function (s) { return s.delete(key); }).then(function () { return true; });
                }
                lastError = 'HTTP ' + resp.status;
                return false;
              }, function (e) { lastError = String(e); return false; });
            });
          });
        }, Promise.resolve(true));
      })
      .then(function () { flushing = null; }, function (e) { flushing = null; lastError = String(e); });
    return flushing;
  }

  // status resolves with {enrolled, counterId, counterName, office, queued, lastError}.
  function status() {
    return Promise.all([getState(), tx(QUEUE, 'readonly', function (s) { return s.count(); })]).then(function (r) {
      var st = r[0];
      return {
        enrolled: !!st, counterId: st ? st.counterId : '', counterName: st ? st.name : '',
        office: st ? st.office : '', queued: r[1], lastError: lastError
      };
    });
  }

  // promptEnrol shows a small form asking for the enrolment code (in container, else at the
  // top of the page); it resolves when the counter is enrolled.
  function promptEnrol(container) {
    return new Promise(function (resolve) {
      var zh = !/^en/i.test(document.documentElement.lang || '');
      var form = document.createElement('form');
      form.id = 'tongban-enrol';
      form.className = 'tongban-enrol';
      form.setAttribute('style', 'border:2px solid #b71c1c;border-radius:8px;padding:1em;margin:1em 0;background:#fff;color:#1d2733');
      var label = document.createElement('label');
      label.textContent = zh ? '本柜台尚未登记。请输入管理员提供的登记码：' : 'This counter is not enrolled. Enter the enrolment code from your operator:';
      label.setAttribute('for', 'tongban-enrol-code');
      label.setAttribute('style', 'display:block;margin-bottom:.5em');
      var input = document.createElement('input');
      input.id = 'tongban-enrol-code';
      input.autocomplete = 'off';
      input.setAttribute('style', 'font-size:1.2em;min-height:48px;width:100%;box-sizing:border-box;letter-spacing:.1em');
      var button = document.createElement('button');
      button.type = 'submit';
      button.textContent = zh ? '登记' : 'Enrol';
      button.setAttribute('style', 'min-height:48px;min-width:6em;padding:0 1.5em;margin-top:.5em;font-size:1em');
      var msg = document.createElement('p');
      msg.setAttribute('role', 'status');
      form.append(label, input, button, msg);
      form.addEventListener('submit', function (ev) {
        ev.preventDefault();
        button.disabled = true;
        enrol(input.value).then(function (c) {
          msg.textContent = (zh ? '已登记：' : 'Enrolled: ') + (c.office ? c.office + ' · ' : '') + c.name;
          setTimeout(function () { form.remove(); }, 1500);
          resolve(c);
        }, function (e) {
          msg.textContent = (zh ? '登记失败：' : 'Enrolment failed: ') + e.message;
          button.disabled = false;
        });
      });
      (container || document.body).prepend(form);
      input.focus();
    });
  }

  function configure(opts) {
    if (opts && opts.wallet) { wallet = String(opts.wallet).replace(/\/+$/, ''); }
  }

  window.tongbanReceipts = {
    enrol: enrol, record: record, status: status, flush: flush, sign: sign,
    promptEnrol: promptEnrol, configure: configure
  };
  window.addEventListener('online', function () { flush(); });
  flush();
})();
