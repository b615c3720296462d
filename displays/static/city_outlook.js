/* The city console's outlook: the centers that will likely miss their target tomorrow
 * (GET /api/v1/city/plan-risk, from each center's own history: docs/staffing.md), those first. */
(function () {
  "use strict";
  var h = QS.h;
  var REFRESH_MS = 10 * 60 * 1000;  // a forecast for tomorrow moves slowly

  function share(value) {
    return value === null || value === undefined ? "—" : Math.round(value * 100) + "%";
  }

  function row(site) {
    var status = site.status === "open"
      ? (site.will_miss ? "Có thể không đạt" : (site.rearrange_only ? "Đạt nếu bố trí lại quầy" : "Đạt"))
      : (QS.labels.plan_risk_status || {})[site.status] || site.status;
    var shortOf = (site.short || []).slice(0, 3).map(function (s) {
      return s.slot + " " + (s.agency_name || s.agency);
    }).join(", ");
    return h("tr", {"data-site": site.site, class: site.will_miss ? "bad" : ""}, [
      h("td", {}, [h("a", {href: "/m/" + encodeURIComponent(site.site) + "/reports?plan=" + encodeURIComponent(site.day),
                           text: site.name || site.site})]),
      h("td", {class: "co-status", text: status}),
      h("td", {class: "r num", text: site.expected_tickets === undefined ? "—" : String(Math.round(site.expected_tickets))}),
      h("td", {class: "r num", text: share(site.config_share)}),
      h("td", {class: "r num", text: share(site.plan_share)}),
      h("td", {text: shortOf || "—"})
    ]);
  }

  var latest = 0;  // a slow answer for the whole city must not overwrite the group's that came after it

  function refresh() {
    var group = QC.group(), asked = ++latest;
    QM.api("GET", "/api/v1/city/plan-risk" + (group ? "?group=" + encodeURIComponent(group) : "")).then(function (res) {
      if (asked !== latest) return;
      var note = QS.$("#co-note"), table = QS.$("#co-table"), body = QS.$("#co-rows");
      if (!res.ok || !res.body) { note.textContent = QS.errorText(res); table.hidden = true; return; }
      var sites = res.body.sites || [];
      var missing = sites.filter(function (s) { return s.will_miss; }).length;
      note.textContent = "Ngày " + res.body.day.split("-").reverse().join("/") + ": " + missing + " trong " +
        sites.length + " trung tâm có thể không đạt mục tiêu với cách bố trí quầy hiện tại. Bấm tên để xem kế hoạch.";
      body.textContent = "";
      sites.forEach(function (site) { body.appendChild(row(site)); });
      table.hidden = !sites.length;
      document.body.setAttribute("data-outlook", String(missing));
    });
  }

  QC.onGroup(refresh);
  QM.ready(function () {
    refresh();
    setInterval(refresh, REFRESH_MS);
  });
})();
