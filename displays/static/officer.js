/* Officer pad of one counter: call next, recall, no-show, complete, transfer, pause/resume, and the
 * procedure of the ticket being served (shown, and corrected by searching the agency's procedures).
 * Every press carries a fresh idempotency key, so a retried request is harmless. One request is in
 * flight at a time; a press meanwhile is never dropped: the same button again is the same press (a
 * double click acts once, and the pad says so), another button waits its turn and runs in order. */
(function () {
  "use strict";
  var COUNTER = String(QS.boot.counter);
  var layoutCounter = QS.site.counters.filter(function (c) { return c.id === COUNTER; })[0];
  var PRIORITY_NAMES = QS.labels.priorities, STATUS_NAMES = QS.labels.counter_status;
  var token = QS.token("officer");
  var busy = null;      // the action in flight, or null
  var waiting = [];     // presses made while busy: [{action, extra}], carried out in order
  var MAX_WAITING = 3;
  var follower = null;
  var state = QS.emptyState();

  function counter() {
    return QS.counterIn(state, COUNTER) || {id: COUNTER, status: "open", agencies: layoutCounter.agencies, current: null};
  }

  function say(kind, text) {
    var box = QS.$("#pad-message");
    box.className = "message " + kind;
    box.textContent = text;
  }

  // ---------------------------------------------------------------- login
  /** body[data-signed-in]: "1" once the token is known good (the pad takes presses), "0" on the login form. */
  function signedIn(yes) { document.body.setAttribute("data-signed-in", yes ? "1" : "0"); }
  function showLogin(message) {
    signedIn(false);
    QS.$("#login").hidden = false;
    QS.$("#pad").hidden = true;
    QS.$("#logout").hidden = true;
    var error = QS.$("#login-error");
    error.hidden = !message;
    error.textContent = message || "";
    QS.$("#username").focus();
  }
  function showPad() {
    QS.$("#login").hidden = true;
    QS.$("#pad").hidden = false;
    QS.$("#logout").hidden = false;
    if (!follower) startLive();
    render();
  }
  QS.$("#login").addEventListener("submit", function (event) {
    event.preventDefault();
    var body = {username: QS.$("#username").value.trim(), password: QS.$("#password").value};
    QS.api("POST", "/api/v1/login", {json: body}).then(function (res) {
      if (!res.ok || !res.body || !res.body.token) {
        showLogin(res.status === 401 ? "Sai tên đăng nhập hoặc mật khẩu." : QS.errorText(res));
        return;
      }
      var who = res.body;
      var counters = (who.counters || []).map(String);
      if (who.site && who.site !== QS.site.slug && who.site !== "*") {
        showLogin("Tài khoản này thuộc trung tâm khác.");
        return;
      }
      if (who.role === "officer" && counters.indexOf(COUNTER) < 0) {
        showLogin("Tài khoản này không được phân công quầy số " + COUNTER +
                  (counters.length ? " (được phân công quầy " + counters.join(", ") + ")." : "."));
        return;
      }
      token = who.token;
      QS.saveToken("officer", token);
      QS.$("#password").value = "";
      showPad();
      signedIn(true);
      say("info", "Đăng nhập thành công. Bấm “Gọi tiếp” (phím Enter) để gọi công dân.");
    });
  });
  QS.$("#logout").addEventListener("click", function () {
    token = null;
    QS.saveToken("officer", null);
    showLogin("");
  });

  // ---------------------------------------------------------------- render
  function render() {
    var c = counter();
    var ticket = c.current;
    var pill = QS.$("#status-pill");
    pill.className = "status-pill " + (c.status || "open");
    pill.textContent = STATUS_NAMES[c.status] || c.status;
    var pause = QS.$("#pause-btn");
    var paused = c.status === "paused";
    pause.setAttribute("data-action", paused ? "resume" : "pause");
    pause.firstChild.textContent = (paused ? ACTION_NAMES.resume : ACTION_NAMES.pause) + " ";
    document.body.setAttribute("data-counter-status", c.status || "open");

    var number = QS.$("#cur-number");
    number.textContent = ticket ? ticket.number : "Chưa có số";
    number.classList.toggle("none", !ticket);
    number.setAttribute("data-ticket", ticket ? ticket.id : "");
    QS.$("#cur-agency").textContent = ticket ? (ticket.agency_name || (QS.agency(ticket.agency) || {}).name || "") : "";
    QS.$("#cur-facts").hidden = !ticket;
    if (ticket) {
      QS.$("#cur-issued").textContent = QS.time(ticket.issued_at);
      QS.$("#cur-waited").textContent = QS.duration(
        (new Date(ticket.called_at || Date.now()) - new Date(ticket.issued_at)) / 1000);
      QS.$("#cur-priority").textContent = ticket.priority ? PRIORITY_NAMES[ticket.priority] || ticket.priority : "Không";
      var procedure = QS.$("#cur-procedure");
      procedure.textContent = ticket.procedure ? ticket.procedure.name : QS.labels.no_procedure;
      procedure.setAttribute("data-code", ticket.procedure ? ticket.procedure.code : "");
      var channel = ticket.channel || "kiosk";
      var channelNode = QS.$("#cur-channel");
      channelNode.textContent = ((QS.labels.channels || {})[channel] || channel) +
        (channel === "appointment" && ticket.slot_at ? " lúc " + QS.time(ticket.slot_at) : "");
      channelNode.setAttribute("data-channel", channel);
      tick();
    }
    QS.$("#procedure-btn").hidden = !ticket;
    var queues = QS.$("#queues");
    queues.textContent = "";
    var total = 0;
    (c.agencies && c.agencies.length ? c.agencies : layoutCounter.agencies).forEach(function (slug) {
      var agency = QS.agency(slug) || {name: slug};
      var n = state.waiting[slug] || 0;
      total += n;
      queues.appendChild(QS.h("li", {"data-agency": slug}, [
        QS.h("span", {text: agency.name}), QS.h("b", {class: "num", text: String(n)})
      ]));
    });
    document.body.setAttribute("data-waiting", String(total));
  }
  function tick() {
    var ticket = counter().current;
    if (ticket && ticket.called_at) QS.$("#cur-serving").textContent = QS.elapsed(ticket.called_at);
  }
  setInterval(tick, 1000);

  // ---------------------------------------------------------------- actions
  var DONE_TEXT = {
    "recall": function (t) { return "Đã gọi lại số " + t.number + "."; },
    "no-show": function (t) { return "Đã ghi nhận số " + t.number + " vắng mặt."; },
    "complete": function (t) { return "Đã hoàn thành số " + t.number + "."; },
    "transfer": function (t) { return "Đã chuyển số " + t.number + " sang " + (t.agency_name || t.agency) + "."; },
    "procedure": function (t) {
      return t.procedure ? "Đã sửa thủ tục của số " + t.number + ": " + t.procedure.name + "."
        : "Đã bỏ thủ tục của số " + t.number + ".";
    },
    "pause": function () { return "Quầy đang tạm nghỉ. Bấm “Tiếp tục” để nhận công dân."; },
    "resume": function () { return "Quầy đã mở lại."; }
  };

  var ACTION_NAMES = QS.labels.actions;

  function setBusy(action) {
    busy = action;
    document.body.setAttribute("data-busy", action ? "1" : "0");
    document.body.setAttribute("data-queued", String(waiting.length));
  }

  /** Apply an answer locally at once (the websocket confirms it a moment later). */
  function applyAnswer(action, res) {
    var c = counter();
    var body = res.body;
    var isCounter = body && body.agencies !== undefined && body.status !== undefined && body.number === undefined;
    var here = QS.counterIn(state, COUNTER);
    if (!here) { state.counters.push(c); here = c; }
    if (isCounter) { Object.assign(here, body); return; }
    if (action === "call-next") here.current = res.status === 200 ? body : null;
    else if ((action === "recall" || action === "procedure") && body && body.id) here.current = body;
    else if (action === "complete" || action === "no-show" || action === "transfer") here.current = null;
    else if (action === "pause") here.status = "paused";
    else if (action === "resume") here.status = "open";
  }

  /** A press: sent now, or (while another request is in flight) merged with the same press or queued. */
  function act(action, extra) {
    if (!token) return;
    if (busy) {
      var last = waiting.length ? waiting[waiting.length - 1].action : busy;
      if (last === action && action !== "transfer" && action !== "procedure") {
        say("info", "Đang xử lý “" + ACTION_NAMES[action] + "” — bấm một lần là đủ.");
      } else if (waiting.length >= MAX_WAITING) {
        say("error", "Đang chờ xử lý " + waiting.length + " thao tác; “" + ACTION_NAMES[action] +
            "” chưa được nhận, vui lòng bấm lại sau.");
      } else {
        waiting.push({action: action, extra: extra});
        setBusy(busy);
        say("info", "Đã nhận “" + ACTION_NAMES[action] + "”: sẽ làm ngay sau “" + ACTION_NAMES[busy] + "”.");
      }
      return;
    }
    send(action, extra);
  }

  function send(action, extra) {
    setBusy(action);
    var body = Object.assign({key: QS.newKey()}, extra || {});
    say("info", "Đang xử lý “" + ACTION_NAMES[action] + "”…");
    QS.api("POST", "counters/" + encodeURIComponent(COUNTER) + "/" + action, {token: token, json: body}).then(function (res) {
      answered(action, extra, res);
      var next = waiting.shift();
      if (next && token) send(next.action, next.extra);
      else { waiting = []; setBusy(null); }
    });
  }

  function answered(action, extra, res) {
    if (res.status === 401) {
      token = null;
      waiting = [];
      QS.saveToken("officer", null);
      showLogin("Phiên đăng nhập đã hết hạn. Vui lòng đăng nhập lại.");
      return;
    }
    if (!res.ok) { say("error", QS.errorText(res)); return; }
    applyAnswer(action, res);
    render();
    if (action === "call-next") {
      if (res.status === 204 || !res.body) say("info", "Không còn công dân nào đang chờ.");
      else say("ok", "Đã gọi số " + res.body.number + ". Mời công dân đến quầy.");
    } else {
      var ticket = res.body && res.body.number ? res.body : {number: "", agency: extra && extra.agency};
      say("ok", DONE_TEXT[action](ticket));
    }
  }

  function press(action) {
    if (action === "transfer") { openTransfer(); return; }
    if (action === "procedure") { openProcedure(); return; }
    act(action);
  }
  QS.$$("#pad-buttons .btn").forEach(function (btn) {
    btn.addEventListener("click", function () { press(btn.getAttribute("data-action")); });
  });

  // ---------------------------------------------------------------- transfer
  function openTransfer() {
    var ticket = counter().current;
    if (!ticket) { say("error", "Chưa có số nào đang phục vụ để chuyển."); return; }
    QS.$("#transfer-number").textContent = ticket.number;
    var box = QS.$("#transfer-choices");
    box.textContent = "";
    (QS.site.floors || []).forEach(function (floor) {
      QS.site.agencies.filter(function (a) { return a.floor === floor.number && a.slug !== ticket.agency; })
        .forEach(function (agency) {
          box.appendChild(QS.h("button", {class: "btn", "data-agency": agency.slug, onclick: function () {
            closeTransfer();
            act("transfer", {agency: agency.slug});
          }}, [agency.name + " · " + floor.name]));
        });
    });
    QS.$("#transfer-modal").hidden = false;
  }
  function closeTransfer() { QS.$("#transfer-modal").hidden = true; }
  QS.$("#transfer-cancel").addEventListener("click", closeTransfer);

  // ---------------------------------------------------------------- the procedure of the current ticket
  var asked = 0, searchTimer = null;
  function openProcedure() {
    var ticket = counter().current;
    if (!ticket) { say("error", "Chưa có số nào đang phục vụ để sửa thủ tục."); return; }
    QS.$("#procedure-number").textContent = ticket.number;
    QS.$("#procedure-agency").textContent = ticket.agency_name || (QS.agency(ticket.agency) || {}).name || ticket.agency;
    QS.$("#procedure-now").textContent = "Hiện tại: " + (ticket.procedure ? ticket.procedure.name : QS.labels.no_procedure);
    QS.$("#procedure-clear").hidden = !ticket.procedure;
    QS.$("#procedure-search").value = "";
    QS.$("#procedure-modal").hidden = false;
    findProcedures();
    QS.$("#procedure-search").focus();
  }
  function closeProcedure() { QS.$("#procedure-modal").hidden = true; }
  /** The agency's procedures matching what the officer typed (all of them, in the catalogue's order, for nothing). */
  function findProcedures() {
    var ticket = counter().current;
    if (!ticket) { closeProcedure(); return; }
    var query = QS.$("#procedure-search").value.trim();
    var mine = ++asked;
    var path = "procedures?limit=40&agency=" + encodeURIComponent(ticket.agency) +
      (query ? "&q=" + encodeURIComponent(query) : "");
    QS.api("GET", path, {token: token}).then(function (res) {
      if (mine !== asked) return;
      var box = QS.$("#procedure-choices");
      box.textContent = "";
      var results = res.ok && res.body ? res.body.results : [];
      results.forEach(function (p) {
        var chosen = ticket.procedure && ticket.procedure.code === p.code;
        box.appendChild(QS.h("button", {class: "btn" + (chosen ? " selected" : ""), type: "button", "data-code": p.code,
                                        onclick: function () {
          closeProcedure();
          if (!chosen) act("procedure", {procedure: p.code});
        }}, [QS.h("span", {text: p.name}), QS.h("small", {class: "muted", text: p.field + " · " + p.code})]));
      });
      var empty = QS.$("#procedure-empty");
      empty.hidden = !!results.length;
      empty.textContent = res.ok && res.body ? res.body.message || "Cơ quan này chưa có thủ tục nào trong danh mục."
        : QS.errorText(res);
    });
  }
  QS.$("#procedure-search").addEventListener("input", function () {
    clearTimeout(searchTimer);
    searchTimer = setTimeout(findProcedures, 150);
  });
  QS.$("#procedure-search").addEventListener("keydown", function (event) {
    if (event.key === "Escape") closeProcedure();
  });
  QS.$("#procedure-cancel").addEventListener("click", closeProcedure);
  QS.$("#procedure-clear").addEventListener("click", function () { closeProcedure(); act("procedure", {procedure: null}); });
  QS.$("#procedure-btn").addEventListener("click", openProcedure);

  // ---------------------------------------------------------------- keyboard
  var KEYS = {Enter: "call-next", n: "call-next", r: "recall", v: "no-show", h: "complete", c: "transfer", p: "pause",
              t: "procedure"};
  document.addEventListener("keydown", function (event) {
    if (event.repeat || event.ctrlKey || event.altKey || event.metaKey) return;
    var target = event.target;
    if (target && (target.tagName === "INPUT" || target.tagName === "TEXTAREA")) return;
    if (QS.$("#pad").hidden) return;
    if (event.key === "Escape") { closeTransfer(); closeProcedure(); return; }
    if (!QS.$("#transfer-modal").hidden || !QS.$("#procedure-modal").hidden) return;
    var action = KEYS[event.key.length === 1 ? event.key.toLowerCase() : event.key];
    if (!action) return;
    event.preventDefault();
    if (action === "pause") action = counter().status === "paused" ? "resume" : "pause";
    press(action);
  });

  // ---------------------------------------------------------------- live
  // The whole site: the pad needs its counter and the queue counts of whatever agencies a manager gives it,
  // on any floor (a floor topic would narrow the snapshot to one floor). A few events a second at most.
  function startLive() {
    follower = QS.follow({
      topics: ["site"],
      onChange: function (next) { state = next; render(); }
    });
  }

  if (token) {
    showPad();
    // A stored token may have expired (web logins last a working day): check it once.
    QS.api("GET", "/api/v1/whoami", {token: token}).then(function (res) {
      if (res.status === 401) {
        token = null;
        QS.saveToken("officer", null);
        showLogin("Phiên đăng nhập đã hết hạn. Vui lòng đăng nhập lại.");
      } else if (token) signedIn(true);
    });
  } else showLogin("");
  QS.startClock();
})();
