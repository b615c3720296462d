/* manager.js: the floor managers' pages.
 *
 *   QM                 shared by the console, reports and audit pages: manager login (token kept in
 *                      localStorage by QS.token/QS.saveToken), API calls with the token, toasts, formats
 *   the live console   (page "console") every counter by floor, every agency's queue, alerts, actions;
 *                      redrawn from GET .../console after every websocket event and every few seconds
 *                      (waits grow without events), durations tick every second in between.
 */
(function (global) {
  "use strict";
  var QM = {};
  var token = QS.token("manager");
  var readyCallbacks = [];

  // ------------------------------------------------------------------ formats
  function pad(n) { return (n < 10 ? "0" : "") + n; }
  /** "4:37", "1:04:37" for seconds. */
  QM.clock = function (seconds) {
    if (seconds === null || seconds === undefined || isNaN(seconds)) return "—";
    seconds = Math.max(0, Math.round(seconds));
    var h = Math.floor(seconds / 3600), m = Math.floor(seconds / 60) % 60, s = seconds % 60;
    return (h ? h + ":" + pad(m) : m) + ":" + pad(s);
  };
  /** "12 phút", "1 giờ 05 phút", "dưới 1 phút", "—". */
  QM.minutes = function (seconds) {
    if (seconds === null || seconds === undefined || isNaN(seconds)) return "—";
    return QS.duration(seconds);
  };
  QM.percent = function (share) {
    if (share === null || share === undefined) return "—";
    return (Math.round(share * 1000) / 10).toLocaleString("vi-VN") + "%";
  };
  QM.number = function (n) { return n === null || n === undefined ? "—" : Number(n).toLocaleString("vi-VN"); };
  QM.shortAgency = function (name) { return (name || "").replace(/^Sở /, "").replace(/^Ban Quản lý /, "BQL "); };

  // ------------------------------------------------------------------ the server's clock
  // Pages show the site's time as the server knows it (a desk PC's clock may be wrong); the console
  // corrects the offset at every refresh.
  var offsetMs = QS.boot.now_ms ? QS.boot.now_ms - Date.now() : 0;
  QM.setServerNow = function (ms) { offsetMs = ms - Date.now(); };
  QM.now = function () { return Date.now() + offsetMs; };
  function tickClock() {
    QS.$$("[data-clock]").forEach(function (node) { node.textContent = QS.time(new Date(QM.now())); });
  }

  // ------------------------------------------------------------------ messages
  var toastTimer = null;
  QM.toast = function (kind, text) {
    var box = QS.$("#m-toast");
    box.className = "m-toast " + kind;
    box.textContent = text;
    box.hidden = false;
    clearTimeout(toastTimer);
    toastTimer = setTimeout(function () { box.hidden = true; }, kind === "error" ? 8000 : 4000);
  };

  // ------------------------------------------------------------------ login
  function showLogin(message) {
    QS.$("#m-login").hidden = false;
    QS.$("#m-main").hidden = true;
    QS.$("#m-logout").hidden = true;
    QS.$("#m-user").textContent = "";
    var error = QS.$("#m-login-error");
    error.hidden = !message;
    error.textContent = message || "";
    QS.$("#m-username").focus();
  }
  var signedIn = false, signedInAs = null;
  function showMain(who) {
    QS.$("#m-login").hidden = true;
    QS.$("#m-main").hidden = false;
    QS.$("#m-logout").hidden = false;
    QS.$("#m-user").textContent = who && who.name ? who.name : "";
    var cityLink = QS.$("#m-city-link");
    if (cityLink) cityLink.hidden = !(who && who.site === "*");  // a manager of every site: back to the city
    signedIn = true;
    signedInAs = who;
    var callbacks = readyCallbacks;
    readyCallbacks = [];
    callbacks.forEach(function (callback) { callback(who); });
  }
  /** null when `who` may use this page, else the sentence saying why not. A page may replace it
   *  (the city console sends a manager of one center to that center's console). */
  QM.acceptable = function (who) {
    if (!who || who.role !== "manager") return "Tài khoản này không phải tài khoản quản lý.";
    if (who.site !== QS.site.slug && who.site !== "*") return "Tài khoản này quản lý trung tâm khác.";
    return null;
  };
  function acceptable(who) { return QM.acceptable(who); }
  QS.$("#m-login").addEventListener("submit", function (event) {
    event.preventDefault();
    var body = {username: QS.$("#m-username").value.trim(), password: QS.$("#m-password").value};
    QS.api("POST", "/api/v1/login", {json: body}).then(function (res) {
      if (!res.ok || !res.body || !res.body.token) {
        showLogin(res.status === 401 ? "Sai tên đăng nhập hoặc mật khẩu." : QS.errorText(res));
        return;
      }
      var problem = acceptable(res.body);
      if (problem) { showLogin(problem); return; }
      token = res.body.token;
      QS.saveToken("manager", token);
      QS.$("#m-password").value = "";
      showMain(res.body);
    });
  });
  QS.$("#m-logout").addEventListener("click", function () {
    token = null;
    QS.saveToken("manager", null);
    showLogin("");
  });

  /** Run `callback(who)` once a manager is signed in (at once when the stored token is still good). */
  QM.ready = function (callback) {
    if (signedIn) callback(signedInAs);
    else readyCallbacks.push(callback);
  };

  /** QS.api with the manager's token; a 401 sends the user back to the login form. */
  QM.api = function (method, path, opts) {
    if (!token) return Promise.resolve({ok: false, status: 401, body: null});  // signed out: ask nothing
    return QS.api(method, path, Object.assign({token: token}, opts || {})).then(function (res) {
      if (res.status === 401 && token) {
        token = null;
        QS.saveToken("manager", null);
        showLogin("Phiên đăng nhập đã hết hạn. Vui lòng đăng nhập lại.");
      }
      return res;
    });
  };
  QM.token = function () { return token; };

  function start() {
    tickClock();
    setInterval(tickClock, 1000);
    if (!token) { showLogin(""); return; }
    QS.api("GET", "/api/v1/whoami", {token: token}).then(function (res) {
      if (res.status === 0) { showMain(null); return; }  // server unreachable: try with the stored token
      var problem = res.ok ? acceptable(res.body) : "Phiên đăng nhập đã hết hạn. Vui lòng đăng nhập lại.";
      if (problem) {
        token = null;
        QS.saveToken("manager", null);
        showLogin(problem);
        return;
      }
      showMain(res.body);
    });
  }
  global.QM = QM;
  // After every page script ran and registered its QM.ready callback (a late one still runs at once).
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})(window);

