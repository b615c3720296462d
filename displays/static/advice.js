/* advice.js: the console's staffing cards.
 *
 *   advice    GET .../advice every minute (and after a change): the counter moves that cut the expected
 *             waiting in the next hour, each with its effect; "Áp dụng" sends the move's own request
 *             (PUT .../counters/{id}/agencies, the reassignment managers use, audited).
 *   what-if   POST .../what-if {base: "now", changes}: the expected waits from now until closing with the
 *             counters as they are, and with the changes (close a counter, add an officer, a rush). */
(function () {
  "use strict";
  if (QS.boot.page !== "console") return;
  var h = QS.h;
  var L = QS.boot.staffing || {what_if_kinds: {}};
  var ADVICE_MS = 60000;

  function agencyName(slug) { var a = QS.agency(slug); return a ? a.name : slug; }
  function mins(seconds) { return Math.round((seconds || 0) / 60); }

  // ---------------------------------------------------------------- advice
  var adviceLoading = false;
  /** The agencies whose projected waits change (to the minute), or the one gaining the counter. */
  function effectText(item) {
    return item.effect.filter(function (e) {
      return item.to.indexOf(e.agency) >= 0 || mins(e.longest_wait_s.before) !== mins(e.longest_wait_s.after) ||
        mins(e.mean_wait_s.before) !== mins(e.mean_wait_s.after);
    }).map(function (e) {
      return e.name + ": chờ lâu nhất " + mins(e.longest_wait_s.before) + " → " + mins(e.longest_wait_s.after) +
        " phút, trung bình " + mins(e.mean_wait_s.before) + " → " + mins(e.mean_wait_s.after) + " phút (" + e.tickets + " người)";
    }).join(" · ");
  }
  function renderAdvice(answer) {
    var list = QS.$("#advice");
    list.textContent = "";
    QS.$("#advice-meta").textContent = "lúc " + answer.time + " · " + answer.waiting + " người đang chờ · dự kiến " +
      Math.round(answer.expected_next_hour) + " người lấy số trong 1 giờ tới";
    var none = QS.$("#advice-none");
    none.hidden = answer.advice.length > 0;
    none.textContent = "Chưa cần chuyển quầy: không có thay đổi nào giảm đáng kể thời gian chờ quá " + mins(answer.target_wait_s) +
      " phút trong 1 giờ tới.";
    answer.advice.forEach(function (item, index) {
      // A move as good as an earlier one (another counter of the same agency, say) is offered as an alternative.
      var same = answer.advice.slice(0, index).filter(function (o) {
        return o.to.join() === item.to.join() && o.gain_s === item.gain_s;
      })[0];
      var effect = same ? "Cùng hiệu quả như gợi ý chuyển quầy " + same.counter + "; chọn một trong hai."
        : effectText(item) + ". Tổng thời gian chờ quá " + mins(answer.target_wait_s) + " phút giảm khoảng " +
          QS.duration(item.gain_s) + ".";
      list.appendChild(h("li", {class: "a-item" + (same ? " a-alternative" : ""), "data-counter": item.counter,
                                "data-to": item.to.join(","), "data-rank": String(index + 1)}, [
        h("span", {class: "a-message", text: (same ? "Hoặc: " : "") + item.message}),
        h("span", {class: "a-effect", text: effect}),
        h("button", {class: "m-btn primary small", type: "button", "data-apply": item.counter,
                     title: "Chuyển quầy " + item.counter + " sang " + item.to_names.join(", ") + " ngay",
                     onclick: function (event) { apply(item, event.currentTarget); }}, ["Áp dụng"])
      ]));
    });
    document.body.setAttribute("data-advice", String(answer.advice.length));
  }
  function loadAdvice() {
    if (adviceLoading) return;
    adviceLoading = true;
    QM.api("GET", "advice?limit=3").then(function (res) {
      adviceLoading = false;
      if (res.ok) renderAdvice(res.body);
      else if (res.status !== 401) {
        QS.$("#advice").textContent = "";
        var none = QS.$("#advice-none");
        none.hidden = false;
        none.textContent = "Chưa tính được gợi ý: " + QS.errorText(res);
      }
    });
  }
  function apply(item, button) {
    button.disabled = true;
    QM.api(item.apply.method, item.apply.path, {json: item.apply.body}).then(function (res) {
      if (!res.ok) { button.disabled = false; QM.toast("error", QS.errorText(res)); return; }
      QM.toast("ok", "Đã chuyển " + QS.counterName(item.counter) + " sang phục vụ " + item.to_names.join(", ") + ".");
      loadAdvice();
    });
  }
  QS.$("#advice-refresh").addEventListener("click", loadAdvice);

  // ---------------------------------------------------------------- what-if
  var changes = [];
  function kindShown() {
    var kind = QS.$("#w-kind").value;
    QS.$$("#whatif-form [data-for]").forEach(function (node) {
      node.hidden = node.getAttribute("data-for").split(" ").indexOf(kind) < 0;
    });
    var agency = QS.$("#w-agency");
    if (kind === "volume") agency.value = "";
    else if (agency.value === "") agency.selectedIndex = 1;
  }
  function current() {
    var kind = QS.$("#w-kind").value;
    var change = {kind: kind};
    if (kind === "close_counter") change.counter = QS.$("#w-counter").value;
    if (kind === "add_officer" || (kind === "volume" && QS.$("#w-agency").value)) change.agency = QS.$("#w-agency").value;
    if (kind === "volume") change.multiplier = parseFloat(QS.$("#w-multiplier").value);
    ["from", "to"].forEach(function (name) {
      var text = QS.$("#w-" + name).value.trim();
      if (!text) return;
      change[name] = hhmm(text);
      if (!change[name]) throw new Error("Giờ “" + text + "” không hợp lệ. Nhập theo dạng giờ:phút, ví dụ 09:30.");
    });
    return change;
  }
  function describe(change) {
    var text = L.what_if_kinds[change.kind] || change.kind;
    if (change.counter) text += " " + change.counter;
    if (change.kind === "volume") text = "Lượng công dân ×" + String(change.multiplier).replace(".", ",");
    if (change.agency) text += " · " + agencyName(change.agency);
    if (change.from || change.to) text += " · " + (change.from || "mở cửa") + "–" + (change.to || "hết giờ");
    return text;
  }
  function renderChanges() {
    var list = QS.$("#w-changes");
    list.textContent = "";
    changes.forEach(function (change, index) {
      list.appendChild(h("li", {"data-kind": change.kind}, [h("span", {text: describe(change)}),
        h("button", {class: "m-btn small ghost", type: "button", title: "Bỏ thay đổi này",
                     onclick: function () { changes.splice(index, 1); renderChanges(); }}, ["✕"])]));
    });
  }
  function arrow(before, after, unit, worseWhenUp) {
    var cls = after === before ? "" : ((after > before) === worseWhenUp ? "w-worse" : "w-better");
    return h("td", {class: "r num " + cls, text: before.toLocaleString("vi-VN") + " → " + after.toLocaleString("vi-VN") + unit});
  }
  function share(x) { return Math.round((x || 0) * 1000) / 10; }
  /** "08:05" from "8:05" or "08:05"; null for anything else (empty: no limit). */
  function hhmm(text) {
    var m = /^\s*(\d{1,2})[:h.](\d{2})\s*$/.exec(text || "");
    if (!m || Number(m[1]) > 23 || Number(m[2]) > 59) return null;
    return (m[1].length === 1 ? "0" : "") + m[1] + ":" + m[2];
  }
  function renderWhatIf(result) {
    var box = QS.$("#w-result");
    box.textContent = "";
    var b = result.before, a = result.after, minutesTarget = mins(result.target_wait_s);
    box.appendChild(h("p", {class: "w-summary", "data-summary": ""}, [
      "Từ " + QS.time(result.from) + " đến hết giờ, công dân được gọi trong " + minutesTarget + " phút: ",
      h("b", {class: share(a.within_target_share) < share(b.within_target_share) ? "w-worse"
                : (share(a.within_target_share) > share(b.within_target_share) ? "w-better" : ""),
              "data-share-after": String(a.within_target_share),
              text: share(b.within_target_share).toLocaleString("vi-VN") + "% → " + share(a.within_target_share).toLocaleString("vi-VN") + "%"}),
      "; chờ lâu nhất " + mins(b.longest_wait_s) + " → " + mins(a.longest_wait_s) + " phút (mô phỏng " + result.replications +
      " ngày theo dự báo, cùng một dòng công dân cho cả hai cách)."]));
    var before = {};
    b.agencies.forEach(function (x) { before[x.slug] = x; });
    var rows = a.agencies.map(function (x) { return {after: x, before: before[x.slug] || x}; }).filter(function (row) {
      return ["mean_wait_s", "longest_wait_s"].some(function (k) { return mins(row.before[k]) !== mins(row.after[k]); }) ||
        share(row.before.within_target_share) !== share(row.after.within_target_share);
    });
    rows.sort(function (p, q) {
      return Math.abs(q.after.mean_wait_s - q.before.mean_wait_s) - Math.abs(p.after.mean_wait_s - p.before.mean_wait_s);
    });
    var table = h("table", {class: "r-table"}, [h("thead", {}, [h("tr", {}, [
      h("th", {text: "Lĩnh vực"}), h("th", {class: "r", text: "Chờ trung bình"}), h("th", {class: "r", text: "Chờ lâu nhất"}),
      h("th", {class: "r", text: "Gọi trong " + minutesTarget + " phút"})])])]);
    var body = h("tbody");
    if (!rows.length) {
      body.appendChild(h("tr", {}, [h("td", {class: "muted", colspan: "4",
                                             text: "Không lĩnh vực nào thay đổi đáng kể (dưới 1 phút)."})]));
    }
    rows.slice(0, 10).forEach(function (row) {
      body.appendChild(h("tr", {"data-agency": row.after.slug}, [
        h("td", {class: "r-name", text: row.after.name}),
        arrow(mins(row.before.mean_wait_s), mins(row.after.mean_wait_s), " phút", true),
        arrow(mins(row.before.longest_wait_s), mins(row.after.longest_wait_s), " phút", true),
        arrow(share(row.before.within_target_share), share(row.after.within_target_share), "%", false)]));
    });
    table.appendChild(body);
    box.appendChild(table);
    box.hidden = false;
  }
  QS.$("#w-kind").addEventListener("change", kindShown);
  function problem(text) {
    var note = QS.$("#w-status");
    note.className = "m-msg error";
    note.textContent = text;
    note.hidden = false;
  }
  QS.$("#w-add").addEventListener("click", function () {
    try { changes.push(current()); } catch (error) { problem(error.message); return; }
    QS.$("#w-status").hidden = true;
    renderChanges();
  });
  QS.$("#w-clear").addEventListener("click", function () { changes = []; renderChanges(); QS.$("#w-result").hidden = true; });
  QS.$("#whatif-form").addEventListener("submit", function (event) {
    event.preventDefault();
    var list;
    try { list = changes.length ? changes.slice() : [current()]; } catch (error) { problem(error.message); return; }
    var note = QS.$("#w-status");
    note.className = "m-msg info";
    note.textContent = "Đang mô phỏng…";
    note.hidden = false;
    QM.api("POST", "what-if", {json: {base: "now", changes: list}}).then(function (res) {
      if (!res.ok) {
        note.className = "m-msg error";
        note.textContent = QS.errorText(res);
        if (res.status !== 401) QS.$("#w-result").hidden = true;
        return;
      }
      note.hidden = true;
      renderWhatIf(res.body);
    });
  });

  QM.ready(function () {
    QS.$("#w-from").value = QS.time(QM.now());
    kindShown();
    loadAdvice();
    setInterval(loadAdvice, ADVICE_MS);
  });
})();
