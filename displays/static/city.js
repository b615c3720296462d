/* city.js: the city console (/m) for a manager of every center. Login and API calls come from QM
 * (manager.js); numbers from GET /api/v1/city/console, refreshed every few seconds, waits ticking in
 * between. The group filter and the view (#dieu-hanh, #bao-cao) are kept in the URL. city_reports.js
 * draws the reports view through QC below.
 *
 *   QC.group()            the chosen group ("" = every center)
 *   QC.onGroup(fn)        fn(group) after the filter changed
 *   QC.onView(fn)         fn(view) when a view ("console" | "reports") is shown
 *   QC.openCenter(slug)   what a click on a center does: its console, with this login
 */
(function (global) {
  "use strict";
  var h = QS.h;
  var REFRESH_MS = (QS.boot.refresh_s || 5) * 1000;
  var LEVELS = QS.labels.city_levels || {};
  var PROBLEMS = QS.labels.city_problems || {};
  var centersBySlug = {};
  (QS.boot.centers || []).forEach(function (c) { centersBySlug[c.slug] = c; });

  var QC = {};
  var groupCallbacks = [], viewCallbacks = [];
  QC.onGroup = function (fn) { groupCallbacks.push(fn); };
  QC.onView = function (fn) { viewCallbacks.push(fn); };

  /** Keep the login for a center's console (its page reads the token of its own site). */
  function carryToken(slug, token) {
    try { if (token) localStorage.setItem("qs.token.manager." + slug, token); } catch (e) { /* private mode */ }
  }
  QC.openCenter = function (slug) { carryToken(slug, QM.token()); };

  // A manager of one center is sent to that center's console, still signed in.
  QM.acceptable = function (who) {
    if (!who || who.role !== "manager") return "Tài khoản này không phải tài khoản quản lý.";
    if (who.site === "*") return null;
    carryToken(who.site, who.token || QM.token());
    setTimeout(function () { location.replace("/m/" + encodeURIComponent(who.site)); }, 1500);
    var center = centersBySlug[who.site];
    return "Tài khoản này chỉ quản lý " + (center ? center.name : "trung tâm “" + who.site + "”") +
      ", không xem được toàn thành phố. Đang mở bảng điều hành của trung tâm đó…";
  };

  // ---------------------------------------------------------------- group filter and views
  var params = new URLSearchParams(location.search);
  var select = QS.$("#city-group");
  if (params.get("group") && QS.boot.groups.indexOf(params.get("group")) >= 0) select.value = params.get("group");
  QC.group = function () { return select.value; };
  select.addEventListener("change", function () {
    var query = new URLSearchParams(location.search);
    if (select.value) query.set("group", select.value); else query.delete("group");
    var rest = query.toString();
    history.replaceState(null, "", location.pathname + (rest ? "?" + rest : "") + location.hash);
    groupCallbacks.forEach(function (fn) { fn(select.value); });
  });

  var view = null;
  function showView() {
    var wanted = location.hash === "#bao-cao" ? "reports" : "console";
    QS.$$("[data-view-section]").forEach(function (node) {
      node.hidden = node.getAttribute("data-view-section") !== wanted;
    });
    QS.$$("a[data-view]").forEach(function (link) {
      if (link.getAttribute("data-view") === wanted) link.setAttribute("aria-current", "page");
      else link.removeAttribute("aria-current");
    });
    document.body.setAttribute("data-city-view", wanted);
    if (wanted !== view) {
      view = wanted;
      viewCallbacks.forEach(function (fn) { fn(wanted); });
    }
  }
  global.addEventListener("hashchange", showView);

  // ---------------------------------------------------------------- the console
  var data = null, fetchedAt = 0, loading = false, again = false;
  function nowMs() { return data ? data.now_ms + (Date.now() - fetchedAt) : QM.now(); }
  function secondsSince(iso) { return iso ? Math.max(0, (nowMs() - new Date(iso).getTime()) / 1000) : null; }
  function waitClass(seconds, alertS) {
    if (seconds === null || !alertS) return "";
    return seconds > alertS ? "bad" : (seconds > alertS / 2 ? "warn" : "");
  }

  function refresh() {
    if (view !== "console") return;
    if (loading) { again = true; return; }
    loading = true;
    var group = QC.group();
    QM.api("GET", "/api/v1/city/console" + (group ? "?group=" + encodeURIComponent(group) : "")).then(function (res) {
      loading = false;
      if (res.ok && res.body) {
        data = res.body;
        fetchedAt = Date.now();
        QM.setServerNow(data.now_ms);
        render();
      } else if (res.status !== 401) {
        QM.toast("error", QS.errorText(res));
      }
      if (again) { again = false; refresh(); }
    });
  }

  function stat(label, value, extra) {
    return h("div", {class: "c-stat " + (extra || "")}, [h("span", {text: label}), h("b", {class: "num", text: value})]);
  }

  function renderSummary() {
    var t = data.totals, box = QS.$("#city-summary");
    box.textContent = "";
    box.appendChild(h("div", {class: "c-stat"}, [h("span", {text: "Trung tâm"}), h("b", {class: "num", text: String(t.centers)}),
      h("small", {class: "city-levels"}, [
        h("span", {class: "lvl-badge lvl-bad", text: t.levels.bad + " " + LEVELS.bad}),
        h("span", {class: "lvl-badge lvl-warn", text: t.levels.warn + " " + LEVELS.warn})])]));
    box.appendChild(stat("Đang chờ", QM.number(t.waiting)));
    box.appendChild(stat("Chờ lâu nhất", t.longest_wait_s === null ? "—" : QM.clock(t.longest_wait_s)));
    box.appendChild(stat("Quầy đang mở", QM.number(t.counters.open) + "/" + QM.number(t.counters.total)));
    box.appendChild(stat("Đang phục vụ", QM.number(t.counters.serving)));
    box.appendChild(stat("Đã phục vụ hôm nay", QM.number(t.today.served)));
    box.appendChild(stat("Hài lòng hôm nay", QM.percent(t.satisfied_share)));
    box.appendChild(stat("Thiết bị không phản hồi", QM.number(t.devices_late), t.devices_late ? "warn" : ""));
  }

  function centerRow(c) {
    var longest = secondsSince(c.oldest_issued_at);
    var link = h("a", {href: c.console, class: "city-name", title: "Mở bảng điều hành của " + c.name,
                       onclick: function () { QC.openCenter(c.slug); },
                       onauxclick: function () { QC.openCenter(c.slug); }}, [c.short_name]);
    var problems = c.problems.map(function (p) {
      return h("li", {"data-problem": p.kind}, [h("b", {text: PROBLEMS[p.kind] || p.kind}), " " + p.text]);
    });
    return h("tr", {"data-slug": c.slug, "data-level": c.level, class: "lvl-" + c.level}, [
      h("td", {}, [link, h("div", {class: "muted city-groups", text: c.groups.join(" · ")})]),
      h("td", {}, [h("span", {class: "lvl-badge lvl-" + c.level, text: c.level_label}),
                   problems.length ? h("ul", {class: "city-problems"}, problems) : null]),
      h("td", {class: "r num city-waiting", text: QM.number(c.waiting)}),
      h("td", {class: "r num city-longest " + waitClass(longest, c.wait_alert_s)}, [
        h("span", {"data-since": c.oldest_issued_at || "", "data-alert": String(c.wait_alert_s),
                   text: longest === null ? "—" : QM.clock(longest)}),
        h("span", {class: "muted", text: " / " + QM.minutes(c.wait_alert_s)})]),
      h("td", {class: "r num city-open" + (c.counters.open ? "" : " bad-text"),
               title: c.counters.paused + " tạm nghỉ, " + c.counters.closed + " đóng",
               text: c.counters.open + "/" + c.counters.total}),
      h("td", {class: "r num city-serving", text: String(c.counters.serving)}),
      h("td", {class: "r num city-served", text: QM.number(c.today.served)}),
      h("td", {class: "r num city-satisfied", title: c.today.rated + " lượt đánh giá",
               text: QM.percent(c.today.satisfied_share)}),
      h("td", {class: "r num city-devices" + (c.devices.late ? " warn-text" : ""),
               title: c.devices.late_names.join(", ") || "Mọi thiết bị đều xác nhận",
               text: c.devices.late + "/" + c.devices.total})
    ]);
  }

  function render() {
    renderSummary();
    var body = QS.$("#city-rows");
    body.textContent = "";
    data.centers.forEach(function (c) { body.appendChild(centerRow(c)); });
    if (!data.centers.length) body.appendChild(h("tr", {}, [h("td", {colspan: "9", class: "muted", text: "Không có trung tâm nào."})]));
    QS.$("#city-note").textContent = (data.group ? "Nhóm “" + data.group + "”: " : "") + data.centers.length +
      " trung tâm · cập nhật " + QS.timeSeconds(data.now_ms);
    document.body.setAttribute("data-loaded", String(data.now_ms));
  }

  function tick() {
    if (!data || view !== "console") return;
    QS.$$("#city-rows [data-since]").forEach(function (node) {
      var since = node.getAttribute("data-since");
      if (!since) return;
      var seconds = secondsSince(since);
      node.textContent = QM.clock(seconds);
      node.parentNode.className = "r num city-longest " + waitClass(seconds, parseInt(node.getAttribute("data-alert"), 10));
    });
  }

  QC.onGroup(function () { refresh(); });
  QC.onView(function (name) { if (name === "console") refresh(); });
  global.QC = QC;

  QM.ready(function () {
    showView();
    setInterval(refresh, REFRESH_MS);
    setInterval(tick, 1000);
  });
})(window);
