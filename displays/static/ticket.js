/* Citizen ticket page (opened from the QR on the paper ticket, or after taking a number on the phone):
 * live status, people ahead, wait, where to go — and a nudge when the turn is near and when it is called:
 * a large banner, the page title, vibration where the phone has it, and a sound (WebAudio, once the
 * citizen has tapped "Bật âm báo": browsers play nothing before a tap). A phone that slept catches up
 * when it wakes (the link resumes with `since`, and the page asks for the ticket again), and alerts
 * then if the turn came meanwhile. Each alert is given once per ticket (remembered in localStorage).
 */
(function () {
  "use strict";
  var TICKET_ID = QS.boot.ticket_id;
  var NEAR = QS.boot.near_ahead || 3;
  var ticket = null;
  var follower = null;
  var refreshTimer = null;
  var calledCounter = null;
  var audio = null;
  var baseTitle = document.title;
  /** What a test or a curious technician can read: the alerts given, the sound played. */
  var trace = window.QS_TICKET = {alerts: [], beeps: 0, vibrations: 0};

  QS.$("#t-hours").textContent = QS.hoursText();

  function counterFloorText(counterId) {
    var c = QS.site.counters.filter(function (x) { return x.id === String(counterId); })[0];
    return c ? QS.floorName(c.floor) : "";
  }

  // ---------------------------------------------------------------- the nudge
  var memoryKey = "qs.alerted." + QS.site.slug + "." + TICKET_ID;
  function alerted() {
    try { return JSON.parse(localStorage.getItem(memoryKey) || "{}"); } catch (e) { return trace.memory || {}; }
  }
  function remember(kind, value) {
    var known = alerted();
    known[kind] = value;
    trace.memory = known;
    try { localStorage.setItem(memoryKey, JSON.stringify(known)); } catch (e) { /* private mode */ }
  }

  function beep() {
    if (!audio) return;
    try {
      if (audio.state === "suspended") audio.resume();
      [0, 0.35, 0.7].forEach(function (offset) {
        var tone = audio.createOscillator(), gain = audio.createGain();
        tone.type = "sine";
        tone.frequency.value = 880;
        gain.gain.setValueAtTime(0.0001, audio.currentTime + offset);
        gain.gain.exponentialRampToValueAtTime(0.4, audio.currentTime + offset + 0.02);
        gain.gain.exponentialRampToValueAtTime(0.0001, audio.currentTime + offset + 0.28);
        tone.connect(gain).connect(audio.destination);
        tone.start(audio.currentTime + offset);
        tone.stop(audio.currentTime + offset + 0.3);
      });
      trace.beeps += 1;
    } catch (e) { /* no sound on this phone */ }
  }

  function vibrate(pattern) {
    if (!navigator.vibrate) return;
    try { if (navigator.vibrate(pattern)) trace.vibrations += 1; } catch (e) { /* not allowed */ }
  }

  function nudge(kind, text, sub) {
    var banner = QS.$("#t-alert");
    banner.className = "turn-alert " + kind;
    banner.hidden = false;
    QS.$("#t-alert-text").textContent = text;
    QS.$("#t-alert-sub").textContent = sub || "";
    document.title = "🔔 " + text + " — " + baseTitle;
    vibrate(kind === "called" ? [400, 150, 400, 150, 400] : [250, 120, 250]);
    beep();
    trace.alerts.push({kind: kind, text: text, at: Date.now()});
    document.documentElement.setAttribute("data-alert", kind);
  }
  QS.$("#t-alert-ok").addEventListener("click", function () {
    QS.$("#t-alert").hidden = true;
    document.title = baseTitle;
  });

  /** Give the alerts the ticket's state calls for, once each (a recall alerts again). */
  function checkAlerts(recall) {
    if (!ticket) return;
    var known = alerted();
    if (ticket.status === "called") {
      var counterId = ticket.counter || calledCounter;
      var times = (ticket.recalls || 0) + 1;
      if ((known.called || 0) < times || recall) {
        remember("called", times);
        nudge("called", "Đến lượt bạn! Mời đến quầy số " + counterId,
              (counterFloorText(counterId) ? counterFloorText(counterId) + " · " : "") + "Số " + ticket.number);
      }
      return;
    }
    if (ticket.status === "waiting" && ticket.ahead !== null && ticket.ahead !== undefined && ticket.ahead <= NEAR &&
        !known.near) {
      remember("near", ticket.ahead);
      nudge("near", ticket.ahead === 0 ? "Sắp đến lượt bạn!" : "Sắp đến lượt: còn " + ticket.ahead + " người trước bạn",
            "Số " + ticket.number + " · Vui lòng có mặt gần quầy.");
    }
  }

  var soundButton = QS.$("#t-sound");
  var AudioCtor = window.AudioContext || window.webkitAudioContext;
  soundButton.hidden = !AudioCtor && !navigator.vibrate;
  soundButton.addEventListener("click", function () {
    try { if (AudioCtor && !audio) audio = new AudioCtor(); if (audio) audio.resume(); } catch (e) { audio = null; }
    vibrate(60);  // a tap grants vibration too
    soundButton.textContent = "Đã bật âm báo ✓";
    soundButton.disabled = true;
    trace.sound = !!audio;
  });

  // ---------------------------------------------------------------- render
  function render() {
    if (!ticket) return;
    var agency = QS.agency(ticket.agency) || {};
    QS.$("#t-number").textContent = ticket.number;
    QS.$("#t-agency").textContent = ticket.agency_name || agency.name || ticket.agency;
    QS.$("#t-floor").textContent = QS.floorName(ticket.floor !== undefined ? ticket.floor : agency.floor);
    QS.$("#t-issued").textContent = QS.time(ticket.issued_at);
    var procedure = QS.$("#t-procedure");
    procedure.hidden = !ticket.procedure;
    procedure.textContent = ticket.procedure ? "Thủ tục: " + ticket.procedure.name : "";
    baseTitle = "Số " + ticket.number + " — " + (QS.site.short_name || QS.site.name);
    if (QS.$("#t-alert").hidden) document.title = baseTitle;
    var channel = QS.$("#t-channel");
    channel.hidden = !ticket.channel || ticket.channel === "kiosk";
    channel.textContent = ticket.channel === "appointment" ? "Lịch hẹn lúc " + QS.time(ticket.slot_at) : "Lấy số trực tuyến";
    if (!channel.hidden && QS.$("#t-qr").hidden) {
      QS.$("#t-qr-img").setAttribute("src", "/t/" + encodeURIComponent(QS.site.slug) + "/" + encodeURIComponent(ticket.id) + "/qr.svg");
      QS.$("#t-qr").hidden = false;
    }
    var status = QS.$("#t-status");
    status.className = "citizen-status " + ticket.status;
    status.setAttribute("data-status", ticket.status);
    status.textContent = "";
    var waiting = ticket.status === "waiting";
    QS.$("#t-facts").hidden = !waiting;
    if (waiting) {
      status.appendChild(document.createTextNode(ticket.ahead === 0 ? "Sắp đến lượt bạn" : "Đang chờ đến lượt"));
      status.appendChild(QS.h("small", {text: ticket.ahead === 0 ? "You are next" : "Waiting"}));
      QS.$("#t-ahead").textContent = ticket.ahead === null || ticket.ahead === undefined ? "–" : String(ticket.ahead);
      QS.$("#t-eta").textContent = ticket.eta_s === null || ticket.eta_s === undefined ? "–" :
        (ticket.eta_s < 60 ? "dưới 1 phút" : "khoảng " + QS.duration(ticket.eta_s));
    } else if (ticket.status === "called") {
      var counterId = ticket.counter || calledCounter;
      var floorText = counterFloorText(counterId);
      status.appendChild(document.createTextNode("Mời đến quầy số " + counterId));
      status.appendChild(QS.h("small", {text: (floorText ? floorText + " · " : "") + "Please go to counter " + counterId}));
    } else if (ticket.status === "done") {
      status.appendChild(document.createTextNode("Đã hoàn thành. Cảm ơn quý công dân!"));
      status.appendChild(QS.h("small", {text: "Done. Thank you!"}));
    } else if (ticket.status === "no_show") {
      status.appendChild(document.createTextNode("Số đã được gọi nhưng quý công dân vắng mặt"));
      status.appendChild(QS.h("small", {text: "Missed. Please ask the staff at the information desk."}));
    } else if (ticket.status === "expired") {
      status.appendChild(document.createTextNode("Số đã hết hiệu lực"));
      status.appendChild(QS.h("small", {text: "Expired"}));
    } else {
      status.appendChild(document.createTextNode(ticket.status));
    }
    if (ticket.status !== "waiting" && ticket.status !== "called") soundButton.hidden = true;
  }

  function load() {
    return QS.api("GET", "tickets/" + encodeURIComponent(TICKET_ID)).then(function (res) {
      if (res.ok && res.body) {
        ticket = res.body;
        render();
        checkAlerts(false);
        if (!follower) startLive();
        return;
      }
      if (res.status === 404) {
        var status = QS.$("#t-status");
        status.className = "citizen-status missing";
        status.setAttribute("data-status", "missing");
        status.textContent = QS.labels.errors.unknown_ticket;
        status.appendChild(QS.h("small", {text: "Ticket not found. Please check the QR code."}));
        QS.$("#t-number").textContent = "----";
        soundButton.hidden = true;
        return;
      }
      if (!ticket) {  // server unreachable before the first answer: try again shortly
        QS.$("#t-status").textContent = QS.errorText(res);
        setTimeout(load, 5000);
      }
    });
  }

  /** Another ticket of the agency moved: our "ahead" changed; ask once things settle. */
  function refreshSoon() {
    clearTimeout(refreshTimer);
    refreshTimer = setTimeout(load, 800);
  }

  function startLive() {
    follower = QS.live({
      topics: ["ticket:" + TICKET_ID, "agency:" + ticket.agency],
      onFrame: function (frame) {
        if (frame.ticket && frame.ticket.id === TICKET_ID) {
          ticket = Object.assign({}, ticket, frame.ticket);
          if (frame.type === "called") calledCounter = frame.counter;
          if (frame.type === "near" && frame.ahead !== undefined) ticket.ahead = frame.ahead;
          if (frame.type === "transferred" && frame.agency !== undefined) {
            follower.setTopics(["ticket:" + TICKET_ID, "agency:" + frame.ticket.agency]);
          }
          render();
          checkAlerts(frame.type === "called" && !!frame.recall);
          if (ticket.status === "waiting") refreshSoon();
        } else if (frame.type === "snapshot" || frame.type === "issued" || frame.type === "called" ||
                   frame.type === "transferred" || frame.type === "queue" || frame.type === "no_show") {
          if (ticket && ticket.status === "waiting") refreshSoon();
          else if (frame.type === "snapshot") refreshSoon();
        }
      }
    });
  }

  // A phone that slept (screen off, tab in the background) asks again when it wakes: the live link may
  // have been dropped and resumed, but the page must alert for what happened meanwhile at once.
  document.addEventListener("visibilitychange", function () { if (!document.hidden) load(); });
  window.addEventListener("pageshow", function (event) { if (event.persisted) load(); });

  load();
})();
