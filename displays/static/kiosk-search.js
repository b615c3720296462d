/* kiosk-search.js: "Tìm thủ tục" on the kiosk (kiosk.js uses it).
 *
 * An on-screen keyboard that needs no diacritics (letters, digits, space, backspace; big keys), live
 * results from GET .../procedures?q= as the citizen types (the server forgives missing marks, typos and
 * word order), browsing by field (lĩnh vực), and a procedure page with the documents to bring, the
 * processing time, the fee and whether it can be filed online. opts.onTake(procedure, withOptions) is
 * the kiosk's "Lấy số" there.
 */
(function (global) {
  "use strict";
  var h = QS.h;
  var ROWS = ["1234567890", "qwertyuiop", "asdfghjkl", "zxcvbnm"];
  var DEBOUNCE_MS = 150, RESULTS = 8;

  /** opts: show(step), token() → kiosk token, onTake(procedure, withOptions). */
  function KioskSearch(opts) {
    var input = QS.$("#proc-query");
    var asked = 0;         // the latest request's number: older answers are dropped
    var timer = null;
    var current = null;    // the procedure on its page
    var cameFrom = "search";

    function agencyLine(p) {
      var counters = (p.counters || []).length ? " · Quầy " + p.counters.join(", ") : "";
      return (p.agency_name || (QS.agency(p.agency) || {}).name || p.agency) +
        (p.floor_name ? " · " + p.floor_name : "") + counters;
    }

    function resultButton(p, from) {
      return h("button", {class: "proc-result", type: "button", "data-code": p.code,
                          onclick: function () { openProcedure(p, from); }}, [
        h("span", {class: "proc-result-name", text: p.name}),
        h("span", {class: "proc-result-meta", text: agencyLine(p) + " · " + p.field})
      ]);
    }

    // ---------------------------------------------------------------- the keyboard
    function buildKeyboard() {
      var box = QS.$("#osk");
      if (box.childNodes.length) return;
      ROWS.forEach(function (row) {
        box.appendChild(h("div", {class: "osk-row"}, row.split("").map(function (key) {
          return h("button", {class: "osk-key", type: "button", "data-key": key, text: key.toUpperCase()});
        })));
      });
      box.appendChild(h("div", {class: "osk-row"}, [
        h("button", {class: "osk-key wide", type: "button", "data-key": "clear", text: "Xóa hết"}),
        h("button", {class: "osk-key space", type: "button", "data-key": "space", text: "Dấu cách"}),
        h("button", {class: "osk-key wide", type: "button", "data-key": "backspace", "aria-label": "Xóa một chữ",
                     text: "⌫ Xóa"})
      ]));
      // pointerdown keeps the focus (and the caret) in the search field; click does the typing
      box.addEventListener("pointerdown", function (event) { if (event.target.closest(".osk-key")) event.preventDefault(); });
      box.addEventListener("click", function (event) {
        var key = event.target.closest(".osk-key");
        if (!key) return;
        var name = key.getAttribute("data-key"), value = input.value;
        if (name === "backspace") value = value.slice(0, -1);
        else if (name === "clear") value = "";
        else if (name === "space") value = value && value.slice(-1) !== " " ? value + " " : value;
        else if (value.length < 80) value += name;
        input.value = value;
        changed();
      });
    }

    // ---------------------------------------------------------------- live results
    function say(text) {
      var box = QS.$("#proc-message");
      box.textContent = text || "";
      box.hidden = !text;
    }

    function changed() {
      clearTimeout(timer);
      timer = setTimeout(search, DEBOUNCE_MS);
    }
    input.addEventListener("input", changed);  // a physical keyboard types here too

    function search() {
      var query = input.value.trim();
      var mine = ++asked;
      var list = QS.$("#proc-results");
      if (!query) {
        list.textContent = "";
        document.body.setAttribute("data-results", "0");
        say("Gõ tên thủ tục bằng bàn phím bên dưới, không cần dấu. Ví dụ: ly lich tu phap, giay phep xay dung, doi bang lai.");
        return;
      }
      QS.api("GET", "procedures?limit=" + RESULTS + "&q=" + encodeURIComponent(query), {token: opts.token()})
        .then(function (res) {
          if (mine !== asked) return;  // a newer query is on its way
          list.textContent = "";
          if (!res.ok || !res.body) { say(QS.splitMessage(QS.errorText(res))[0]); return; }
          res.body.results.forEach(function (p) { list.appendChild(resultButton(p, "search")); });
          document.body.setAttribute("data-results", String(res.body.results.length));
          say(res.body.results.length ? "" : res.body.message);
        });
    }

    // ---------------------------------------------------------------- fields
    function openFields() {
      QS.$("#field-procedures").hidden = true;
      QS.$("#fields-all").hidden = true;
      QS.$("#fields-back").hidden = false;
      QS.$("#fields-title").firstChild.textContent = "Thủ tục theo lĩnh vực ";
      var box = QS.$("#field-choices");
      box.hidden = false;
      opts.show("fields");
      if (box.childNodes.length) return;
      QS.api("GET", "procedure-fields", {token: opts.token()}).then(function (res) {
        if (!res.ok || !res.body) return;
        res.body.fields.forEach(function (field) {
          box.appendChild(h("button", {class: "choice field", type: "button", "data-field": field.name,
                                       onclick: function () { openField(field.name); }}, [
            h("div", {text: field.name}),
            h("div", {class: "meta"}, [h("span", {text: field.count + " thủ tục"})])
          ]));
        });
      });
    }

    function openField(name) {
      var list = QS.$("#field-procedures");
      list.textContent = "";
      QS.$("#field-choices").hidden = true;
      QS.$("#fields-all").hidden = false;
      QS.$("#fields-back").hidden = true;
      QS.$("#fields-title").firstChild.textContent = "Lĩnh vực " + name + " ";
      list.hidden = false;
      QS.api("GET", "procedures?limit=500&field=" + encodeURIComponent(name), {token: opts.token()}).then(function (res) {
        if (!res.ok || !res.body) return;
        res.body.results.forEach(function (p) { list.appendChild(resultButton(p, "fields")); });
      });
    }

    // ---------------------------------------------------------------- the procedure page
    function openProcedure(p, from) {
      current = p;
      cameFrom = from;
      QS.$("#pp-name").textContent = p.name;
      QS.$("#pp-agency").textContent = agencyLine(p);
      var docs = QS.$("#pp-documents");
      docs.textContent = "";
      (p.documents || []).forEach(function (item) { docs.appendChild(h("li", {text: item})); });
      QS.$("#pp-time").textContent = p.processing_time || "—";
      QS.$("#pp-fee").textContent = p.fee || "—";
      QS.$("#pp-online").textContent = QS.labels.online[p.online ? "true" : "false"];
      QS.$("#pp-online").setAttribute("data-online", p.online ? "1" : "0");
      QS.$("#pp-field").textContent = p.field;
      QS.$("#pp-code").textContent = p.code;
      QS.$("#pp-note").textContent = p.note || "";
      QS.$("#pp-error").hidden = true;
      QS.$("#step-procedure").setAttribute("data-code", p.code);
      opts.show("procedure");
    }

    QS.$("#proc-browse").addEventListener("click", openFields);
    QS.$("#fields-all").addEventListener("click", openFields);
    QS.$("#fields-back").addEventListener("click", function () { open(false); });
    QS.$("#pp-back").addEventListener("click", function () {
      if (cameFrom === "fields") opts.show("fields"); else open(false);
    });
    QS.$("#pp-take").addEventListener("click", function () { if (current) opts.onTake(current, false); });
    QS.$("#pp-options").addEventListener("click", function () { if (current) opts.onTake(current, true); });

    /** The search step; `fresh` empties the field (a new citizen). */
    function open(fresh) {
      buildKeyboard();
      if (fresh !== false) { input.value = ""; QS.$("#proc-results").textContent = ""; }
      opts.show("search");
      search();
      setTimeout(function () { input.focus(); }, 30);
    }

    return {
      open: open,
      /** Show an error on the procedure page (the issue was refused). */
      problem: function (text) { var box = QS.$("#pp-error"); box.textContent = text; box.hidden = !text; },
      reset: function () { input.value = ""; current = null; QS.$("#proc-results").textContent = ""; }
    };
  }

  global.KioskSearch = KioskSearch;
})(window);
