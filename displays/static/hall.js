/* Hall display of one floor: the floor's last calls ("số → quầy"), waiting per agency, notices. */
(function () {
  "use strict";
  var FLOOR = QS.boot.floor;
  var ROWS = 6;            // the newest call plus five earlier ones
  var FLASH_MS = 6000;     // matches .call.flash (0.6 s × 10) in qs.css
  var callsBox = QS.$("#calls");
  var acked = {}, ackedOrder = [];
  var flash = {eventId: null, until: 0, timer: null, count: 0};

  var ARROW = '<svg viewBox="0 0 24 24" width="1em" height="1em" aria-hidden="true">' +
    '<path fill="currentColor" d="M3 10.5h12.2l-4.6-4.6L12.7 4 21 12l-8.3 8-2.1-1.9 4.6-4.6H3z"/></svg>';

  /** A call belongs to this floor by the ticket's floor and, when different, by the counter's floor. */
  function onThisFloor(call) {
    return call.floor === FLOOR || (call.counter_floor !== undefined && call.counter_floor === FLOOR);
  }

  function callRow(call, newest) {
    var ticket = call.ticket || {};
    var agency = QS.agency(call.agency || ticket.agency);
    var counterFloor = call.counter_floor;
    var otherFloor = counterFloor !== undefined && counterFloor !== null && counterFloor !== FLOOR;
    var row = QS.h("div", {
      class: "call" + (newest ? " newest" : ""), "data-ticket": ticket.id, "data-number": ticket.number,
      "data-counter": call.counter, "data-event-id": call.event_id || ""
    }, [
      QS.h("div", {class: "number num"}, [
        ticket.number || "",
        call.recall ? QS.h("span", {class: "tag", text: "Gọi lại"}) : null,
        QS.h("span", {class: "agency-name", text: ticket.agency_name || (agency && agency.name) || ""})
      ]),
      QS.h("div", {class: "arrow"}),
      QS.h("div", {class: "counter num"}, [
        QS.h("small", {text: otherFloor ? "Quầy · " + QS.floorName(counterFloor) : "Quầy"}),
        String(call.counter)
      ])
    ]);
    QS.$(".arrow", row).innerHTML = ARROW;
    return row;
  }

  function renderCalls(state) {
    var calls = state.calls.filter(onThisFloor).slice(0, ROWS);
    QS.$$(".call", callsBox).forEach(function (node) { node.remove(); });
    for (var i = 0; i < ROWS; i++) {
      if (calls[i]) callsBox.appendChild(callRow(calls[i], i === 0));
      else callsBox.appendChild(QS.h("div", {class: "call empty" + (i === 0 ? " newest" : "")}, [
        QS.h("div", {class: "number", text: i === 0 ? "Chưa có số được gọi" : ""})
      ]));
    }
    var newest = calls[0];
    if (!newest) return;
    var row = QS.$(".call.newest", callsBox);
    if (newest.live && newest.event_id && newest.event_id !== flash.eventId) {
      // A new call or a recall (a recall is a new event): flash the newest row again.
      flash.eventId = newest.event_id;
      flash.until = Date.now() + FLASH_MS;
      flash.count += 1;
      document.body.setAttribute("data-flash-count", String(flash.count));
      clearTimeout(flash.timer);
      flash.timer = setTimeout(function () {
        var current = QS.$(".call.newest.flash", callsBox);
        if (current) current.classList.remove("flash");
      }, FLASH_MS);
    }
    if (newest.event_id === flash.eventId && Date.now() < flash.until) {
      row.classList.add("flash");
      row.setAttribute("data-flash", String(flash.count));
    }
    // Tell the server this screen showed the call (the console lists devices that stop acknowledging).
    calls.forEach(function (call) {
      if (call.live && call.event_id && !acked[call.event_id]) {
        acked[call.event_id] = true;
        ackedOrder.push(call.event_id);
        if (ackedOrder.length > 200) delete acked[ackedOrder.shift()];  // weeks on the wall: stay small
        follower.link.ack(call.event_id);
      }
    });
  }

  function renderWaiting(state) {
    var servedBy = {};
    (state.counters.length ? state.counters : QS.site.counters).forEach(function (counter) {
      if (counter.status && counter.status === "closed") return;
      (counter.agencies || []).forEach(function (slug) {
        (servedBy[slug] = servedBy[slug] || []).push(String(counter.id));
      });
    });
    QS.$$(".agency-row").forEach(function (row) {
      var slug = row.getAttribute("data-agency");
      var count = state.waiting[slug];
      var node = QS.$(".count", row);
      node.textContent = count === undefined ? "–" : String(count);
      node.classList.toggle("zero", !count);
      var counters = (servedBy[slug] || []).sort(function (a, b) { return a.localeCompare(b, "vi", {numeric: true}); });
      QS.$(".counters", row).textContent = counters.length ? QS.labels.counter_name.replace("{id}", counters.join(", ")) : "";
    });
  }

  function renderNotices(state) {
    var notices = QS.activeNotices(state, FLOOR);
    var label = QS.$("#ticker-label"), ticker = QS.$("#ticker");
    var text = notices.length ? notices.map(function (n) { return n.text; }).join("   •   ")
      : QS.hoursText() + (QS.site.address ? "   •   " + QS.site.address : "");
    label.textContent = notices.length ? "Thông báo" : "Giờ tiếp nhận";
    if (ticker.getAttribute("data-text") === text) return;
    ticker.setAttribute("data-text", text);
    ticker.textContent = text;
    ticker.classList.remove("scroll");
    // Scroll only what does not fit, about 8 characters a second, as two copies that loop seamlessly.
    if (ticker.scrollWidth > ticker.parentNode.clientWidth) {
      ticker.textContent = "";
      ticker.appendChild(QS.h("span", {text: text}));
      ticker.appendChild(QS.h("span", {text: text, "aria-hidden": "true"}));
      ticker.style.animationDuration = Math.max(15, Math.round(text.length / 8)) + "s";
      ticker.classList.add("scroll");
    }
  }

  var follower = QS.follow({
    topics: ["floor:" + FLOOR],
    device: QS.boot.device,
    onChange: function (state, frame) {
      if (frame.type === "snapshot" || frame.type === "called") renderCalls(state);
      if (frame.type === "snapshot" || frame.type === "queue" || frame.type === "counter") renderWaiting(state);
      if (frame.type === "snapshot" || frame.type === "notice") renderNotices(state);
    }
  });

  renderCalls(QS.emptyState());
  renderNotices(QS.emptyState());
  setInterval(function () { renderNotices(follower.state()); }, 30000);
  QS.startClock();
})();
