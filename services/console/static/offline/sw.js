/* The console's service worker (served at /sw.js, after the line that sets LABOURX_OFFLINE).

   - Static files (versioned URLs, never changing) come from this release's cache first.
   - Pages come from the network. A page that carries an offline form (data-offline) or is one
     of the offline pages is kept, so it opens without a connection; then each copy opened
     offline gets a new Idempotency-Key (two forms from one copy are two registrations).
     Other pages show people's data: they are never kept.
   - A form post that fails for lack of a connection is kept in the queue (queue.js) and the
     officer is shown the waiting list. Sending is done by the pages (offline.js), one tab at
     a time, not here: a worker may be stopped at any moment. */
"use strict";
var OFFLINE = self.LABOURX_OFFLINE;
importScripts.apply(self, OFFLINE.scripts);
var Queue = self.LabourxQueue;
var MARKED = /data-offline(-page)?=/;

self.addEventListener("install", function (event) {
  event.waitUntil(
    caches.open(OFFLINE.cache)
      .then(function (cache) { return cache.addAll(OFFLINE.precache); })
      .then(function () { return self.skipWaiting(); })
  );
});

self.addEventListener("activate", function (event) {
  event.waitUntil(
    caches.keys().then(function (names) {
      return Promise.all(names.filter(function (name) {
        return name.indexOf(OFFLINE.cachePrefix) === 0 && name !== OFFLINE.cache;
      }).map(function (name) { return caches.delete(name); }));
    }).then(function () { return self.clients.claim(); })
  );
});

self.addEventListener("message", function (event) {
  if (event.data && event.data.type === "warm") event.waitUntil(warm());
});

self.addEventListener("fetch", function (event) {
  var request = event.request;
  var url = new URL(request.url);
  if (url.origin !== self.location.origin) return;
  if (request.method === "POST" && request.mode === "navigate") {
    event.respondWith(postOrKeep(request));
  } else if (request.method !== "GET") {
    return;
  } else if (url.pathname.indexOf("/static/") === 0 || url.pathname.indexOf("/offline/messages/") === 0) {
    event.respondWith(cacheFirst(request));
  } else if (request.mode === "navigate") {
    event.respondWith(page(request, event));
  }
});

function cacheFirst(request) {
  return caches.match(request).then(function (kept) {
    return kept || fetch(request);
  });
}

/* Pages are kept by path: the form's page opens offline whatever its query said. */
function pageKey(url) {
  var u = new URL(url);
  return u.origin + u.pathname;
}

function page(request, event) {
  return fetch(request).then(function (response) {
    if (response.ok && !response.redirected && isHtml(response)) {
      event.waitUntil(keepIfOffline(request.url, response.clone()));
    }
    return response;
  }, function () {
    return caches.open(OFFLINE.cache).then(function (cache) {
      return cache.match(pageKey(request.url)).then(function (kept) {
        if (kept) return withNewKey(kept);
        return cache.match(pageKey(new URL(OFFLINE.unavailable, self.location.origin)))
          .then(function (fallback) { return fallback || Response.error(); });
      });
    });
  });
}

function isHtml(response) {
  return (response.headers.get("Content-Type") || "").indexOf("text/html") === 0;
}

/* A copy of a page to open offline, if it is one (its text says so). */
function keepIfOffline(url, response) {
  return response.text().then(function (text) {
    if (!MARKED.test(text)) return null;
    var headers = new Headers();
    ["Content-Type", "Content-Security-Policy", "Referrer-Policy", "X-Content-Type-Options"]
      .forEach(function (name) {
        var value = response.headers.get(name);
        if (value) headers.set(name, value);
      });
    return caches.open(OFFLINE.cache).then(function (cache) {
      return cache.put(pageKey(url), new Response(text, { status: 200, headers: headers }));
    });
  });
}

function newKey() {
  if (self.crypto && self.crypto.randomUUID) return self.crypto.randomUUID();
  var b = self.crypto.getRandomValues(new Uint8Array(16));
  b[6] = (b[6] & 15) | 64;
  b[8] = (b[8] & 63) | 128;
  var h = Array.prototype.map.call(b, function (x) { return (x + 256).toString(16).slice(1); });
  return h.slice(0, 4).join("") + "-" + h.slice(4, 6).join("") + "-" + h.slice(6, 8).join("") +
    "-" + h.slice(8, 10).join("") + "-" + h.slice(10).join("");
}

function withNewKey(kept) {
  return kept.text().then(function (text) {
    var fresh = text.replace(
      /(name="idempotency_key" value=")[^"]*(")/g,
      function (_, before, after) { return before + newKey() + after; }
    );
    return new Response(fresh, { status: 200, headers: kept.headers });
  });
}

/* Fetch the offline pages ahead (signed in: asked by a page), so the form opens offline even
   if the officer has not opened it since this worker started. */
var lastWarm = 0;
function warm() {
  if (Date.now() - lastWarm < 10 * 60 * 1000) return Promise.resolve();
  lastWarm = Date.now();
  return Promise.all(OFFLINE.pages.map(function (path) {
    var url = new URL(path, self.location.origin).href;
    return fetch(url, { credentials: "same-origin", redirect: "follow" }).then(function (response) {
      if (response.ok && !response.redirected && isHtml(response)) {
        return keepIfOffline(url, response);
      }
      return null;
    }).catch(function () { return null; });
  }));
}

/* A form post: sent as it is; if the network fails, a form the pages marked for offline is
   kept to send later, and the officer sees the waiting list (a page kept offline). */
function postOrKeep(request) {
  var copy = request.clone();
  return fetch(request).catch(function (failure) {
    var url = new URL(request.url);
    return Queue.formAt(url.pathname).then(function (form) {
      if (!form) throw failure;
      return copy.formData().then(function (data) {
        var fields = [];
        data.forEach(function (value, name) { fields.push([name, value]); });
        return Queue.officer().then(function (officer) {
          return Queue.keep({
            kind: form.kind,
            action: url.pathname,
            page: form.page,
            fields: fields,
            name: Queue.nameOf(fields, form.name),
            officer: officer
          });
        });
      }).then(function (item) {
        return Response.redirect(
          new URL(OFFLINE.waiting + "?saved=" + encodeURIComponent(item.id), self.location.origin).href,
          303
        );
      });
    }).catch(function () {
      return caches.match(pageKey(new URL(OFFLINE.unavailable, self.location.origin)))
        .then(function (fallback) { return fallback || Response.error(); });
    });
  });
}
