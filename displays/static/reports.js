/* reports.js: the reports page (a day or a range, per agency / counter / officer, CSV) and the audit
 * trail page. Numbers come from GET .../stats and .../audit with the manager's token (see manager.js);
 * the charts are SVG drawn by the server. */
(function () {
  "use strict";
  var h = QS.h;
  var page = QS.boot.page;

  function isoDay(date) {
    var pad = function (n) { return (n < 10 ? "0" : "") + n; };
    return date.getFullYear() + "-" + pad(date.getMonth() + 1) + "-" + pad(date.getDate());
  }
  function addDays(day, n) {
    var parts = day.split("-").map(Number);
    return isoDay(new Date(parts[0], parts[1] - 1, parts[2] + n));
  }
  function vnDate(day) { var p = day.split("-"); return p[2] + "/" + p[1] + "/" + p[0]; }
  /** "24/11/2026", "24-11-2026", "2026-11-24" → "2026-11-24"; null when it is not a real date. */
  function readDate(text) {
    var m = /^\s*(\d{1,2})[\/.-](\d{1,2})[\/.-](\d{4})\s*$/.exec(text || "");
    var iso = m ? m[3] + "-" + ("0" + m[2]).slice(-2) + "-" + ("0" + m[1]).slice(-2)
                : (/^\s*\d{4}-\d{2}-\d{2}\s*$/.test(text || "") ? text.trim() : null);
    if (!iso) return null;
    var parts = iso.split("-").map(Number);
    var date = new Date(parts[0], parts[1] - 1, parts[2]);
    return date.getMonth() === parts[1] - 1 && date.getDate() === parts[2] ? iso : null;
  }
  function dateField(selector, problem) {
    var iso = readDate(QS.$(selector).value);
    if (!iso) problem("Ngày “" + QS.$(selector).value + "” không hợp lệ. Nhập theo dạng ngày/tháng/năm, ví dụ 24/11/2026.");
    return iso;
  }
  function status(selector, kind, text) {
    var box = QS.$(selector);
    box.className = "m-msg " + kind;
    box.textContent = text;
    box.hidden = !text;
  }
  function params(values) {
    var query = new URLSearchParams();
    Object.keys(values).forEach(function (key) { if (values[key]) query.set(key, values[key]); });
    return query.toString();
  }
  function keepInUrl(values) {
    history.replaceState(null, "", location.pathname + "?" + params(values));
  }
  var initial = new URLSearchParams(location.search);
  /** Shared with plan.js (the counter plan section of the reports page). */
  QM.dates = {isoDay: isoDay, addDays: addDays, vnDate: vnDate, readDate: readDate, params: params};

  // ================================================================ reports
  if (page === "reports") {
    var today = QS.boot.today;
    var labels = QS.labels.rating;
    var levels = Object.keys(labels).map(Number).sort(function (a, b) { return b - a; });
    QS.$("#r-from").value = vnDate(readDate(initial.get("from") || initial.get("date")) || today);
    QS.$("#r-to").value = vnDate(readDate(initial.get("to") || initial.get("date")) || today);

    var durationCell = function (seconds) { return h("td", {class: "r num", text: QM.clock(seconds)}); };
    var numberCell = function (n) { return h("td", {class: "r num", text: QM.number(n)}); };

    /** Tickets per channel (kiosk, online, appointment) and, per agency, what became of the bookings. */
    function fromHome(report) {
      var names = QS.labels.channels || {};
      var channels = report.total.channels || {};
      QS.$("#r-channels").textContent = "Số phiếu theo hình thức: " + Object.keys(channels).map(function (k) {
        return (names[k] || k) + " " + QM.number(channels[k]);
      }).join(" · ") + ".";
      var body = QS.$("#r-appointments");
      body.textContent = "";
      var columns = [["booked", "Đã đặt"], ["cancelled", "Đã hủy"], ["checked_in", "Đã đến"], ["served", "Đã phục vụ"],
                     ["no_show", "Không đến"]];
      body.appendChild(h("tr", {}, [h("th", {text: "Lĩnh vực (lịch hẹn)"})].concat(columns.map(function (c) {
        return h("th", {class: "r", text: c[1]});
      }))));
      var rows = (report.appointments || {agencies: []}).agencies;
      rows.concat(rows.length ? [Object.assign({key: "all", name: "Toàn trung tâm"}, report.appointments.total)] : [])
        .forEach(function (row) {
          body.appendChild(h("tr", {"data-agency": row.key, class: row.key === "all" ? "r-total" : ""},
            [h("td", {text: row.name})].concat(columns.map(function (c) { return numberCell(row[c[0]]); }))));
        });
    }

    function table(node, rows, firstHeader, withIssued) {
      node.textContent = "";
      var target = Math.round(QS.boot.target_wait_s / 60);
      var head = [firstHeader];
      if (withIssued) head.push("Phát");
      head = head.concat(["Phục vụ", "Vắng", "Chuyển đi"]);
      if (withIssued) head.push("Nhận");
      head = head.concat(["Còn chờ", "Chờ p50", "Chờ p90", "Chờ max", "Phục vụ p50", "Phục vụ p90", "Phục vụ max",
                          "Gọi ≤ " + target + " phút"]);
      levels.forEach(function (level) { head.push(labels[level]); });
      head.push("Hài lòng");
      node.appendChild(h("thead", {}, [h("tr", {}, head.map(function (text, i) {
        return h("th", {class: i ? "r" : "", text: text});
      }))]));
      var body = h("tbody");
      rows.forEach(function (row) {
        var cells = [h("td", {class: "r-name", text: row.name, title: row.name})];
        if (withIssued) cells.push(numberCell(row.issued));
        cells.push(numberCell(row.served), numberCell(row.no_show), numberCell(row.transferred));
        if (withIssued) cells.push(numberCell(row.received));
        cells.push(numberCell((row.waiting || 0) + (row.in_service || 0)));
        cells.push(durationCell(row.wait_s.p50), durationCell(row.wait_s.p90), durationCell(row.wait_s.max),
                   durationCell(row.service_s.p50), durationCell(row.service_s.p90), durationCell(row.service_s.max));
        cells.push(h("td", {class: "r num", text: QM.percent(row.within_target_share)}));
        levels.forEach(function (level) {
          cells.push(h("td", {class: "r num", "data-rating": String(level), text: QM.number(row.ratings[String(level)])}));
        });
        cells.push(h("td", {class: "r num", "data-satisfied": "", text: QM.percent(row.satisfied_share)}));
        body.appendChild(h("tr", {"data-key": row.key}, cells));
      });
      if (!rows.length) body.appendChild(h("tr", {}, [h("td", {class: "muted", colspan: String(head.length), text: "Không có dữ liệu."})]));
      node.appendChild(body);
    }

    function active(row) { return row.served || row.no_show || row.transferred || row.in_service || row.rated; }

    function render(report) {
      var t = report.total;
      QS.$("#r-period").textContent = report.from === report.to ? "Ngày " + vnDate(report.from)
        : "Từ " + vnDate(report.from) + " đến " + vnDate(report.to) + " (" + report.days + " ngày)";
      var cards = QS.$("#r-cards");
      cards.textContent = "";
      [["Số phiếu phát", QM.number(t.issued)], ["Đã phục vụ", QM.number(t.served)], ["Vắng mặt", QM.number(t.no_show)],
       ["Chuyển lĩnh vực", QM.number(t.transferred)], ["Chờ trung vị", QM.clock(t.wait_s.p50)],
       ["Chờ p90", QM.clock(t.wait_s.p90)], ["Phục vụ trung vị", QM.clock(t.service_s.p50)],
       ["Gọi trong " + Math.round(report.target_wait_s / 60) + " phút", QM.percent(t.within_target_share)],
       ["Hài lòng", QM.percent(t.satisfied_share) + (t.rated ? " / " + t.rated + " lượt" : "")]
      ].forEach(function (item) {
        cards.appendChild(h("div", {class: "c-stat"}, [h("span", {text: item[0]}), h("b", {class: "num", text: item[1]})]));
      });
      QS.$("#r-hourly").innerHTML = report.charts.hourly;  // SVG built by the server, its text escaped there
      QS.$("#r-ratings").innerHTML = report.charts.ratings;
      var daily = QS.$("#r-daily");
      daily.hidden = !report.charts.daily;
      daily.innerHTML = report.charts.daily || "";
      table(QS.$("#r-agencies"), report.agencies, "Lĩnh vực", true);
      fromHome(report);
      table(QS.$("#r-counters"), report.counters.filter(active), "Quầy", false);
      table(QS.$("#r-officers"), report.officers.filter(active), "Cán bộ", false);
      table(QS.$("#r-procedures"), report.procedures || [], "Thủ tục", true);
      QS.$("#r-days-card").hidden = report.days < 2;
      if (report.days > 1) table(QS.$("#r-days"), report.daily, "Ngày", true);
      QS.$("#r-notes").textContent = "Thời gian chờ = từ lúc lấy số đến lúc được gọi; thời gian phục vụ = từ lúc gọi " +
        "đến lúc hoàn thành (phút:giây). p50 = trung vị, p90 = 90% công dân không quá mức này. Hài lòng = " +
        labels[levels[0]] + " + " + labels[levels[1]] + " trên tổng lượt đánh giá. “Phát” và “Chuyển đi” tính theo " +
        "lĩnh vực công dân chọn khi lấy số; các cột còn lại theo lĩnh vực đã phục vụ.";
      QS.$("#r-body").hidden = false;
    }

    function period() {
      var bad = null;
      var values = {from: dateField("#r-from", function (t) { bad = bad || t; }),
                    to: dateField("#r-to", function (t) { bad = bad || t; })};
      if (bad) { status("#r-status", "error", bad); return null; }
      return values;
    }
    function load() {
      var values = period();
      if (!values) return;
      keepInUrl(values);
      status("#r-status", "info", "Đang tải báo cáo…");
      QM.api("GET", "stats?" + params(values) + "&charts=1").then(function (res) {
        if (!res.ok) { if (res.status !== 401) status("#r-status", "error", QS.errorText(res)); return; }
        status("#r-status", "info", "");
        render(res.body);
      });
    }
    QS.$("#r-form").addEventListener("submit", function (event) { event.preventDefault(); load(); });
    QS.$$("[data-range]").forEach(function (btn) {
      btn.addEventListener("click", function () {
        var range = btn.getAttribute("data-range"), from = today, to = today;
        if (range === "yesterday") from = to = addDays(today, -1);
        else if (range === "month") from = today.slice(0, 8) + "01";
        else if (range !== "today") from = addDays(today, 1 - parseInt(range, 10));
        QS.$("#r-from").value = vnDate(from);
        QS.$("#r-to").value = vnDate(to);
        load();
      });
    });
    QS.$("#r-csv").addEventListener("click", function () {
      var values = period();
      if (!values) return;
      values.sep = QS.$("#r-semicolon").checked ? "semicolon" : "";
      fetch(QS.apiBase + "/stats.csv?" + params(values), {headers: {Authorization: "Bearer " + QM.token()}})
        .then(function (response) {
          if (!response.ok) { QM.toast("error", "Không tải được tệp CSV (" + response.status + ")."); return null; }
          return response.blob();
        }, function () { QM.toast("error", QS.errorText({status: 0})); return null; })
        .then(function (blob) {
          if (!blob) return;
          var link = h("a", {href: URL.createObjectURL(blob),
                             download: "thong-ke-" + QS.site.slug + "-" + values.from + "_" + values.to + ".csv"});
          document.body.appendChild(link);
          link.click();
          setTimeout(function () { URL.revokeObjectURL(link.href); link.remove(); }, 1000);
        });
    });
    QM.ready(load);
  }

  // ================================================================ audit
  if (page === "audit") {
    QS.$("#a-date").value = vnDate(readDate(initial.get("date")) || QS.boot.today);
    QS.$("#a-counter").value = initial.get("counter") || "";
    QS.$("#a-agency").value = initial.get("agency") || "";
    QS.$("#a-kind").value = initial.get("kind") || "";

    function loadAudit() {
      var bad = null;
      var day = dateField("#a-date", function (t) { bad = t; });
      if (bad) { status("#a-status", "error", bad); return; }
      var values = {date: day, counter: QS.$("#a-counter").value,
                    agency: QS.$("#a-agency").value, kind: QS.$("#a-kind").value};
      keepInUrl(values);
      status("#a-status", "info", "Đang tải nhật ký…");
      QM.api("GET", "audit?" + params(values)).then(function (res) {
        if (!res.ok) { if (res.status !== 401) status("#a-status", "error", QS.errorText(res)); return; }
        var rows = QS.$("#a-rows");
        rows.textContent = "";
        res.body.entries.forEach(function (e) {
          rows.appendChild(h("tr", {"data-kind": e.kind, class: "k-" + e.kind}, [
            h("td", {class: "num", text: QS.timeSeconds(e.at)}),
            h("td", {}, [h("span", {class: "a-kind", text: e.label})]),
            h("td", {class: "num", text: e.ticket || ""}),
            h("td", {class: "num", text: e.counter || ""}),
            h("td", {text: e.detail}),
            h("td", {text: e.actor_label})
          ]));
        });
        var n = res.body.entries.length;
        status("#a-status", "info", n ? n + " mục ngày " + vnDate(res.body.date) + "." : "Không có mục nào ngày " + vnDate(res.body.date) + ".");
        QS.$("#a-card").hidden = !n;
      });
    }
    QS.$("#a-form").addEventListener("submit", function (event) { event.preventDefault(); loadAudit(); });
    ["#a-counter", "#a-agency", "#a-kind", "#a-date"].forEach(function (sel) {
      QS.$(sel).addEventListener("change", loadAudit);
    });
    QM.ready(loadAudit);
  }
})();
