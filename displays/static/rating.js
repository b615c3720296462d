/* rating.js: the tablet facing the citizen at one counter.
 *
 * It follows the counter's websocket topic; when the officer presses "Hoàn thành" (a `completed`
 * event of this counter) it asks the citizen for a rating for `show_s` seconds (30 by default), then
 * posts it with the tablet's token (a kiosk token, or an officer's login) and thanks them. */
(function () {
  "use strict";
  var h = QS.h;
  var COUNTER = String(QS.boot.counter);
  var SHOW_MS = (QS.boot.show_s || 30) * 1000;
  var THANKS_MS = 6000;
  var labels = QS.labels.rating;
  var levels = Object.keys(labels).map(Number).sort(function (a, b) { return b - a; });
  var SVG = "http://www.w3.org/2000/svg";
  var MOODS = levels.length === 5 ? {5: 1, 4: 0.5, 3: 0, 2: -0.5, 1: -1} : {3: 1, 2: 0.45, 1: -0.8};
  var token = QS.token("rating");
  var current = null, timer = null, busy = false;

  function show(name) {
    ["idle", "ask", "thanks", "setup"].forEach(function (part) { QS.$("#rt-" + part).hidden = part !== name; });
    document.body.setAttribute("data-rating-state", name);
  }
  function problem(text) {
    var box = QS.$("#rt-problem");
    box.textContent = text || "";
    box.hidden = !text;
  }
  function idle() {
    clearTimeout(timer);
    current = null;
    show(token ? "idle" : "setup");
  }

  /** A drawn face (no emoji font needed): the mouth bends from a frown (worst) to a smile (best). */
  function face(level) {
    var mood = MOODS[level] !== undefined ? MOODS[level] : 0;  // -1 (frown) .. 1 (smile)
    var svg = document.createElementNS(SVG, "svg");
    svg.setAttribute("viewBox", "0 0 100 100");
    svg.setAttribute("class", "rt-face");
    svg.setAttribute("aria-hidden", "true");
    var parts = [["circle", {cx: 50, cy: 50, r: 44, class: "rt-face-head"}],
                 ["circle", {cx: 35, cy: 40, r: 6, class: "rt-face-eye"}],
                 ["circle", {cx: 65, cy: 40, r: 6, class: "rt-face-eye"}],
                 ["path", {d: "M 30 " + (68 - mood * 6) + " Q 50 " + (68 + mood * 16) + " 70 " + (68 - mood * 6),
                           class: "rt-face-mouth"}]];
    parts.forEach(function (part) {
      var node = document.createElementNS(SVG, part[0]);
      Object.keys(part[1]).forEach(function (key) { node.setAttribute(key, part[1][key]); });
      svg.appendChild(node);
    });
    return svg;
  }

  function ask(ticket) {
    clearTimeout(timer);
    current = ticket;
    busy = false;
    problem("");
    QS.$("#rt-number").textContent = ticket.number;
    QS.$("#rt-agency").textContent = ticket.agency_name || (QS.agency(ticket.agency) || {}).name || "";
    var box = QS.$("#rt-choices");
    box.textContent = "";
    levels.forEach(function (level) {
      box.appendChild(h("button", {class: "rt-choice level-" + level + " of-" + levels.length, type: "button",
                                   "data-score": String(level), onclick: function () { rate(level); }}, [
        face(level),
        h("span", {class: "rt-label", text: labels[level]})]));
    });
    var bar = QS.$("#rt-bar");
    bar.style.transition = "none";
    bar.style.width = "100%";
    void bar.offsetWidth;  // restart the countdown bar
    bar.style.transition = "width " + SHOW_MS + "ms linear";
    bar.style.width = "0%";
    show("ask");
    timer = setTimeout(idle, SHOW_MS);
  }

  function thanks(text) {
    clearTimeout(timer);
    QS.$("#rt-thanks-text").textContent = text;
    show("thanks");
    timer = setTimeout(idle, THANKS_MS);
  }

  function rate(score) {
    if (!current || busy) return;
    busy = true;
    var ticket = current;
    QS.api("POST", "tickets/" + encodeURIComponent(ticket.id) + "/rating", {token: token, json: {score: score}})
      .then(function (res) {
        busy = false;
        if (res.ok) { thanks("Quý khách đã chọn “" + labels[score] + "”. Ý kiến của quý khách giúp chúng tôi phục vụ tốt hơn."); return; }
        if (res.status === 409 && res.body && res.body.error && res.body.error.code === "already_rated") {
          thanks("Số " + ticket.number + " đã được đánh giá trước đó.");
          return;
        }
        if (res.status === 401 || res.status === 403) {
          token = null;
          QS.saveToken("rating", null);
          show("setup");
        }
        problem(QS.errorText(res));
      });
  }

  QS.$("#rt-login").addEventListener("submit", function (event) {
    event.preventDefault();
    var body = {username: QS.$("#rt-username").value.trim(), password: QS.$("#rt-password").value};
    QS.api("POST", "/api/v1/login", {json: body}).then(function (res) {
      var error = QS.$("#rt-error");
      if (!res.ok || !res.body || !res.body.token) {
        error.textContent = res.status === 401 ? "Sai tên đăng nhập hoặc mật khẩu." : QS.errorText(res);
        error.hidden = false;
        return;
      }
      token = res.body.token;
      QS.saveToken("rating", token);
      QS.$("#rt-password").value = "";
      error.hidden = true;
      idle();
    });
  });

  var offsetMs = QS.boot.now_ms ? QS.boot.now_ms - Date.now() : 0;  // the server's clock, not the tablet's
  function tickClock() {
    QS.$$("[data-clock]").forEach(function (node) { node.textContent = QS.time(new Date(Date.now() + offsetMs)); });
  }
  tickClock();
  setInterval(tickClock, 1000);
  idle();
  QS.live({
    topics: ["counter:" + COUNTER],
    onFrame: function (frame) {
      if (frame.type === "completed" && String(frame.counter) === COUNTER && frame.ticket && !frame.ticket.rating) {
        if (token) ask(frame.ticket);
      }
    }
  });
})();
