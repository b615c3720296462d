"""Every Lua script of the engine: one script per transition, atomic, one round trip.

All scripts share one calling convention (built by ``engine.SiteEngine._keys/_argv``) so each one can
read and write any key of its site without building a key name in Lua:

KEYS                                          ARGV
 1 events (stream)                             1 now (ms since the epoch; time is never read in Lua)
 2 current_day (string)                        2 service day ("2026-11-24")
 3 tickets (hash id → JSON)                    3 stream MAXLEN (approximate trim)
 4 ticket_index (zset id → issued ms)          4 actor ("officer:12", "manager:lan", ...)
 5 counters (hash id → JSON)                   5 idempotency field ("" for none)
 6 idempotency of the day (hash)               6 TTL of day keys (s)
 7 calls (list, newest first)                  7 the site's agency slugs, comma-separated
 8 service_times (hash agency → JSON list)     8.. the script's own arguments (in each header)
 9 numbers of the day (hash agency → seq)
10 persons of the day (hash)
11 issue_seq (integer)
12 stats of the day (hash: counts and sums)
13..12+A queue of each agency, in ARGV[7]'s order

Every script answers one JSON string: the result (with ``status``) or ``{"err": code, ...}``. A
refusal writes nothing. An answer given under an idempotency field is stored and given again.
Tickets and counters are JSON objects; a missing field means null (Lua tables cannot hold nil, and
qserver never stores JSON null, which cjson would turn into a truthy value).
"""

from __future__ import annotations

from .scripts_home import HOME_BODIES, HOME_HELPERS, LEASE_SCRIPTS

__all__ = ["SCRIPTS", "PLAIN_SCRIPTS"]

