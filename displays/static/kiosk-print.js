/* kiosk-print.js: how a kiosk prints its tickets (kiosk.js uses it).
 *
 *   ?printer=browser          the browser's print dialog (?autoprint=1 prints at once; the default)
 *   ?printer=network:<name>   the server prints on its network printer <name> (printers/<site>.toml)
 *   ?printer=agent            qserver-print-agent on this PC prints on its USB printer
 *   ?documents=0              leave the documents to bring off the paper ticket
 *
 * Settings are given once in the URL and kept in localStorage like the kiosk's token. A printer that is
 * off or out of paper never stops a ticket: print() resolves {ok: false, message} with the sentence the
 * kiosk shows, and the server is told (the console shows a device alert).
 */
(function (global) {
  "use strict";

  /**
   * opts: mode ("browser" | "agent" | "network:<name>"), token() → the kiosk token, documents (bool),
   *       agentUrl (origin of the agent), autoprint (bool, browser mode).
   * Returns {mode, label, print(ticket, explicit) → Promise<{ok, message}>}.
   */
  function KioskPrinter(opts) {
    var mode = opts.mode || "browser";
    var network = mode.indexOf("network:") === 0 ? mode.slice("network:".length) : null;
    var errors = QS.labels.errors;

    function done(ok, message) { return {ok: ok, message: message || ""}; }

    function viaBrowser(ticket, explicit) {
      if (explicit || opts.autoprint) setTimeout(function () { global.print(); }, explicit ? 0 : 300);
      return Promise.resolve(done(true));
    }

    function viaServer(ticket) {
      var body = {printer: network, documents: opts.documents};
      return QS.api("POST", "tickets/" + encodeURIComponent(ticket.id) + "/print", {token: opts.token(), json: body})
        .then(function (res) {
          if (res.ok) return done(true);
          return done(false, QS.splitMessage(QS.errorText(res))[0]);
        });
    }

    /** Tell the server what the agent's printer said (the console's device alert); never blocks the ticket. */
    function report(ticket, answer) {
      var body = {printer: "USB", ok: !!answer.ok, paper_low: !!answer.paper_low, ticket: ticket.number};
      if (!answer.ok) {
        body.code = answer.code || "printer_error";
        body.detail = String(answer.detail || answer.message || "").slice(0, 300);
      }
      QS.api("POST", "printer-status", {token: opts.token(), json: body});
    }

    function viaAgent(ticket) {
      var slipPath = "tickets/" + encodeURIComponent(ticket.id) + "/slip?documents=" + (opts.documents ? "1" : "0");
      return QS.api("GET", slipPath, {token: opts.token()}).then(function (slip) {
        if (!slip.ok) return done(false, QS.splitMessage(QS.errorText(slip))[0]);
        return fetch(opts.agentUrl + "/print", {
          method: "POST", headers: {"Content-Type": "application/json"}, body: JSON.stringify(slip.body),
          cache: "no-store"
        }).then(function (response) {
          return response.json().catch(function () { return {ok: false, code: "printer_error"}; });
        }, function () {
          return {ok: false, code: "printer_offline", message: errors.printer_offline,
                  detail: "qserver-print-agent at " + opts.agentUrl + " does not answer"};
        }).then(function (answer) {
          report(ticket, answer);
          if (answer.ok) return done(true);
          return done(false, answer.message || errors[answer.code] || errors.printer_error);
        });
      });
    }

    return {
      mode: network ? "network" : mode,
      label: network || mode,
      /** Print a ticket; `explicit` is the citizen's "In lại phiếu". */
      print: function (ticket, explicit) {
        if (network) return viaServer(ticket);
        if (mode === "agent") return viaAgent(ticket);
        return viaBrowser(ticket, explicit);
      }
    };
  }

  global.KioskPrinter = KioskPrinter;
})(window);
