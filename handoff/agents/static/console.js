// Agent console: live updates over Server-Sent Events, reply box, suggestions. No dependencies.
(function () {
  "use strict";
  var body = document.body;
  var csrf = body.dataset.csrf;
  var conversationId = body.dataset.conversationId || null;

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
    if (seconds < 60) { return seconds + " s"; }
    if (seconds < 3600) { return Math.floor(seconds / 60) + " min"; }
    if (seconds < 86400) { return Math.floor(seconds / 3600) + " h " + Math.floor(seconds % 3600 / 60) + " min"; }
    return Math.floor(seconds / 86400) + " d";
  }
  function refreshTimes() {
    document.querySelectorAll("[data-since]").forEach(function (el) {
      if (el.dataset.since) { el.textContent = ago(el.dataset.since); }
    });
  }
  setInterval(refreshTimes, 15000);

  // --- counts in the navigation --------------------------------------------------------------
  var refreshCounts = debounce(function () {
    if (!body.dataset.countsUrl) { return; }
    request(body.dataset.countsUrl).then(function (r) { return r.json(); }).then(function (counts) {
      document.querySelectorAll("[data-count]").forEach(function (el) {
        var value = counts[el.dataset.count];
        el.textContent = value ? String(value) : "";
      });
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
          errorBox.textContent = (result.json.error && result.json.error.message) || "Not sent.";
          return;
        }
        replyText.value = "";
        if (draftKey) { sessionStorage.removeItem(draftKey); }
        refreshConversation();
      }).catch(function () { errorBox.textContent = "Not sent: the console lost its connection."; });
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
        statusBox.textContent = result.status === "ok" ? (result.items.length ? "" : "No matching answers.") : result.message;
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
            use.textContent = "Use this answer";
            use.addEventListener("click", function () { insertIntoReply(item.answer); });
            li.appendChild(use);
          }
          list.appendChild(li);
        });
      }).catch(function () { statusBox.textContent = "Suggestions unavailable."; });
    };
    form.addEventListener("submit", function (event) { event.preventDefault(); tries = 0; load(); });
    load();
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