PRELUDE = r"""
local now = tonumber(ARGV[1])
local day = ARGV[2]
local maxlen = ARGV[3]
local actor = ARGV[4]
local idem = ARGV[5]
local ttl = tonumber(ARGV[6])
local K_EVENTS, K_DAY, K_TICKETS, K_INDEX, K_COUNTERS = KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5]
local K_IDEM, K_CALLS, K_SVC, K_NUMBERS, K_PERSONS, K_SEQ = KEYS[6], KEYS[7], KEYS[8], KEYS[9], KEYS[10], KEYS[11]
local K_STATS = KEYS[12]
local NORMAL = 1000000000000  -- normal tickets sort after every priority ticket

-- The site's agencies (ARGV[7]) in the order of their queues' KEYS. A transition names an agency or
-- two, so the list is searched, not split, for each (splitting it cost as much as the rest of the
-- prelude): qkey[slug] is the agency's queue key (nil for an unknown slug), by_index(offset) a table
-- of slug → KEYS[offset + position] (the CALL_NEXT's appointment queues), all_agencies() the list.
local AGENCY_LIST = ',' .. ARGV[7] .. ','
local agencies, agency_count

local function agency_position(slug)
  if type(slug) ~= 'string' or slug == '' then return nil end
  local at = string.find(AGENCY_LIST, ',' .. slug .. ',', 1, true)
  if not at then return nil end
  local position, comma = 0, 0
  repeat  -- the commas up to the one before the slug
    comma = string.find(AGENCY_LIST, ',', comma + 1, true)
    position = position + 1
  until comma >= at
  return position
end

local function by_index(offset)
  return setmetatable({}, {__index = function(known, slug)
    local position = agency_position(slug)
    if not position then return nil end
    local key = KEYS[offset + position]
    rawset(known, slug, key)
    return key
  end})
end

local qkey = by_index(12)

local function all_agencies()
  if not agencies then
    agencies = {}
    for slug in string.gmatch(ARGV[7], '[^,]+') do agencies[#agencies + 1] = slug end
  end
  return agencies
end

local function count_agencies()
  if not agency_count then
    agency_count = ARGV[7] == '' and 0 or select(2, string.gsub(ARGV[7], ',', ',')) + 1
  end
  return agency_count
end

-- The JSON of tickets this call stored and does not change afterwards (keyed by the Lua table, see
-- keep_ticket): the events and the answer splice it in instead of encoding the same ticket again
-- (cjson takes ~5 µs per ticket, the largest part of a transition's cost in Redis).
local stored_json = {}

-- cjson.encode(object), each field holding a kept ticket spliced in as its stored JSON.
local function encode(object)
  local parts, rest
  for name, value in pairs(object) do
    local json = stored_json[value]
    if json then
      if not parts then
        parts, rest = {}, {}
        for k, v in pairs(object) do rest[k] = v end
      end
      parts[#parts + 1] = '"' .. name .. '":' .. json
      rest[name] = nil
    end
  end
  if not parts then return cjson.encode(object) end
  local others = cjson.encode(rest)
  if others == '{}' then return '{' .. table.concat(parts, ',') .. '}' end
  return '{' .. table.concat(parts, ',') .. ',' .. string.sub(others, 2)
end

local function fail(code, extra)
  local r = extra or {}
  r.err = code
  return cjson.encode(r)
end

local function finish(result)
  local encoded = encode(result)
  if idem ~= '' then
    redis.call('HSET', K_IDEM, idem, encoded)
    redis.call('EXPIRE', K_IDEM, ttl)
  end
  return encoded
end

local function emit(kind, payload)
  payload.type = kind
  payload.at = now
  payload.actor = actor
  return redis.call('XADD', K_EVENTS, 'MAXLEN', '~', maxlen, '*', 'e', encode(payload))
end

-- The day's running totals (what the city console reads instead of every ticket). Day keys get their
-- TTL when they are made, and a hash is made by a field's first increment: only that one sets it
-- (each redis.call costs a few µs, and a call-next makes four counts).
local function count(field, by)
  by = by or 1
  if redis.call('HINCRBY', K_STATS, field, by) == by then redis.call('EXPIRE', K_STATS, ttl) end
end

local function get_ticket(id)
  local raw = redis.call('HGET', K_TICKETS, id)
  if raw then return cjson.decode(raw) end
  return nil
end

local function put_ticket(t)
  local json = cjson.encode(t)
  redis.call('HSET', K_TICKETS, t.id, json)
  return json
end

-- put_ticket, for a ticket the script does not change afterwards: its events and answer reuse the JSON.
local function keep_ticket(t)
  stored_json[t] = put_ticket(t)
end

local function get_counter(id)
  local raw = redis.call('HGET', K_COUNTERS, id)
  if raw then return cjson.decode(raw) end
  return nil
end

local function put_counter(c)
  redis.call('HSET', K_COUNTERS, c.id, cjson.encode(c))
end

local function waiting(slugs)
  local counts = {}
  for _, slug in ipairs(slugs) do counts[slug] = redis.call('ZCARD', qkey[slug]) end
  return counts
end

local function emit_queue(slugs)
  emit('queue', {waiting = waiting(slugs)})
end

local function score_of(t)
  if t.priority then return t.seq end
  return NORMAL + t.seq
end

-- A procedure belongs to one agency: a ticket moved to another one leaves its procedure behind
-- (named in the event as from_procedure, for the audit trail).
local function drop_procedure(t, payload)
  if t.procedure then
    payload.from_procedure = t.procedure
    payload.from_procedure_name = t.procedure_name
    t.procedure = nil
    t.procedure_name = nil
  end
end

local function counter_event(c)
  local payload = {counter = c}
  if c.current then payload.ticket = get_ticket(c.current) end
  emit('counter', payload)
end

-- Finish the ticket being served at counter c (c is saved by the caller).
local function complete_current(c, outcome)
  local t = get_ticket(c.current)
  c.current = nil
  if not t then return nil end
  t.status = 'done'
  t.outcome = outcome
  t.done_at = now
  keep_ticket(t)
  c.served = (c.served or 0) + 1
  count('served')
  if t.called_at then
    count('service_ms', now - t.called_at)
    local list = {}
    local raw = redis.call('HGET', K_SVC, t.agency)
    if raw then list = cjson.decode(raw) end
    table.insert(list, now - t.called_at)
    while #list > 20 do table.remove(list, 1) end
    redis.call('HSET', K_SVC, t.agency, cjson.encode(list))
  end
  emit('completed', {ticket = t, counter = c.id})
  return t
end

local function announce_call(c, t, recall, extra)
  local payload = {ticket = t, counter = c.id, floor = t.floor, counter_floor = c.floor, agency = t.agency,
                   recall = recall}
  if extra then for k, v in pairs(extra) do payload[k] = v end end
  local event_id = emit('called', payload)
  local call = {ticket = t.id, number = t.number, counter = c.id, floor = t.floor, counter_floor = c.floor,
                agency = t.agency, recall = recall, at = now, event_id = event_id}
  -- the newest 100 calls are kept (readers take 50), trimmed back when 50 more have come
  if redis.call('LPUSH', K_CALLS, cjson.encode(call)) > 150 then redis.call('LTRIM', K_CALLS, 0, 99) end
end

local function call_ticket(c, t, extra)
  redis.call('ZREM', qkey[t.agency], t.id)
  count('called')
  count('wait_ms', now - t.issued_at)
  t.status = 'called'
  t.called_at = now
  t.counter = c.id
  t.officer = actor
  keep_ticket(t)
  c.current = t.id
  put_counter(c)
  announce_call(c, t, false, extra)
  emit_queue({t.agency})
end

-- A counter that may call: known, open. Returns c or an error answer.
local function open_counter(id)
  local c = get_counter(id)
  if not c then return nil, fail('unknown_counter', {counter = id}) end
  if c.status == 'closed' then return nil, fail('counter_closed', {counter = id}) end
  if c.status == 'paused' then return nil, fail('counter_paused', {counter = id}) end
  return c
end

local function serving_counter(id)
  local c = get_counter(id)
  if not c then return nil, nil, fail('unknown_counter', {counter = id}) end
  if not c.current then return nil, nil, fail('nothing_current', {counter = id}) end
  local t = get_ticket(c.current)
  if not t then return nil, nil, fail('nothing_current', {counter = id}) end
  return c, t
end

-- Checks every script makes first: the service day, then a stored idempotent answer.
do
  local current = redis.call('GET', K_DAY)
  if not current then
    redis.call('SET', K_DAY, day)
  elseif current < day and SCRIPT_NAME ~= 'rollover' and SCRIPT_NAME ~= 'seed_counters' then
    return cjson.encode({err = 'rollover', day = current})
  end
  if idem ~= '' then
    local prev = redis.call('HGET', K_IDEM, idem)
    if prev then return prev end
  end
end
"""

