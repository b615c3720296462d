/* Counter-top display: the number being served at one counter, huge; paused, closed and idle states. */
(function () {
  "use strict";
  var COUNTER = String(QS.boot.counter);
  var FLASH_MS = 6000;
  var body = QS.$("#cd-body");
  var acked = {}, lastFlashed = null, flashTimer = null, flashUntil = 0;

  function agencyNames(slugs) {
    return (slugs || []).map(function (slug) { var a = QS.agency(slug); return a ? a.name : slug; }).join(" · ");
  }

  function render(state, frame) {
    var counter = QS.counterIn(state, COUNTER);
    var status = counter ? counter.status : "open";
    var ticket = counter ? counter.current : null;
    var view;
    if (status === "closed") view = {state: "closed", caption: "", serving: QS.labels.counter_status.closed, agency: "Counter closed"};
    else if (status === "paused") {
      view = {state: "paused", caption: counter.reason || "", serving: QS.labels.counter_status.paused, agency: "Xin vui lòng chờ · Please wait"};
    } else if (ticket) {
      view = {state: "serving", caption: QS.labels.counter_state.serving + " số · Now serving", serving: ticket.number,
              agency: ticket.agency_name || agencyNames([ticket.agency])};
    } else view = {state: "idle", caption: "Chưa có số · No ticket", serving: "----", agency: ""};

    body.className = "cd-body stale-dim state-" + view.state + (Date.now() < flashUntil ? " flash" : "");
    body.setAttribute("data-state", view.state);
    body.setAttribute("data-number", ticket && view.state === "serving" ? ticket.number : "");
    QS.$("#cd-caption").textContent = view.caption;
    QS.$("#cd-serving").textContent = view.serving;
    QS.$("#cd-agency").textContent = view.agency;
    if (counter && counter.agencies) QS.$("#cd-foot").textContent = agencyNames(counter.agencies);

    if (frame.type === "called" && String(frame.counter) === COUNTER && frame.event_id !== lastFlashed) {
      lastFlashed = frame.event_id;
      flashUntil = Date.now() + FLASH_MS;
      body.classList.remove("flash");
      void body.offsetWidth;  // restart the animation for a recall
      body.classList.add("flash");
      clearTimeout(flashTimer);
      flashTimer = setTimeout(function () { body.classList.remove("flash"); }, FLASH_MS);
      if (!acked[frame.event_id]) {
        acked = {};  // only the last one matters here
        acked[frame.event_id] = true;
        follower.link.ack(frame.event_id);
      }
    }
  }

  var follower = QS.follow({
    topics: ["counter:" + COUNTER],
    device: QS.boot.device,
    onChange: render
  });
  QS.startClock();
})();
