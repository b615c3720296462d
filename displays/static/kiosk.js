/* Kiosk: floor → agency → (priority, CCCD QR) → ticket on screen and on an 80 mm paper ticket; or
 * "Tìm thủ tục" → the procedure (kiosk-search.js) → a ticket for its agency that carries it.
 *
 * Set up once per machine by opening /k/<site>?token=<kiosk token>[&autoprint=1][&staff_pin=1234]
 * [&printer=network:<name>|agent|browser][&documents=0]; the values are kept in localStorage. Run
 * Chromium with --kiosk --kiosk-printing to print silently in the browser mode; kiosk-print.js prints
 * on a thermal printer through the server or the kiosk PC's print agent.
 */
(function () {
  "use strict";
  var slug = QS.site.slug;
  var IDLE_MS = 60000, TICKET_MS = 30000;
  var PRIORITY_NAMES = QS.labels.priorities;

  /** A kiosk setting given once in the URL and remembered (removed from the address bar). */
  function setting(name) {
    var key = "qs.kiosk." + name + "." + slug;
    var params = new URLSearchParams(location.search);
    if (params.has(name)) {
      var value = params.get(name);
      try { if (value) localStorage.setItem(key, value); else localStorage.removeItem(key); } catch (e) { /* ignore */ }
      params.delete(name);
      var rest = params.toString();
      history.replaceState(null, "", location.pathname + (rest ? "?" + rest : ""));
      return value;
    }
    try { return localStorage.getItem(key); } catch (e) { return null; }
  }

  var token = QS.token("kiosk");
  var autoprint = setting("autoprint") === "1";
  var staffPin = setting("staff_pin");
  var showDocuments = setting("documents") !== "0";
  var printer = KioskPrinter({mode: setting("printer") || "browser", token: function () { return token; },
                              documents: showDocuments, agentUrl: QS.boot.print_agent_url, autoprint: autoprint});
  document.body.setAttribute("data-printer", printer.mode);
  var floors = QS.site.floors || [];
  var live = QS.emptyState();
  var choice = freshChoice();
  var idleTimer = null;
  var lastTicket = null;

  function freshChoice() {
    return {floor: null, agency: null, procedure: null, priority: null, pendingPriority: null, citizenQr: null,
            key: null};
  }
  var finder = QS.boot.procedures ? KioskSearch({
    show: show, token: function () { return token; },
    onTake: function (procedure, withOptions) { takeForProcedure(procedure, withOptions); }
  }) : null;

  QS.$("#kiosk-setup").hidden = !!token;
  // `?rotation_ms=` lets a test shorten the check; a kiosk looks every 10 minutes.
  QS.followRotation("kiosk", function () { return token; }, function (fresh) { token = fresh; },
                    Number(new URLSearchParams(location.search).get("rotation_ms")) || undefined);
  QS.$("#hours-text").textContent = QS.hoursText();

  // ---------------------------------------------------------------- steps
  function show(step) {
    QS.$$(".step").forEach(function (node) { node.hidden = node.id !== "step-" + step; });
    document.body.setAttribute("data-step", step);
    var find = QS.$("#find-procedure");
    if (find) find.hidden = step !== "floor" && step !== "agency";
    armIdle();
    if (step === "options") setTimeout(function () { QS.$("#cccd").focus(); }, 50);
    if (step === "checkin") setTimeout(function () { QS.$("#checkin-code").focus(); }, 50);
    QS.$("#open-checkin").parentNode.hidden = !QS.boot.appointments || step === "checkin" || step === "ticket";
  }
  /** Back to the first screen after a while without a touch (the next citizen should not inherit a choice). */
  function armIdle() {
    var step = document.body.getAttribute("data-step");
    clearTimeout(idleTimer);
    if (step !== "floor" && !(step === "agency" && floors.length === 1)) {
      idleTimer = setTimeout(restart, step === "ticket" ? TICKET_MS : IDLE_MS);
    }
  }
  function restart() {
    choice = freshChoice();
    if (finder) finder.reset();
    if (floors.length === 1) chooseFloor(floors[0].number);
    else { renderFloors(); show("floor"); }
  }
  // Any touch keeps the current step alive.
  document.addEventListener("pointerdown", armIdle, true);
  document.addEventListener("keydown", armIdle, true);  // a scanner typing counts too

  function waitingOn(agencySlug) { return live.waiting[agencySlug] || 0; }

  function renderFloors() {
    var box = QS.$("#floor-choices");
    box.textContent = "";
    floors.forEach(function (floor) {
      var agencies = QS.site.agencies.filter(function (a) { return a.floor === floor.number; });
      var waiting = agencies.reduce(function (sum, a) { return sum + waitingOn(a.slug); }, 0);
      box.appendChild(QS.h("button", {class: "choice floor", "data-floor": floor.number,
                                      onclick: function () { chooseFloor(floor.number); }}, [
        QS.h("div", {}, [floor.name, QS.h("div", {class: "en", text: floor.name_en || ""})]),
        QS.h("div", {class: "meta"}, [
          QS.h("span", {text: agencies.length + " lĩnh vực"}),
          QS.h("span", {}, [QS.h("b", {text: String(waiting)}), " người đang chờ"])
        ])
      ]));
    });
  }

  function renderAgencies() {
    var box = QS.$("#agency-choices");
    box.textContent = "";
    QS.site.agencies.filter(function (a) { return a.floor === choice.floor; }).forEach(function (agency) {
      box.appendChild(QS.h("button", {class: "choice", "data-agency": agency.slug,
                                      onclick: function () { chooseAgency(agency.slug); }}, [
        QS.h("div", {}, [QS.h("span", {class: "prefix", text: agency.prefix}), agency.name]),
        QS.h("div", {class: "meta"}, [
          QS.h("span", {text: agency.procedures ? agency.procedures + " thủ tục" : ""}),
          QS.h("span", {}, [QS.h("b", {class: "waiting-count", text: String(waitingOn(agency.slug))}), " người đang chờ"])
        ])
      ]));
    });
    QS.$("#agency-step-sub").textContent = QS.floorName(choice.floor);
    QS.$("#back-floor").hidden = floors.length === 1;
  }

  function chooseFloor(number) {
    choice.floor = number;
    renderAgencies();
    show("agency");
  }

  function chooseAgency(agencySlug, procedure) {
    choice.agency = agencySlug;
    choice.procedure = procedure || null;
    choice.priority = null;
    choice.pendingPriority = null;
    choice.citizenQr = null;
    choice.key = QS.newKey();  // one key per ticket: a double tap or a retry issues one ticket
    var agency = QS.agency(agencySlug);
    QS.$("#chosen-agency").textContent = agency.prefix + " · " + agency.name;
    QS.$("#chosen-procedure").hidden = !procedure;
    QS.$("#chosen-procedure").textContent = procedure ? "Thủ tục: " + procedure.name : "";
    QS.$("#back-agency").firstChild.textContent = procedure ? "← Quay lại thủ tục" : "← Chọn lại lĩnh vực";
    QS.$("#issue-error").hidden = true;
    QS.$("#cccd").value = "";
    QS.$("#cccd-ok").hidden = QS.$("#cccd-error").hidden = true;
    renderPriority();
    show("options");
  }

  // ---------------------------------------------------------------- priority (staff-confirmed)
  function renderPriority() {
    QS.$$("#priority-list .btn").forEach(function (btn) {
      var value = btn.getAttribute("data-priority");
      btn.classList.toggle("selected", value === choice.priority || value === choice.pendingPriority);
    });
    QS.$("#staff-confirm").hidden = !choice.pendingPriority;
    QS.$("#staff-pin").parentNode.hidden = !staffPin;
    var ok = QS.$("#priority-ok");
    ok.hidden = !choice.priority;
    ok.textContent = choice.priority ? "Đã xác nhận ưu tiên: " + PRIORITY_NAMES[choice.priority] : "";
  }
  QS.$$("#priority-list .btn").forEach(function (btn) {
    btn.addEventListener("click", function () {
      var value = btn.getAttribute("data-priority");
      if (choice.priority === value) choice.priority = null;
      else { choice.pendingPriority = value; QS.$("#staff-pin").value = ""; }
      renderPriority();
      if (choice.pendingPriority && staffPin) QS.$("#staff-pin").focus();
    });
  });
  QS.$("#staff-ok").addEventListener("click", function () {
    if (staffPin && QS.$("#staff-pin").value !== staffPin) {
      QS.$("#priority-ok").hidden = true;
      QS.$("#staff-pin").value = "";
      QS.$("#staff-pin").setAttribute("placeholder", "Sai mã, nhập lại");
      return;
    }
    choice.priority = choice.pendingPriority;
    choice.pendingPriority = null;
    renderPriority();
  });
  QS.$("#staff-cancel").addEventListener("click", function () { choice.pendingPriority = null; renderPriority(); });

  // ---------------------------------------------------------------- CCCD QR (a scanner types, then Enter)
  /** id12|cmnd9|name|ddmmyyyy|sex|address|ddmmyyyy: kept in memory only, sent with the ticket, never shown whole. */
  function readCccd() {
    var input = QS.$("#cccd");
    var text = input.value.trim();
    input.value = "";
    if (!text) return;
    var fields = text.split("|");
    var ok = QS.$("#cccd-ok"), bad = QS.$("#cccd-error");
    if (fields.length < 7 || !/^\d{12}$/.test(fields[0])) {
      choice.citizenQr = null;
      ok.hidden = true;
      bad.hidden = false;
      bad.textContent = "Không đọc được mã QR CCCD. Vui lòng quét lại.";
      return;
    }
    choice.citizenQr = text;
    bad.hidden = true;
    ok.hidden = false;
    ok.textContent = "Đã đọc CCCD số ••••••••" + fields[0].slice(-4);
  }
  // A scanner types wherever the focus is: on the confirm step, send stray keys to the CCCD field (on the
  // check-in step, to the code field).
  document.addEventListener("keydown", function (event) {
    var step = document.body.getAttribute("data-step");
    if (step !== "options" && step !== "checkin") return;
    var target = event.target;
    if (target && target.tagName === "INPUT") return;
    if (event.key.length === 1 && !event.ctrlKey && !event.altKey && !event.metaKey) {
      QS.$(step === "options" ? "#cccd" : "#checkin-code").focus();
    }
  }, true);
  var cccdTimer = null;
  QS.$("#cccd").addEventListener("keydown", function (event) {
    if (event.key === "Enter") { event.preventDefault(); readCccd(); }
  });
  QS.$("#cccd").addEventListener("input", function () {
    clearTimeout(cccdTimer);  // scanners that send no Enter: read once typing stops
    cccdTimer = setTimeout(function () { if (QS.$("#cccd").value.split("|").length >= 7) readCccd(); }, 400);
  });

  // ---------------------------------------------------------------- issue
  var taking = false;
  /** Issue the ticket of `choice`; `button` is disabled meanwhile, `errorBox` shows a refusal. */
  function take(button, errorBox) {
    if (taking) return;
    taking = true;
    button.disabled = true;
    var body = {agency: choice.agency, priority: choice.priority, key: choice.key};
    if (choice.procedure) body.procedure = choice.procedure.code;
    if (choice.citizenQr) body.citizen_qr = choice.citizenQr;
    QS.api("POST", "tickets", {token: token, json: body}).then(function (res) {
      taking = false;
      button.disabled = false;
      if (res.status === 201 || res.status === 200) { showTicket(res.body); return; }
      if (res.status === 409) {
        var parts = QS.splitMessage(QS.errorText(res));
        var box = QS.$("#closed-message");
        box.textContent = parts[0];
        if (parts[1]) box.appendChild(QS.h("div", {class: "en", text: parts[1]}));
        show("closed");
        return;
      }
      errorBox.hidden = false;
      errorBox.textContent = QS.splitMessage(QS.errorText(res))[0];
      if (res.status === 401) QS.$("#kiosk-setup").hidden = false;
    });
  }
  QS.$("#take").addEventListener("click", function () { take(QS.$("#take"), QS.$("#issue-error")); });

  /** "Lấy số" on a procedure's page: a ticket for its agency that carries it (with options: confirm first). */
  function takeForProcedure(procedure, withOptions) {
    var agency = QS.agency(procedure.agency);
    if (!agency) return;
    choice.floor = agency.floor;
    chooseAgency(procedure.agency, procedure);
    if (withOptions) return;  // chooseAgency showed the options step
    show("procedure");
    take(QS.$("#pp-take"), QS.$("#pp-error"));
  }

  function countersFor(agencySlug) {
    var list = live.counters.length ? live.counters : QS.site.counters;
    return list.filter(function (c) { return c.status !== "closed" && (c.agencies || []).indexOf(agencySlug) >= 0; })
      .map(function (c) { return String(c.id); })
      .sort(function (a, b) { return a.localeCompare(b, "vi", {numeric: true}); });
  }

  function qrDataUrl(text, cell) {
    var qr = qrcode(0, "M");
    qr.addData(text);
    qr.make();
    return qr.createDataURL(cell, cell * 2);
  }

  function showTicket(ticket) {
    choice.key = null;
    var agency = QS.agency(ticket.agency) || {};
    var counters = countersFor(ticket.agency);
    var trackUrl = location.origin + (ticket.track_url || ("/t/" + slug + "/" + ticket.id));
    var values = {
      number: ticket.number,
      agency: ticket.agency_name || agency.name || ticket.agency,
      floor: QS.floorName(ticket.floor !== undefined ? ticket.floor : agency.floor),
      counters: counters.length ? counters.join(", ") : "—",
      ahead: ticket.ahead === null || ticket.ahead === undefined ? "—" : String(ticket.ahead),
      time: QS.time(ticket.issued_at) + " · " + new Intl.DateTimeFormat("vi-VN", {
        timeZone: QS.site.timezone, day: "2-digit", month: "2-digit", year: "numeric"
      }).format(ticket.issued_at ? new Date(ticket.issued_at) : new Date())
    };
    ["number", "agency", "floor", "counters", "ahead", "time"].forEach(function (name) {
      QS.$("#tk-" + name).textContent = values[name];
      QS.$("#pt-" + name).textContent = values[name];
    });
    var priority = ticket.priority ? PRIORITY_NAMES[ticket.priority] || ticket.priority : "";
    QS.$("#pt-priority-row").hidden = QS.$("#tk-priority-label").hidden = QS.$("#tk-priority").hidden = !priority;
    QS.$("#pt-priority").textContent = QS.$("#tk-priority").textContent = priority;
    var procedure = ticket.procedure ? ticket.procedure.name : "";
    QS.$("#pt-procedure-box").hidden = QS.$("#tk-procedure-label").hidden = QS.$("#tk-procedure").hidden = !procedure;
    QS.$("#pt-procedure").textContent = QS.$("#tk-procedure").textContent = procedure;
    QS.$("#tk-procedure").setAttribute("data-code", ticket.procedure ? ticket.procedure.code : "");
    var documents = showDocuments && choice.procedure && ticket.procedure &&
      choice.procedure.code === ticket.procedure.code ? choice.procedure.documents || [] : [];
    var docList = QS.$("#pt-documents");
    docList.textContent = "";
    documents.forEach(function (item) { docList.appendChild(QS.h("li", {text: item})); });
    QS.$("#pt-documents-box").hidden = !documents.length;
    var slot = ticket.channel === "appointment" && ticket.slot_at ? QS.time(ticket.slot_at) : "";
    QS.$("#pt-slot-row").hidden = QS.$("#tk-slot-label").hidden = QS.$("#tk-slot").hidden = !slot;
    QS.$("#pt-slot").textContent = QS.$("#tk-slot").textContent = slot ? "lúc " + slot + " (được gọi trước khi đến giờ hẹn)" : "";
    QS.$("#ticket-big").setAttribute("data-ticket", ticket.id);
    QS.$("#tk-qr").innerHTML = "";
    QS.$("#tk-qr").appendChild(QS.h("img", {src: qrDataUrl(trackUrl, 6), alt: "Mã QR theo dõi số " + ticket.number}));
    QS.$("#pt-qr").innerHTML = "";
    QS.$("#pt-qr").appendChild(QS.h("img", {src: qrDataUrl(trackUrl, 4), alt: ""}));
    QS.$("#print-ticket").setAttribute("data-ticket", ticket.id);
    lastTicket = ticket;
    show("ticket");
    printTicket(ticket, false);
  }

  // ---------------------------------------------------------------- printing
  /** Print (or not, in the browser mode without autoprint); a printer problem is said on the ticket
   * screen and stays on every screen until a ticket prints again. The ticket is valid either way. */
  function printTicket(ticket, explicit) {
    var note = QS.$("#tk-print-note");
    var thermal = printer.mode !== "browser";
    note.className = "message info";
    note.textContent = thermal || autoprint || explicit ? "Phiếu đang được in. Vui lòng nhận phiếu."
      : "Bấm “In lại phiếu” nếu cần phiếu giấy.";
    document.body.setAttribute("data-print", "pending");
    printer.print(ticket, explicit).then(function (result) {
      if (lastTicket !== ticket) return;
      var problem = result.ok ? null : result.message.replace(/[.\s]+$/, "");
      document.body.setAttribute("data-print", result.ok ? "ok" : "failed");
      printerProblem(problem);
      if (!problem) return;
      note.className = "message error";
      note.textContent = problem + ". Số của bạn vẫn có hiệu lực: hãy ghi nhớ số hoặc quét mã QR.";
    });
  }
  function printerProblem(message) {
    var alert = QS.$("#printer-alert");
    alert.hidden = !message;
    alert.textContent = message || "";
  }

  // ---------------------------------------------------------------- check in a booking
  // The scanner types the booking QR's address (…/hen/<code>) or the CCCD's QR (fields split by "|");
  // a citizen may type the code. The ticket is called ahead of walk-ins once its time has come.
  var checkinKey = null, checkingIn = false;
  function openCheckin() {
    checkinKey = QS.newKey();
    QS.$("#checkin-code").value = "";
    QS.$("#checkin-error").hidden = true;
    QS.$("#checkin-walk-in").hidden = true;
    show("checkin");
  }
  QS.$("#open-checkin").addEventListener("click", openCheckin);
  QS.$("#checkin-back").addEventListener("click", restart);
  QS.$("#checkin-walk-in").addEventListener("click", restart);
  QS.$("#checkin-form").addEventListener("submit", function (event) {
    event.preventDefault();
    var text = QS.$("#checkin-code").value.trim();
    QS.$("#checkin-code").value = "";
    if (!text || checkingIn) return;
    checkingIn = true;
    var body = text.indexOf("|") >= 0 ? {citizen_qr: text, key: checkinKey} : {code: text, key: checkinKey};
    QS.api("POST", "check-in", {token: token, json: body}).then(function (res) {
      checkingIn = false;
      if (res.status === 201 || res.status === 200) { showTicket(res.body); return; }
      var error = QS.$("#checkin-error");
      error.hidden = false;
      error.textContent = QS.splitMessage(QS.errorText(res))[0];
      var code = res.body && res.body.error && res.body.error.code;
      QS.$("#checkin-walk-in").hidden = code !== "checkin_too_late" && code !== "unknown_booking";
      if (res.status === 401) QS.$("#kiosk-setup").hidden = false;
    });
  });

  QS.$("#print-again").addEventListener("click", function () { if (lastTicket) printTicket(lastTicket, true); });
  QS.$("#ticket-done").addEventListener("click", restart);
  QS.$("#closed-ok").addEventListener("click", restart);
  QS.$("#back-floor").addEventListener("click", function () { renderFloors(); show("floor"); });
  QS.$("#back-agency").addEventListener("click", function () {
    if (choice.procedure) { show("procedure"); return; }
    renderAgencies();
    show("agency");
  });
  if (finder) {
    QS.$("#find-procedure").addEventListener("click", function () { finder.open(true); });
    QS.$("#search-back").addEventListener("click", restart);
  }

  // ---------------------------------------------------------------- live waiting counts
  QS.follow({
    topics: ["site"],
    onChange: function (state) {
      live = state;
      var step = document.body.getAttribute("data-step");
      if (step === "floor") renderFloors();
      if (step === "agency") {
        QS.$$("#agency-choices .choice").forEach(function (node) {
          QS.$(".waiting-count", node).textContent = String(waitingOn(node.getAttribute("data-agency")));
        });
      }
    }
  });

  restart();
  QS.startClock();
})();