ISSUE = r"""
-- ARGV[8] agency, [9] Lua number format (string.format), [10] floor, [11] priority or '',
-- [12] keyed person hash or '', [13] ticket id prefix (yyyymmdd), [14] site slug,
-- [15] procedure code or '' (checked against the agency by the caller), [16] its name
local agency, fmt, floor, priority = ARGV[8], ARGV[9], tonumber(ARGV[10]), ARGV[11]
local person, idprefix, site = ARGV[12], ARGV[13], ARGV[14]
local procedure, procedure_name = ARGV[15], ARGV[16]
if not qkey[agency] then return fail('unknown_agency', {agency = agency}) end
local person_field = person .. ':' .. agency
if person ~= '' then
  local held = redis.call('HGET', K_PERSONS, person_field)
  if held then
    local h = get_ticket(held)
    if h and (h.status == 'waiting' or h.status == 'called') then
      return fail('active_ticket', {ticket = h.number})
    end
  end
end
local n = redis.call('HINCRBY', K_NUMBERS, agency, 1)
if n == 1 then redis.call('EXPIRE', K_NUMBERS, ttl) end  -- made now (see count)
local number = string.format(fmt, n)
local t = {id = idprefix .. '-' .. number, number = number, site = site, agency = agency, floor = floor,
           status = 'waiting', issued_at = now, seq = redis.call('INCR', K_SEQ), n = n, recalls = 0}
if priority ~= '' then t.priority = priority end
if procedure ~= '' then
  t.procedure = procedure
  t.procedure_name = procedure_name
end
if person ~= '' then
  t.person = true
  redis.call('HSET', K_PERSONS, person_field, t.id)
  redis.call('EXPIRE', K_PERSONS, ttl)
end
keep_ticket(t)
redis.call('ZADD', K_INDEX, now, t.id)
redis.call('ZADD', qkey[agency], score_of(t), t.id)
count('issued')
t.ahead = redis.call('ZRANK', qkey[agency], t.id)
stored_json[t] = string.sub(stored_json[t], 1, -2) .. ',"ahead":' .. t.ahead .. '}'  -- the answer has ahead, the stored ticket not
emit('issued', {ticket = t})
emit_queue({agency})
return finish({status = 201, ticket = t})
"""

