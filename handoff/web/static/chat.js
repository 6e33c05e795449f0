/* NordNet chat: starts the rasa-webchat widget (webchat.js, loaded first) and shows a hint while a
 * person has the conversation. Settings come from this script tag's data attributes:
 *   data-socket-url  Rasa's socket.io URL (required)      data-language  "de" or "en" (default: <html lang>)
 *   data-mount       CSS selector of the element to render into (default: a new element at the end of <body>)
 * The conversation lives in localStorage: a reload continues the same session with the same history.
 */
(function () {
  "use strict";

  var script = document.currentScript;
  var HINT_KEY = "nordnet-chat-handoff";
  var TEXTS = {
    de: {
      title: "NordNet Hilfe",
      subtitle: "Digitaler Assistent · Mitarbeiter auf Wunsch",
      placeholder: "Ihre Frage …",
      connecting: "Verbinde …",
      queued: "Sie warten auf einen Mitarbeiter. Ihre Nachrichten werden weitergegeben.",
      place: "Platz {position} in der Warteschlange · etwa {wait} Min.",
      nobody: "Platz {position} in der Warteschlange · gerade niemand im Dienst.",
      agent: "Sie schreiben mit {name}, einem Menschen aus unserem Service-Team.",
      someone: "einem Mitarbeiter"
    },
    en: {
      title: "NordNet Help",
      subtitle: "Digital assistant · a person on request",
      placeholder: "Your question …",
      connecting: "Connecting …",
      queued: "You are waiting for an agent. Your messages are passed on.",
      place: "Number {position} in the queue · about {wait} min.",
      nobody: "Number {position} in the queue · nobody on duty right now.",
      agent: "You are chatting with {name}, a person from our service team.",
      someone: "an agent"
    }
  };
  // Which bot responses start or end the time with a person (names from the bot's domain.yml).
  var QUEUED = ["utter_handoff_queued", "utter_queue_update"];
  var AGENT = ["utter_agent_joined"];
  var BACK_TO_BOT = [
    "utter_handoff_ended", "utter_queue_left", "utter_handoff_unavailable", "utter_handoff_failed",
    "utter_ask_callback_contact", "utter_callback_form_cancelled", "utter_handoff_returned_from_queue"
  ];
  var SEEN_KEY = "nordnet-chat-seen";  // the newest bot message this browser showed, per session

  function newestSeen() {
    try {
      var saved = JSON.parse(window.localStorage.getItem(SEEN_KEY));
      if (saved && saved.session === chatSession()) return saved.ts;
    } catch (e) { /* nothing saved */ }
    return null;
  }

  function rememberSeen(ts) {
    if (!(ts > (newestSeen() || 0))) return;
    window.localStorage.setItem(SEEN_KEY, JSON.stringify({ session: chatSession(), ts: ts }));
  }

  function chatSession() {
    try {  // where rasa-webchat keeps the conversation (params.storage "local")
      return JSON.parse(window.localStorage.getItem("chat_session")).session_id || null;
    } catch (e) {
      return null;
    }
  }

  function readHandoff() {
    try {
      var saved = JSON.parse(window.localStorage.getItem(HINT_KEY));
      // Only for the conversation it was saved in: a new session starts with the bot.
      if (saved && saved.session && saved.session === chatSession()) return saved;
    } catch (e) { /* nothing saved */ }
    return { state: "bot" };
  }

  function start() {
    if (!window.WebChat || !window.WebChat.default) {
      window.console.error("NordNet chat: load webchat.js before chat.js");
      return;
    }
    var data = script.dataset;
    var lang = (data.language || document.documentElement.lang || "en").slice(0, 2).toLowerCase();
    var texts = TEXTS[lang] || TEXTS.en;
    if (!TEXTS[lang]) lang = "en";
    var mount = data.mount && document.querySelector(data.mount);
    if (!mount) {
      mount = document.createElement("div");
      document.body.appendChild(mount);
    }
    mount.classList.add("nn-chat");
    var hint = document.createElement("div");
    hint.className = "nn-chat-hint";
    hint.setAttribute("role", "status");
    hint.setAttribute("aria-live", "polite");
    var handoff = readHandoff();

    function showHint() {
      // Only real changes touch the DOM: the observer below calls this on every mutation.
      if (mount.getAttribute("data-handoff") !== handoff.state) mount.setAttribute("data-handoff", handoff.state);
      var text = handoff.state === "queued" ? texts.queued
        : texts.agent.replace("{name}", handoff.agent || texts.someone);
      if (handoff.state === "queued" && handoff.position) {
        // Without anyone on duty there is no honest wait to show, only the place.
        var place = handoff.nobody ? texts.nobody : texts.place.replace("{wait}", handoff.wait || "1");
        text = place.replace("{position}", handoff.position) + " " + text;
      }
      if (hint.textContent !== text) hint.textContent = text;
      var header = mount.querySelector(".rw-conversation-container .rw-header");
      if (handoff.state === "bot" || !header) {
        if (hint.parentNode) hint.parentNode.removeChild(hint);
      } else if (header.nextSibling !== hint) {
        header.parentNode.insertBefore(hint, header.nextSibling);
      }
    }

    function setHandoff(state, agent, place) {
      handoff = { state: state, agent: agent || (state === "agent" ? handoff.agent : undefined), session: chatSession() };
      if (place && place.queue_position) {
        handoff.position = place.queue_position;
        handoff.wait = place.wait_minutes;
        handoff.nobody = place.reason_not_accepting;  // set when nobody on duty can take the conversation now
      }
      window.localStorage.setItem(HINT_KEY, JSON.stringify(handoff));
      showHint();
    }

    var unconfirmed = [];  // agents' replies shown while the tab was hidden: confirmed once it is visible
    var socket = null;

    function confirmSeen() {
      if (!socket || !unconfirmed.length || document.visibilityState !== "visible") return;
      socket.emit("seen", { message_ids: unconfirmed.splice(0, unconfirmed.length) });
    }
    document.addEventListener("visibilitychange", confirmSeen);

    function onBotMessage(message) {
      var meta = (message && message.metadata) || {};
      var response = meta.response;
      socket = this || socket;  // socket.io calls its listeners with the socket as `this`
      if (meta.ts) rememberSeen(parseFloat(meta.ts));
      if (meta.message_id) {
        unconfirmed.push(meta.message_id);
        confirmSeen();
      }
      if (message && message.handoff) {  // custom JSON from the bot: {"handoff": {"state": ..., "agent": ...}}
        setHandoff(message.handoff.state || "bot", message.handoff.agent);
      } else if (QUEUED.indexOf(response) >= 0) {
        setHandoff("queued", null, meta);
      } else if (AGENT.indexOf(response) >= 0) {
        setHandoff("agent", meta.agent_name);
      } else if (BACK_TO_BOT.indexOf(response) >= 0) {
        setHandoff("bot");
      } else if (!response && handoff.state !== "bot") {
        setHandoff("agent", meta.agent_name);  // a plain text during a handoff is the agent's reply
      }
    }

    // The widget scrolls to the very bottom whenever something arrives, so the start of a long answer
    // ends up out of sight. Until the customer scrolls or writes, keep the start of the first reply they
    // have not read in view (they read down from there).
    var readUpTo = 0;  // how many messages the customer has seen (scrolled or written since they arrived)
    var messageList = null;

    function unreadStart(list) {
      var messages = list.querySelectorAll(".rw-message");
      var from = Math.min(readUpTo, messages.length);
      for (var i = messages.length - 1; i >= from; i--) {
        if (messages[i].querySelector(".rw-client")) { from = i + 1; break; }
      }
      for (var j = from; j < messages.length; j++) {
        if (messages[j].querySelector(".rw-response")) return messages[j];
      }
      return null;
    }

    function keepAnswerStartInView() {
      var list = mount.querySelector(".rw-messages-container");
      if (!list) return;
      if (list !== messageList) {  // a new window (opened, reopened): watch the customer's own scrolling
        messageList = list;
        var read = function () { readUpTo = list.querySelectorAll(".rw-message").length; };
        ["wheel", "touchstart", "mousedown", "keydown"].forEach(function (type) {
          list.addEventListener(type, read, { passive: true });
        });
        list.addEventListener("scroll", keepAnswerStartInView, { passive: true });
      }
      var start = unreadStart(list);
      if (!start) return;
      var offset = start.getBoundingClientRect().top - list.getBoundingClientRect().top;
      if (offset < 0) list.scrollTop += offset - 8;
    }

    // The widget re-renders its window when opened or closed: put the hint back each time.
    new MutationObserver(showHint).observe(mount, { childList: true, subtree: true });
    new MutationObserver(keepAnswerStartInView).observe(mount, { childList: true, subtree: true });
    window.WebChat.default({
      socketUrl: data.socketUrl,
      socketPath: data.socketPath || "/socket.io/",
      customData: { language: lang },
      initPayload: "/greet",
      title: texts.title,
      subtitle: texts.subtitle,
      inputTextFieldHint: texts.placeholder,
      connectingText: texts.connecting,
      params: { storage: "local" },
      withRules: false,
      hideWhenNotConnected: false,
      showMessageDate: false,
      customMessageDelay: function () { return 300; },
      onSocketEvent: {
        bot_uttered: onBotMessage,
        // A reopened or reconnected widget asks for what reached its conversation while it was away.
        session_confirm: function () {
          socket = this;
          var since = newestSeen();
          if (since) socket.emit("catch_up", { since: since });
          confirmSeen();
        }
      }
    }, mount);
    showHint();
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
