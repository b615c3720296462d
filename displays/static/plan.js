/* plan.js: the "Kế hoạch bố trí quầy" section of the reports page.
 *
 * A coming day (or today): GET .../plan?date= → a heat map, one row per agency and one column per
 * half-hour: the counters the plan gives, coloured by how many, red where the model still expects the
 * target to be missed. A past day: GET .../plan-review?date= → the same map with the counters that were
 * actually serving / the counters needed, red where the target was missed, and the list of those cells
 * with their reasons. Below both, the forecast's error on past days (GET .../forecast-error); the CSV
 * of a week's plan (GET .../plan.csv). */
(function () {
  "use strict";
  if (QS.boot.page !== "reports") return;
  var h = QS.h;
  var D = QM.dates;
  var L = QS.boot.staffing || {plan_kinds: {}, day_status: {}, miss_reasons: {}};
  var today = QS.boot.today;
  var current = null;   // the day shown
  var asked = new URLSearchParams(location.search).get("plan");  // read before reports.js rewrites the URL

  function status(kind, text) {
    var box = QS.$("#s-status");
    box.className = "m-msg " + kind;
    box.textContent = text;
    box.hidden = !text;
  }
  function minutes(seconds) { return Math.round(seconds / 60); }
  function pct(share) { return share === null || share === undefined ? "—" : QM.percent(share); }
  function hours(value) { return (Math.round(value * 10) / 10).toLocaleString("vi-VN") + " giờ"; }
  function weekdayOf(day) {
    var parts = day.split("-").map(Number);
    var key = ["sun", "mon", "tue", "wed", "thu", "fri", "sat"][new Date(parts[0], parts[1] - 1, parts[2]).getDay()];
    return QS.labels.weekdays[key] || "";
  }
  function heading(text, day) { QS.$("#s-heading").textContent = text + " — " + weekdayOf(day) + ", " + D.vnDate(day); }
  function cards(items) {
    var box = QS.$("#s-cards");
    box.textContent = "";
    items.forEach(function (item) {
      box.appendChild(h("div", {class: "c-stat " + (item[2] || ""), "data-card": item[3] || null},
                        [h("span", {text: item[0]}), h("b", {class: "num", text: item[1]})]));
    });
  }
  /** Colour step 1..5 of a cell by its share of the day's busiest cell (0: nothing). */
  function step(value, max) { return value > 0 && max > 0 ? Math.max(1, Math.min(5, Math.ceil(5 * value / max))) : 0; }

  function headRow(slots, first, last) {
    return h("thead", {}, [h("tr", {}, [h("th", {class: "s-name", text: first})].concat(
      slots.map(function (slot) { return h("th", {class: "s-slot num", "data-slot": slot.key || slot, title: slot.label || slot,
                                                   text: slot.key || slot}); }),
      last ? [h("th", {class: "r", text: last})] : [])) ]);
  }

  // ---------------------------------------------------------------- a coming day: the plan
  function renderPlan(grid) {
    var target = minutes(grid.target_wait_s), share = Math.round(grid.target_share * 100);
    heading(grid.title, grid.day);
    var heat = QS.$("#s-heat");
    heat.textContent = "";
    heat.setAttribute("data-mode", "plan");
    heat.setAttribute("data-day", grid.day);
    QS.$("#s-missed").hidden = true;
    if (grid.status === "closed") {
      cards([]);
      QS.$("#s-legend").textContent = "Trung tâm không làm việc ngày này (ngày nghỉ hoặc nghỉ lễ): không cần bố trí quầy.";
      return;
    }
    var config = grid.compare.filter(function (c) { return c.kind === "config"; })[0];
    var fixed = grid.compare.filter(function (c) { return c.kind === "fixed"; })[0];
    cards([
      ["Số phiếu dự kiến", QM.number(Math.round(grid.forecast.total)), "", "expected"],
      ["Giờ quầy theo kế hoạch", hours(grid.counter_hours), "", "plan-hours"],
      [L.plan_kinds.config + " (giờ quầy)", config ? hours(config.counter_hours) : "—", "", "config-hours"],
      [L.plan_kinds.fixed + " (giờ quầy)", fixed ? hours(fixed.counter_hours) : "—", "", "fixed-hours"],
      ["Dự kiến gọi trong " + target + " phút", pct(grid.expected_share), grid.expected_share < grid.target_share ? "bad" : "", "plan-share"],
      ["Nếu giữ " + L.plan_kinds.config.toLowerCase(), config ? pct(config.expected_share) : "—",
       config && config.expected_share < grid.target_share ? "warn" : "", "config-share"]
    ]);
    heat.appendChild(headRow(grid.slots, "Lĩnh vực \\ khung giờ", "Giờ quầy"));
    var body = h("tbody");
    grid.agencies.forEach(function (agency) {
      var row = [h("th", {class: "s-name", title: agency.name, text: agency.name})];
      agency.cells.forEach(function (cell, i) {
        var slot = grid.slots[i];
        var miss = cell.short > 0 || (cell.expected > 0.05 && cell.service_level < grid.target_share);
        var title = agency.name + ", " + slot.label + ": dự kiến " + cell.expected.toLocaleString("vi-VN") + " phiếu; cần " +
          cell.need + " quầy, bố trí " + cell.counters + (cell.counter_ids.length ? " (quầy " + cell.counter_ids.join(", ") + ")" : "") +
          "; dự kiến " + pct(cell.service_level) + " được gọi trong " + target + " phút" +
          (cell.short ? "; thiếu " + cell.short + " quầy" : "");
        row.push(h("td", {class: "s-cell num lv" + step(cell.counters, grid.max_counters) + (miss ? " miss" : ""),
                          "data-agency": agency.slug, "data-slot": slot.key, "data-counters": String(cell.counters),
                          "data-need": String(cell.need), title: title,
                          text: cell.counters ? String(cell.counters) : (cell.expected > 0.05 ? "0" : "")}));
      });
      row.push(h("td", {class: "r num", text: QM.number(agency.counter_hours)}));
      body.appendChild(h("tr", {"data-agency": agency.slug}, row));
    });
    body.appendChild(h("tr", {class: "s-total"}, [h("th", {class: "s-name", text: "Quầy mở"})].concat(
      grid.slots.map(function (slot) { return h("td", {class: "num", "data-slot": slot.key, text: String(slot.open_counters)}); }),
      [h("td", {class: "r num", text: QM.number(grid.counter_hours)})])));
    body.appendChild(h("tr", {class: "s-total"}, [h("th", {class: "s-name", text: "Phiếu dự kiến"})].concat(
      grid.slots.map(function (slot) { return h("td", {class: "num", text: String(Math.round(slot.expected))}); }), [h("td")])));
    heat.appendChild(body);
    QS.$("#s-legend").textContent = "Mỗi ô: số quầy bố trí cho lĩnh vực trong khung giờ (ô càng sáng càng nhiều quầy). " +
      "Ô viền đỏ: dù đã bố trí, mô hình vẫn dự kiến dưới " + share + "% công dân được gọi trong " + target +
      " phút (thiếu quầy hoặc thiếu cán bộ). Di chuột lên ô để xem số phiếu dự kiến và quầy cụ thể. " +
      "Kế hoạch tính từ số liệu các ngày trước (mô hình hàng đợi Erlang C, đã kiểm tra bằng mô phỏng).";
  }

  // ---------------------------------------------------------------- a past day: what was open, what was missed
  function renderReview(review) {
    var target = minutes(review.target_wait_s || 0), share = Math.round((review.target_share || 0.8) * 100);
    heading("So sánh với thực tế", review.day);
    var heat = QS.$("#s-heat");
    heat.textContent = "";
    heat.setAttribute("data-mode", "review");
    heat.setAttribute("data-day", review.day);
    var missedBox = QS.$("#s-missed");
    if (review.status === "closed") {
      cards([]);
      missedBox.hidden = true;
      QS.$("#s-legend").textContent = "Trung tâm không làm việc ngày này.";
      return;
    }
    var tickets = 0, within = 0;
    review.agencies.forEach(function (a) {
      a.cells.forEach(function (c) { tickets += c.tickets; within += c.within_share === null ? 0 : c.within_share * c.tickets; });
    });
    cards([
      ["Số phiếu", QM.number(tickets), "", "tickets"],
      ["Gọi trong " + target + " phút", pct(tickets ? within / tickets : null), tickets && within / tickets < review.target_share ? "bad" : "", "share"],
      ["Ô không đạt mục tiêu", review.cells_missed + " / " + review.cells_judged, review.cells_missed ? "bad" : "", "missed"]
    ]);
    var max = 1;
    review.agencies.forEach(function (a) { a.cells.forEach(function (c) { max = Math.max(max, c.counters_open, c.counters_needed); }); });
    heat.appendChild(headRow(review.slots, "Lĩnh vực \\ khung giờ", null));
    var body = h("tbody");
    var missed = [];
    review.agencies.forEach(function (agency) {
      var row = [h("th", {class: "s-name", title: agency.name, text: agency.name})];
      agency.cells.forEach(function (cell) {
        var reasons = cell.reasons.map(function (r) { return r.text; }).join("; ");
        if (cell.missed) missed.push({agency: agency, cell: cell});
        var title = agency.name + ", " + cell.slot + ": " + cell.tickets + " phiếu (dự báo " +
          (cell.forecast === null ? "—" : cell.forecast.toLocaleString("vi-VN")) + "), " + pct(cell.within_share) +
          " được gọi trong " + target + " phút; " + cell.counters_open + " quầy phục vụ" +
          (cell.counters.length ? " (" + cell.counters.join(", ") + ")" : "") + ", cần " + cell.counters_needed +
          (reasons ? ". Lý do: " + reasons : "");
        var kind = cell.missed ? " miss" : (cell.tickets ? " met" : "");
        row.push(h("td", {class: "s-cell num lv" + step(cell.counters_open, max) + kind, "data-agency": agency.slug,
                          "data-slot": cell.slot, "data-open": String(cell.counters_open),
                          "data-needed": String(cell.counters_needed), title: title,
                          text: cell.tickets || cell.counters_needed ? cell.counters_open + "/" + cell.counters_needed : ""}));
      });
      body.appendChild(h("tr", {"data-agency": agency.slug}, row));
    });
    heat.appendChild(body);
    QS.$("#s-legend").textContent = "Mỗi ô: số quầy thực tế đã phục vụ lĩnh vực / số quầy cần theo số phiếu thực tế của ngày " +
      "(ô càng sáng càng nhiều quầy; vạch xanh: đạt mục tiêu). Ô đỏ: dưới " + share + "% công dân lấy số trong khung giờ được gọi trong " + target + " phút (chỉ xét ô có từ 3 phiếu). " +
      "Quầy mở nhưng không có ai đến không hiện trong số liệu, nên số quầy thực tế là mức tối thiểu.";
    var table = QS.$("#s-missed-rows");
    table.textContent = "";
    missedBox.hidden = !missed.length;
    if (!missed.length) return;
    table.appendChild(h("thead", {}, [h("tr", {}, ["Khung giờ", "Lĩnh vực", "Phiếu (dự báo)", "Gọi trong " + target + " phút",
                                                   "Quầy phục vụ / cần", "Lý do"].map(function (t, i) {
      return h("th", {class: i >= 2 && i <= 4 ? "r" : "", text: t}); }))]));
    var rows = h("tbody");
    missed.sort(function (a, b) { return a.cell.slot < b.cell.slot ? -1 : a.cell.slot > b.cell.slot ? 1 : 0; });
    missed.forEach(function (m) {
      var c = m.cell;
      rows.appendChild(h("tr", {"data-agency": m.agency.slug, "data-slot": c.slot}, [
        h("td", {class: "num", text: c.slot}), h("td", {class: "r-name", text: m.agency.name}),
        h("td", {class: "r num", text: c.tickets + " (" + (c.forecast === null ? "—" : Math.round(c.forecast)) + ")"}),
        h("td", {class: "r num", text: pct(c.within_share)}),
        h("td", {class: "r num", text: c.counters_open + " / " + c.counters_needed}),
        h("td", {class: "s-reasons"}, c.reasons.map(function (r) {
          return h("span", {class: "s-reason r-" + r.code, "data-reason": r.code, title: L.miss_reasons[r.code] || r.code, text: r.text});
        }))
      ]));
    });
    table.appendChild(rows);
  }

  // ---------------------------------------------------------------- the forecast's error, in words
  function renderError(result) {
    var o = result.overall;
    var box = QS.$("#s-error");
    if (!o.days) {
      box.textContent = "Sai số dự báo: chưa đủ số liệu để kiểm tra (cần ít nhất 10 ngày làm việc bình thường). " +
        "Kế hoạch dựa trên " + result.usable_days + " ngày có số liệu.";
      return;
    }
    var text = "Sai số dự báo, kiểm tra lại trên " + o.days + " ngày đã qua (mỗi ngày chỉ dự báo từ các ngày trước nó): " +
      "tổng phiếu cả ngày lệch trung bình " + pct(o.total_mape) + " (ngày bình thường " + pct(o.total_mape_ordinary) + "); " +
      "theo khung giờ lệch " + pct(o.slot_wape) + " (riêng dao động ngẫu nhiên không tránh được đã là " + pct(o.slot_floor_wape) + "); " +
      "theo từng lĩnh vực trong từng khung giờ lệch " + pct(o.wape) + " (mức ngẫu nhiên " + pct(o.floor_wape) + ").";
    var left = result.left_out.filter(function (d) { return d.status !== "holiday"; });
    if (left.length) {
      text += " Ngày không dùng để dự báo: " + left.map(function (d) {
        return D.vnDate(d.day) + " (" + (L.day_status[d.status] || d.status).toLowerCase() + (d.note ? ": " + d.note : "") + ")";
      }).join("; ") + ".";
    }
    box.textContent = text;
    box.setAttribute("data-days", String(o.days));
  }

  // ---------------------------------------------------------------- loading
  function show(res, render) {
    if (!res.ok) {
      if (res.status !== 401) status("error", QS.errorText(res));
      QS.$("#s-body").hidden = true;
      return;
    }
    status("info", "");
    current = res.body.day;
    QS.$("#s-date").value = D.vnDate(current);
    render(res.body);
    QS.$("#s-body").hidden = false;
  }
  function load(day, mode) {
    status("info", "Đang tính kế hoạch…");
    var past = mode === "review" || (day && day < today);
    var path = past ? "plan-review" : "plan";
    QM.api("GET", path + (day ? "?date=" + day : "")).then(function (res) { show(res, past ? renderReview : renderPlan); });
  }
  QS.$("#s-form").addEventListener("submit", function (event) {
    event.preventDefault();
    var day = D.readDate(QS.$("#s-date").value);
    if (!day) {
      status("error", "Ngày “" + QS.$("#s-date").value + "” không hợp lệ. Nhập theo dạng ngày/tháng/năm, ví dụ 25/11/2026.");
      return;
    }
    load(day);
  });
  QS.$$("[data-plan-day]").forEach(function (btn) {
    btn.addEventListener("click", function () { load(null, btn.getAttribute("data-plan-day") === "previous" ? "review" : "plan"); });
  });
  QS.$("#s-csv").addEventListener("click", function () {
    var from = D.readDate(QS.$("#s-date").value) || current;
    if (!from || from < today) from = today;
    var to = D.addDays(from, 6);
    var query = D.params({from: from, to: to, sep: QS.$("#s-semicolon").checked ? "semicolon" : ""});
    fetch(QS.apiBase + "/plan.csv?" + query, {headers: {Authorization: "Bearer " + QM.token()}})
      .then(function (response) {
        if (!response.ok) {
          return response.json().then(function (body) { status("error", QS.errorText({status: response.status, body: body})); },
                                      function () { status("error", QS.errorText({status: response.status})); });
        }
        return response.blob().then(function (blob) {
          var link = h("a", {href: URL.createObjectURL(blob), download: "ke-hoach-quay-" + QS.site.slug + "-" + from + "_" + to + ".csv"});
          document.body.appendChild(link);
          link.click();
          setTimeout(function () { URL.revokeObjectURL(link.href); link.remove(); }, 1000);
        });
      }, function () { status("error", QS.errorText({status: 0})); });
  });

  QM.ready(function () {
    load(asked ? D.readDate(asked) : null);
    QM.api("GET", "forecast-error").then(function (res) {
      if (res.ok) renderError(res.body);
      else if (res.status !== 401) QS.$("#s-error").textContent = "Sai số dự báo: " + QS.errorText(res);
    });
  });
})();