CALL_NEXT = r"""
-- ARGV[8] counter id, [9] appointment calls in a row allowed at an agency while one of its walk-ins has
-- waited longer than [10] ms (0: no limit).
-- KEYS after the queues: the appointments of each agency (ARGV[7]'s order: checked-in appointment tickets
-- by slot time), then the blend hash (agency → calls in a row of appointments whose time had come).
-- The `called` event of an appointment taken ahead of a walk-in says `appointment_turn`.
-- Order: priority tickets; then an appointment whose slot time has come (earliest slot first), ahead of
-- walk-ins, unless its agency has had [9] appointment calls in a row and its oldest walk-in has waited
-- more than [10] ms; then the first issued (a checked-in appointment waits by its check-in before its time).
local c, refused = open_counter(ARGV[8])
if not c then return refused end
if c.current then complete_current(c, 'completed') end
local streak_max, guard_ms = tonumber(ARGV[9] or '0') or 0, tonumber(ARGV[10] or '0') or 0
local K_BLEND = KEYS[12 + 2 * count_agencies() + 1]
local akey = {}
if K_BLEND then akey = by_index(12 + count_agencies()) end
local best_id, best_score
for _, slug in ipairs(c.agencies) do
  local key = qkey[slug]
  if key then
    local head = redis.call('ZRANGE', key, 0, 0, 'WITHSCORES')
    -- strictly lower: on a tie the agency earlier in the counter's preference order wins
    if head[1] and (not best_score or tonumber(head[2]) < best_score) then
      best_id, best_score = head[1], tonumber(head[2])
    end
  end
end

-- The earliest appointment of an agency whose slot has come and which still waits there as one.
local function due_head(slug)
  local key = akey[slug]
  if not key or not qkey[slug] then return nil end
  for _ = 1, 20 do
    local head = redis.call('ZRANGEBYSCORE', key, '-inf', now, 'WITHSCORES', 'LIMIT', 0, 1)
    if not head[1] then return nil end
    local t = get_ticket(head[1])
    if t and t.status == 'waiting' and t.agency == slug and not t.returned
        and redis.call('ZSCORE', qkey[slug], head[1]) then
      return head[1], tonumber(head[2])
    end
    redis.call('ZREM', key, head[1])  -- called, moved, sent back or expired since: a walk-in now, or gone
  end
  return nil
end

-- The longest-waiting ticket of an agency that is not an appointment whose time has come.
local function oldest_walk_in(slug)
  for _, id in ipairs(redis.call('ZRANGE', qkey[slug], 0, 49)) do
    local at = redis.call('ZSCORE', akey[slug], id)
    if not at or tonumber(at) > now then return get_ticket(id) end
  end
  return nil
end

local chosen, turn
if best_id and best_score < NORMAL then
  chosen = best_id
else
  local due_id, due_at, due_agency
  for _, slug in ipairs(c.agencies) do
    local id, at = due_head(slug)
    if id and (not due_at or at < due_at) then due_id, due_at, due_agency = id, at, slug end
  end
  if due_id and due_id ~= best_id then
    local streak = tonumber(redis.call('HGET', K_BLEND, due_agency) or '0')
    if streak_max > 0 and streak >= streak_max then
      local w = oldest_walk_in(due_agency)
      if w and now - w.issued_at > guard_ms then chosen = w.id end
    end
    if not chosen then chosen, turn = due_id, 'appointment' end
  else
    chosen = best_id
  end
end
if not chosen then
  put_counter(c)
  return finish({status = 204})
end
local t = get_ticket(chosen)
if K_BLEND then
  -- the streak counts calls of appointments whose time has come (taken ahead or in their natural place);
  -- any other call at the agency ends it
  if t.slot_at and t.slot_at <= now and not t.returned then
    redis.call('HINCRBY', K_BLEND, t.agency, 1)
  else
    redis.call('HDEL', K_BLEND, t.agency)
  end
  if t.slot_at and akey[t.agency] then redis.call('ZREM', akey[t.agency], t.id) end
end
call_ticket(c, t, turn and {appointment_turn = true} or nil)
return finish({status = 200, ticket = t})
"""

