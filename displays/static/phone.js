/* /s/<site>: a number from the phone. Pick the agency (or search a procedure, where the server has the
 * procedure search), give the CCCD and mobile numbers, get the ticket page. Light on purpose: qs.js and
 * this file, one state request, no framework. The numbers taken here are remembered on the phone. */
(function () {
  "use strict";
  var online = QS.boot.online || {};
  var slug = QS.site.slug;
  var chosen = null, procedure = null, key = null, busy = false;
  var mineKey = "qs.mine." + slug;

  QS.$("#hours").textContent = QS.hoursText();

  // ---------------------------------------------------------------- the numbers this phone holds today
  function mine() {
    try { return JSON.parse(localStorage.getItem(mineKey) || "[]"); } catch (e) { return []; }
  }
  function keep(ticket) {
    var list = mine().filter(function (t) { return t.day === QS.boot.today && t.id !== ticket.id; });
    list.push({id: ticket.id, number: ticket.number, agency: ticket.agency_name, day: QS.boot.today});
    try { localStorage.setItem(mineKey, JSON.stringify(list)); } catch (e) { /* private mode */ }
  }
  function renderMine() {
    var list = mine().filter(function (t) { return t.day === QS.boot.today; });
    QS.$("#mine").hidden = !list.length;
    var box = QS.$("#mine-list");
    box.textContent = "";
    list.forEach(function (t) {
      box.appendChild(QS.h("li", {}, [QS.h("button", {type: "button", onclick: function () {
        location.href = "/t/" + encodeURIComponent(slug) + "/" + encodeURIComponent(t.id);
      }}, [t.number + " · " + (t.agency || ""), QS.h("small", {text: "Xem →"})])]));
    });
  }

  // ---------------------------------------------------------------- agencies (and procedures)
  function show(step) {
    QS.$("#step-agency").hidden = step !== "agency";
    QS.$("#step-form").hidden = step !== "form";
    document.body.setAttribute("data-step", step);
    if (step === "form") QS.$("#cccd").focus();
  }

  function renderAgencies(waiting) {
    var box = QS.$("#agencies");
    box.textContent = "";
    QS.site.agencies.forEach(function (agency) {
      var n = waiting ? waiting[agency.slug] || 0 : null;
      box.appendChild(QS.h("li", {}, [QS.h("button", {type: "button", "data-agency": agency.slug,
        disabled: !online.open, onclick: function () { choose(agency.slug, null); }}, [
        agency.name, QS.h("small", {text: n === null ? QS.floorName(agency.floor) : n + " người đang chờ"})])]));
    });
  }

  function choose(agencySlug, procedureName) {
    chosen = agencySlug;
    procedure = procedureName;
    key = QS.newKey();  // one key per number: a double tap or a retry on a bad network takes one
    var agency = QS.agency(agencySlug) || {name: agencySlug};
    QS.$("#chosen").textContent = agency.name + " · " + QS.floorName(agency.floor);
    QS.$("#chosen-procedure").hidden = !procedureName;
    QS.$("#chosen-procedure").textContent = procedureName ? "Thủ tục: " + procedureName : "";
    QS.$("#take-error").hidden = true;
    show("form");
  }

  // A procedure search where the server offers one (GET .../procedures?q=); otherwise the agency list alone.
  var searchTimer = null, searchAvailable = true;
  function search(text) {
    if (!searchAvailable) return;
    QS.api("GET", "procedures?q=" + encodeURIComponent(text)).then(function (res) {
      if (!res.ok) { if (res.status === 404 || res.status === 405) hideSearch(); return; }
      var body = res.body || [];
      var items = Array.isArray(body) ? body : (body.results || body.procedures || body.items || []);
      var box = QS.$("#search-results");
      box.textContent = "";
      box.hidden = !text;
      items.slice(0, 8).forEach(function (item) {
        var agencySlug = item.agency || (item.agencies || [])[0];
        var agency = QS.agency(agencySlug);
        if (!agency) return;
        box.appendChild(QS.h("li", {}, [QS.h("button", {type: "button", disabled: !online.open, onclick: function () {
          choose(agency.slug, item.name || item.title);
        }}, [item.name || item.title || "", QS.h("small", {text: agency.name})])]));
      });
      if (text && !box.children.length) box.appendChild(QS.h("li", {class: "muted-dark", text: "Không tìm thấy thủ tục phù hợp."}));
    });
  }
  function hideSearch() {
    searchAvailable = false;
    QS.$("#search-box").hidden = true;
    QS.$("#search-results").hidden = true;
  }
  QS.api("GET", "procedures?q=").then(function (res) {
    if (res.ok) QS.$("#search-box").hidden = false; else hideSearch();
  });
  QS.$("#search").addEventListener("input", function () {
    var text = QS.$("#search").value.trim();
    clearTimeout(searchTimer);
    searchTimer = setTimeout(function () { search(text); }, 300);
  });

  // ---------------------------------------------------------------- take the number
  function checkFields() {
    var cccd = QS.cccdNumber(QS.$("#cccd").value), phone = QS.mobileNumber(QS.$("#phone").value);
    QS.$("#cccd-bad").hidden = !!cccd || !QS.$("#cccd").value;
    QS.$("#phone-bad").hidden = !!phone || !QS.$("#phone").value;
    return {cccd: cccd, phone: phone};
  }
  QS.$("#cccd").addEventListener("blur", checkFields);
  QS.$("#phone").addEventListener("blur", checkFields);
  QS.$("#back").addEventListener("click", function () { show("agency"); });

  QS.$("#take-form").addEventListener("submit", function (event) {
    event.preventDefault();
    if (busy) return;
    var fields = checkFields();
    QS.$("#cccd-bad").hidden = !!fields.cccd;
    QS.$("#phone-bad").hidden = !!fields.phone;
    if (!fields.cccd || !fields.phone) return;
    busy = true;
    QS.$("#take").disabled = true;
    QS.api("POST", "online-tickets", {json: {agency: chosen, cccd: fields.cccd, phone: fields.phone, key: key}})
      .then(function (res) {
        busy = false;
        QS.$("#take").disabled = false;
        if (res.status === 201 || res.status === 200) {
          keep(res.body);
          location.href = res.body.track_url || ("/t/" + slug + "/" + res.body.id);
          return;
        }
        var box = QS.$("#take-error");
        box.hidden = false;
        box.textContent = QS.splitMessage(QS.errorText(res))[0];
      });
  });

  // ---------------------------------------------------------------- start
  if (!online.enabled || !online.open) {
    var closed = QS.$("#closed");
    closed.hidden = false;
    closed.textContent = !online.enabled ? QS.labels.errors.online_disabled :
      QS.labels.errors.online_closed + (online.opens_at ? " Có thể lấy số từ " + QS.time(online.opens_at) + " ngày " +
        new Intl.DateTimeFormat("vi-VN", {timeZone: QS.site.timezone, day: "2-digit", month: "2-digit"})
          .format(new Date(online.opens_at)) + "." : "");
  }
  renderMine();
  renderAgencies(null);
  QS.api("GET", "state").then(function (res) { if (res.ok && res.body) renderAgencies(res.body.waiting); });
  show("agency");
})();
