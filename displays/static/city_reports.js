/* city_reports.js: the reports view of the city console (/m#bao-cao): the city per day and per center
 * over a range, for every center or one group, from GET /api/v1/city/stats; the CSV from
 * /api/v1/city/stats.csv (the CSV also has each center per day). Uses QM (manager.js) and QC (city.js). */
(function () {
  "use strict";
  var h = QS.h;
  var today = QS.boot.today;

  function pad(n) { return (n < 10 ? "0" : "") + n; }
  function isoDay(date) { return date.getFullYear() + "-" + pad(date.getMonth() + 1) + "-" + pad(date.getDate()); }
  function addDays(day, n) {
    var p = day.split("-").map(Number);
    return isoDay(new Date(p[0], p[1] - 1, p[2] + n));
  }
  function vnDate(day) { var p = day.split("-"); return p[2] + "/" + p[1] + "/" + p[0]; }
  /** "24/11/2026" or "2026-11-24" → "2026-11-24"; null when it is not a real date. */
  function readDate(text) {
    var m = /^\s*(\d{1,2})[\/.-](\d{1,2})[\/.-](\d{4})\s*$/.exec(text || "");
    var iso = m ? m[3] + "-" + pad(+m[2]) + "-" + pad(+m[1]) : (/^\s*\d{4}-\d{2}-\d{2}\s*$/.test(text || "") ? text.trim() : null);
    if (!iso) return null;
    var p = iso.split("-").map(Number), date = new Date(p[0], p[1] - 1, p[2]);
    return date.getMonth() === p[1] - 1 && date.getDate() === p[2] ? iso : null;
  }
  function status(kind, text) {
    var box = QS.$("#cr-status");
    box.className = "m-msg " + kind;
    box.textContent = text;
    box.hidden = !text;
  }

  var query = new URLSearchParams(location.search);
  QS.$("#cr-from").value = vnDate(readDate(query.get("from")) || today);
  QS.$("#cr-to").value = vnDate(readDate(query.get("to")) || today);

  /** {from, to, group} from the form, or null (and the reason shown) when a date is not valid. */
  function period() {
    var values = {}, bad = null;
    [["from", "#cr-from"], ["to", "#cr-to"]].forEach(function (field) {
      var iso = readDate(QS.$(field[1]).value);
      if (!iso && !bad) bad = "Ngày “" + QS.$(field[1]).value + "” không hợp lệ. Nhập theo dạng ngày/tháng/năm, ví dụ 24/11/2026.";
      values[field[0]] = iso;
    });
    if (bad) { status("error", bad); return null; }
    if (QC.group()) values.group = QC.group();
    return values;
  }
  function encode(values) {
    var q = new URLSearchParams();
    Object.keys(values).forEach(function (key) { if (values[key]) q.set(key, values[key]); });
    return q.toString();
  }

  var num = function (n) { return h("td", {class: "r num", text: QM.number(n)}); };
  var dur = function (s) { return h("td", {class: "r num", text: QM.clock(s)}); };
  var pct = function (share, attr) {
    var cell = h("td", {class: "r num", text: QM.percent(share)});
    if (attr) cell.setAttribute(attr, "");
    return cell;
  };

  function table(node, rows, first, nameOf) {
    node.textContent = "";
    var head = [first, "Phát", "Phục vụ", "Vắng", "Chuyển", "Còn chờ", "Chờ p50", "Chờ p90", "Chờ max",
                "Phục vụ p50", "Phục vụ p90", "Gọi trong mục tiêu", "Lượt đánh giá", "Hài lòng"];
    node.appendChild(h("thead", {}, [h("tr", {}, head.map(function (text, i) { return h("th", {class: i ? "r" : "", text: text}); }))]));
    var body = h("tbody");
    rows.forEach(function (row) {
      body.appendChild(h("tr", {"data-key": row.key}, [
        h("td", {class: "r-name"}, [nameOf(row)]), num(row.issued), num(row.served), num(row.no_show),
        num(row.transferred), num((row.waiting || 0) + (row.in_service || 0)),
        dur(row.wait_s.p50), dur(row.wait_s.p90), dur(row.wait_s.max), dur(row.service_s.p50), dur(row.service_s.p90),
        pct(row.within_target_share), num(row.rated), pct(row.satisfied_share, "data-satisfied")]));
    });
    if (!rows.length) body.appendChild(h("tr", {}, [h("td", {class: "muted", colspan: String(head.length), text: "Không có dữ liệu."})]));
    node.appendChild(body);
  }

  function render(report) {
    var t = report.total;
    QS.$("#cr-period").textContent = (report.group ? "Nhóm “" + report.group + "” · " : "Toàn thành phố · ") +
      report.sites + " trung tâm · " + (report.from === report.to ? "ngày " + vnDate(report.from)
        : "từ " + vnDate(report.from) + " đến " + vnDate(report.to) + " (" + report.days + " ngày)");
    var cards = QS.$("#cr-cards");
    cards.textContent = "";
    [["Số phiếu phát", QM.number(t.issued)], ["Đã phục vụ", QM.number(t.served)], ["Vắng mặt", QM.number(t.no_show)],
     ["Chuyển lĩnh vực", QM.number(t.transferred)], ["Chờ trung vị", QM.clock(t.wait_s.p50)],
     ["Chờ p90", QM.clock(t.wait_s.p90)], ["Phục vụ trung vị", QM.clock(t.service_s.p50)],
     ["Gọi trong mục tiêu", QM.percent(t.within_target_share)],
     ["Hài lòng", QM.percent(t.satisfied_share) + (t.rated ? " / " + QM.number(t.rated) + " lượt" : "")]
    ].forEach(function (item) {
      cards.appendChild(h("div", {class: "c-stat"}, [h("span", {text: item[0]}), h("b", {class: "num", text: item[1]})]));
    });
    table(QS.$("#cr-days"), report.daily, "Ngày", function (row) { return row.name; });
    table(QS.$("#cr-centers"), report.centers, "Trung tâm", function (row) {
      return h("a", {href: "/m/" + encodeURIComponent(row.slug) + "/reports?from=" + report.from + "&to=" + report.to,
                     title: row.name, onclick: function () { QC.openCenter(row.slug); }}, [row.short_name]);
    });
    QS.$("#cr-body").hidden = false;
  }

  var shown = false, latest = 0;  // only the answer to the latest period asked for is drawn
  function load() {
    var values = period();
    if (!values) return;
    var asked = ++latest;
    status("info", "Đang tải báo cáo…");
    QM.api("GET", "/api/v1/city/stats?" + encode(values)).then(function (res) {
      if (asked !== latest) return;
      if (!res.ok) { if (res.status !== 401) status("error", QS.errorText(res)); return; }
      status("info", "");
      render(res.body);
    });
  }

  QS.$("#cr-form").addEventListener("submit", function (event) { event.preventDefault(); load(); });
  QS.$$("#cr-form [data-range]").forEach(function (btn) {
    btn.addEventListener("click", function () {
      var range = btn.getAttribute("data-range"), from = today, to = today;
      if (range === "yesterday") from = to = addDays(today, -1);
      else if (range === "month") from = today.slice(0, 8) + "01";
      else if (range !== "today") from = addDays(today, 1 - parseInt(range, 10));
      QS.$("#cr-from").value = vnDate(from);
      QS.$("#cr-to").value = vnDate(to);
      load();
    });
  });
  QS.$("#cr-csv").addEventListener("click", function () {
    var values = period();
    if (!values) return;
    if (QS.$("#cr-semicolon").checked) values.sep = "semicolon";
    fetch("/api/v1/city/stats.csv?" + encode(values), {headers: {Authorization: "Bearer " + QM.token()}})
      .then(function (response) {
        if (!response.ok) {
          return response.json().then(function (body) { QM.toast("error", QS.errorText({status: response.status, body: body})); },
                                      function () { QM.toast("error", "Không tải được tệp CSV (" + response.status + ")."); });
        }
        return response.blob().then(function (blob) {
          var link = h("a", {href: URL.createObjectURL(blob), download: "thong-ke-" + (values.group ? "nhom" : "thanh-pho") +
                             "-" + values.from + "_" + values.to + ".csv"});
          document.body.appendChild(link);
          link.click();
          setTimeout(function () { URL.revokeObjectURL(link.href); link.remove(); }, 1000);
        });
      }, function () { QM.toast("error", QS.errorText({status: 0})); });
  });

  QC.onView(function (name) { if (name === "reports" && !shown) { shown = true; load(); } });
  QC.onGroup(function () { if (shown) load(); });
})();