CALL_TICKET = r"""
-- ARGV[8] counter id, [9] ticket id: call one waiting ticket out of order (audited in the event)
local c, refused = open_counter(ARGV[8])
if not c then return refused end
local t = get_ticket(ARGV[9])
if not t then return fail('unknown_ticket', {ticket = ARGV[9]}) end
if t.status ~= 'waiting' then return fail('not_waiting', {ticket = t.number}) end
if c.current then complete_current(c, 'completed') end
call_ticket(c, t, {out_of_order = true})
return finish({status = 200, ticket = t})
"""

RECALL = r"""
-- ARGV[8] counter id
local c, t, refused = serving_counter(ARGV[8])
if not c then return refused end
if c.status == 'closed' then return fail('counter_closed', {counter = c.id}) end
t.recalls = (t.recalls or 0) + 1
keep_ticket(t)
announce_call(c, t, true)
return finish({status = 200, ticket = t})
"""

NO_SHOW = r"""
-- ARGV[8] counter id, [9] return after N others (0: a no-show is final)
local c, t, refused = serving_counter(ARGV[8])
if not c then return refused end
local after = tonumber(ARGV[9])
c.current = nil
put_counter(c)
local returned = false
if after > 0 and not t.returned and qkey[t.agency] then
  -- back in the queue once, behind the next `after` waiting tickets
  local q = qkey[t.agency]
  local head = redis.call('ZRANGE', q, after - 1, after, 'WITHSCORES')
  local score
  if head[3] then
    score = (tonumber(head[2]) + tonumber(head[4])) / 2
  elseif head[1] then
    score = tonumber(head[2]) + 0.5
  else
    local last = redis.call('ZRANGE', q, -1, -1, 'WITHSCORES')
    score = math.max(last[2] and tonumber(last[2]) or 0, NORMAL + tonumber(redis.call('GET', K_SEQ) or 0)) + 0.5
  end
  t.status = 'waiting'
  t.returned = true
  t.counter = nil
  t.called_at = nil
  redis.call('ZADD', q, score, t.id)
  returned = true
else
  t.status = 'no_show'
  t.done_at = now
  count('no_show')
end
put_ticket(t)
emit('no_show', {ticket = t, counter = c.id, returned = returned})
if returned then emit_queue({t.agency}) end
return finish({status = 200, ticket = t})
"""

COMPLETE = r"""
-- ARGV[8] counter id, [9] outcome, [10] dossier code or ''
local c, t, refused = serving_counter(ARGV[8])
if not c then return refused end
if ARGV[10] ~= '' then
  t.dossier = ARGV[10]
  put_ticket(t)
end
local done = complete_current(c, ARGV[9])
put_counter(c)
return finish({status = 200, ticket = done})
"""

TRANSFER = r"""
-- ARGV[8] counter id, [9] target agency, [10] target agency's floor
local c, t, refused = serving_counter(ARGV[8])
if not c then return refused end
local target = ARGV[9]
if not qkey[target] then return fail('unknown_agency', {agency = target}) end
if target == t.agency then return fail('same_agency', {ticket = t.number, agency = target}) end
local from = t.agency
c.current = nil
put_counter(c)
t.agency = target
t.floor = tonumber(ARGV[10])
t.status = 'waiting'
t.counter = nil
t.called_at = nil
t.transfers = (t.transfers or 0) + 1
local payload = {from_agency = from, agency = target, counter = c.id}
drop_procedure(t, payload)
put_ticket(t)
redis.call('ZADD', qkey[target], score_of(t), t.id)  -- keeps its place by issue order
payload.ticket = t
emit('transferred', payload)
emit_queue({target})
return finish({status = 200, ticket = t})
"""

