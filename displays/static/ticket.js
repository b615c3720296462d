/* Citizen ticket page (opened from the QR on the paper ticket): live status, people ahead, wait, where to go. */
(function () {
  "use strict";
  var TICKET_ID = QS.boot.ticket_id;
  var ticket = null;
  var follower = null;
  var refreshTimer = null;
  var calledCounter = null;

  QS.$("#t-hours").textContent = QS.hoursText();

  function counterFloorText(counterId) {
    var c = QS.site.counters.filter(function (x) { return x.id === String(counterId); })[0];
    return c ? QS.floorName(c.floor) : "";
  }

  function render() {
    if (!ticket) return;
    var agency = QS.agency(ticket.agency) || {};
    QS.$("#t-number").textContent = ticket.number;
    QS.$("#t-agency").textContent = ticket.agency_name || agency.name || ticket.agency;
    QS.$("#t-floor").textContent = QS.floorName(ticket.floor !== undefined ? ticket.floor : agency.floor);
    QS.$("#t-issued").textContent = QS.time(ticket.issued_at);
    var procedure = QS.$("#t-procedure");
    procedure.hidden = !ticket.procedure;
    procedure.textContent = ticket.procedure ? "Thủ tục: " + ticket.procedure.name : "";
    document.title = "Số " + ticket.number + " — " + (QS.site.short_name || QS.site.name);
    var status = QS.$("#t-status");
    status.className = "citizen-status " + ticket.status;
    status.setAttribute("data-status", ticket.status);
    status.textContent = "";
    var waiting = ticket.status === "waiting";
    QS.$("#t-facts").hidden = !waiting;
    if (waiting) {
      status.appendChild(document.createTextNode(ticket.ahead === 0 ? "Sắp đến lượt bạn" : "Đang chờ đến lượt"));
      status.appendChild(QS.h("small", {text: ticket.ahead === 0 ? "You are next" : "Waiting"}));
      QS.$("#t-ahead").textContent = ticket.ahead === null || ticket.ahead === undefined ? "–" : String(ticket.ahead);
      QS.$("#t-eta").textContent = ticket.eta_s === null || ticket.eta_s === undefined ? "–" :
        (ticket.eta_s < 60 ? "dưới 1 phút" : "khoảng " + QS.duration(ticket.eta_s));
    } else if (ticket.status === "called") {
      var counterId = ticket.counter || calledCounter;
      var floorText = counterFloorText(counterId);
      status.appendChild(document.createTextNode("Mời đến quầy số " + counterId));
      status.appendChild(QS.h("small", {text: (floorText ? floorText + " · " : "") + "Please go to counter " + counterId}));
      if (navigator.vibrate) { try { navigator.vibrate([300, 150, 300]); } catch (e) { /* not allowed */ } }
    } else if (ticket.status === "done") {
      status.appendChild(document.createTextNode("Đã hoàn thành. Cảm ơn quý công dân!"));
      status.appendChild(QS.h("small", {text: "Done. Thank you!"}));
    } else if (ticket.status === "no_show") {
      status.appendChild(document.createTextNode("Số đã được gọi nhưng quý công dân vắng mặt"));
      status.appendChild(QS.h("small", {text: "Missed. Please ask the staff at the information desk."}));
    } else if (ticket.status === "expired") {
      status.appendChild(document.createTextNode("Số đã hết hiệu lực"));
      status.appendChild(QS.h("small", {text: "Expired"}));
    } else {
      status.appendChild(document.createTextNode(ticket.status));
    }
  }

  function load() {
    return QS.api("GET", "tickets/" + encodeURIComponent(TICKET_ID)).then(function (res) {
      if (res.ok && res.body) {
        ticket = res.body;
        render();
        if (!follower) startLive();
        return;
      }
      if (res.status === 404) {
        var status = QS.$("#t-status");
        status.className = "citizen-status missing";
        status.setAttribute("data-status", "missing");
        status.textContent = QS.labels.errors.unknown_ticket;
        status.appendChild(QS.h("small", {text: "Ticket not found. Please check the QR code."}));
        QS.$("#t-number").textContent = "----";
        return;
      }
      if (!ticket) {  // server unreachable before the first answer: try again shortly
        QS.$("#t-status").textContent = QS.errorText(res);
        setTimeout(load, 5000);
      }
    });
  }

  /** Another ticket of the agency moved: our "ahead" changed; ask once things settle. */
  function refreshSoon() {
    clearTimeout(refreshTimer);
    refreshTimer = setTimeout(load, 800);
  }

  function startLive() {
    follower = QS.live({
      topics: ["ticket:" + TICKET_ID, "agency:" + ticket.agency],
      onFrame: function (frame) {
        if (frame.ticket && frame.ticket.id === TICKET_ID) {
          ticket = Object.assign({}, ticket, frame.ticket);
          if (frame.type === "called") calledCounter = frame.counter;
          if (frame.type === "transferred" && frame.agency !== undefined) {
            follower.setTopics(["ticket:" + TICKET_ID, "agency:" + frame.ticket.agency]);
          }
          render();
          if (ticket.status === "waiting") refreshSoon();
        } else if (frame.type === "snapshot" || frame.type === "issued" || frame.type === "called" ||
                   frame.type === "transferred" || frame.type === "queue" || frame.type === "no_show") {
          if (ticket && ticket.status === "waiting") refreshSoon();
          else if (frame.type === "snapshot") refreshSoon();
        }
      }
    });
  }

  load();
})();
