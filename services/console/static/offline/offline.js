/* Offline capture for the console's pages (loaded by every page, deferred).

   - Registers the service worker (sw.js) that keeps the form pages and static files.
   - Takes over forms marked data-offline="<kind>": offline, a submission is kept in this
     browser with the Idempotency-Key the form was given when it opened (queue.js), and the
     officer sees the waiting list. Online, the form posts as usual (and the worker keeps it if
     that post fails for lack of a connection).
   - Shows, on every page, how many forms are waiting, and on /offline/waiting each of them.
   - Sends what waits when the connection returns (the online event, each page load, and a
     retry with a growing delay), one sender at a time across tabs (Web Locks). Every try
     carries the same Idempotency-Key, so a second try, a reload or a second tab never
     registers a person twice: the registry answers a repeated key with its first answer.
   - An answer that needs the officer (a probable duplicate, a field not accepted) is marked
     in the list; "open it" posts it again in the page, so the console shows the form with what
     was typed and the answer, exactly as it does online. An ended session keeps everything
     and asks the officer to sign in again.

   Every word shown comes from the console's catalogues (/offline/messages/<v>/<lang>.json). */
(function () {
  "use strict";
  var script = document.currentScript;
  var Queue = window.LabourxQueue;
  if (!script || !Queue) return;
  var OFFICER = script.getAttribute("data-officer") || "";
  var SIGN_IN = script.getAttribute("data-sign-in") || "/sign-in";
  var MESSAGES_URL = script.getAttribute("data-messages");
  var WAITING = "/offline/waiting";
  var SESSION = "/offline/session";
  var LOCK = "labourx-offline-sender";
  // Retries after a failed try: 15 s, 30 s, 1 min ... at most 5 min, with some jitter so
  // offices coming back online together do not all try at the same second.
  var RETRY_BASE_MS = 15000;
  var RETRY_MAX_MS = 300000;

  var words = { messages: {}, forms: {} };
  var failures = 0;
  var retryTimer = null;
  var nextTryAt = null;
  var sending = false;
  var lockWait = null; // this tab's request for the sender's lock, while it waits
  var justSent = [];

  function t(key, values) {
    var text = words.messages[key] || "";
    return text.replace(/%\((\w+)\)s/g, function (_, name) {
      return values && values[name] != null ? String(values[name]) : "";
    });
  }

  function when(iso) {
    // Dates as people in Laos write them, in Lao time: 05/12/2026 14:30.
    var parts = {};
    new Intl.DateTimeFormat("en-GB", {
      timeZone: "Asia/Vientiane", day: "2-digit", month: "2-digit", year: "numeric",
      hour: "2-digit", minute: "2-digit", hourCycle: "h23"
    }).formatToParts(new Date(iso)).forEach(function (p) { parts[p.type] = p.value; });
    return parts.day + "/" + parts.month + "/" + parts.year + " " + parts.hour + ":" + parts.minute;
  }

  function newKey() {
    if (window.crypto && window.crypto.randomUUID) return window.crypto.randomUUID();
    var b = window.crypto.getRandomValues(new Uint8Array(16));
    b[6] = (b[6] & 15) | 64;
    b[8] = (b[8] & 63) | 128;
    var h = Array.prototype.map.call(b, function (x) { return (x + 256).toString(16).slice(1); });
    return h.slice(0, 4).join("") + "-" + h.slice(4, 6).join("") + "-" + h.slice(6, 8).join("") +
      "-" + h.slice(8, 10).join("") + "-" + h.slice(10).join("");
  }

  function el(tag, attrs, text) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (name) { node.setAttribute(name, attrs[name]); });
    if (text != null) node.textContent = text;
    return node;
  }

  function loadWords() {
    return fetch(MESSAGES_URL, { credentials: "same-origin" }).then(function (r) {
      if (!r.ok) throw new Error("messages: " + r.status);
      return r.json();
    }).then(function (found) { words = found; });
  }

  /* ---- the service worker ---- */

  function registerWorker() {
    if (!("serviceWorker" in navigator)) return;
    navigator.serviceWorker.register("/sw.js", { scope: "/" }).then(function () {
      return navigator.serviceWorker.ready;
    }).then(function (registration) {
      // Signed in: let the worker fetch the offline pages ahead (their forms need a session).
      if (OFFICER && registration.active) registration.active.postMessage({ type: "warm" });
    }).catch(function () { /* no worker (private window, old browser): the page works online */ });
  }

  /* ---- forms marked data-offline ---- */

  function takeOver(form) {
    var kind = form.getAttribute("data-offline");
    var described = words.forms[kind] || { name: [], page: null };
    var action = new URL(form.getAttribute("action") || location.pathname, location.href).pathname;
    var keyInput = form.querySelector('input[name="idempotency_key"]');
    Queue.rememberForm(action, { kind: kind, page: described.page || location.pathname, name: described.name });
    var ready = keyInput ? checkKey(keyInput) : Promise.resolve();

    form.addEventListener("submit", function (event) {
      if (navigator.onLine !== false || !keyInput) return; // online: the form posts as usual
      event.preventDefault();
      event.stopImmediatePropagation(); // no htmx request either: it could not go anywhere
      var data;
      try {
        data = new FormData(form, event.submitter || undefined);
      } catch (e) {
        data = new FormData(form);
      }
      var fields = [];
      var files = false;
      data.forEach(function (value, name) {
        if (typeof value === "string") fields.push([name, value]); else files = true;
      });
      if (files) return; // a file cannot be kept here (no offline form has one)
      ready.then(function () {
        return Queue.keep({
          kind: kind, action: action, page: described.page || location.pathname,
          fields: fields, name: Queue.nameOf(fields, described.name), officer: OFFICER || null
        });
      }).then(function (item) {
        location.assign(WAITING + "?saved=" + encodeURIComponent(item.id));
      }, function () {
        banner(t("no_storage"));
      });
    }, true);
  }

  /* The key the form opened with: a form handed back from the waiting list keeps its key (it
     is the same registration); a copy whose key is already kept or sent (an old copy of the
     page, the back button) gets a new one, so it is a registration of its own. */
  function checkKey(input) {
    var key = input.value;
    var opening = sessionStorage.getItem("labourx-opening");
    return Promise.all([Queue.get(key), Queue.sent()]).then(function (found) {
      var item = found[0];
      var sent = found[1].some(function (s) { return s.id === key; });
      if (item && item.state === "opening" && opening === key) {
        sessionStorage.removeItem("labourx-opening");
        return Queue.remove(key); // it is in this form now: the officer decides here
      }
      if (item || sent) input.value = newKey();
      return null;
    });
  }

  /* A form "opened" from the list that did not come back as its form (a redirect to the
     person: already registered; a page of error): back to waiting, to be sent (and so
     resolved: the registry answers its key with the first answer). */
  function settleOpening() {
    var opening = sessionStorage.getItem("labourx-opening");
    if (!opening) return Promise.resolve();
    var shown = document.querySelector('form[data-offline] input[name="idempotency_key"]');
    if (shown && shown.value === opening) return Promise.resolve();
    sessionStorage.removeItem("labourx-opening");
    return Queue.get(opening).then(function (item) {
      if (item && item.state === "opening") {
        item.state = "waiting";
        return Queue.put(item);
      }
      return null;
    });
  }

  /* ---- sending ---- */

  function session() {
    return fetch(SESSION, { credentials: "same-origin", cache: "no-store" }).then(function (r) {
      if (!r.ok) throw new Error("session: " + r.status);
      return r.json();
    });
  }

  function sendWaiting() {
    if (navigator.onLine === false) {
      // The online event is the usual signal; this retry is for a browser that misses it.
      return Queue.all().then(function (all) { if (all.length) retryLater(); });
    }
    if (!navigator.locks) return sendHeld();
    // Another tab (or this page's previous self, still unloading after a reload) may hold the
    // lock: wait for it rather than give up. When it lets go, whatever it did not send (it was
    // closed mid-send) is still waiting, and this tab sends it under the same key; whatever it
    // sent is gone from the queue, so this tab finds nothing. One wait per tab.
    if (!lockWait) {
      lockWait = navigator.locks.request(LOCK, function () {
        lockWait = null;
        return sendHeld();
      });
    }
    return lockWait;
  }

  function sendHeld() {
    return Queue.all().then(function (all) {
      // An item opened in a tab that was closed before it came back: waiting again.
      var stale = Date.now() - 120000;
      var due = all.filter(function (item) {
        return item.state === "waiting" ||
          (item.state === "opening" && Date.parse(item.openedAt || item.savedAt) < stale);
      });
      if (!due.length) return "idle";
      return session().then(function (current) {
        if (!current.signed_in) {
          return Queue.setStatus({ signInNeeded: true }).then(function () { return "sign-in"; });
        }
        return Queue.setStatus({ signInNeeded: false }).then(function () {
          var mine = due.filter(function (item) {
            return !item.officer || item.officer === current.officer;
          });
          setSending(true);
          return sendEach(mine, current.csrf_token);
        });
      });
    }).then(function (outcome) {
      setSending(false);
      if (outcome === "retry") retryLater(); else { failures = 0; clearRetry(); }
      return render();
    }, function () {
      setSending(false);
      retryLater(); // the session check failed: no connection after all
      return render();
    });
  }

  function sendEach(items, csrf) {
    var outcome = "done";
    return items.reduce(function (previous, item) {
      return previous.then(function () {
        if (outcome !== "done") return null;
        return sendOne(item, csrf).then(function (result) {
          if (result === "retry" || result === "sign-in") outcome = result;
        });
      });
    }, Promise.resolve()).then(function () {
      if (outcome === "sign-in") {
        return Queue.setStatus({ signInNeeded: true }).then(function () { return outcome; });
      }
      return outcome;
    });
  }

  function sendOne(item, csrf) {
    var body = new URLSearchParams();
    item.fields.forEach(function (pair) { body.append(pair[0], pair[1]); });
    body.append("csrf_token", csrf);
    item.attempts = (item.attempts || 0) + 1;
    item.triedAt = new Date().toISOString();
    return Queue.put(item).then(function () {
      return fetch(item.action, {
        method: "POST",
        body: body,
        credentials: "same-origin",
        redirect: "follow",
        cache: "no-store",
        headers: { "X-CSRF-Token": csrf }
      });
    }).then(function (response) {
      var landed = new URL(response.url, location.href).pathname;
      if (landed === "/sign-in" || landed.indexOf("/sign-in/") === 0) return "sign-in";
      // The console redirects only once the write is done (post, redirect, get): wherever it
      // sends the browser, what was kept has arrived (the page there may be slow or fail).
      if (response.redirected && landed !== item.action) {
        justSent.push(item.id);
        return Queue.markSent(item, response.url).then(function () { return "sent"; });
      }
      if (response.status >= 500 || response.status === 429 || response.status === 408) {
        return "retry";
      }
      return response.text().then(function (html) {
        item.state = "needs-you";
        item.answer = { status: response.status, summary: summaryOf(html) };
        return Queue.put(item);
      }).then(function () { return "needs-you"; });
    }, function () {
      return "retry"; // no connection: the same key goes again next time
    });
  }

  /* What the console's answer page says, in the officer's language: its error summary, else
     its heading. */
  function summaryOf(html) {
    try {
      var doc = new DOMParser().parseFromString(html, "text/html");
      var lines = Array.prototype.map.call(
        doc.querySelectorAll(".error-summary li"),
        function (li) { return li.textContent.trim(); }
      ).filter(Boolean).slice(0, 5);
      if (!lines.length) {
        var heading = doc.querySelector("main h1");
        if (heading) lines.push(heading.textContent.trim());
      }
      return lines;
    } catch (e) {
      return [];
    }
  }

  function retryLater() {
    failures += 1;
    var delay = Math.min(RETRY_BASE_MS * Math.pow(2, failures - 1), RETRY_MAX_MS);
    delay = delay * (0.8 + Math.random() * 0.4);
    clearRetry();
    nextTryAt = new Date(Date.now() + delay);
    retryTimer = setTimeout(function () { retryTimer = null; nextTryAt = null; sendWaiting(); }, delay);
  }

  function clearRetry() {
    if (retryTimer) clearTimeout(retryTimer);
    retryTimer = null;
    nextTryAt = null;
  }

  function setSending(on) {
    sending = on;
  }

  /* ---- what the officer sees ---- */

  function banner(text, link) {
    var box = document.querySelector("[data-offline-banner]");
    if (!box) return;
    box.textContent = "";
    if (!text) {
      box.hidden = true;
      return;
    }
    box.appendChild(el("span", {}, text));
    if (link) {
      box.appendChild(document.createTextNode(" "));
      box.appendChild(el("a", { href: link.href }, link.text));
    }
    box.hidden = false;
  }

  function render() {
    return Promise.all([Queue.all(), Queue.status(), Queue.sent()]).then(function (found) {
      var items = found[0];
      var status = found[1];
      var needsYou = items.filter(function (i) { return i.state === "needs-you"; }).length;
      document.querySelectorAll("[data-offline-count]").forEach(function (node) {
        var text = " (" + items.length + ")";
        if (needsYou) text = " (" + items.length + "; " + t("count_needs_you", { count: needsYou }) + ")";
        node.textContent = items.length ? text : "";
      });
      if (navigator.onLine === false) {
        banner(t("offline"), items.length ? { href: WAITING, text: t("count", { count: items.length }) } : null);
      } else if (items.length && (status.signInNeeded || !OFFICER)) {
        banner(t("sign_in"), { href: SIGN_IN, text: t("sign_in_link") });
      } else if (items.length && location.pathname !== WAITING && needsYou) {
        banner(t("count_needs_you", { count: needsYou }), { href: WAITING, text: t("count", { count: items.length }) });
      } else {
        banner(null);
      }
      if (document.querySelector('[data-offline-page="waiting"]')) renderList(items, found[2]);
    });
  }

  function stateText(item) {
    if (item.state === "needs-you") {
      var status = item.answer && item.answer.status;
      if (status === 409) return t("needs_you_409");
      if (status === 422 || status === 400) return t("needs_you_422");
      if (status === 403) return t("needs_you_403");
      return t("needs_you");
    }
    if (item.officer && OFFICER && item.officer !== OFFICER) return t("state_other_officer");
    if (sending) return t("state_sending");
    if (nextTryAt && item.attempts) {
      return t("next_try", { time: when(nextTryAt.toISOString()).split(" ")[1] });
    }
    return t("state_waiting");
  }

  function renderList(items, sent) {
    var list = document.getElementById("offline-items");
    var empty = document.getElementById("offline-empty");
    var send = document.getElementById("offline-send");
    list.textContent = "";
    items.forEach(function (item) {
      var form = words.forms[item.kind] || {};
      var li = el("li", { "data-offline-item": item.id, "data-state": item.state });
      li.appendChild(el("span", { "class": "person-name" }, item.name || t("no_name")));
      li.appendChild(el("span", { "class": "meta" },
        (form.label || item.kind) + " · " + t("saved_at", { when: when(item.savedAt) })));
      var state = el("p", { "class": "offline-state offline-" + item.state }, stateText(item));
      li.appendChild(state);
      if (item.state === "needs-you" && item.answer && item.answer.summary.length) {
        var answer = el("ul", { "class": "offline-answer" });
        item.answer.summary.forEach(function (line) { answer.appendChild(el("li", {}, line)); });
        li.appendChild(answer);
      }
      var actions = el("p", { "class": "offline-actions" });
      if (item.state === "needs-you") {
        var open = el("button", { type: "button", "class": "button" }, t("open"));
        open.addEventListener("click", function () { openItem(item); });
        actions.appendChild(open);
        actions.appendChild(document.createTextNode(" "));
      }
      var remove = el("button", { type: "button", "class": "link" }, t("remove"));
      remove.addEventListener("click", function () {
        if (!window.confirm(t("remove_confirm"))) return;
        Queue.remove(item.id).then(function () {
          notice(t("removed", { name: item.name || t("no_name") }));
          render();
        });
      });
      actions.appendChild(remove);
      li.appendChild(actions);
      list.appendChild(li);
    });
    empty.hidden = items.length > 0;
    send.hidden = !items.some(function (i) { return i.state === "waiting"; }) || navigator.onLine === false;

    var section = document.getElementById("offline-sent-section");
    var sentList = document.getElementById("offline-sent");
    sentList.textContent = "";
    sent.slice().reverse().forEach(function (s) {
      var li = el("li", { "data-offline-sent": s.id });
      li.appendChild(el("span", { "class": "person-name" }, s.name || t("no_name")));
      li.appendChild(el("span", { "class": "meta" }, t("sent_at", { when: when(s.sentAt) }) + " · "));
      li.lastChild.appendChild(el("a", { href: s.url }, t("open_person")));
      sentList.appendChild(li);
    });
    section.hidden = sent.length === 0;
    justSent.splice(0).forEach(function (id) {
      var s = sent.filter(function (x) { return x.id === id; })[0];
      if (s) notice(t("sent", { name: s.name || t("no_name") }));
    });
  }

  function notice(text) {
    var box = document.getElementById("offline-notice");
    if (box) box.textContent = text;
  }

  /* Back to the form: posted again in this page, so the console answers as it does online
     (the form with what was typed, the duplicates side by side or the errors beside their
     fields), under the same Idempotency-Key. */
  function openItem(item) {
    session().then(function (current) {
      if (!current.signed_in) {
        location.assign(SIGN_IN);
        return null;
      }
      var form = el("form", { method: "post", action: item.action, hidden: "" });
      item.fields.concat([["csrf_token", current.csrf_token]]).forEach(function (pair) {
        var input = el("input", { type: "hidden", name: pair[0] });
        input.value = pair[1];
        form.appendChild(input);
      });
      document.body.appendChild(form);
      item.state = "opening";
      item.openedAt = new Date().toISOString();
      sessionStorage.setItem("labourx-opening", item.id);
      return Queue.put(item).then(function () { form.submit(); });
    }, function () {
      banner(t("offline"));
    });
  }

  /* ---- start ---- */

  function start() {
    if (!window.indexedDB) return;
    registerWorker();
    if (OFFICER) Queue.setOfficer(OFFICER);
    var forms = Array.prototype.slice.call(document.querySelectorAll("form[data-offline]"));
    forms.forEach(takeOver);
    settleOpening().then(function () {
      var saved = new URLSearchParams(location.search).get("saved");
      if (saved && document.querySelector('[data-offline-page="waiting"]')) notice(t("saved"));
      return render();
    }).then(function () {
      if (OFFICER) return sendWaiting();
      return null;
    });
    var send = document.getElementById("offline-send");
    if (send) send.addEventListener("click", function () { failures = 0; clearRetry(); sendWaiting(); });
    window.addEventListener("online", function () { failures = 0; clearRetry(); render(); if (OFFICER) sendWaiting(); });
    window.addEventListener("offline", function () { render(); });
    if (window.BroadcastChannel) {
      new BroadcastChannel(Queue.CHANNEL).onmessage = function () { render(); };
    }
  }

  loadWords().then(start, start);
})();