MOVE_TICKET = r"""
-- ARGV[8] ticket id, [9] target agency, [10] target agency's floor: a manager moves a waiting ticket
local t = get_ticket(ARGV[8])
if not t then return fail('unknown_ticket', {ticket = ARGV[8]}) end
if t.status ~= 'waiting' then return fail('not_waiting', {ticket = t.number}) end
local target = ARGV[9]
if not qkey[target] then return fail('unknown_agency', {agency = target}) end
if target == t.agency then return fail('same_agency', {ticket = t.number, agency = target}) end
local from = t.agency
redis.call('ZREM', qkey[from], t.id)
t.agency = target
t.floor = tonumber(ARGV[10])
t.transfers = (t.transfers or 0) + 1
local payload = {from_agency = from, agency = target}
drop_procedure(t, payload)
put_ticket(t)
redis.call('ZADD', qkey[target], score_of(t), t.id)
payload.ticket = t
emit('transferred', payload)
emit_queue({from, target})
return finish({status = 200, ticket = t})
"""

SET_STATUS = r"""
-- ARGV[8] counter id, [9] action: pause | resume | open | close, [10] reason ('' for none)
local c = get_counter(ARGV[8])
if not c then return fail('unknown_counter', {counter = ARGV[8]}) end
local action, reason = ARGV[9], ARGV[10]
if action == 'pause' then
  if c.status == 'closed' then return fail('counter_closed', {counter = c.id}) end
  if c.status == 'paused' then return fail('already_paused', {counter = c.id}) end
  c.status = 'paused'
elseif action == 'resume' then
  if c.status ~= 'paused' then return fail('not_paused', {counter = c.id}) end
  c.status = 'open'
elseif action == 'open' then
  if c.status ~= 'closed' then return fail('already_open', {counter = c.id}) end
  c.status = 'open'
elseif action == 'close' then
  if c.status == 'closed' then return fail('already_closed', {counter = c.id}) end
  if c.current then complete_current(c, 'completed') end
  c.status = 'closed'
end
if reason ~= '' and action ~= 'resume' and action ~= 'open' then c.reason = reason else c.reason = nil end
c.since = now
put_counter(c)
counter_event(c)
return finish({status = 200, counter = c})
"""

REASSIGN = r"""
-- ARGV[8] counter id, [9] agencies in preference order, comma-separated (validated by the caller)
local c = get_counter(ARGV[8])
if not c then return fail('unknown_counter', {counter = ARGV[8]}) end
local list = {}
for slug in string.gmatch(ARGV[9], '[^,]+') do
  if not qkey[slug] then return fail('unknown_agency', {agency = slug}) end
  table.insert(list, slug)
end
local previous = c.agencies
c.agencies = list
put_counter(c)
local payload = {counter = c, previous = previous}
if c.current then payload.ticket = get_ticket(c.current) end
emit('counter', payload)
return finish({status = 200, counter = c})
"""

SET_PROCEDURE = r"""
-- ARGV[8] counter id, [9] procedure code ('' clears it), [10] its name, [11] its agency (the caller
-- looked them up in the catalogue): the officer corrects the procedure of the ticket being served.
local c, t, refused = serving_counter(ARGV[8])
if not c then return refused end
local code, name, owner = ARGV[9], ARGV[10], ARGV[11]
if code ~= '' and owner ~= t.agency then
  return fail('procedure_agency_mismatch', {ticket = t.number, agency = t.agency, procedure = code, owner = owner})
end
local before, before_name = t.procedure or '', t.procedure_name or ''
if before == code then return finish({status = 200, ticket = t, changed = false}) end
if code == '' then
  t.procedure = nil
  t.procedure_name = nil
else
  t.procedure = code
  t.procedure_name = name
end
put_ticket(t)
local payload = {ticket = t, counter = c.id}
if before ~= '' then
  payload.from_procedure = before
  payload.from_procedure_name = before_name
end
emit('procedure', payload)
return finish({status = 200, ticket = t, changed = true})
"""

