// The counter verifier's service worker: after the first visit the page, its scripts, the
// WebAssembly verifier and the last trust and status lists come from this cache when the
// network is down, so a counter keeps verifying offline.
//
// The files of one build (VERSION, set when the page is served or exported; receipts.js,
// which queues the counter's receipts while offline, among them) are cached on install and
// served from the cache first; the files that change without a new build (the page itself,
// config.json, trust-anchor.pem, the trust and status lists) are fetched from the network
// first and fall back to the cache after NETWORK_TIMEOUT_MS. Receipts and enrolments (POST)
// go straight to the network.
'use strict';
var VERSION = 'dev';
var CACHE = 'tongban-verifier-' + VERSION;
var BUILD = ['verify.css', 'verify.js', 'wasm_exec.js', 'jsqr.js', 'verifier.wasm', 'receipts.js'];
var NETWORK_FIRST = ['./', 'index.html', 'config.json', 'trust-anchor.pem'];
var NETWORK_TIMEOUT_MS = 4000;

self.addEventListener('install', function (event) {
  event.waitUntil(caches.open(CACHE).then(function (c) {
    return c.addAll(BUILD.concat(NETWORK_FIRST).map(function (u) { return new Request(u, { cache: 'reload' }); }));
  }).then(function () { return self.skipWaiting(); }));
});

self.addEventListener('activate', function (event) {
  event.waitUntil(caches.keys().then(function (keys) {
    return Promise.all(keys.filter(function (k) { return k.indexOf('tongban-verifier-') === 0 && k !== CACHE; })
      .map(function (k) { return caches.delete(k); }));
  }).then(function () { return self.clients.claim(); }));
});

function isBuildFile(url) {
  var scope = new URL(self.registration.scope);
  if (url.origin !== scope.origin || url.pathname.indexOf(scope.pathname) !== 0) return false;
  return BUILD.indexOf(url.pathname.slice(scope.pathname.length)) >= 0;
}

// fromCache answers with the cached response, marked X-Tongban-Offline: 1 so that the page
// knows it is offline.
function fromCache(cache, request, otherwise) {
  return cache.match(request, { ignoreSearch: true }).then(function (hit) {
    if (!hit) return otherwise;
    var h = new Headers(hit.headers);
    h.set('X-Tongban-Offline', '1');
    return new Response(hit.body, { status: hit.status, statusText: hit.statusText, headers: h });
  });
}

function networkFirst(request) {
  return caches.open(CACHE).then(function (cache) {
    var timer;
    var timeout = new Promise(function (_, reject) { timer = setTimeout(function () { reject(new Error('timeout')); }, NETWORK_TIMEOUT_MS); });
    return Promise.race([fetch(request), timeout]).then(function (resp) {
      clearTimeout(timer);
      if (resp.ok) {
        cache.put(request, resp.clone());
        return resp;
      }
      return fromCache(cache, request, resp);
    }, function () {
      clearTimeout(timer);
      return fromCache(cache, request, new Response('offline', { status: 504, statusText: 'offline' }));
    });
  });
}

self.addEventListener('fetch', function (event) {
  var req = event.request;
  if (req.method !== 'GET') return; // receipts and anything else that writes go straight out
  var url = new URL(req.url);
  if (isBuildFile(url)) {
    event.respondWith(caches.open(CACHE).then(function (c) {
      return c.match(req, { ignoreSearch: true }).then(function (hit) { return hit || networkFirst(req); });
    }));
    return;
  }
  event.respondWith(networkFirst(req));
});
