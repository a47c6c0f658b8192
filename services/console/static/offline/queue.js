/* The offline queue: forms kept in this browser (IndexedDB, through idb-keyval) until they are
   sent. Shared by the pages (offline.js) and the service worker (sw.js), so both keep a form
   the same way. Personal data typed offline lives here only until it is sent or removed. */
(function (root) {
  "use strict";
  var kv = root.idbKeyval;
  // Two databases: idb-keyval opens each with one store and no schema upgrades.
  var items = kv.createStore("labourx-offline", "items");
  var meta = kv.createStore("labourx-offline-meta", "meta");
  var CHANNEL = "labourx-offline";
  // Sent items are listed (name and link) for the rest of the working day, then forgotten.
  var SENT_KEPT_MS = 12 * 3600 * 1000;

  function nowIso() {
    return new Date().toISOString();
  }

  function fieldValue(fields, name) {
    for (var i = 0; i < fields.length; i++) {
      if (fields[i][0] === name) return fields[i][1];
    }
    return "";
  }

  /* What the officer typed, as [name, value] pairs in form order (repeated names kept), without
     the CSRF token: the one current when it is sent goes with it instead. */
  function keptFields(pairs) {
    var kept = [];
    pairs.forEach(function (pair) {
      if (typeof pair[1] === "string" && pair[0] !== "csrf_token") kept.push([pair[0], pair[1]]);
    });
    return kept;
  }

  /* The name the waiting list shows: the first group of name fields that has a value. */
  function nameOf(fields, groups) {
    for (var g = 0; g < (groups || []).length; g++) {
      var parts = groups[g].map(function (f) { return fieldValue(fields, f).trim(); })
        .filter(Boolean);
      if (parts.length) return parts.join(" ");
    }
    return "";
  }

  function announce() {
    if (!root.BroadcastChannel) return;
    var channel = new BroadcastChannel(CHANNEL);
    channel.postMessage("changed");
    channel.close();
  }

  var Queue = {
    CHANNEL: CHANNEL,
    keptFields: keptFields,
    nameOf: nameOf,
    fieldValue: fieldValue,
    announce: announce,

    /* Keep a form to send later. Its Idempotency-Key is its id: keeping the same form twice
       (a double click, the page and the worker both) keeps it once. */
    keep: function (form) {
      var key = fieldValue(form.fields, "idempotency_key");
      if (!key) return Promise.reject(new Error("a form kept offline needs its idempotency_key"));
      var item = {
        id: key,
        kind: form.kind,
        action: form.action,
        page: form.page || null,
        fields: keptFields(form.fields),
        name: form.name || "",
        officer: form.officer || null,
        savedAt: nowIso(),
        state: "waiting",
        attempts: 0,
        answer: null
      };
      return kv.set(key, item, items).then(function () { announce(); return item; });
    },
    get: function (id) { return kv.get(id, items); },
    put: function (item) { return kv.set(item.id, item, items).then(announce); },
    remove: function (id) { return kv.del(id, items).then(announce); },
    all: function () {
      return kv.values(items).then(function (found) {
        return found.sort(function (a, b) { return a.savedAt < b.savedAt ? -1 : 1; });
      });
    },

    /* Forms seen on pages, by where they post: how the worker knows what a failed post was. */
    rememberForm: function (action, description) {
      return kv.update("forms", function (forms) {
        forms = forms || {};
        forms[action] = description;
        return forms;
      }, meta);
    },
    formAt: function (action) {
      return kv.get("forms", meta).then(function (forms) { return (forms || {})[action] || null; });
    },
    /* The officer of the last page shown: whose a form kept by the worker is. */
    setOfficer: function (officer) { return kv.set("officer", officer || null, meta); },
    officer: function () { return kv.get("officer", meta); },

    status: function () { return kv.get("status", meta).then(function (s) { return s || {}; }); },
    setStatus: function (changes) {
      return kv.update("status", function (status) {
        return Object.assign({}, status || {}, changes);
      }, meta).then(announce);
    },

    /* Sent items, briefly: the officer sees that what waited has arrived. */
    markSent: function (item, url) {
      return kv.update("sent", function (sent) {
        var cutoff = Date.now() - SENT_KEPT_MS;
        sent = (sent || []).filter(function (s) {
          return Date.parse(s.sentAt) > cutoff && s.id !== item.id;
        });
        sent.push({ id: item.id, kind: item.kind, name: item.name, url: url, sentAt: nowIso() });
        return sent;
      }, meta).then(function () { return kv.del(item.id, items); }).then(announce);
    },
    sent: function () {
      return kv.get("sent", meta).then(function (sent) {
        var cutoff = Date.now() - SENT_KEPT_MS;
        return (sent || []).filter(function (s) { return Date.parse(s.sentAt) > cutoff; });
      });
    }
  };

  root.LabourxQueue = Queue;
})(self);