(function () {
  "use strict";
  if (QS.boot.page !== "console") return;
  var h = QS.h;
  var REFRESH_MS = (QS.boot.refresh_s || 5) * 1000;
  var ALERT_S = QS.boot.wait_alert_s || 0;
  var PRIORITY_NAMES = QS.labels.priorities;
  var data = null, fetchedAt = 0, loading = false, again = false, timer = null;

  function nowMs() { return data ? data.now_ms + (Date.now() - fetchedAt) : QM.now(); }
  function secondsSince(iso) { return iso ? Math.max(0, (nowMs() - new Date(iso).getTime()) / 1000) : null; }
  function agencyOf(slug) { return QS.agency(slug) || {slug: slug, name: slug, prefix: "?"}; }

  // ---------------------------------------------------------------- loading
  function refresh() {
    if (loading) { again = true; return; }
    loading = true;
    QM.api("GET", "console").then(function (res) {
      loading = false;
      if (res.ok && res.body) {
        data = res.body;
        fetchedAt = Date.now();
        QM.setServerNow(data.now_ms);
        render();
        document.body.setAttribute("data-event-id", data.event_id || "");
      } else if (res.status !== 401) {
        QM.toast("error", QS.errorText(res));
      }
      if (again) { again = false; refresh(); }
    });
  }
  function soon() {
    clearTimeout(timer);
    timer = setTimeout(refresh, 200);
  }

  // ---------------------------------------------------------------- rendering
  function chip(slug) {
    var agency = agencyOf(slug);
    return h("span", {class: "chip", "data-agency": slug, title: agency.name}, [
      h("b", {text: agency.prefix}), " " + QM.shortAgency(agency.name)]);
  }

  function counterCard(c) {
    var now;
    if (c.state === "serving") {
      now = [h("span", {class: "cc-number num", text: c.current.number}),
             h("span", {class: "cc-for num", "data-since": c.current.called_at, title: "Thời gian đang phục vụ số này"},
               [QM.clock(secondsSince(c.current.called_at))])];
    } else if (c.state === "paused") {
      now = [h("span", {class: "cc-reason", text: QS.labels.counter_status.paused + (c.reason ? " · " + c.reason : "")}),
             h("span", {class: "cc-for num", "data-since": c.since, title: QS.labels.counter_status.paused + " từ " + QS.time(c.since)},
               [QM.clock(secondsSince(c.since))])];
    } else if (c.state === "closed") {
      now = [h("span", {class: "cc-reason", text: "Đóng" + (c.reason ? " · " + c.reason : "")})];
    } else {
      now = [h("span", {class: "cc-reason muted", text: "Chưa gọi số"})];
    }
    return h("button", {class: "cc state-" + c.state, type: "button", "data-counter": c.id, "data-state": c.state,
                        title: QS.counterName(c.id) + ": " + c.state_label + " — bấm để đổi lĩnh vực, mở/đóng, tạm nghỉ",
                        onclick: function () { openCounter(c.id); }}, [
      h("div", {class: "cc-top"}, [
        h("b", {text: QS.counterName(c.id)}),
        h("span", {class: "cc-served", title: "Số lượt đã phục vụ hôm nay"}, [
          h("b", {class: "num", text: String(c.served || 0)}), " lượt"])]),
      h("div", {class: "cc-agencies"}, c.agencies.map(chip)),
      h("div", {class: "cc-now"}, now),
      c.state === "serving" && c.current.procedure ? h("div", {class: "cc-proc", "data-code": c.current.procedure.code,
                                                               title: "Thủ tục: " + c.current.procedure.name,
                                                               text: c.current.procedure.name}) : null,
      h("div", {class: "cc-mean", title: "Thời gian phục vụ trung bình hôm nay"}, [
        "Phục vụ TB ", h("b", {class: "num", text: c.mean_service_s === null ? "—" : QM.clock(c.mean_service_s)})])
    ]);
  }

  function renderFloors() {
    var box = QS.$("#floors");
    box.textContent = "";
    QS.site.floors.forEach(function (floor) {
      var list = data.counters.filter(function (c) { return c.floor === floor.number; });
      var count = function (state) { return list.filter(function (c) { return c.state === state; }).length; };
      box.appendChild(h("section", {class: "c-card c-floor", "data-floor": String(floor.number)}, [
        h("h2", {}, [floor.name + " · " + list.length + " quầy",
          h("span", {class: "c-floor-sum"}, [
            h("span", {class: "dot serving"}), count("serving") + " đang phục vụ",
            h("span", {class: "dot idle"}), count("idle") + " chờ gọi",
            h("span", {class: "dot paused"}), count("paused") + " tạm nghỉ",
            h("span", {class: "dot closed"}), count("closed") + " đóng"])]),
        h("div", {class: "cc-grid"}, list.map(counterCard))
      ]));
    });
  }

  function waitClass(seconds) {
    if (seconds === null) return "";
    if (ALERT_S && seconds > ALERT_S) return "bad";
    if (ALERT_S && seconds > ALERT_S / 2) return "warn";
    return "";
  }

  function renderAgencies() {
    var body = QS.$("#agencies");
    body.textContent = "";
    data.agencies.forEach(function (a) {
      var longest = secondsSince(a.oldest_issued_at);
      var procedures = (a.procedures || []).map(function (p) { return p.name + " (" + p.waiting + ")"; }).join(" · ");
      body.appendChild(h("tr", {"data-agency": a.slug, class: waitClass(longest)}, [
        h("td", {}, [h("div", {class: "c-agency-name"}, [h("span", {class: "prefix", text: a.prefix}),
                                                          h("span", {text: a.name, title: a.name})]),
                     procedures ? h("div", {class: "c-procs", title: "Đang chờ theo thủ tục: " + procedures,
                                            text: "Chờ theo thủ tục: " + procedures}) : null]),
        h("td", {class: "r num c-waiting", title: channelMix(a), text: String(a.waiting)}),
        h("td", {class: "r num c-longest", "data-since": a.oldest_issued_at || "", text: longest === null ? "—" : QM.clock(longest)}),
        h("td", {class: "r num", title: QM.minutes(a.predicted_wait_s),
                 text: a.waiting || a.counters_open.length ? Math.max(1, Math.round(a.predicted_wait_s / 60)) + " phút" : "—"}),
        h("td", {class: "r num c-open" + (a.counters_open.length ? "" : " bad-text"), title: "Quầy đang mở: " + (a.counters_open.join(", ") || "không có"),
                 text: a.counters_open.length ? a.counters_open.join(", ") : "không có"}),
        h("td", {class: "r"}, [h("button", {class: "m-btn small", type: "button", disabled: a.waiting ? null : true,
                                            title: "Chuyển một số đang chờ sang lĩnh vực khác",
                                            onclick: function () { openMove(a.slug); }}, ["Chuyển"])])
      ]));
    });
  }

  /** "3 trực tuyến, 1 lịch hẹn" among an agency's waiting tickets (the console lists up to 60). */
  function channelMix(a) {
    var counts = {};
    a.tickets.forEach(function (t) { counts[t.channel || "kiosk"] = (counts[t.channel || "kiosk"] || 0) + 1; });
    return Object.keys(counts).map(function (k) { return counts[k] + " " + ((QS.labels.channels || {})[k] || k).toLowerCase(); })
      .join(", ");
  }

  /** Today's bookings per agency and slot, against capacity (agencies that take bookings only). */
  function renderAppointments() {
    var info = data.appointments || {agencies: []};
    QS.$("#appointments-card").hidden = !info.agencies.length;
    var body = QS.$("#appointments");
    body.textContent = "";
    info.agencies.forEach(function (a) {
      var capacity = a.slots.reduce(function (sum, slot) { return sum + (slot.closed ? 0 : slot.capacity); }, 0);
      var busy = a.slots.filter(function (slot) { return slot.booked || slot.checked_in || slot.no_show || slot.closed; });
      body.appendChild(h("tr", {"data-agency": a.slug}, [
        h("td", {}, [h("div", {class: "c-agency-name"}, [h("span", {class: "prefix", text: a.prefix}),
                                                          h("span", {text: a.name, title: a.name})])]),
        h("td", {class: "r num", text: a.booked + "/" + capacity}),
        h("td", {class: "r num", text: String(a.checked_in)}),
        h("td", {class: "r num" + (a.no_show ? " bad-text" : ""), text: String(a.no_show)}),
        h("td", {class: "c-slots"}, busy.length ? busy.map(function (slot) {
          return h("span", {class: "chip" + (slot.closed ? " closed" : slot.booked >= slot.capacity ? " full" : ""),
                            "data-slot": slot.time, title: slot.closed ? "Đã đóng" + (slot.reason ? ": " + slot.reason : "") :
                              "Đã đến " + slot.checked_in + ", không đến " + slot.no_show},
                   [h("b", {text: slot.time}), " " + (slot.closed ? "đóng" : slot.booked + "/" + slot.capacity)]);
        }) : [h("span", {class: "muted", text: "Chưa có lịch hẹn"})])
      ]));
    });
    if (!QS.$("#close-date").value && data.day) QS.$("#close-date").value = data.day;
  }

  function renderSummary() {
    var waiting = 0, served = 0, longest = null, open = 0;
    data.agencies.forEach(function (a) {
      waiting += a.waiting;
      served += a.served;
      var s = secondsSince(a.oldest_issued_at);
      if (s !== null && (longest === null || s > longest)) longest = s;
    });
    data.counters.forEach(function (c) { if (c.status === "open") open += 1; });
    var box = QS.$("#summary");
    box.textContent = "";
    [["Đang chờ", QM.number(waiting), ""], ["Đã phục vụ hôm nay", QM.number(served), ""],
     ["Quầy đang mở", open + "/" + data.counters.length, ""],
     ["Chờ lâu nhất", longest === null ? "—" : QM.clock(longest), waitClass(longest)],
     ["Ngưỡng cảnh báo", QM.minutes(ALERT_S), ""]].forEach(function (item) {
      box.appendChild(h("div", {class: "c-stat " + item[2]}, [h("span", {text: item[0]}), h("b", {class: "num", text: item[1]})]));
    });
  }

  /** Wait alerts are recomputed every second (waits grow between refreshes); device alerts come from the server. */
  var ALERT_TITLES = {wait: "Chờ quá lâu", device: "Thiết bị không phản hồi", lockout: "Tài khoản bị khóa tạm",
                      printer: "Máy in phiếu", webhook: "Tin nhắn (webhook) đang lỗi",
                      webhook_dead: "Tin nhắn không gửi được"};

  function renderAlerts() {
    var alerts = [];
    data.agencies.forEach(function (a) {
      var longest = secondsSince(a.oldest_issued_at);
      if (ALERT_S && longest !== null && longest > ALERT_S) {
        alerts.push({kind: "wait", agency: a.slug, text: a.name + ": người chờ lâu nhất đã chờ " + QM.minutes(longest) +
                     " (ngưỡng " + QM.minutes(ALERT_S) + "), " + a.waiting + " người đang chờ." +
                     (a.counters_open.length ? "" : " Không có quầy nào đang mở cho lĩnh vực này.")});
      }
    });
    data.alerts.forEach(function (alert) {
      if (alert.kind !== "wait") alerts.push({kind: alert.kind, device: alert.device, text: alert.message});
    });
    var box = QS.$("#alerts");
    var key = JSON.stringify(alerts.map(function (a) { return a.kind + (a.agency || a.device) + a.text; }));
    if (box.getAttribute("data-key") === key) return;
    box.setAttribute("data-key", key);
    box.textContent = "";
    box.hidden = !alerts.length;
    document.body.setAttribute("data-alerts", String(alerts.length));
    alerts.forEach(function (alert) {
      box.appendChild(h("div", {class: "c-alert " + alert.kind, "data-alert": alert.kind,
                                "data-agency": alert.agency || null, "data-device": alert.device || null}, [
        h("b", {text: ALERT_TITLES[alert.kind] || alert.kind}), h("span", {text: alert.text})]));
    });
  }

  function renderFeed() {
    var list = QS.$("#feed");
    list.textContent = "";
    if (!data.recent.length) list.appendChild(h("li", {class: "muted", text: "Chưa có hoạt động nào hôm nay."}));
    data.recent.forEach(function (item) {
      list.appendChild(h("li", {}, [h("span", {class: "num muted", text: QS.time(item.at)}), h("span", {text: item.text}),
                                    h("span", {class: "muted", text: item.actor})]));
    });
  }

  function renderNotices() {
    var list = QS.$("#notices");
    list.textContent = "";
    data.notices.forEach(function (n) {
      list.appendChild(h("li", {}, [h("span", {text: n.text}),
        h("span", {class: "muted", text: (n.floor === null || n.floor === undefined ? "Mọi tầng" : QS.floorName(n.floor)) +
                                         " · đến " + QS.time(n.expires_at)})]));
    });
  }

  function render() {
    renderSummary();
    renderFloors();
    renderAgencies();
    renderAppointments();
    renderAlerts();
    renderFeed();
    renderNotices();
    if (editing && !QS.$("#counter-modal").hidden) renderCounterModal(false);
  }

  function tick() {
    if (!data) return;
    QS.$$("[data-since]").forEach(function (node) {
      var since = node.getAttribute("data-since");
      if (since) node.textContent = QM.clock(secondsSince(since));
    });
    QS.$$("#agencies tr").forEach(function (row) {
      var cell = QS.$(".c-longest", row);
      var since = cell && cell.getAttribute("data-since");
      row.className = waitClass(since ? secondsSince(since) : null);
    });
    renderAlerts();
  }

  // ---------------------------------------------------------------- counter modal: status and agencies
  var editing = null;  // {id, list}
  function counterById(id) {
    return data.counters.filter(function (c) { return c.id === id; })[0];
  }
  function openCounter(id) {
    var c = counterById(id);
    if (!c) return;
    editing = {id: id, list: c.agencies.slice()};
    QS.$("#cm-reason").value = "";
    QS.$("#cm-error").hidden = true;
    renderCounterModal(true);
    QS.$("#counter-modal").hidden = false;
  }
  function renderCounterModal(fresh) {
    var c = counterById(editing.id);
    if (!c) return;
    QS.$("#cm-title").textContent = QS.counterName(c.id) + " · " + QS.floorName(c.floor);
    var status = QS.$("#cm-status");
    status.textContent = "";
    status.appendChild(h("span", {class: "cc-pill state-" + c.state, text: c.state_label}));
    status.appendChild(document.createTextNode(
      c.current ? " số " + c.current.number + " · " + QM.clock(secondsSince(c.current.called_at))
                : (c.reason ? " " + c.reason : "")));
    QS.$$(".cm-actions [data-status]").forEach(function (btn) {
      var action = btn.getAttribute("data-status");
      var allowed = {pause: c.status === "open", resume: c.status === "paused", open: c.status === "closed",
                     close: c.status !== "closed"}[action];
      btn.disabled = !allowed;
    });
    if (!fresh) return;
    var list = QS.$("#cm-agencies");
    list.textContent = "";
    editing.list.forEach(function (slug, index) {
      var agency = agencyOf(slug);
      list.appendChild(h("li", {"data-agency": slug}, [
        h("span", {class: "prefix", text: agency.prefix}), h("span", {class: "cm-name", text: agency.name}),
        h("button", {class: "m-btn small ghost", type: "button", title: "Lên", disabled: index === 0 ? true : null,
                     onclick: function () { move(index, -1); }}, ["↑"]),
        h("button", {class: "m-btn small ghost", type: "button", title: "Xuống",
                     disabled: index === editing.list.length - 1 ? true : null, onclick: function () { move(index, 1); }}, ["↓"]),
        h("button", {class: "m-btn small ghost", type: "button", title: "Bỏ lĩnh vực này", "data-remove": slug,
                     onclick: function () { editing.list.splice(index, 1); renderCounterModal(true); }}, ["✕"])
      ]));
    });
    if (!editing.list.length) list.appendChild(h("li", {class: "muted", text: "Chưa chọn lĩnh vực nào."}));
    var add = QS.$("#cm-add");
    add.textContent = "";
    QS.site.floors.forEach(function (floor) {
      var group = h("optgroup", {label: floor.name});
      QS.site.agencies.forEach(function (a) {
        if (a.floor === floor.number && editing.list.indexOf(a.slug) < 0) {
          group.appendChild(h("option", {value: a.slug, text: a.prefix + " · " + a.name}));
        }
      });
      if (group.children.length) add.appendChild(group);
    });
  }
  function move(index, step) {
    var list = editing.list, other = index + step;
    var item = list[index];
    list[index] = list[other];
    list[other] = item;
    renderCounterModal(true);
  }
  function closeCounter() { QS.$("#counter-modal").hidden = true; editing = null; }
  QS.$("#cm-add-btn").addEventListener("click", function () {
    var slug = QS.$("#cm-add").value;
    if (slug && editing.list.indexOf(slug) < 0) { editing.list.push(slug); renderCounterModal(true); }
  });
  QS.$("#cm-cancel").addEventListener("click", closeCounter);
  QS.$("#cm-save").addEventListener("click", function () {
    if (!editing.list.length) { showError("#cm-error", "Quầy phải phục vụ ít nhất một lĩnh vực."); return; }
    var id = editing.id;
    QM.api("PUT", "counters/" + encodeURIComponent(id) + "/agencies", {json: {agencies: editing.list}}).then(function (res) {
      if (!res.ok) { showError("#cm-error", QS.errorText(res)); return; }
      closeCounter();
      QM.toast("ok", "Đã lưu: quầy " + id + " phục vụ " + res.body.agencies.map(function (s) { return agencyOf(s).prefix; }).join(", ") + ".");
      soon();
    });
  });
  QS.$$(".cm-actions [data-status]").forEach(function (btn) {
    btn.addEventListener("click", function () {
      var action = btn.getAttribute("data-status"), id = editing.id;
      var reason = QS.$("#cm-reason").value.trim();
      var body = reason && (action === "pause" || action === "close") ? {reason: reason} : {};
      QM.api("POST", "counters/" + encodeURIComponent(id) + "/" + action, {json: body}).then(function (res) {
        if (!res.ok) { showError("#cm-error", QS.errorText(res)); return; }
        var words = {pause: "tạm nghỉ", resume: "làm việc trở lại", open: "đã mở", close: "đã đóng"};
        QM.toast("ok", QS.counterName(id) + " " + words[action] + ".");
        closeCounter();
        soon();
      });
    });
  });
  function showError(selector, text) {
    var box = QS.$(selector);
    box.textContent = text;
    box.hidden = false;
  }

  // ---------------------------------------------------------------- move a waiting ticket
  var moving = null;
  function openMove(slug) {
    var a = data.agencies.filter(function (x) { return x.slug === slug; })[0];
    if (!a || !a.tickets.length) return;
    moving = slug;
    QS.$("#mm-title").textContent = "Chuyển số đang chờ của " + a.name;
    QS.$("#mm-sub").textContent = a.waiting + " người đang chờ.";
    var tickets = QS.$("#mm-ticket");
    tickets.textContent = "";
    a.tickets.forEach(function (t) {
      tickets.appendChild(h("option", {value: t.id, text: t.number + " · lấy lúc " + QS.time(t.issued_at) +
                                       (t.priority ? " · " + PRIORITY_NAMES[t.priority] : "") +
                                       (t.procedure ? " · " + t.procedure.name : "")}));
    });
    var targets = QS.$("#mm-target");
    targets.textContent = "";
    QS.site.agencies.forEach(function (x) {
      if (x.slug !== slug) targets.appendChild(h("option", {value: x.slug, text: x.prefix + " · " + x.name}));
    });
    QS.$("#mm-error").hidden = true;
    QS.$("#move-modal").hidden = false;
  }
  function closeMove() { QS.$("#move-modal").hidden = true; moving = null; }
  QS.$("#mm-cancel").addEventListener("click", closeMove);
  QS.$("#mm-save").addEventListener("click", function () {
    var id = QS.$("#mm-ticket").value, target = QS.$("#mm-target").value;
    QM.api("POST", "tickets/" + encodeURIComponent(id) + "/move", {json: {agency: target}}).then(function (res) {
      if (!res.ok) { showError("#mm-error", QS.errorText(res)); return; }
      closeMove();
      QM.toast("ok", "Đã chuyển số " + res.body.number + " sang " + agencyOf(target).name + ".");
      soon();
    });
  });

  // ---------------------------------------------------------------- notices and priority tickets
  QS.$("#close-form").addEventListener("submit", function (event) {
    event.preventDefault();
    var body = {date: QS.$("#close-date").value, agency: QS.$("#close-agency").value || null,
                from: QS.$("#close-from").value || null, to: QS.$("#close-to").value || null,
                reason: QS.$("#close-reason").value.trim()};
    var what = (body.agency ? agencyOf(body.agency).name : "mọi lĩnh vực") + ", " + body.from + "–" + body.to + " ngày " + body.date;
    if (!window.confirm("Đóng các khung giờ hẹn của " + what + "? Các lịch hẹn trong đó sẽ bị hủy và người đặt được báo.")) return;
    QM.api("POST", "slots/close", {json: body}).then(function (res) {
      if (!res.ok) { QM.toast("error", QS.errorText(res)); return; }
      QM.toast("ok", "Đã đóng " + res.body.closed.length + " khung giờ, hủy " + res.body.cancelled + " lịch hẹn.");
      soon();
    });
  });

  QS.$("#notice-form").addEventListener("submit", function (event) {
    event.preventDefault();
    var floor = QS.$("#notice-floor").value;
    var body = {text: QS.$("#notice-text").value.trim(), ttl_s: parseInt(QS.$("#notice-ttl").value, 10),
                floor: floor === "" ? null : parseInt(floor, 10)};
    QM.api("POST", "notices", {json: body}).then(function (res) {
      if (!res.ok) { QM.toast("error", QS.errorText(res)); return; }
      QS.$("#notice-text").value = "";
      QM.toast("ok", "Đã đăng thông báo lên " + (body.floor === null ? "mọi tầng" : QS.floorName(body.floor)) + ".");
      soon();
    });
  });
  QS.$("#issue-form").addEventListener("submit", function (event) {
    event.preventDefault();
    var priority = QS.$("#issue-priority").value;
    var body = {agency: QS.$("#issue-agency").value, priority: priority || null, key: QS.newKey()};
    QM.api("POST", "tickets", {json: body}).then(function (res) {
      if (!res.ok) { QM.toast("error", QS.errorText(res)); return; }
      var t = res.body;
      var box = QS.$("#issued");
      box.hidden = false;
      box.textContent = "";
      box.appendChild(h("span", {class: "num c-issued-number", text: t.number}));
      box.appendChild(h("span", {text: (t.agency_name || agencyOf(t.agency).name) + " · " +
        (t.priority ? PRIORITY_NAMES[t.priority] : "không ưu tiên") + " · " + (t.ahead || 0) + " người trước"}));
      soon();
    });
  });

  document.addEventListener("keydown", function (event) {
    if (event.key === "Escape") { closeCounter(); closeMove(); }
  });

  QM.ready(function () {
    refresh();
    QS.live({topics: ["site"], onFrame: function (frame) { if (frame.type !== "result") soon(); }});
    setInterval(refresh, REFRESH_MS);
    setInterval(tick, 1000);
  });
})();
