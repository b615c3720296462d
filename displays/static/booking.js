/* /s/<site>/hen: book a visit (agency, day, slot, CCCD and mobile numbers), then its confirmation page
 * /s/<site>/hen/<code> with the code and its QR, to cancel it or move it to another slot. */
(function () {
  "use strict";
  var options = QS.boot.options || {agencies: [], days: []};
  var code = QS.boot.code;
  var pick = {agency: null, day: null, time: null};
  var key = QS.newKey(), busy = false, booking = null;
  var STATUS = QS.labels.booking_status || {};

  QS.$("#hours").textContent = QS.hoursText();
  QS.$("#book-rules").textContent = options.enabled ? "Khi đến, xác nhận tại máy lấy số từ " +
    options.checkin_before_minutes + " phút trước giờ hẹn đến " + options.grace_minutes + " phút sau giờ hẹn; " +
    "đến muộn hơn thì lấy số thường." : QS.labels.errors.appointments_disabled;

  function dayText(iso) {
    return new Intl.DateTimeFormat("vi-VN", {timeZone: "UTC", weekday: "short", day: "2-digit", month: "2-digit"})
      .format(new Date(iso + "T00:00:00Z"));
  }
  function fail(box, res) {
    var node = QS.$(box);
    node.hidden = false;
    node.textContent = QS.splitMessage(QS.errorText(res))[0];
  }

  // ---------------------------------------------------------------- choose agency, day, slot
  var select = QS.$("#agency");
  options.agencies.forEach(function (a) { select.appendChild(QS.h("option", {value: a.slug, text: a.name})); });
  select.addEventListener("change", function () { pick.agency = select.value || null; pick.time = null; renderDays(); });

  function renderDays() {
    var box = QS.$("#days");
    box.textContent = "";
    QS.$("#slots").textContent = "";
    QS.$("#book-form").hidden = true;
    QS.$("#move-go").hidden = true;
    if (!pick.agency) return;
    if (!pick.day || options.days.indexOf(pick.day) < 0) pick.day = options.days[0] || null;
    options.days.forEach(function (day) {
      box.appendChild(QS.h("button", {type: "button", class: day === pick.day ? "chosen" : "", "data-day": day,
        onclick: function () { pick.day = day; pick.time = null; renderDays(); }, text: dayText(day)}));
    });
    if (pick.day) loadSlots();
  }

  function loadSlots() {
    var agency = pick.agency, day = pick.day;
    QS.api("GET", "slots?agency=" + encodeURIComponent(agency) + "&date=" + day).then(function (res) {
      if (agency !== pick.agency || day !== pick.day) return;
      var box = QS.$("#slots");
      box.textContent = "";
      if (!res.ok) { fail("#book-error", res); return; }
      var any = false;
      res.body.slots.forEach(function (slot) {
        if (!slot.bookable && !slot.closed && slot.free > 0) return;  // past or too near: not worth showing
        any = true;
        box.appendChild(QS.h("button", {type: "button", class: slot.time === pick.time ? "chosen" : "",
          "data-time": slot.time, disabled: !slot.bookable, title: slot.problem || "",
          onclick: function () { pick.time = slot.time; loadSlots(); showForm(); }}, [
          slot.time, QS.h("small", {text: slot.closed ? "đã đóng" : slot.free ? "còn " + slot.free + " chỗ" : "hết chỗ"})]));
      });
      if (!any) box.appendChild(QS.h("div", {class: "muted-dark", text: "Ngày này không còn khung giờ nào."}));
    });
  }

  function showForm() {
    var agency = options.agencies.filter(function (a) { return a.slug === pick.agency; })[0] || {};
    QS.$("#picked").textContent = agency.name + " · " + pick.time + " " + dayText(pick.day);
    QS.$("#book-error").hidden = true;
    if (booking) { QS.$("#move-go").hidden = false; return; }
    QS.$("#book-form").hidden = false;
    QS.$("#cccd").focus();
  }

  QS.$("#book-form").addEventListener("submit", function (event) {
    event.preventDefault();
    if (busy) return;
    var cccd = QS.cccdNumber(QS.$("#cccd").value), phone = QS.mobileNumber(QS.$("#phone").value);
    QS.$("#cccd-bad").hidden = !!cccd;
    QS.$("#phone-bad").hidden = !!phone;
    if (!cccd || !phone) return;
    busy = true;
    QS.$("#book-go").disabled = true;
    QS.api("POST", "bookings", {json: {agency: pick.agency, date: pick.day, time: pick.time, cccd: cccd, phone: phone,
                                      key: key}}).then(function (res) {
      busy = false;
      QS.$("#book-go").disabled = false;
      if (res.status === 201) { location.href = res.body.url; return; }
      fail("#book-error", res);
      loadSlots();
    });
  });

  // ---------------------------------------------------------------- the confirmation page
  function renderBooking() {
    QS.$("#b-code").textContent = booking.code;
    QS.$("#b-status").textContent = STATUS[booking.status] || booking.status;
    QS.$("#b-status").setAttribute("data-status", booking.status);
    QS.$("#b-agency").textContent = booking.agency_name + " · " + QS.floorName(booking.floor);
    QS.$("#b-day").textContent = dayText(booking.day);
    QS.$("#b-time").textContent = booking.time;
    QS.$("#b-window").textContent = QS.time(booking.checkin_from) + " – " + QS.time(booking.checkin_until);
    var standing = booking.status === "booked";
    QS.$("#b-actions").hidden = !standing;
    QS.$("#b-qr").hidden = !standing;
    if (standing) QS.$("#b-qr-img").setAttribute("src", booking.qr_url);
    QS.$("#b-note").textContent = standing ? "Lưu lại mã này hoặc chụp màn hình. Khi đến trung tâm, xác nhận tại máy lấy số " +
      "từ " + QS.time(booking.checkin_from) + " đến " + QS.time(booking.checkin_until) + "." :
      booking.status === "cancelled" ? "Lịch hẹn đã hủy" + (booking.cancel_reason === "slot_closed" ?
        " vì khung giờ tạm ngừng tiếp nhận" + (booking.cancel_note ? " (" + booking.cancel_note + ")" : "") : "") + "." :
      booking.status === "checked_in" ? "Đã nhận số tại trung tâm." : "Lịch hẹn đã quá hạn.";
  }
  function loadBooking() {
    QS.api("GET", "bookings/" + encodeURIComponent(code)).then(function (res) {
      if (!res.ok) { fail("#b-error", res); QS.$("#b-actions").hidden = true; return; }
      booking = res.body;
      renderBooking();
    });
  }
  if (code) {
    QS.$("#b-cancel").addEventListener("click", function () {
      if (!window.confirm("Hủy lịch hẹn " + booking.code + "?")) return;
      QS.api("POST", "bookings/" + encodeURIComponent(code) + "/cancel").then(function (res) {
        if (!res.ok) { fail("#b-error", res); return; }
        booking = res.body;
        renderBooking();
        QS.$("#book").hidden = true;
      });
    });
    QS.$("#b-move").addEventListener("click", function () {
      QS.$("#book").hidden = false;
      QS.$("#agency-field").hidden = true;
      pick.agency = booking.agency;
      pick.day = booking.day;
      renderDays();
    });
    QS.$("#move-go").addEventListener("click", function () {
      QS.api("POST", "bookings/" + encodeURIComponent(code) + "/move", {json: {date: pick.day, time: pick.time}})
        .then(function (res) {
          if (!res.ok) { fail("#book-error", res); loadSlots(); return; }
          booking = res.body;
          renderBooking();
          QS.$("#book").hidden = true;
        });
    });
    loadBooking();
  }
})();