RATE = r"""
-- ARGV[8] ticket id, [9] score, [10] dossier code or ''
local t = get_ticket(ARGV[8])
if not t then return fail('unknown_ticket', {ticket = ARGV[8]}) end
if t.status ~= 'done' then return fail('not_done', {ticket = t.number}) end
if t.rating then return fail('already_rated', {ticket = t.number}) end
t.rating = tonumber(ARGV[9])
t.rated_at = now
count('rated')
count('rating:' .. ARGV[9])
if ARGV[10] ~= '' then t.dossier = ARGV[10] end
put_ticket(t)
emit('rated', {ticket = t, counter = t.counter})
return finish({status = 200, ticket = t})
"""

ROLLOVER = r"""
-- ARGV[8] end-of-day policy (expire | carry_over), [9] ms before which old tickets are forgotten.
-- Runs when a transition finds the stored day older than the clock's; idempotent.
local current = redis.call('GET', K_DAY)
if current and current >= day then return cjson.encode({status = 200, rolled = false}) end
local expired = 0
if ARGV[8] == 'expire' then
  for _, slug in ipairs(all_agencies()) do
    for _, id in ipairs(redis.call('ZRANGE', qkey[slug], 0, -1)) do
      local t = get_ticket(id)
      if t then
        t.status = 'expired'
        t.done_at = now
        put_ticket(t)
        expired = expired + 1
      end
    end
    redis.call('DEL', qkey[slug])
  end
end
local raw = redis.call('HGETALL', K_COUNTERS)
for i = 2, #raw, 2 do
  local c = cjson.decode(raw[i])
  if c.current then
    -- still "serving" when the day ended: done, but with no end time (its service time is unknown)
    local t = get_ticket(c.current)
    c.current = nil
    if t then
      t.status = 'done'
      t.outcome = 'day_closed'
      put_ticket(t)
      emit('completed', {ticket = t, counter = c.id})
    end
  end
  c.served = 0
  put_counter(c)
end
redis.call('DEL', K_CALLS)
local old = redis.call('ZRANGEBYSCORE', K_INDEX, '-inf', '(' .. ARGV[9])
for _, id in ipairs(old) do redis.call('HDEL', K_TICKETS, id) end
redis.call('ZREMRANGEBYSCORE', K_INDEX, '-inf', '(' .. ARGV[9])
redis.call('SET', K_DAY, day)
emit('day', {day = day, previous = current, expired = expired})
emit_queue(all_agencies())
return cjson.encode({status = 200, rolled = true, expired = expired})
"""

SEED_COUNTERS = r"""
-- ARGV[8..]: counter JSON objects from the site's config, added only where the counter is new
-- (a manager's reassignments survive a restart).
local added = 0
for i = 8, #ARGV do
  local c = cjson.decode(ARGV[i])
  if redis.call('HSETNX', K_COUNTERS, c.id, ARGV[i]) == 1 then added = added + 1 end
end
return cjson.encode({status = 200, added = added})
"""

_BODIES = {
    "issue": ISSUE,
    "call_next": CALL_NEXT,
    "call_ticket": CALL_TICKET,
    "recall": RECALL,
    "no_show": NO_SHOW,
    "complete": COMPLETE,
    "transfer": TRANSFER,
    "move_ticket": MOVE_TICKET,
    "set_status": SET_STATUS,
    "reassign": REASSIGN,
    "set_procedure": SET_PROCEDURE,
    "rate": RATE,
    "rollover": ROLLOVER,
    "seed_counters": SEED_COUNTERS,
}

#: name → full Lua source (the prelude, with the script's name for the day check, then the body).
SCRIPTS = {
    name: f"local SCRIPT_NAME = '{name}'\n{PRELUDE}\n{body}" for name, body in _BODIES.items()
}
SCRIPTS.update({name: f"local SCRIPT_NAME = '{name}'\n{PRELUDE}\n{HOME_HELPERS}\n{body}"
                for name, body in HOME_BODIES.items()})
#: Scripts outside the transition convention (no prelude): the webhook worker's lease.
PLAIN_SCRIPTS = dict(LEASE_SCRIPTS)
