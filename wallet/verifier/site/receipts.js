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
// It lives in the verifier site (wallet/verifier/site), which serves and exports it with the
// page; the page (verify.js) shows the counter's state from status() and its 柜台登记 button
// opens promptEnrol.
//
// The wallet's address is the origin this script came from, or the data-wallet attribute of
// its <script> tag, or what tongbanReceipts.configure sets: the verifier page passes its
// config.json's wallet_url, so that an office's own copy of the page (wallet verifier export
// --wallet-url) sends to the wallet, not to the office's host. With data-configure="wait" on
// the <script> tag nothing is sent before configure is called.
//
// After every change (enrolled, a receipt queued, the queue sent, the prompt closed) it
// dispatches the event "tongbanreceipts" on window.
(function () {
  'use strict';
  var script = document.currentScript;
  var wallet = (script && script.getAttribute('data-wallet')) ||
    (script && script.src ? new URL(script.src, location.href).origin : location.origin);
  var waiting = !!(script && script.getAttribute('data-configure') === 'wait'); // for configure
  var off = false;       // configure({off: true}): receipts turned off
  var container = null;  // configure({container}): where promptEnrol puts its form
  var prompted = false;  // record showed the prompt once already
  var DB_NAME = 'tongban-receipts';
  var STATE = 'state';   // key "counter": {counterId, kid, name, office, privateKey}
  var QUEUE = 'queue';   // auto-increment: {jws, cti, at}
  var MAX_QUEUE = 5000;  // oldest dropped beyond this
  var lastError = '';
  var flushing = null;

  function changed(type) {
    try { window.dispatchEvent(new CustomEvent('tongbanreceipts', { detail: { type: type } })); } catch (e) { /* old browser */ }
  }

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

  // apiError is the wallet's refusal as an Error: message its error_description, code its
  // error (RFC 6749 §5.2 style body).
  function apiError(resp) {
    return resp.json().then(function (b) {
      var e = new Error((b && b.error_description) || (b && b.error) || ('HTTP ' + resp.status));
      e.code = (b && b.error) || '';
      return e;
    }, function () { return new Error('HTTP ' + resp.status); });
  }

  // enrolReason says why an enrolment failed: no network, or, in Chinese, the three refusals
  // of a code a counter's staff can act on (wallet/web handleCounterEnrol); else the wallet's
  // own words.
  function enrolReason(e, zh) {
    var m = String(e && e.message || e);
    if (e instanceof TypeError) { // fetch: no network, or the wallet does not answer
      return zh ? '无法连接电子证照系统，请联网后重试' : 'cannot reach the wallet: connect and try again';
    }
    if (!zh || !e || e.code !== 'invalid_grant') { return m; }
    if (/^unknown enrolment code/.test(m)) { return '没有这个登记码（请核对，或向管理员索取新的登记码）'; }
    if (/used already/.test(m)) { return '这个登记码已经用过，请向管理员索取新的登记码'; }
    if (/expired/.test(m)) { return '这个登记码已过期，请向管理员索取新的登记码'; }
    return m;
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
          .then(function () {
            changed('enrolled');
            return { counterId: st.counterId, name: st.name, office: st.office };
          });
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
  // Not enrolled: it shows the enrolment prompt once a page load (without taking the focus from the
  // scanner's field) and records nothing. Turned off: it does nothing.
  function record(ctiB64u) {
    if (off) { return status(); }
    return getState().then(function (st) {
      if (!st) {
        if (!prompted && !document.getElementById('tongban-enrol')) { prompted = true; promptEnrol(null, { focus: false }); }
        return status();
      }
      return sign(ctiB64u)
        .then(function (jws) {
          return tx(QUEUE, 'readwrite', function (s) { return s.add({ jws: jws, cti: String(ctiB64u), at: Date.now() }); });
        })
        .then(trimQueue)
        .then(function () { changed('queued'); })
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
    if (off || waiting || !navigator.onLine) { return Promise.resolve(); }
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
                // 502-504: a proxy answering for a wallet that is down.
                lastError = resp.status >= 502 && resp.status <= 504 ? 'unreachable' : 'HTTP ' + resp.status;
                return false;
              }, function (e) { console.error('receipts: send', e); lastError = 'unreachable'; return false; });
            });
          });
        }, Promise.resolve(true));
      })
      .then(function () { flushing = null; changed('flushed'); }, function (e) { flushing = null; lastError = String(e); changed('flushed'); });
    return flushing;
  }

  // status resolves with {enrolled, counterId, counterName, office, queued, online,
  // lastError, off}: queued is the number of receipts waiting in IndexedDB; lastError is '',
  // 'unreachable' (the wallet did not answer, or a proxy answered 502-504 for it: no network or
  // the wallet is down) or 'HTTP nnn'.
  function status() {
    return Promise.all([getState(), tx(QUEUE, 'readonly', function (s) { return s.count(); })]).then(function (r) {
      var st = r[0];
      return {
        enrolled: !!st, counterId: st ? st.counterId : '', counterName: st ? st.name : '',
        office: st ? st.office : '', queued: r[1], online: navigator.onLine, lastError: lastError, off: off
      };
    });
  }

  // promptEnrol shows a form asking for the enrolment code, with 登记 and 取消 buttons, in
  // the language of the page's <html lang>: in where (or the configured container, else at
  // the top of the page), focused unless opts.focus is false. Its elements have the classes
  // tongban-enrol(-label, -input, -buttons, -submit, -cancel, -msg) and no inline style (the
  // page's Content-Security-Policy allows none): the page styles them. It resolves with the
  // counter ({counterId, name, office}) when enrolled, or null when cancelled.
  function promptEnrol(where, opts) {
    var focus = !(opts && opts.focus === false);
    var open = document.getElementById('tongban-enrol');
    if (open) { open.remove(); changed('prompt-closed'); }
    return new Promise(function (resolve) {
      var zh = !/^en/i.test(document.documentElement.lang || '');
      var el = function (tag, cls, text) {
        var e = document.createElement(tag);
        e.className = cls;
        if (text) { e.textContent = text; }
        return e;
      };
      var form = el('form', 'tongban-enrol');
      form.id = 'tongban-enrol';
      form.setAttribute('autocomplete', 'off');
      var label = el('label', 'tongban-enrol-label', zh ? '本柜台尚未登记。请输入管理员提供的登记码：' : 'This counter is not enrolled. Enter the enrolment code from your operator:');
      label.setAttribute('for', 'tongban-enrol-code');
      var input = el('input', 'tongban-enrol-input');
      input.id = 'tongban-enrol-code';
      input.type = 'text';
      input.autocomplete = 'off';
      input.spellcheck = false;
      input.setAttribute('autocapitalize', 'characters');
      input.placeholder = 'XXXX-XXXX-XXXX-XXXX';
      var buttons = el('div', 'tongban-enrol-buttons');
      var button = el('button', 'tongban-enrol-submit', zh ? '登记' : 'Enrol');
      button.type = 'submit';
      var cancel = el('button', 'tongban-enrol-cancel', zh ? '取消' : 'Cancel');
      cancel.type = 'button';
      buttons.append(button, cancel);
      var msg = el('p', 'tongban-enrol-msg');
      msg.id = 'tongban-enrol-msg';
      msg.setAttribute('role', 'status');
      form.append(label, input, buttons, msg);
      var close = function (c) {
        form.remove();
        changed('prompt-closed');
        resolve(c);
      };
      cancel.addEventListener('click', function () { close(null); });
      form.addEventListener('submit', function (ev) {
        ev.preventDefault();
        var code = input.value.trim();
        // A licence code scanned into this field by mistake is not sent anywhere.
        if (/^LZ1:/i.test(code)) {
          msg.textContent = zh ? '这是电子证照二维码，不是登记码。请输入管理员提供的登记码。' : 'This is a licence code, not an enrolment code. Enter the code from your operator.';
          input.value = '';
          return;
        }
        if (!code) {
          msg.textContent = zh ? '请输入登记码。' : 'Enter the enrolment code.';
          return;
        }
        button.disabled = true;
        msg.textContent = zh ? '正在登记…' : 'Enrolling…';
        enrol(code).then(function (c) {
          msg.textContent = (zh ? '已登记：' : 'Enrolled: ') + (c.office ? c.office + ' · ' : '') + c.name;
          setTimeout(function () { close(c); }, 1500);
        }, function (e) {
          msg.textContent = (zh ? '登记失败：' : 'Enrolment failed: ') + enrolReason(e, zh);
          button.disabled = false;
        });
      });
      (where || container || document.body).prepend(form);
      changed('prompt-opened');
      if (focus) { input.focus(); }
    });
  }

  // configure sets, from opts: wallet (the wallet's base URL, e.g.
  // "https://wallet.example.gov.cn"; "" keeps the default), container (the element
  // promptEnrol uses), off (true: no enrolment, no receipts). It ends the wait of
  // data-configure="wait" and sends the queue.
  function configure(opts) {
    opts = opts || {};
    if (opts.wallet) { wallet = String(opts.wallet).replace(/\/+$/, ''); }
    if (opts.container) { container = opts.container; }
    off = !!opts.off;
    waiting = false;
    return flush();
  }

  window.tongbanReceipts = {
    enrol: enrol, record: record, status: status, flush: flush, sign: sign,
    promptEnrol: promptEnrol, configure: configure
  };
  window.addEventListener('online', function () { flush(); });
  flush();
})();
