/* qs.js: the one small client every qserver page shares.
 *
 *   QS.boot                      layout and page data rendered by the server (JSON block #qs-boot)
 *   QS.api(method, path, opts)   fetch → {ok, status, body}; never throws (status 0 = network down)
 *   QS.errorText(res)            a Vietnamese sentence for a refused request
 *   QS.live(opts)                the /ws link: reconnects forever with jittered backoff, resumes with
 *                                `since` (kept fresh by the heartbeats' up_to), treats 45 s of silence
 *                                as dead, shows the offline banner;
 *                                JSON frames (qs.v1.json), or msgpack with ?wire=msgpack
 *   QS.applyFrame(state, frame)  the state object after one server frame (pure, no DOM)
 *
 * No build step, no framework: a TV browser runs this for weeks.
 */
(function (global) {
  "use strict";

  var QS = {};
  var bootNode = document.getElementById("qs-boot");
  QS.boot = bootNode ? JSON.parse(bootNode.textContent) : {};
  QS.site = QS.boot.site || {};
  /** Every Vietnamese label for a machine value (qserver/labels.py): priorities, statuses, errors … */
  QS.labels = QS.boot.labels || {errors: {}, http: {}, priorities: {}, weekdays: {}, rating: {}};
  /** "Quầy 12" (or the counter's configured name). */
  QS.counterName = function (id) {
    var known = (QS.site.counters || []).filter(function (c) { return c.id === String(id); })[0];
    return (known && known.name) || (QS.labels.counter_name || "Quầy {id}").replace("{id}", id);
  };

  // ------------------------------------------------------------------ small helpers
  QS.$ = function (selector, root) { return (root || document).querySelector(selector); };
  QS.$$ = function (selector, root) { return Array.prototype.slice.call((root || document).querySelectorAll(selector)); };

  /** Create an element: QS.h("div", {class: "x", text: "..."}, [children]). */
  QS.h = function (tag, attrs, children) {
    var node = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (key) {
      var value = attrs[key];
      if (value === null || value === undefined || value === false) return;
      if (key === "text") node.textContent = value;
      else if (key === "class") node.className = value;
      else if (key.slice(0, 2) === "on") node.addEventListener(key.slice(2), value);
      else node.setAttribute(key, value === true ? "" : value);
    });
    (children || []).forEach(function (child) {
      if (child === null || child === undefined || child === false) return;
      node.appendChild(typeof child === "string" ? document.createTextNode(child) : child);
    });
    return node;
  };

  QS.agency = function (slug) {
    var list = QS.site.agencies || [];
    for (var i = 0; i < list.length; i++) if (list[i].slug === slug) return list[i];
    return null;
  };
  QS.floorName = function (number) {
    var list = QS.site.floors || [];
    for (var i = 0; i < list.length; i++) if (list[i].number === number) return list[i].name;
    return "Tầng " + number;
  };

  var tz = QS.site.timezone || undefined;
  function formatter(options) {
    try { return new Intl.DateTimeFormat("vi-VN", Object.assign({timeZone: tz}, options)); }
    catch (e) { return new Intl.DateTimeFormat("vi-VN", options); }
  }
  var hhmm = formatter({hour: "2-digit", minute: "2-digit", hour12: false});
  var hhmmss = formatter({hour: "2-digit", minute: "2-digit", second: "2-digit", hour12: false});
  var longDate = formatter({weekday: "long", day: "2-digit", month: "2-digit", year: "numeric"});
  /** "08:05" in the site's time zone, whatever the TV's clock zone is. */
  QS.time = function (value) { return value ? hhmm.format(new Date(value)) : ""; };
  QS.timeSeconds = function (value) { return hhmmss.format(value ? new Date(value) : new Date()); };
  QS.date = function (value) {
    var text = longDate.format(value ? new Date(value) : new Date());
    return text.charAt(0).toUpperCase() + text.slice(1);
  };
  /** "12 phút", "1 giờ 05 phút", "dưới 1 phút" for a number of seconds. */
  QS.duration = function (seconds) {
    if (seconds === null || seconds === undefined || isNaN(seconds)) return "";
    seconds = Math.max(0, Math.round(seconds));
    if (seconds < 60) return "dưới 1 phút";
    var minutes = Math.round(seconds / 60);
    if (minutes < 60) return minutes + " phút";
    var rest = minutes % 60;
    return Math.floor(minutes / 60) + " giờ " + (rest < 10 ? "0" : "") + rest + " phút";
  };
  /** "04:37" (or "1:04:37") elapsed since an ISO time. */
  QS.elapsed = function (since, until) {
    if (!since) return "";
    var total = Math.max(0, Math.floor(((until ? new Date(until) : new Date()) - new Date(since)) / 1000));
    var h = Math.floor(total / 3600), m = Math.floor(total / 60) % 60, s = total % 60;
    var pad = function (n) { return (n < 10 ? "0" : "") + n; };
    return (h ? h + ":" + pad(m) : m) + ":" + pad(s);
  };

  // ------------------------------------------------------------------ what a citizen types (from home)
  /** The 12 digits of a CCCD number, or null (spaces, dots and dashes between digits are allowed). */
  QS.cccdNumber = function (text) {
    var digits = String(text || "").replace(/[\s.\-()]/g, "");
    return /^\d{12}$/.test(digits) && !/^(\d)\1{11}$/.test(digits) ? digits : null;
  };
  /** A Vietnamese mobile number as 0xxxxxxxxx (+84 and 84 accepted), or null (the server checks the same). */
  QS.mobileNumber = function (text) {
    var digits = String(text || "").replace(/[\s.\-()]/g, "");
    if (digits.indexOf("+84") === 0) digits = "0" + digits.slice(3);
    else if (digits.indexOf("84") === 0 && digits.length === 11) digits = "0" + digits.slice(2);
    return /^0(3[2-9]|5[25689]|7[06-9]|8[1-9]|9[0-9])\d{7}$/.test(digits) ? digits : null;
  };

  /** A fresh idempotency key (crypto.randomUUID needs https; getRandomValues works on a LAN http page). */
  QS.newKey = function () {
    var bytes = new Uint8Array(16);
    (global.crypto || global.msCrypto).getRandomValues(bytes);
    return Array.prototype.map.call(bytes, function (b) { return (b < 16 ? "0" : "") + b.toString(16); }).join("");
  };

  // ------------------------------------------------------------------ tokens
  /** The token a page acts with: `?token=` is taken once, kept in localStorage, and removed from the URL. */
  QS.token = function (role) {
    var storageKey = "qs.token." + role + "." + QS.site.slug;
    var params = new URLSearchParams(location.search);
    var fromUrl = params.get("token");
    if (fromUrl) {
      try { localStorage.setItem(storageKey, fromUrl); } catch (e) { /* private mode: keep it in memory */ }
      params.delete("token");
      var rest = params.toString();
      history.replaceState(null, "", location.pathname + (rest ? "?" + rest : "") + location.hash);
      QS["_token_" + role] = fromUrl;
      return fromUrl;
    }
    try { return localStorage.getItem(storageKey) || QS["_token_" + role] || null; }
    catch (e) { return QS["_token_" + role] || null; }
  };
  QS.saveToken = function (role, token) {
    QS["_token_" + role] = token;
    try {
      if (token) localStorage.setItem("qs.token." + role + "." + QS.site.slug, token);
      else localStorage.removeItem("qs.token." + role + "." + QS.site.slug);
    } catch (e) { /* ignore */ }
  };

  /**
   * Follow a token's rotation (`qserver token rotate`): every `everyMs` (and now) ask whoami; when the
   * server says the token is being rotated, exchange it for a fresh one and keep that. `onToken(token)`
   * hands the new token to the page. A screen thus moves to a new secret with nobody touching it.
   */
  QS.followRotation = function (role, getToken, onToken, everyMs) {
    function check() {
      var current = getToken();
      if (!current) return;
      QS.api("GET", "/api/v1/whoami", {token: current}).then(function (res) {
        if (!res.ok || !res.body || !res.body.rotate) return;
        QS.api("POST", "/api/v1/token/exchange", {token: current}).then(function (swap) {
          if (!swap.ok || !swap.body || !swap.body.token) return;
          QS.saveToken(role, swap.body.token);
          onToken(swap.body.token);
        });
      });
    }
    check();
    return setInterval(check, everyMs || 10 * 60 * 1000);
  };

  // ------------------------------------------------------------------ HTTP
  QS.apiBase = "/api/v1/sites/" + encodeURIComponent(QS.site.slug || "");

  /** fetch with JSON in and out; resolves {ok, status, body}, status 0 when the server is unreachable. */
  QS.api = function (method, path, opts) {
    opts = opts || {};
    var headers = {"Accept": "application/json"};
    if (opts.token) headers["Authorization"] = "Bearer " + opts.token;
    var init = {method: method, headers: headers, cache: "no-store"};
    if (opts.json !== undefined) {
      headers["Content-Type"] = "application/json";
      init.body = JSON.stringify(opts.json);
    }
    var url = path.charAt(0) === "/" ? path : QS.apiBase + "/" + path;
    return fetch(url, init).then(function (response) {
      return response.text().then(function (text) {
        var body = null;
        if (text) { try { body = JSON.parse(text); } catch (e) { body = null; } }
        return {ok: response.ok, status: response.status, body: body};
      });
    }, function () {
      return {ok: false, status: 0, body: null};
    });
  };

  var VIETNAMESE = /[àáảãạăằắẳẵặâầấẩẫậèéẻẽẹêềếểễệìíỉĩịòóỏõọôồốổỗộơờớởỡợùúủũụưừứửữựỳýỷỹỵđ]/i;

  /** The Vietnamese sentence to show for a refused request (the server's message is kept when it is Vietnamese). */
  QS.errorText = function (res) {
    var error = res && res.body && res.body.error;
    var message = error && error.message;
    var code = error && error.code;
    if (message && VIETNAMESE.test(message)) return message;
    var text = (code && QS.labels.errors[code]) || QS.labels.http[String(res ? res.status : 0)] ||
      ("Lỗi máy chủ (" + (res ? res.status : "?") + ").");
    if (message && message !== text) text += " (" + message + ")";
    return text;
  };

  /** Server messages read "Vietnamese sentence. / English sentence.": [vietnamese, english or ""]. */
  QS.splitMessage = function (text) {
    var at = (text || "").indexOf(" / ");
    return at < 0 ? [text || "", ""] : [text.slice(0, at), text.slice(at + 3)];
  };

  // ------------------------------------------------------------------ live state
  function emptyState() { return {counters: [], waiting: {}, calls: [], notices: []}; }
  QS.emptyState = emptyState;

  function setCurrent(state, counterId, ticket) {
    var found = false;
    state.counters.forEach(function (counter) {
      if (String(counter.id) === String(counterId)) { counter.current = ticket; found = true; }
    });
    if (!found) {
      var known = (QS.site.counters || []).filter(function (c) { return c.id === String(counterId); })[0] || {};
      state.counters.push({id: String(counterId), floor: known.floor, status: "open",
                           agencies: (known.agencies || []).slice(), current: ticket});
    }
  }
  function clearCurrent(state, counterId, ticket) {
    state.counters.forEach(function (counter) {
      if (String(counter.id) === String(counterId) && counter.current &&
          (!ticket || counter.current.id === ticket.id)) counter.current = null;
    });
  }

  /** The state after one frame. Snapshots replace it; events patch it. Calls are newest first, one per ticket. */
  QS.applyFrame = function (state, frame) {
    state = state || emptyState();
    switch (frame.type) {
      case "snapshot":
        var fresh = Object.assign(emptyState(), frame.state || {});
        fresh.waiting = Object.assign({}, fresh.waiting || {});
        // State calls name their ticket by id (with its number beside it); events carry the whole ticket.
        var seen = {};
        fresh.calls = (fresh.calls || []).map(function (call) {
          if (call.ticket && typeof call.ticket === "object") return call;
          return Object.assign({}, call, {ticket: {id: call.ticket, number: call.number, agency: call.agency}});
        }).filter(function (call) {  // newest first: keep each ticket's latest call only
          var id = call.ticket.id;
          if (seen[id]) return false;
          seen[id] = true;
          return true;
        });
        fresh.counters = (fresh.counters || []).slice();
        fresh.notices = (fresh.notices || []).slice();
        return fresh;
      case "called":
        var call = {
          ticket: frame.ticket, counter: String(frame.counter), floor: frame.floor,
          counter_floor: frame.counter_floor, agency: frame.agency, recall: !!frame.recall,
          at: frame.at, event_id: frame.event_id, live: true
        };
        state.calls = [call].concat(state.calls.filter(function (c) {
          return !(c.ticket && frame.ticket && c.ticket.id === frame.ticket.id);
        })).slice(0, 50);
        setCurrent(state, frame.counter, frame.ticket);
        break;
      case "completed":
      case "no_show":
      case "transferred":
        if (frame.counter !== undefined && frame.counter !== null) clearCurrent(state, frame.counter, frame.ticket);
        state.calls.forEach(function (c) {
          if (c.ticket && frame.ticket && c.ticket.id === frame.ticket.id) c.ticket = frame.ticket;
        });
        break;
      case "procedure":  // the officer corrected the procedure of the ticket being served
        if (frame.counter !== undefined && frame.counter !== null) setCurrent(state, frame.counter, frame.ticket);
        state.calls.forEach(function (c) {
          if (c.ticket && frame.ticket && c.ticket.id === frame.ticket.id) c.ticket = frame.ticket;
        });
        break;
      case "counter":
        var found = false;
        state.counters = state.counters.map(function (counter) {
          if (String(counter.id) !== String(frame.counter.id)) return counter;
          found = true;
          return frame.counter;
        });
        if (!found) state.counters.push(frame.counter);
        break;
      case "queue":
        state.waiting = Object.assign({}, state.waiting, frame.waiting || {});
        break;
      case "notice":
        var now = Date.now();
        state.notices = state.notices.filter(function (n) {  // drop this one's old version and expired ones
          return n.id !== frame.notice.id && (!n.expires_at || new Date(n.expires_at).getTime() > now);
        });
        state.notices.push(frame.notice);
        break;
      default:
        break;
    }
    return state;
  };

  QS.counterIn = function (state, id) {
    for (var i = 0; i < state.counters.length; i++) if (String(state.counters[i].id) === String(id)) return state.counters[i];
    return null;
  };
  QS.activeNotices = function (state, floor) {
    var now = Date.now();
    return (state.notices || []).filter(function (n) {
      var here = floor === undefined || n.floor === null || n.floor === undefined || n.floor === floor;
      return here && (!n.expires_at || new Date(n.expires_at).getTime() > now);
    });
  };

  // ------------------------------------------------------------------ offline banner
  var banner = null;
  function showBanner(online, detail) {
    if (!banner) {
      banner = QS.h("div", {class: "qs-offline", role: "alert", "aria-live": "assertive", hidden: true}, [
        QS.h("strong", {text: "Mất kết nối — đang kết nối lại…"}),
        QS.h("span", {class: "qs-offline-en", text: "Connection lost — reconnecting…"}),
        QS.h("span", {class: "qs-offline-detail"})
      ]);
      document.body.appendChild(banner);
    }
    banner.hidden = online;
    document.body.classList.toggle("is-offline", !online);
    QS.$(".qs-offline-detail", banner).textContent = detail || "";
  }

  // ------------------------------------------------------------------ the websocket link
  // JSON text frames by default; msgpack binary frames when the page was opened with ?wire=msgpack.
  var MSGPACK = QS.boot.wire === "msgpack" && !!global.MessagePack;
  function encodeFrame(obj) { return MSGPACK ? global.MessagePack.encode(obj) : JSON.stringify(obj); }
  function decodeFrame(data) {
    return typeof data === "string" ? JSON.parse(data) : global.MessagePack.decode(new Uint8Array(data));
  }

  var BACKOFF_INITIAL_MS = 500, BACKOFF_FACTOR = 1.8, BACKOFF_MAX_MS = 15000;
  var SILENCE_MS = 45000, OPEN_TIMEOUT_MS = 10000;

  /** Jittered exponential delay for the n-th retry (0-based): 0.5 s, 0.9 s, 1.6 s … capped at 15 s. */
  QS.backoffMs = function (attempt) {
    var delay = Math.min(BACKOFF_MAX_MS, BACKOFF_INITIAL_MS * Math.pow(BACKOFF_FACTOR, attempt));
    return Math.round(delay * (0.7 + 0.3 * Math.random()));
  };

  /** An event id ("1732450000000-3") as [ms, seq] for comparing; null when it is not one. */
  function streamId(text) {
    var match = /^(\d+)-(\d+)$/.exec(text || "");
    return match ? [Number(match[1]), Number(match[2])] : null;
  }
  /**
   * Where the link resumes (`since`) once it has handled a frame (qserver.protocol.next_since): an
   * event's or snapshot's event_id; a heartbeat's up_to (the last event the server fanned out for the
   * site, every event of our topics up to it came before) when it is later; else unchanged.
   */
  QS.nextSince = function (since, frame) {
    if (frame.type === "heartbeat") {
      var upTo = streamId(frame.up_to), current = streamId(since);
      if (!upTo) return since;
      if (!current || upTo[0] > current[0] || (upTo[0] === current[0] && upTo[1] > current[1])) return frame.up_to;
      return since;
    }
    if (frame.event_id && typeof frame.event_id === "string" && frame.type !== "result") return frame.event_id;
    return since;
  };

  /**
   * Keep one websocket to /ws open forever.
   *   opts.topics   ["floor:1", ...]       opts.device  name sent as ?device= (acks are per device)
   *   opts.token    optional               opts.onFrame(frame) every decoded frame but heartbeats
   *   opts.onStatus(online)                opts.banner  false to handle offline display yourself
   * Returns {send(obj), ack(eventId), setTopics(list), lastEventId(), online()}.
   */
  /** Counters a test or a curious technician can read in the console: connects, snapshots, events. */
  QS.stats = {connects: 0, snapshots: 0, events: 0, drops: 0};

  QS.live = function (opts) {
    var topics = opts.topics.slice();
    var ws = null, attempt = 0, retryTimer = null, watchdog = null, online = null, lastEventId = null;
    var useBanner = opts.banner !== false;

    function setOnline(value, detail) {
      if (useBanner) showBanner(value, detail);
      if (online !== value) {
        online = value;
        document.documentElement.setAttribute("data-online", value ? "1" : "0");
        if (opts.onStatus) opts.onStatus(value);
      }
    }
    function url() {
      var params = new URLSearchParams({site: QS.site.slug, topics: topics.join(",")});
      if (lastEventId) params.set("since", lastEventId);
      if (opts.device) params.set("device", opts.device);
      if (opts.token) params.set("token", opts.token);
      return (location.protocol === "https:" ? "wss://" : "ws://") + location.host + "/ws?" + params.toString();
    }
    function arm(sock, ms) {
      clearTimeout(watchdog);
      watchdog = setTimeout(function () { drop(sock, "no frame for " + ms + " ms"); }, ms);
    }
    /** Forget a socket (dead, silent or replaced) and schedule the next attempt. */
    function drop(sock, why, retry) {
      if (sock !== ws) return;
      ws = null;
      QS.stats.drops += 1;
      clearTimeout(watchdog);
      sock.onopen = sock.onmessage = sock.onclose = sock.onerror = null;
      try { sock.close(); } catch (e) { /* already closed */ }
      if (retry !== false) schedule(why);
    }
    function schedule(why) {
      clearTimeout(retryTimer);
      var delay = QS.backoffMs(attempt);
      attempt += 1;
      setOnline(false, "Thử lại sau " + Math.max(1, Math.round(delay / 1000)) + " giây (lần " + attempt + ")");
      retryTimer = setTimeout(connect, delay);
    }
    function connect() {
      clearTimeout(retryTimer);
      var sock;
      try { sock = new WebSocket(url(), [MSGPACK ? "qs.v1.msgpack" : "qs.v1.json"]); }
      catch (e) { ws = null; schedule("constructor failed"); return; }
      sock.binaryType = "arraybuffer";
      ws = sock;
      arm(sock, OPEN_TIMEOUT_MS);
      sock.onopen = function () {
        if (sock !== ws) return;
        QS.stats.connects += 1;
        QS.stats.protocol = sock.protocol;
        arm(sock, SILENCE_MS);
        setOnline(true);
      };
      sock.onmessage = function (event) {
        if (sock !== ws) return;
        arm(sock, SILENCE_MS);
        attempt = 0;  // a server that talks is a healthy one: the next outage starts from a short delay
        var frame;
        try { frame = decodeFrame(event.data); } catch (e) { return; }
        if (!frame || typeof frame.type !== "string") return;
        lastEventId = QS.nextSince(lastEventId, frame);
        if (frame.type === "heartbeat") return;
        if (frame.type === "snapshot") QS.stats.snapshots += 1; else QS.stats.events += 1;
        try { opts.onFrame(frame); } catch (e) { if (global.console) console.error(e); }
      };
      sock.onclose = function () { drop(sock, "closed"); };
      sock.onerror = function () { /* onclose follows */ };
    }
    // A laptop or TV that gets its network back should not wait out a long backoff.
    global.addEventListener("online", function () { if (!ws) { attempt = 0; connect(); } });

    connect();
    return {
      send: function (obj) {
        if (ws && ws.readyState === 1) { ws.send(encodeFrame(obj)); return true; }
        return false;
      },
      ack: function (eventId) {
        if (eventId && ws && ws.readyState === 1) ws.send(encodeFrame({type: "ack", event_id: eventId}));
      },
      setTopics: function (list) {
        var next = list.slice().sort().join(",");
        if (next === topics.slice().sort().join(",")) return;
        topics = list.slice();
        if (ws) drop(ws, "topics changed", false);
        attempt = 0;
        connect();
      },
      lastEventId: function () { return lastEventId; },
      online: function () { return online === true; }
    };
  };

  /**
   * Live state for a page: QS.live + QS.applyFrame. opts.onChange(state, frame) after every frame.
   * A new service day ("day" frame) reloads the state over HTTP instead of patching it.
   */
  QS.follow = function (opts) {
    var state = QS.emptyState();
    var link = QS.live(Object.assign({}, opts, {
      onFrame: function (frame) {
        if (frame.type === "day") {
          QS.api("GET", "state").then(function (res) {
            if (!res.ok || !res.body) return;
            state = QS.applyFrame(state, {type: "snapshot", state: res.body});
            opts.onChange(state, {type: "snapshot", event_id: null, state: res.body});
          });
          return;
        }
        state = QS.applyFrame(state, frame);
        opts.onChange(state, frame);
      }
    }));
    return {link: link, state: function () { return state; }};
  };

  /** "Thứ Hai – Thứ Sáu: 07:00–10:30, 13:00–16:30" from the layout's hours (consecutive equal days merged). */
  QS.hoursText = function () {
    var groups = [];
    var hours = QS.site.hours || {};
    ["mon", "tue", "wed", "thu", "fri", "sat", "sun"].forEach(function (key) {
      if (!hours[key] || !hours[key].length) return;
      var day = QS.labels.weekdays[key] || key;
      var sessions = hours[key].map(function (s) { return s.replace("-", "–"); }).join(", ");
      var last = groups[groups.length - 1];
      if (last && last.sessions === sessions && last.next === key) { last.to = day; }
      else groups.push({from: day, to: null, sessions: sessions});
      groups[groups.length - 1].next = {mon: "tue", tue: "wed", wed: "thu", thu: "fri", fri: "sat", sat: "sun"}[key];
    });
    return groups.map(function (g) {
      return (g.to ? g.from + " – " + g.to : g.from) + ": " + g.sessions;
    }).join(" · ");
  };

  // ------------------------------------------------------------------ clock
  /** Keep every [data-clock] (HH:MM:SS) and [data-date] element ticking in the site's time zone. */
  QS.startClock = function () {
    function tick() {
      QS.$$("[data-clock]").forEach(function (node) {
        node.textContent = node.getAttribute("data-clock") === "hm" ? QS.time(new Date()) : QS.timeSeconds();
      });
      QS.$$("[data-date]").forEach(function (node) { node.textContent = QS.date(); });
    }
    tick();
    setInterval(tick, 1000);
  };

  global.QS = QS;
})(window);
