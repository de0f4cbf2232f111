// The counter verifier (扫码核验): reads a licence code from the camera (BarcodeDetector where
// the browser has it, else jsQR) or from a keyboard-wedge scanner, verifies it offline with the
// Go verifier compiled to WebAssembly (verifier.wasm, window.tongbanVerifier), and shows the
// verdict. The verifier's state (replay cache, trust-list sequence, trust anchors followed) and
// the last trust and status lists live in IndexedDB, so a reload — even offline, through the
// service worker sw.js — keeps refusing replayed codes and rolled-back lists. The counter's
// enrolment and its receipts for the holder's record are receipts.js's (window.tongbanReceipts):
// this page configures it from config.json, shows its state and sends a receipt after every
// valid verdict.
(function () {
  'use strict';

  var T = {
    zh: {
      title: '扫码核验', subtitle: '通办电子证照 · 窗口核验', other: 'English',
      idle: '等待扫码', idleHelp: '请持证人出示电子证照二维码，对准摄像头，或用扫码枪扫描。',
      valid: '有效', invalid: '无效', validHelp: '签名有效，二维码在有效期内（容许30秒时钟误差），未被使用过。请核对持证人与证件。',
      starting: '正在准备核验程序…', engineFailed: '核验程序无法加载：',
      cameraStarting: '正在开启摄像头…', cameraStart: '开启摄像头', cameraNone: '本设备没有可用的摄像头，请使用扫码枪输入。',
      cameraDenied: '无法使用摄像头（', cameraDeniedEnd: '）。可点击按钮重试，或使用扫码枪输入。', cameraOn: '',
      NotAllowedError: '没有允许本页使用摄像头', NotFoundError: '没有找到摄像头', NotReadableError: '摄像头正被其他程序使用',
      OverconstrainedError: '摄像头不支持所需的画面', SecurityError: '本页不是安全连接', cameraOther: '摄像头出错',
      insecure: '本页不是安全连接（HTTPS）：摄像头、离线使用和防止同一二维码在两个标签页中都被接受的保护都不可用。请让管理员通过 HTTPS 提供本页。',
      wedgeLabel: '扫码枪输入（扫描后自动核验）', verify: '核验',
      trustTitle: '信任列表', trustLoading: '正在加载信任列表…', trustOK: '可用', trustWarn: '即将过期，请联网更新',
      trustStale: '已过期：所有二维码都无法核验，请联网更新', trustNone: '没有可用的信任列表：请联网后刷新本页',
      trustRefused: '新获取的信任列表被拒绝：', sequence: '序号', issued: '签发于', age: '距今', freshUntil: '有效至',
      statusList: '状态列表', statusListUntil: '有效至',
      hours: '小时', minutes: '分钟', days: '天',
      online: '在线：已从运营方获取最新列表。', offline: '离线：使用本机保存的列表（', offlineEnd: '）。',
      checkedAt: '核验时间（本机）：', foot: '本页离线可用：核验在本机完成，不上传二维码内容。', anchor: '信任锚指纹：',
      counterTitle: '本柜台', enrolButton: '柜台登记', counterNone: '未登记',
      counterNoneHelp: '核验照常进行，但结果不会记入持证人的亮证记录。登记只需一次，使用管理员提供的登记码。',
      counterEnrolled: '已登记：', counterEnrolledHelp: '核验有效时，本机向持证人的亮证记录发送一条回执（只含二维码编号、柜台和时间）。',
      queued: '待发送回执：', queuedUnit: ' 条', queuedOffline: '（离线：联网后自动发送）', queuedSending: '（正在发送）',
      queuedFailed: '（发送失败，稍后自动重试：', queuedFailedEnd: '）',
      queuedUnreachable: '（暂时连不上电子证照服务，稍后自动重试）',
      elsewhereTitle: '核验页已在别处打开',
      elsewhereOpen: '本设备的另一个标签页或窗口已打开核验页。同一台设备同时只在一个页面核验，以免同一个二维码在两处都被接受。',
      elsewhereMoved: '核验已转到本设备的另一个标签页或窗口，本页已停止核验。',
      elsewhereTake: '改在本页核验'
    },
    en: {
      title: 'Licence code check', subtitle: 'Tongban e-licences · counter verifier', other: '中文',
      idle: 'Ready to scan', idleHelp: 'Ask the holder to show the e-licence QR code to the camera, or scan it with the scanner.',
      valid: 'VALID', invalid: 'INVALID', validHelp: 'Signature valid, code within its validity (30 s allowed for clock differences), not used before. Check that the holder matches.',
      starting: 'Preparing the verifier…', engineFailed: 'The verifier could not load: ',
      cameraStarting: 'Starting the camera…', cameraStart: 'Start camera', cameraNone: 'No camera on this device: use the scanner field.',
      cameraDenied: 'The camera cannot be used (', cameraDeniedEnd: '). Press the button to retry, or use the scanner field.', cameraOn: '',
      NotAllowedError: 'this page was not allowed to use it', NotFoundError: 'no camera was found', NotReadableError: 'another program is using it',
      OverconstrainedError: 'it cannot give the picture needed', SecurityError: 'this page is not a secure connection', cameraOther: 'a camera error',
      insecure: 'This page is not on a secure connection (HTTPS): the camera, working offline and the guard against a code being accepted in two tabs are all unavailable. Ask your operator to serve it over HTTPS.',
      wedgeLabel: 'Scanner input (verifies on Enter)', verify: 'Verify',
      trustTitle: 'Trust list', trustLoading: 'Loading the trust list…', trustOK: 'in use', trustWarn: 'expires soon: connect to update it',
      trustStale: 'out of date: no code can be verified; connect to update it', trustNone: 'no trust list: connect and reload this page',
      trustRefused: 'A newly fetched trust list was refused: ', sequence: 'sequence', issued: 'issued', age: 'age', freshUntil: 'fresh until',
      statusList: 'Status list', statusListUntil: 'fresh until',
      hours: 'h', minutes: 'min', days: 'd',
      online: 'Online: the lists are the operator\'s current ones.', offline: 'Offline: using the lists saved on this device (', offlineEnd: ').',
      checkedAt: 'Checked at (this device): ', foot: 'Works offline: codes are checked on this device and never uploaded.', anchor: 'Trust anchor fingerprint: ',
      counterTitle: 'This counter', enrolButton: 'Enrol this counter', counterNone: 'Not enrolled',
      counterNoneHelp: 'Codes are verified as usual, but they are not added to the holder\'s record. Enrolment is needed once, with the enrolment code from your operator.',
      counterEnrolled: 'Enrolled: ', counterEnrolledHelp: 'Every valid code sends a receipt to the holder\'s record (the code\'s ID, this counter and the time; nothing else).',
      queued: 'Receipts waiting: ', queuedUnit: '', queuedOffline: ' (offline: they are sent when the network is back)', queuedSending: ' (sending)',
      queuedFailed: ' (sending failed; retried automatically: ', queuedFailedEnd: ')',
      queuedUnreachable: ' (the wallet cannot be reached for now; retried automatically)',
      elsewhereTitle: 'The verifier is open elsewhere',
      elsewhereOpen: 'Another tab or window on this device has the verifier open. One device verifies in one page at a time, so that a code is never accepted in two places.',
      elsewhereMoved: 'Verifying has moved to another tab or window on this device; this page has stopped.',
      elsewhereTake: 'Verify in this tab'
    }
  };

  // Staleness warning: this long before the trust list expires, the page warns.
  var WARN_BEFORE_MS = 24 * 3600 * 1000;
  // A verdict goes back to "ready" after this long, so that it is not mistaken for the next
  // person's.
  var VERDICT_SHOWN_MS = 45 * 1000;
  // The camera ignores the code it just verified while it stays in view, for this long after
  // it was last seen.
  var SAME_CODE_MS = 15 * 1000;
  // Lists are fetched again this often while the page is open.
  var REFRESH_MS = 10 * 60 * 1000;
  // Queued receipts are sent again this often while some wait (the wallet may come back
  // without the browser noticing a change of network).
  var RESEND_MS = 60 * 1000;

  var $ = function (id) { return document.getElementById(id); };
  var params = new URLSearchParams(location.search);
  // Chinese unless the counter chose English (the button, remembered; or ?lang=en).
  var lang = params.get('lang') || localStorage.getItem('tongban-verifier-lang') || 'zh';
  if (!T[lang]) lang = 'zh';
  var t = function (k) { return T[lang][k]; };

  var engine = null;       // window.tongbanVerifier once the WebAssembly has started
  var config = {};         // config.json
  var trustInfo = null;    // loadTrustList's answer for the list in use
  var trustRefused = null; // the last refusal of a fetched list
  var statusInfo = null;
  var online = null;       // whether the last fetch of the trust list reached the operator
  var lastVerdict = null, lastVerdictAt = 0, idleTimer = 0;
  var lastText = '', lastSeen = 0;
  var saves = 0;
  var listsTried = false; // the first attempt to load the lists is over: the camera may verify

  function call(name) {
    var args = Array.prototype.slice.call(arguments, 1);
    return JSON.parse(engine[name].apply(engine, args));
  }

  // --- IndexedDB: one object store of keys "state", "trustList", "statusList". ---
  var dbPromise = null;
  function db() {
    if (!dbPromise) {
      dbPromise = new Promise(function (resolve, reject) {
        var r = indexedDB.open('tongban-verifier', 1);
        r.onupgradeneeded = function () { r.result.createObjectStore('kv'); };
        r.onsuccess = function () { resolve(r.result); };
        r.onerror = function () { reject(r.error); };
      });
    }
    return dbPromise;
  }
  function dbGet(key) {
    return db().then(function (d) {
      return new Promise(function (resolve, reject) {
        var r = d.transaction('kv', 'readonly').objectStore('kv').get(key);
        r.onsuccess = function () { resolve(r.result); };
        r.onerror = function () { reject(r.error); };
      });
    });
  }
  function dbPut(key, value) {
    return db().then(function (d) {
      return new Promise(function (resolve, reject) {
        var tx = d.transaction('kv', 'readwrite');
        tx.objectStore('kv').put(value, key);
        tx.oncomplete = function () { resolve(); };
        tx.onerror = function () { reject(tx.error); };
      });
    });
  }
  function saveState() {
    if (!engine) return Promise.resolve();
    return dbPut('state', engine.state()).then(function () {
      saves++;
      document.body.setAttribute('data-saves', String(saves));
    }).catch(function (e) { console.error('verifier: saving the state failed', e); });
  }

  // --- the WebAssembly engine ---
  function startEngine() {
    var go = new Go();
    var ready = new Promise(function (resolve) { window.tongbanVerifierReady = resolve; });
    var inst = WebAssembly.instantiateStreaming ?
      WebAssembly.instantiateStreaming(fetch('verifier.wasm'), go.importObject).catch(function () { return fallback(); }) :
      fallback();
    function fallback() {
      return fetch('verifier.wasm').then(function (r) { return r.arrayBuffer(); })
        .then(function (b) { return WebAssembly.instantiate(b, go.importObject); });
    }
    return inst.then(function (res) {
      go.run(res.instance);
      return ready;
    }).then(function () { return window.tongbanVerifier; });
  }

  // fetchBytes fetches url; the service worker marks an answer from its cache (offline).
  var fromCache = false;
  function fetchBytes(url) {
    return fetch(url, { cache: 'no-cache', credentials: 'omit' }).then(function (r) {
      if (!r.ok) throw new Error(url + ': HTTP ' + r.status);
      fromCache = r.headers.get('X-Tongban-Offline') === '1';
      return r.arrayBuffer();
    }).then(function (b) { return new Uint8Array(b); });
  }

  // --- trust and status lists ---
  function useTrustList(bytes) {
    var info = call('loadTrustList', bytes);
    if (info.ok) { trustInfo = info; }
    return info;
  }
  function refreshTrustList() {
    var urls = [config.trust_list_url || 'trust-list.cose'];
    if (config.trust_list_snapshot && urls.indexOf(config.trust_list_snapshot) < 0) urls.push(config.trust_list_snapshot);
    var i = 0;
    function next() {
      if (i >= urls.length) { online = false; return Promise.resolve(); }
      var url = urls[i++];
      return fetchBytes(url).then(function (bytes) {
        online = i === 1 && !fromCache;
        var info = useTrustList(bytes);
        if (!info.ok) {
          trustRefused = info;
          return next();
        }
        trustRefused = null;
        return dbPut('trustList', bytes).then(saveState);
      }, next);
    }
    return next().then(renderTrust);
  }
  function refreshStatusList() {
    if (!config.status_list_url) return Promise.resolve();
    return fetchBytes(config.status_list_url).then(function (bytes) {
      var info = call('loadStatusList', bytes);
      if (info.ok) { statusInfo = info; return dbPut('statusList', bytes); }
    }, function () {}).then(renderTrust);
  }
  function refresh() {
    return refreshTrustList().then(refreshStatusList);
  }

  function duration(ms) {
    var m = Math.max(0, Math.round(ms / 60000));
    if (m < 60) return m + ' ' + t('minutes');
    var h = Math.floor(m / 60);
    if (h < 48) return h + ' ' + t('hours');
    return Math.floor(h / 24) + ' ' + t('days');
  }
  // Times are shown in China Standard Time, as the verdict's rows are, whatever the device's
  // time zone: "2026-12-01 10:00".
  var cst = new Intl.DateTimeFormat('sv-SE', { timeZone: 'Asia/Shanghai', year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', second: '2-digit', hourCycle: 'h23' });
  function localTime(iso, seconds) {
    var s = cst.format(typeof iso === 'number' ? new Date(iso) : new Date(iso));
    return seconds ? s : s.slice(0, 16);
  }

  function renderTrust() {
    var box = $('trust'), state = $('trust-state'), detail = $('trust-detail');
    box.className = 'trust';
    document.body.setAttribute('data-trust', trustInfo ? String(trustInfo.sequence) : '');
    if (!trustInfo) {
      box.classList.add('stale');
      state.textContent = t('trustNone');
      detail.textContent = trustRefused ? t('trustRefused') + msg(trustRefused) + ' (' + trustRefused.reason + ')' : '';
      renderNet();
      return;
    }
    var now = Date.now(), exp = Date.parse(trustInfo.expires_at), iss = Date.parse(trustInfo.issued_at);
    var word = t('trustOK');
    if (now > exp) { box.classList.add('stale'); word = t('trustStale'); }
    else if (exp - now < WARN_BEFORE_MS) { box.classList.add('warn'); word = t('trustWarn'); }
    else { box.classList.add('ok'); }
    state.textContent = t('trustTitle') + (lang === 'zh' ? '：' : ': ') + word;
    var parts = [
      t('sequence') + ' ' + trustInfo.sequence,
      t('issued') + ' ' + localTime(trustInfo.issued_at) + ' (' + t('age') + ' ' + duration(now - iss) + ')',
      t('freshUntil') + ' ' + localTime(trustInfo.expires_at)
    ];
    if (statusInfo) parts.push(t('statusList') + ' ' + t('statusListUntil') + ' ' + localTime(statusInfo.expires_at));
    detail.textContent = parts.join(lang === 'zh' ? '；' : '; ');
    if (trustRefused) detail.textContent += (lang === 'zh' ? '。' : '. ') + t('trustRefused') + msg(trustRefused) + ' (' + trustRefused.reason + ')';
    renderNet();
  }
  function renderNet() {
    var el = $('net-state');
    if (online === null) { el.textContent = ''; return; }
    el.textContent = online ? t('online') : t('offline') + (trustInfo ? t('sequence') + ' ' + trustInfo.sequence : '—') + t('offlineEnd');
  }

  function capital(s) { return s ? s.charAt(0).toUpperCase() + s.slice(1) : ''; }
  function msg(o) { return lang === 'zh' ? o.message_zh : capital(o.message_en); }
  function altMsg(o) { return lang === 'zh' ? capital(o.message_en) : o.message_zh; }

  // --- verdicts ---
  // verify checks text from source ("camera" or "wedge") and shows the verdict. The body's
  // data attributes say what happened, for the page's tests: data-verdict (the last verdict:
  // "valid" or the reason), data-verdict-camera and data-verdict-wedge, data-wedge-count.
  var wedgeCount = 0;
  function verify(text, source, t0) {
    if (!engine) return;
    var v = call('verify', text);
    // The replay cache is saved before the verdict shows, so that a page reloaded the moment
    // 有效 appears still refuses the same code (saving takes a few milliseconds).
    saveState().then(function () { show(v, source, t0); });
  }
  function show(v, source, t0) {
    document.body.setAttribute('data-verdict-' + source, v.valid ? 'valid' : v.reason);
    if (source === 'wedge') document.body.setAttribute('data-wedge-count', String(++wedgeCount));
    lastVerdict = v;
    lastVerdictAt = Date.now();
    renderVerdict();
    if (t0 !== undefined) {
      try { performance.measure('frame-to-verdict', { start: t0, end: performance.now() }); } catch (e) { /* old browser */ }
    }
    document.body.setAttribute('data-cti', v.valid ? v.cti : '');
    if (v.valid && receipts) {
      try { receipts.record(v.cti).catch(function (e) { console.error('verifier: receipt', e); }); } catch (e) { console.error('verifier: receipt', e); }
    }
    clearTimeout(idleTimer);
    idleTimer = setTimeout(function () { lastVerdict = null; renderVerdict(); }, VERDICT_SHOWN_MS);
  }

  // breakable sets el's text to s with a line-break opportunity (<wbr>) where a run of the mask
  // character * begins or ends, so that a masked number breaks as 110101 / ******** / 002X.
  function breakable(el, s) {
    el.textContent = '';
    String(s).split(/(\*+)/).forEach(function (part, i) {
      if (!part) return;
      if (el.childNodes.length) el.appendChild(document.createElement('wbr'));
      el.appendChild(document.createTextNode(part));
    });
  }

  function renderVerdict() {
    var box = $('verdict'), v = lastVerdict;
    var fields = $('fields');
    fields.textContent = '';
    box.className = 'verdict';
    if (!v) {
      box.classList.add('idle');
      $('verdict-word').textContent = t('idle');
      $('verdict-word-alt').textContent = lang === 'zh' ? T.en.idle : T.zh.idle;
      $('verdict-reason').textContent = t('idleHelp');
      $('verdict-reason-alt').textContent = '';
      $('verdict-time').textContent = '';
      document.body.setAttribute('data-verdict', '');
      return;
    }
    box.classList.add(v.valid ? 'valid' : 'invalid');
    if (v.colour) box.classList.add('colour-' + v.colour);
    $('verdict-word').textContent = v.valid ? t('valid') : t('invalid');
    $('verdict-word-alt').textContent = lang === 'zh' ? (v.valid ? T.en.valid : T.en.invalid) : (v.valid ? T.zh.valid : T.zh.invalid);
    if (v.valid) {
      $('verdict-reason').textContent = t('validHelp');
      $('verdict-reason-alt').textContent = lang === 'zh' ? T.en.validHelp : T.zh.validHelp;
    } else {
      $('verdict-reason').textContent = msg(v);
      $('verdict-reason-alt').textContent = altMsg(v) + ' (' + v.reason + ')';
    }
    (v.rows || []).forEach(function (r) {
      var dt = document.createElement('dt'), dd = document.createElement('dd');
      var label = lang === 'zh' ? r.label_zh : r.label_en.replace(/_/g, ' ');
      var alt = lang === 'zh' ? r.label_en.replace(/_/g, ' ') : r.label_zh;
      dt.textContent = label;
      dt.title = alt;
      var value = (lang === 'zh' ? r.value_zh : r.value_en) || r.value;
      if (r.key === 'colour') {
        var chip = document.createElement('span');
        chip.className = 'chip ' + r.value;
        chip.textContent = value;
        dd.appendChild(chip);
      } else {
        breakable(dd, value);
      }
      if (r.key === 'kind') { dt.className = 'head'; dd.className = 'head'; dt.textContent = label + ' · ' + value; dd.hidden = true; }
      if (r.level > 0) { dt.classList.add('sub'); }
      if (r.key === 'signed_by' || r.key === 'trust_list' || r.key === 'profile') { dt.classList.add('minor'); dd.classList.add('minor'); }
      fields.appendChild(dt);
      fields.appendChild(dd);
    });
    $('verdict-time').textContent = t('checkedAt') + localTime(lastVerdictAt, true);
    document.body.setAttribute('data-verdict', v.valid ? 'valid' : v.reason);
  }

  // --- camera ---
  var video = $('video'), canvas = document.createElement('canvas'), ctx2d = null, detector = null, busy = false;
  var cameraState = ['cameraStarting'];
  // cameraStatus shows the camera's state: T keys and plain strings, joined.
  function cameraStatus() {
    if (arguments.length) cameraState = Array.prototype.slice.call(arguments);
    $('camera-status').textContent = cameraState.map(function (k) { return T[lang][k] !== undefined ? T[lang][k] : k; }).join('');
  }
  function startCamera() {
    $('camera-start').hidden = true;
    if (!navigator.mediaDevices || !navigator.mediaDevices.getUserMedia) { cameraStatus('cameraNone'); return; }
    cameraStatus('cameraStarting');
    navigator.mediaDevices.getUserMedia({ audio: false, video: { facingMode: 'environment', width: { ideal: 1280 }, height: { ideal: 720 } } })
      .then(function (stream) {
        video.srcObject = stream;
        return video.play();
      })
      .then(function () { return makeDetector(); })
      .then(function (d) {
        detector = d;
        cameraState = [];
        cameraStatus();
        document.body.setAttribute('data-camera', d ? 'barcodedetector' : 'jsqr');
        nextFrame();
      })
      .catch(function (e) {
        var name = e && e.name;
        cameraStatus('cameraDenied', T.zh[name] !== undefined && /Error$/.test(name) ? name : 'cameraOther', 'cameraDeniedEnd');
        console.error('verifier: camera', e);
        $('camera-start').hidden = false;
      });
  }
  function makeDetector() {
    if (!('BarcodeDetector' in window)) return Promise.resolve(null);
    return window.BarcodeDetector.getSupportedFormats().then(function (f) {
      return f.indexOf('qr_code') >= 0 ? new window.BarcodeDetector({ formats: ['qr_code'] }) : null;
    }, function () { return null; });
  }
  function nextFrame() {
    if (video.requestVideoFrameCallback) video.requestVideoFrameCallback(onFrame);
    else setTimeout(onFrame, 80);
  }
  function onFrame() {
    if (!engine || !listsTried) { nextFrame(); return; }
    var t0 = performance.now();
    busy = true;
    decodeFrame().then(function (text) {
      if (text) {
        var now = Date.now();
        if (text === lastText && now - lastSeen < SAME_CODE_MS) { lastSeen = now; return; }
        lastText = text; lastSeen = now;
        verify(text, 'camera', t0);
      }
    }).catch(function (e) { console.error('verifier: frame', e); })
      .then(function () { busy = false; nextFrame(); });
  }
  function decodeFrame() {
    if (detector) {
      return detector.detect(video).then(function (codes) { return codes.length ? codes[0].rawValue : null; });
    }
    if (!window.jsQR || !video.videoWidth) return Promise.resolve(null);
    var scale = Math.min(1, 800 / Math.max(video.videoWidth, video.videoHeight));
    var w = Math.round(video.videoWidth * scale), h = Math.round(video.videoHeight * scale);
    if (canvas.width !== w || canvas.height !== h) { canvas.width = w; canvas.height = h; ctx2d = null; }
    if (!ctx2d) ctx2d = canvas.getContext('2d', { willReadFrequently: true });
    ctx2d.drawImage(video, 0, 0, w, h);
    var img = ctx2d.getImageData(0, 0, w, h);
    var r = window.jsQR(img.data, w, h, { inversionAttempts: 'dontInvert' });
    return Promise.resolve(r ? r.data : null);
  }

  // --- the counter: enrolment and receipts (receipts.js) ---
  // receipts is window.tongbanReceipts once configured, null when the script is missing or
  // config.json turns receipts off. The body's data-counter says the state, for the page's
  // tests: "enrolled", "none" or "off"; data-queued the receipts waiting.
  var receipts = null, counter = null;
  function setupReceipts() {
    var r = window.tongbanReceipts;
    if (!r || typeof r.status !== 'function' || typeof r.configure !== 'function') {
      document.body.setAttribute('data-counter', 'off');
      return;
    }
    if (config.no_receipts) {
      r.configure({ off: true });
      document.body.setAttribute('data-counter', 'off');
      return;
    }
    receipts = r;
    receipts.configure({ wallet: config.wallet_url || '', container: $('counter-enrol') });
    $('counter').hidden = false;
    $('counter-enrol-button').addEventListener('click', function () {
      receipts.promptEnrol($('counter-enrol'));
    });
    window.addEventListener('tongbanreceipts', updateCounter);
    window.addEventListener('online', updateCounter);
    window.addEventListener('offline', updateCounter);
    setInterval(function () {
      if (counter && counter.queued > 0) receipts.flush().then(updateCounter);
    }, RESEND_MS);
    updateCounter();
  }
  function updateCounter() {
    if (!receipts) return;
    receipts.status().then(function (st) {
      counter = st;
      renderCounter();
    }, function (e) { console.error('verifier: counter state', e); });
  }
  function renderCounter() {
    if (!receipts || !counter) return;
    var st = counter, box = $('counter');
    var prompt = document.getElementById('tongban-enrol');
    box.className = 'counter ' + (st.enrolled ? 'enrolled' : 'none');
    $('counter-state').textContent = st.enrolled ?
      t('counterEnrolled') + (st.office ? st.office + ' · ' : '') + st.counterName : t('counterNone');
    $('counter-help').textContent = st.enrolled ? t('counterEnrolledHelp') : t('counterNoneHelp');
    $('counter-enrol-button').hidden = st.enrolled || !!prompt;
    var q = $('counter-queue');
    q.hidden = !st.queued;
    if (st.queued) {
      q.textContent = t('queued') + st.queued + t('queuedUnit') + (!st.online ? t('queuedOffline') :
        st.lastError === 'unreachable' ? t('queuedUnreachable') :
        st.lastError ? t('queuedFailed') + st.lastError + t('queuedFailedEnd') : t('queuedSending'));
    }
    document.body.setAttribute('data-counter', st.enrolled ? 'enrolled' : 'none');
    document.body.setAttribute('data-queued', String(st.queued));
  }

  // --- language ---
  function applyLang() {
    document.documentElement.lang = lang === 'zh' ? 'zh-CN' : 'en';
    document.title = t('title') + (lang === 'zh' ? ' · 电子证照' : ' · Tongban');
    Array.prototype.forEach.call(document.querySelectorAll('[data-t]'), function (el) {
      var k = el.getAttribute('data-t');
      if (T[lang][k] !== undefined) el.textContent = T[lang][k];
    });
    var b = $('lang');
    b.textContent = t('other');
    b.lang = lang === 'zh' ? 'en' : 'zh-CN';
    renderVerdict();
    if (engine) renderTrust();
    renderAnchor();
    cameraStatus();
    renderCounter();
    renderElsewhere();
    // An open enrolment form is opened again in the new language.
    var prompt = document.getElementById('tongban-enrol');
    if (prompt && receipts) receipts.promptEnrol($('counter-enrol'), { focus: false });
  }
  var anchors = [];
  function renderAnchor() { $('anchor').textContent = anchors.length ? t('anchor') + anchors.join(', ') : ''; }

  // --- one verifying page per device ---
  // Each page keeps the replay cache in memory and saves it whole to IndexedDB, so two pages of
  // one origin would each accept a code the other had seen, and overwrite each other's saved
  // state. A Web Lock makes one page the verifier: a page opened while another holds it says so
  // and offers to take over; the page taken over from stops and says so. The body's data-tab
  // says which, for the page's tests: "held", "elsewhere" or "moved".
  var TAB_LOCK = 'tongban-verifier-tab';
  var elsewhereKey = '';
  function holdTab(options, onHeld) {
    navigator.locks.request(TAB_LOCK, options, function (lock) {
      if (!lock) { showElsewhere('elsewhereOpen'); return null; }
      onHeld();
      return new Promise(function () {}); // held for as long as the page lives
    }).catch(function (e) {
      if (e && e.name === 'AbortError') lostTab();
      else console.error('verifier: tab lock', e);
    });
  }
  function showElsewhere(key) {
    elsewhereKey = key;
    document.body.setAttribute('data-tab', key === 'elsewhereMoved' ? 'moved' : 'elsewhere');
    $('elsewhere').hidden = false;
    $('elsewhere-text').textContent = t(key);
    $('code-input').disabled = true;
    $('wedge-submit').disabled = true;
    $('elsewhere-take').focus();
  }
  function renderElsewhere() { if (elsewhereKey) $('elsewhere-text').textContent = t(elsewhereKey); }
  function lostTab() {
    engine = null;
    lastVerdict = null;
    renderVerdict();
    if (video.srcObject) video.srcObject.getTracks().forEach(function (tr) { tr.stop(); });
    showElsewhere('elsewhereMoved');
  }
  // Taking over: the page starts afresh, from the state the other page saved.
  function takeTab() {
    holdTab({ steal: true }, function () { location.reload(); });
  }

  // --- start ---
  function start() {
    applyLang();
    $('lang').addEventListener('click', function () {
      lang = lang === 'zh' ? 'en' : 'zh';
      localStorage.setItem('tongban-verifier-lang', lang);
      applyLang();
    });
    $('elsewhere-take').addEventListener('click', takeTab);
    // On http from a network address the browser gives no camera, no service worker and no
    // Web Locks: say so instead of verifying without the guards.
    if (window.isSecureContext === false) {
      $('insecure').hidden = false;
      document.body.setAttribute('data-insecure', '1');
    }
    if (navigator.locks && navigator.locks.request) {
      holdTab({ ifAvailable: true }, function () { document.body.setAttribute('data-tab', 'held'); begin(); });
    } else {
      begin();
    }
  }
  function begin() {
    $('wedge').addEventListener('submit', function (e) {
      e.preventDefault();
      var input = $('code-input'), text = input.value.trim();
      input.value = '';
      if (text) verify(text, 'wedge');
      else { clearTimeout(idleTimer); lastVerdict = null; renderVerdict(); } // Enter on nothing: no stale verdict stays up
      input.focus();
    });
    $('camera-start').addEventListener('click', startCamera);
    if (window.matchMedia && window.matchMedia('(pointer: fine)').matches) $('code-input').focus();
    if ('serviceWorker' in navigator) {
      navigator.serviceWorker.register('sw.js').catch(function (e) { console.error('verifier: service worker', e); });
    }
    $('verdict-reason').textContent = t('starting');

    var cfg = fetch('config.json', { cache: 'no-cache' }).then(function (r) { return r.json(); });
    // receipts.js runs after this script (both deferred): by DOMContentLoaded it has.
    var loaded = new Promise(function (resolve) {
      if (document.readyState === 'complete') { resolve(); return; }
      document.addEventListener('DOMContentLoaded', resolve);
      window.addEventListener('load', resolve);
    });
    Promise.all([cfg, loaded]).then(function (a) { config = a[0]; setupReceipts(); })
      .catch(function (e) { console.error('verifier: receipts', e); });
    var pem = fetch('trust-anchor.pem', { cache: 'no-cache' }).then(function (r) {
      if (!r.ok) throw new Error('trust-anchor.pem: HTTP ' + r.status);
      return r.text();
    });
    Promise.all([cfg, pem, startEngine(), dbGet('state'), dbGet('trustList'), dbGet('statusList')]).then(function (a) {
      config = a[0]; engine = a[2];
      var init = call('init', a[1], a[3] || '');
      if (!init.ok) throw new Error(init.error);
      anchors = init.anchors || [];
      renderAnchor();
      if (a[4]) useTrustList(a[4]);
      if (a[5]) { var s = call('loadStatusList', a[5]); if (s.ok) statusInfo = s; }
      renderVerdict();
      renderTrust();
      return refresh();
    }).then(function () {
      listsTried = true;
      document.body.setAttribute('data-ready', '1');
      setInterval(refresh, REFRESH_MS);
      setInterval(renderTrust, 60 * 1000);
      window.addEventListener('online', refresh);
      window.addEventListener('offline', function () { online = false; renderTrust(); });
    }).catch(function (e) {
      console.error('verifier:', e);
      $('verdict-reason').textContent = t('engineFailed') + (e && e.message || e);
      document.body.setAttribute('data-ready', 'failed');
    });
    startCamera();
  }

  if (document.readyState === 'loading') document.addEventListener('DOMContentLoaded', start);
  else start();
})();
