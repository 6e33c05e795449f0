// Agent console: live updates over Server-Sent Events, reply box, suggestions, alerts. No dependencies.
(function () {
  "use strict";
  var body = document.body;
  var csrf = body.dataset.csrf;
  var conversationId = body.dataset.conversationId || null;
  var words = {};
  try { words = JSON.parse(document.getElementById("console-words").textContent); } catch (e) { words = {}; }

  // "%(n)s min" with {n: 5} -> "5 min": the server's translated strings, filled in here.
  function say(key, values) {
    return (words[key] || key).replace(/%\((\w+)\)s/g, function (_, name) { return String(values[name]); });
  }

  function request(url, options) {
    options = options || {};
    options.headers = Object.assign({ "X-Requested-With": "fetch", "X-CSRF-Token": csrf }, options.headers || {});
    options.credentials = "same-origin";
    return fetch(url, options).then(function (response) {
      if (response.status === 401) { window.location.reload(); throw new Error("logged out"); }
      return response;
    });
  }

  function debounce(fn, ms) {
    var timer = null;
    return function () { clearTimeout(timer); timer = setTimeout(fn, ms); };
  }

  // --- small helpers for forms -------------------------------------------------------------
  document.addEventListener("change", function (event) {
    if (event.target.matches("select[data-autosubmit]")) { event.target.form.submit(); }
  });
  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (form.dataset.confirm && !window.confirm(form.dataset.confirm)) { event.preventDefault(); }
  });

  // --- relative times ------------------------------------------------------------------------
  function ago(iso) {
    var seconds = Math.max(0, Math.round((Date.now() - Date.parse(iso)) / 1000));
    if (seconds < 60) { return say("seconds", { n: seconds }); }
    if (seconds < 3600) { return say("minutes", { n: Math.floor(seconds / 60) }); }
    if (seconds < 86400) { return say("hours", { h: Math.floor(seconds / 3600), m: Math.floor(seconds % 3600 / 60) }); }
    return say("days", { n: Math.floor(seconds / 86400) });
  }
  function refreshTimes() {
    document.querySelectorAll("[data-since]").forEach(function (el) {
      if (el.dataset.since) { el.textContent = ago(el.dataset.since); }
    });
  }
  setInterval(refreshTimes, 15000);

  // --- alerts: waiting customers in the tab title, an optional tone and desktop notification ---------
  var baseTitle = document.title;
  var store = window.localStorage;
  var agentKey = "console-" + (body.dataset.agentId || "") + "-";
  var soundBox = document.getElementById("alert-sound");
  var notifyBox = document.getElementById("alert-notify");
  var audio = null;

  function setting(name) { try { return store.getItem(agentKey + name) === "on"; } catch (e) { return false; } }
  function remember(name, on) { try { store.setItem(agentKey + name, on ? "on" : "off"); } catch (e) { /* private mode */ } }

  function audioContext() {
    var Context = window.AudioContext || window.webkitAudioContext;
    if (!audio && Context) { audio = new Context(); }
    if (audio && audio.state === "suspended") { audio.resume(); }
    return audio;
  }
  function beep() {
    var context = audioContext();
    if (!context) { return; }
    // Two short tones (880 Hz, then 660 Hz), quiet and soft-edged: noticeable, not alarming.
    [[880, 0], [660, 0.18]].forEach(function (tone) {
      var oscillator = context.createOscillator();
      var gain = context.createGain();
      var start = context.currentTime + tone[1];
      oscillator.frequency.value = tone[0];
      gain.gain.setValueAtTime(0.0001, start);
      gain.gain.exponentialRampToValueAtTime(0.2, start + 0.02);
      gain.gain.exponentialRampToValueAtTime(0.0001, start + 0.16);
      oscillator.connect(gain).connect(context.destination);
      oscillator.start(start);
      oscillator.stop(start + 0.17);
    });
  }
  function notifyDesktop(fresh, total) {
    if (!setting("notify") || !window.Notification || Notification.permission !== "granted") { return; }
    var first = fresh[0];
    var title = fresh.length === 1 ? say("new_customer") + ": " + first.customer : say("new_customers", { n: total });
    var notification = new Notification(title, { body: first.question, tag: "console-queue", renotify: true });
    notification.onclick = function () { window.focus(); window.location.href = first.url; notification.close(); };
  }
  function showWaiting(count) {
    document.title = count ? "(" + count + ") " + baseTitle : baseTitle;
  }
  // Who is new in the queue, remembered across pages and tabs so one arrival alerts once; in a browser
  // that remembers nothing yet, new means after this page was drawn.
  var drawnWith = (body.dataset.waiting || "").split(" ").filter(Boolean).map(Number);
  function noticeQueue(queue, total) {
    var ids = queue.map(function (item) { return item.id; });
    var known = null;
    try { known = JSON.parse(store.getItem(agentKey + "queue") || "null"); } catch (e) { known = null; }
    try { store.setItem(agentKey + "queue", JSON.stringify(ids)); } catch (e) { /* private mode */ }
    if (!Array.isArray(known)) { known = drawnWith; }
    var fresh = queue.filter(function (item) { return known.indexOf(item.id) < 0; }).reverse();
    if (!fresh.length) { return; }
    if (setting("sound")) { beep(); }
    notifyDesktop(fresh, total);
  }

  if (soundBox) {
    soundBox.checked = setting("sound");
    soundBox.addEventListener("change", function () {
      remember("sound", soundBox.checked);
      if (soundBox.checked) { beep(); } // a click may start audio: the agent hears what to expect
    });
    // Browsers start audio only after a gesture on the page: any click or key wakes it for later alerts.
    ["pointerdown", "keydown"].forEach(function (kind) {
      document.addEventListener(kind, function () { if (setting("sound")) { audioContext(); } }, { once: true });
    });
  }
  if (notifyBox) {
    var blocked = function () {
      notifyBox.checked = false;
      notifyBox.parentNode.title = say(window.Notification ? "notify_blocked" : "notify_unsupported");
      notifyBox.disabled = !window.Notification;
    };
    notifyBox.checked = setting("notify") && !!window.Notification && Notification.permission === "granted";
    if (!window.Notification || Notification.permission === "denied") { blocked(); }
    notifyBox.addEventListener("change", function () {
      if (!notifyBox.checked) { remember("notify", false); return; }
      Notification.requestPermission().then(function (permission) {
        remember("notify", permission === "granted");
        if (permission === "granted") { notifyBox.checked = true; } else { blocked(); }
      });
    });
  }

  // --- counts in the navigation --------------------------------------------------------------
  var refreshCounts = debounce(function () {
    if (!body.dataset.countsUrl) { return; }
    request(body.dataset.countsUrl).then(function (r) { return r.json(); }).then(function (counts) {
      document.querySelectorAll("[data-count]").forEach(function (el) {
        var value = counts[el.dataset.count];
        el.textContent = value ? String(value) : "";
      });
      showWaiting(counts.waiting);
      noticeQueue(counts.queue || [], counts.waiting);
    }).catch(function () {});
  }, 200);

  // --- live fragments (queue, callbacks) ------------------------------------------------------
  var fragments = Array.prototype.map.call(document.querySelectorAll("[data-live-fragment]"), function (el) {
    return {
      el: el,
      kinds: (el.dataset.liveKinds || "").split(" "),
      refresh: debounce(function () {
        request(el.dataset.liveFragment).then(function (r) { return r.text(); }).then(function (html) {
          el.innerHTML = html; // rendered and escaped by the server
          refreshTimes();
        }).catch(function () {});
      }, 150)
    };
  });

  // --- conversation page ----------------------------------------------------------------------
  var followCustomer = function () {};
  var messages = document.getElementById("messages");
  var replyText = document.getElementById("reply-text");
  var draftKey = conversationId ? "draft-" + conversationId : null;

  if (replyText && draftKey) {
    replyText.value = sessionStorage.getItem(draftKey) || "";
    replyText.addEventListener("input", function () { sessionStorage.setItem(draftKey, replyText.value); });
  }

  var refreshConversation = debounce(function () {
    if (!messages || !body.dataset.liveUrl) { return; }
    var url = body.dataset.liveUrl + "?after=" + encodeURIComponent(messages.dataset.lastId || "0");
    request(url).then(function (r) { return r.json(); }).then(function (live) {
      if (live.status !== body.dataset.status || String(live.assignee_id || "") !== body.dataset.assigneeId) {
        window.location.reload();
        return;
      }
      if (live.html && live.html.trim()) {
        var atBottom = messages.scrollHeight - messages.scrollTop - messages.clientHeight < 80;
        messages.insertAdjacentHTML("beforeend", live.html); // rendered and escaped by the server
        messages.dataset.lastId = String(live.last_id);
        if (atBottom) { messages.scrollTop = messages.scrollHeight; }
      }
      followCustomer(live.suggest_query);
      Object.keys(live.deliveries || {}).forEach(function (id) {
        var info = live.deliveries[id];
        var badge = document.querySelector('[data-delivery-for="' + id + '"]');
        if (badge) {
          badge.textContent = info.label;
          badge.className = "delivery " + info.state;
          badge.title = info.error || "";
        }
        var retry = document.querySelector('[data-retry-for="' + id + '"]');
        if (retry && info.state === "sent") { retry.remove(); }
      });
    }).catch(function () {});
  }, 100);

  if (messages) { messages.scrollTop = messages.scrollHeight; }

  var replyForm = document.getElementById("reply-form");
  if (replyForm) {
    var errorBox = document.getElementById("reply-error");
    replyForm.addEventListener("submit", function (event) {
      event.preventDefault();
      var data = new FormData(replyForm);
      data.set("kind", event.submitter && event.submitter.value === "note" ? "note" : "reply");
      errorBox.textContent = "";
      request(replyForm.action, { method: "POST", body: data }).then(function (r) {
        return r.json().then(function (json) { return { ok: r.ok, json: json }; });
      }).then(function (result) {
        if (!result.ok) {
          errorBox.textContent = (result.json.error && result.json.error.message) || say("not_sent");
          return;
        }
        replyText.value = "";
        if (draftKey) { sessionStorage.removeItem(draftKey); }
        refreshConversation();
      }).catch(function () { errorBox.textContent = say("connection_lost"); });
    });
    replyText.addEventListener("keydown", function (event) {
      if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
        event.preventDefault();
        replyForm.querySelector('button[value="reply"]').click();
      }
    });
  }

  function insertIntoReply(text) {
    if (!replyText) { return; }
    var start = replyText.selectionStart || replyText.value.length;
    var end = replyText.selectionEnd || start;
    replyText.value = replyText.value.slice(0, start) + text + replyText.value.slice(end);
    replyText.focus();
    replyText.dispatchEvent(new Event("input"));
  }

  var canned = document.getElementById("canned");
  if (canned) {
    canned.addEventListener("change", function () {
      var option = canned.options[canned.selectedIndex];
      if (option && option.dataset.content) { insertIntoReply(option.dataset.content); }
      canned.selectedIndex = 0;
    });
  }

  // --- suggested answers from the knowledge base ----------------------------------------------
  var suggestions = document.getElementById("suggestions");
  if (suggestions) {
    var statusBox = document.getElementById("suggest-status");
    var list = document.getElementById("suggest-list");
    var form = document.getElementById("suggest-form");
    var tries = 0;
    var load = function () {
      var q = form.elements.q.value;
      request(suggestions.dataset.url + "?q=" + encodeURIComponent(q)).then(function (r) { return r.json(); }).then(function (result) {
        list.textContent = "";
        if (result.status === "loading" && tries++ < 30) {
          statusBox.textContent = result.message;
          setTimeout(load, 2000);
          return;
        }
        statusBox.textContent = result.status === "ok" ? (result.items.length ? "" : say("no_matches")) : result.message;
        result.items.forEach(function (item) {
          var li = document.createElement("li");
          var head = document.createElement("div");
          head.className = "suggest-head";
          head.textContent = item.question + " (" + Math.round(item.confidence * 100) + " %)";
          var answer = document.createElement("div");
          answer.className = "suggest-answer";
          answer.textContent = item.answer;
          li.appendChild(head);
          li.appendChild(answer);
          if (replyText) {
            var use = document.createElement("button");
            use.type = "button";
            use.className = "link";
            use.textContent = say("use_answer");
            use.addEventListener("click", function () { insertIntoReply(item.answer); });
            li.appendChild(use);
          }
          list.appendChild(li);
        });
      }).catch(function () { statusBox.textContent = say("suggestions_unavailable"); });
    };
    form.addEventListener("submit", function (event) { event.preventDefault(); tries = 0; load(); });
    load();
    // Suggestions follow the customer's newest message, unless the agent is searching for something else.
    followCustomer = function (query) {
      var box = form.elements.q;
      if (!query || query === box.dataset.auto || box.value !== box.dataset.auto) { return; }
      box.value = box.dataset.auto = query;
      tries = 0;
      load();
    };
  }

  // --- the event stream -----------------------------------------------------------------------
  if (body.dataset.eventsUrl && window.EventSource) {
    var banner = document.getElementById("live-status");
    var source = new EventSource(body.dataset.eventsUrl);
    var connected = false;
    source.onopen = function () { banner.hidden = true; };
    source.onerror = function () { banner.hidden = false; connected = false; };
    source.onmessage = function (event) {
      var data;
      try { data = JSON.parse(event.data); } catch (e) { return; }
      if (data.kind === "hello") {
        // (Re)connected: catch up on anything missed while the stream was down.
        if (connected === false) { fragments.forEach(function (f) { f.refresh(); }); refreshConversation(); }
        connected = true;
        refreshCounts();
        banner.hidden = true;
        body.dataset.live = "on";
        return;
      }
      refreshCounts();
      fragments.forEach(function (f) { if (f.kinds.indexOf(data.kind) >= 0) { f.refresh(); } });
      if (conversationId && String(data.conversation_id) === conversationId) { refreshConversation(); }
    };
    window.addEventListener("beforeunload", function () { source.close(); });
  }
  refreshCounts();
})();
