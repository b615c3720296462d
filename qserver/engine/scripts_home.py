"""The Lua scripts of the citizen's side from home: online numbers, bookings, check-in, the sweeps that
expire and remind bookings, and the marking of tickets whose turn is near. :mod:`.scripts` registers
them with the same prelude and calling convention as every other transition (its header documents
KEYS 1..12+A and ARGV 1..7); each script's own KEYS follow the queues and are listed in its header as
``X+1 ...`` where ``X = 12 + A``.

Bookings are JSON objects in the ``bookings`` hash. What a script puts on the stream about a booking is
its public part (:data:`BOOKING_PUBLIC`, no code and no person), so a subscriber of ``site`` learns nothing
it could use: the webhook worker reads the code and the phone number from Redis when it delivers.
"""

from __future__ import annotations

__all__ = ["HOME_BODIES", "LEASE_SCRIPTS"]

#: Helpers every script of this module shares (inserted after the prelude).
HOME_HELPERS = r"""
local X = 12 + count_agencies()

local function history_of(key, person)
  local raw = redis.call('HGET', key, person)
  if raw then return cjson.decode(raw) end
  return {}
end

-- Keep the entries newer than keep_since (and every future booking); an empty list removes the field.
local function save_history(key, person, list, keep_since)
  local kept = {}
  for _, e in ipairs(list) do
    if tonumber(e[3]) >= keep_since then table.insert(kept, e) end
  end
  if #kept == 0 then redis.call('HDEL', key, person) else redis.call('HSET', key, person, cjson.encode(kept)) end
end

local function get_booking(key, id)
  local raw = redis.call('HGET', key, id)
  if raw then return cjson.decode(raw) end
  return nil
end

local function put_booking(key, b)
  redis.call('HSET', key, b.id, cjson.encode(b))
end

local function booking_public(b)
  return {id = b.id, agency = b.agency, day = b.day, time = b.time, slot_at = b.slot_at, status = b.status,
          ticket = b.ticket, cancel_reason = b.cancel_reason}
end

-- Unanswered online numbers (called, never came) and bookings never checked in, since `since` (ms).
local function strikes_of(list, since, bookings_key)
  local n, first = 0, nil
  for _, e in ipairs(list) do
    local at = tonumber(e[3])
    if at >= since then
      local missed = false
      if e[1] == 'o' then
        local t = get_ticket(e[2])
        missed = t ~= nil and t.status == 'no_show'
      elseif e[1] == 'b' and bookings_key then
        local b = get_booking(bookings_key, e[2])
        missed = b ~= nil and b.status == 'no_show'
      end
      if missed then
        n = n + 1
        if not first or at < first then first = at end
      end
    end
  end
  return n, first
end

local function new_ticket(agency, fmt, floor, idprefix, site, channel)
  local n = redis.call('HINCRBY', K_NUMBERS, agency, 1)
  if n == 1 then redis.call('EXPIRE', K_NUMBERS, ttl) end  -- made now (see count)
  local number = string.format(fmt, n)
  return {id = idprefix .. '-' .. number, number = number, site = site, agency = agency, floor = floor,
          status = 'waiting', issued_at = now, seq = redis.call('INCR', K_SEQ), n = n, recalls = 0,
          channel = channel}
end

local function hold_for_person(person, agency, ticket_id)
  redis.call('HSET', K_PERSONS, person .. ':' .. agency, ticket_id)
  redis.call('EXPIRE', K_PERSONS, ttl)
end

local function active_at_agency(person, agency)
  local held = redis.call('HGET', K_PERSONS, person .. ':' .. agency)
  if held then
    local h = get_ticket(held)
    if h and (h.status == 'waiting' or h.status == 'called') then return h end
  end
  return nil
end

-- Give a booking up (cancelled by the citizen or with its slot): counts, indexes, event.
local function cancel_booking(b, reason, K_SLOTS, K_STATS_DAY, K_EXPIRY, K_REMIND)
  b.status = 'cancelled'
  b.cancel_reason = reason
  b.cancelled_at = now
  redis.call('HINCRBY', K_SLOTS, b.agency .. '|' .. b.time, -1)
  redis.call('HINCRBY', K_STATS_DAY, 'cancelled:' .. b.agency, 1)
  redis.call('ZREM', K_EXPIRY, b.id)
  redis.call('ZREM', K_REMIND, b.id)
  emit('booking_cancelled', {booking = booking_public(b), agency = b.agency, reason = reason})
end
"""

ONLINE_ISSUE = r"""
-- A number taken from a phone, ranked with walk-ins by issue order.
-- KEYS X+1 person history, X+2 contacts of the day, X+3 bookings
-- ARGV[8] agency, [9] Lua number format, [10] floor, [11] keyed person hash, [12] ticket id prefix,
-- [13] site slug, [14] phone ('' for none), [15] active online numbers allowed, [16] unanswered numbers
-- that bar the person (0: none), [17] ms from which they count, [18] ms before which history is dropped,
-- [19] TTL (s) of the day's contacts
local K_HISTORY, K_CONTACTS, K_BOOKINGS = KEYS[X + 1], KEYS[X + 2], KEYS[X + 3]
local agency, fmt, floor, person = ARGV[8], ARGV[9], tonumber(ARGV[10]), ARGV[11]
local idprefix, site, phone = ARGV[12], ARGV[13], ARGV[14]
local allowed, barred_at, strike_since, keep_since = tonumber(ARGV[15]), tonumber(ARGV[16]), tonumber(ARGV[17]),
  tonumber(ARGV[18])
if not qkey[agency] then return fail('unknown_agency', {agency = agency}) end
local history = history_of(K_HISTORY, person)
local strikes, first = strikes_of(history, strike_since, K_BOOKINGS)
if barred_at > 0 and strikes >= barred_at then return fail('online_barred', {strikes = strikes, first = first}) end
local active = 0
for _, e in ipairs(history) do
  if e[1] == 'o' then
    local t = get_ticket(e[2])
    if t and (t.status == 'waiting' or t.status == 'called') then active = active + 1 end
  end
end
if active >= allowed then return fail('online_limit', {limit = allowed}) end
local held = active_at_agency(person, agency)
if held then return fail('active_ticket', {ticket = held.number}) end
local t = new_ticket(agency, fmt, floor, idprefix, site, 'online')
t.person = true
hold_for_person(person, agency, t.id)
if phone ~= '' then
  t.contact = true
  redis.call('HSET', K_CONTACTS, t.id, phone)
  redis.call('EXPIRE', K_CONTACTS, tonumber(ARGV[19]))
end
put_ticket(t)
redis.call('ZADD', K_INDEX, now, t.id)
redis.call('ZADD', qkey[agency], score_of(t), t.id)
count('issued')
count('issued:online')
table.insert(history, {'o', t.id, now})
save_history(K_HISTORY, person, history, keep_since)
t.ahead = redis.call('ZRANK', qkey[agency], t.id)
emit('issued', {ticket = t})
emit_queue({agency})
return finish({status = 201, ticket = t})
"""

BOOK = r"""
-- Book a place in a slot.
-- KEYS X+1 person history, X+2 bookings, X+3 booking codes, X+4 booking seq, X+5 booking index,
--      X+6 booking expiry, X+7 booking reminders, X+8 slots of the day, X+9 closed slots of the day,
--      X+10 booking stats of the day, X+11 contacts of the day
-- ARGV[8] agency, [9] day, [10] HH:MM, [11] slot start ms, [12] capacity, [13] keyed person hash,
-- [14] phone, [15] a fresh code, [16] end of check-in grace ms, [17] reminder ms (0: none),
-- [18] standing bookings allowed per person, [19] unanswered visits that bar (0: none), [20] since ms,
-- [21] ms before which history is dropped, [22] TTL (s) of the day's keys, [23] TTL of its stats
local K_HISTORY, K_BOOKINGS, K_CODES, K_BSEQ = KEYS[X + 1], KEYS[X + 2], KEYS[X + 3], KEYS[X + 4]
local K_BINDEX, K_EXPIRY, K_REMIND = KEYS[X + 5], KEYS[X + 6], KEYS[X + 7]
local K_SLOTS, K_CLOSED, K_BSTATS, K_CONTACTS = KEYS[X + 8], KEYS[X + 9], KEYS[X + 10], KEYS[X + 11]
local agency, bday, btime, slot_at, cap = ARGV[8], ARGV[9], ARGV[10], tonumber(ARGV[11]), tonumber(ARGV[12])
local person, phone, code, expiry, remind = ARGV[13], ARGV[14], ARGV[15], tonumber(ARGV[16]), tonumber(ARGV[17])
local allowed, barred_at, strike_since, keep_since = tonumber(ARGV[18]), tonumber(ARGV[19]), tonumber(ARGV[20]),
  tonumber(ARGV[21])
local keys_until, stats_until = tonumber(ARGV[22]), tonumber(ARGV[23])
if not qkey[agency] then return fail('unknown_agency', {agency = agency}) end
local field = agency .. '|' .. btime
local history = history_of(K_HISTORY, person)
local strikes, first = strikes_of(history, strike_since, K_BOOKINGS)
if barred_at > 0 and strikes >= barred_at then return fail('online_barred', {strikes = strikes, first = first}) end
local standing = 0
for _, e in ipairs(history) do
  if e[1] == 'b' then
    local b = get_booking(K_BOOKINGS, e[2])
    if b and b.status == 'booked' then
      standing = standing + 1
      if b.agency == agency and b.day == bday then return fail('already_booked', {time = b.time, day = b.day}) end
    end
  end
end
if standing >= allowed then return fail('booking_limit', {limit = allowed}) end
local closed = redis.call('HGET', K_CLOSED, field)
if closed then return fail('slot_closed', {time = btime, day = bday, reason = cjson.decode(closed).reason}) end
local taken = tonumber(redis.call('HGET', K_SLOTS, field) or '0')
if taken >= cap then return fail('slot_full', {time = btime, day = bday}) end
if redis.call('HEXISTS', K_CODES, code) == 1 then return cjson.encode({retry = 'code'}) end
local b = {id = 'B' .. redis.call('INCR', K_BSEQ), code = code, agency = agency, day = bday, time = btime,
           slot_at = slot_at, status = 'booked', person = person, created_at = now, moves = 0}
if phone ~= '' then
  b.contact = true
  redis.call('HSET', K_CONTACTS, 'b:' .. b.id, phone)
  redis.call('EXPIRE', K_CONTACTS, keys_until)
end
put_booking(K_BOOKINGS, b)
redis.call('HSET', K_CODES, code, b.id)
redis.call('ZADD', K_BINDEX, slot_at, b.id)
redis.call('ZADD', K_EXPIRY, expiry, b.id)
if remind > 0 then redis.call('ZADD', K_REMIND, remind, b.id) end
redis.call('HINCRBY', K_SLOTS, field, 1)
redis.call('EXPIRE', K_SLOTS, keys_until)
redis.call('HINCRBY', K_BSTATS, 'booked:' .. agency, 1)
redis.call('EXPIRE', K_BSTATS, stats_until)
table.insert(history, {'b', b.id, slot_at})
save_history(K_HISTORY, person, history, keep_since)
emit('booked', {booking = booking_public(b), agency = agency})
return finish({status = 201, booking = b})
"""

CANCEL_BOOKING = r"""
-- The citizen gives a booking up.
-- KEYS X+1 bookings, X+2 booking expiry, X+3 booking reminders, X+4 slots of its day, X+5 booking stats of its day
-- ARGV[8] booking id, [9] the day the keys are of
local K_BOOKINGS, K_EXPIRY, K_REMIND, K_SLOTS, K_BSTATS = KEYS[X + 1], KEYS[X + 2], KEYS[X + 3], KEYS[X + 4],
  KEYS[X + 5]
local b = get_booking(K_BOOKINGS, ARGV[8])
if not b then return fail('unknown_booking', {booking = ARGV[8]}) end
if b.day ~= ARGV[9] then return cjson.encode({retry = 'day'}) end
if b.status == 'cancelled' then return fail('booking_cancelled', {booking = b.id}) end
if b.status == 'checked_in' then return fail('booking_used', {booking = b.id}) end
if b.status == 'no_show' then return fail('booking_expired', {booking = b.id}) end
cancel_booking(b, 'citizen', K_SLOTS, K_BSTATS, K_EXPIRY, K_REMIND)
put_booking(K_BOOKINGS, b)
return finish({status = 200, booking = b})
"""

MOVE_BOOKING = r"""
-- Move a booking to another slot of the same agency.
-- KEYS X+1 bookings, X+2 booking index, X+3 booking expiry, X+4 booking reminders, X+5 slots of the old day,
--      X+6 slots of the new day, X+7 closed slots of the new day, X+8 stats of the old day, X+9 stats of the
--      new day, X+10 contacts of the old day, X+11 contacts of the new day
-- ARGV[8] booking id, [9] old day (of the keys), [10] new day, [11] new HH:MM, [12] new slot start ms,
-- [13] capacity, [14] end of check-in grace ms, [15] reminder ms (0: none), [16] TTL (s) of the new day's
-- keys, [17] TTL of its stats
local K_BOOKINGS, K_BINDEX, K_EXPIRY, K_REMIND = KEYS[X + 1], KEYS[X + 2], KEYS[X + 3], KEYS[X + 4]
local K_SLOTS_OLD, K_SLOTS_NEW, K_CLOSED_NEW = KEYS[X + 5], KEYS[X + 6], KEYS[X + 7]
local K_STATS_OLD, K_STATS_NEW, K_CONTACTS_OLD, K_CONTACTS_NEW = KEYS[X + 8], KEYS[X + 9], KEYS[X + 10], KEYS[X + 11]
local b = get_booking(K_BOOKINGS, ARGV[8])
if not b then return fail('unknown_booking', {booking = ARGV[8]}) end
if b.day ~= ARGV[9] then return cjson.encode({retry = 'day'}) end
if b.status == 'cancelled' then return fail('booking_cancelled', {booking = b.id}) end
if b.status == 'checked_in' then return fail('booking_used', {booking = b.id}) end
if b.status == 'no_show' then return fail('booking_expired', {booking = b.id}) end
local nday, ntime, nat, cap = ARGV[10], ARGV[11], tonumber(ARGV[12]), tonumber(ARGV[13])
if nday == b.day and ntime == b.time then return fail('same_slot', {time = ntime, day = nday}) end
local field = b.agency .. '|' .. ntime
local closed = redis.call('HGET', K_CLOSED_NEW, field)
if closed then return fail('slot_closed', {time = ntime, day = nday, reason = cjson.decode(closed).reason}) end
local taken = tonumber(redis.call('HGET', K_SLOTS_NEW, field) or '0')
if taken >= cap then return fail('slot_full', {time = ntime, day = nday}) end
local from = {day = b.day, time = b.time}
redis.call('HINCRBY', K_SLOTS_OLD, b.agency .. '|' .. b.time, -1)
redis.call('HINCRBY', K_SLOTS_NEW, field, 1)
redis.call('EXPIRE', K_SLOTS_NEW, tonumber(ARGV[16]))
if nday ~= b.day then
  redis.call('HINCRBY', K_STATS_OLD, 'booked:' .. b.agency, -1)
  redis.call('HINCRBY', K_STATS_NEW, 'booked:' .. b.agency, 1)
  redis.call('EXPIRE', K_STATS_NEW, tonumber(ARGV[17]))
  local phone = redis.call('HGET', K_CONTACTS_OLD, 'b:' .. b.id)
  if phone then
    redis.call('HDEL', K_CONTACTS_OLD, 'b:' .. b.id)
    redis.call('HSET', K_CONTACTS_NEW, 'b:' .. b.id, phone)
    redis.call('EXPIRE', K_CONTACTS_NEW, tonumber(ARGV[16]))
  end
end
b.day, b.time, b.slot_at, b.moves = nday, ntime, nat, (b.moves or 0) + 1
put_booking(K_BOOKINGS, b)
redis.call('ZADD', K_BINDEX, nat, b.id)
redis.call('ZADD', K_EXPIRY, tonumber(ARGV[14]), b.id)
redis.call('ZREM', K_REMIND, b.id)
if tonumber(ARGV[15]) > 0 then redis.call('ZADD', K_REMIND, tonumber(ARGV[15]), b.id) end
emit('booking_moved', {booking = booking_public(b), agency = b.agency, from = from})
return finish({status = 200, booking = b})
"""

CHECK_IN = r"""
-- The kiosk checks a booking in: a ticket called ahead of walk-ins once its slot time has come.
-- KEYS X+1 bookings, X+2 booking expiry, X+3 booking reminders, X+4 booking stats of its day,
--      X+5 contacts of its day, X+6 appointments of its agency
-- ARGV[8] booking id, [9] its agency (of the keys), [10] Lua number format, [11] floor, [12] ticket id prefix,
-- [13] site slug, [14] ms before the slot check-in opens, [15] ms after it check-in closes, [16] priority or ''
local K_BOOKINGS, K_EXPIRY, K_REMIND, K_BSTATS = KEYS[X + 1], KEYS[X + 2], KEYS[X + 3], KEYS[X + 4]
local K_CONTACTS, K_APPT = KEYS[X + 5], KEYS[X + 6]
local b = get_booking(K_BOOKINGS, ARGV[8])
if not b then return fail('unknown_booking', {booking = ARGV[8]}) end
if b.agency ~= ARGV[9] then return cjson.encode({retry = 'agency'}) end
if b.status == 'cancelled' then return fail('booking_cancelled', {booking = b.id}) end
if b.status == 'checked_in' then
  local t = get_ticket(b.ticket or '')
  return fail('booking_used', {booking = b.id, ticket = t and t.number or ''})
end
local before, grace = tonumber(ARGV[14]), tonumber(ARGV[15])
if b.status == 'no_show' or now > b.slot_at + grace then
  return fail('checkin_too_late', {booking = b.id, until_at = b.slot_at + grace})
end
if now < b.slot_at - before then return fail('checkin_too_early', {booking = b.id, from_at = b.slot_at - before}) end
if b.day ~= day then return fail('checkin_too_early', {booking = b.id, from_at = b.slot_at - before}) end
if not qkey[b.agency] then return fail('unknown_agency', {agency = b.agency}) end
local t = new_ticket(b.agency, ARGV[10], tonumber(ARGV[11]), ARGV[12], ARGV[13], 'appointment')
t.slot_at = b.slot_at
t.booking = b.id
if ARGV[16] ~= '' then t.priority = ARGV[16] end
if b.person then
  t.person = true
  hold_for_person(b.person, b.agency, t.id)
end
local phone = redis.call('HGET', K_CONTACTS, 'b:' .. b.id)
if phone then
  t.contact = true
  redis.call('HSET', K_CONTACTS, t.id, phone)
end
put_ticket(t)
redis.call('ZADD', K_INDEX, now, t.id)
redis.call('ZADD', qkey[b.agency], score_of(t), t.id)
redis.call('ZADD', K_APPT, b.slot_at, t.id)
count('issued')
count('issued:appointment')
b.status = 'checked_in'
b.ticket = t.id
b.checked_in_at = now
put_booking(K_BOOKINGS, b)
redis.call('ZREM', K_EXPIRY, b.id)
redis.call('ZREM', K_REMIND, b.id)
redis.call('HINCRBY', K_BSTATS, 'checked_in:' .. b.agency, 1)
t.ahead = redis.call('ZRANK', qkey[b.agency], t.id)
emit('issued', {ticket = t})
emit('booking_checked_in', {booking = booking_public(b), agency = b.agency})
emit_queue({b.agency})
return finish({status = 201, ticket = t, booking = b})
"""

EXPIRE_BOOKINGS = r"""
-- Bookings of one day whose check-in grace has ended without a check-in become booking no-shows.
-- KEYS X+1 bookings, X+2 booking expiry, X+3 booking reminders, X+4 booking stats of the day
-- ARGV[8] the day, [9] at most this many at once
local K_BOOKINGS, K_EXPIRY, K_REMIND, K_BSTATS = KEYS[X + 1], KEYS[X + 2], KEYS[X + 3], KEYS[X + 4]
local due = redis.call('ZRANGEBYSCORE', K_EXPIRY, '-inf', now, 'LIMIT', 0, tonumber(ARGV[9]))
local expired, other_days = {}, 0
for _, id in ipairs(due) do
  local b = get_booking(K_BOOKINGS, id)
  if not b or b.status ~= 'booked' then
    redis.call('ZREM', K_EXPIRY, id)
  elseif b.day ~= ARGV[8] then
    other_days = other_days + 1
  else
    b.status = 'no_show'
    b.expired_at = now
    put_booking(K_BOOKINGS, b)
    redis.call('ZREM', K_EXPIRY, id)
    redis.call('ZREM', K_REMIND, id)
    redis.call('HINCRBY', K_BSTATS, 'no_show:' .. b.agency, 1)
    emit('booking_no_show', {booking = booking_public(b), agency = b.agency})
    table.insert(expired, id)
  end
end
return cjson.encode({status = 200, expired = expired, other_days = other_days})
"""

REMIND_BOOKINGS = r"""
-- Bookings whose reminder is due: one booking_reminder event each (for the SMS gateway).
-- KEYS X+1 bookings, X+2 booking reminders
-- ARGV[8] at most this many at once
local K_BOOKINGS, K_REMIND = KEYS[X + 1], KEYS[X + 2]
local due = redis.call('ZRANGEBYSCORE', K_REMIND, '-inf', now, 'LIMIT', 0, tonumber(ARGV[8]))
local reminded = {}
for _, id in ipairs(due) do
  redis.call('ZREM', K_REMIND, id)
  local b = get_booking(K_BOOKINGS, id)
  if b and b.status == 'booked' and b.slot_at > now then
    emit('booking_reminder', {booking = booking_public(b), agency = b.agency})
    table.insert(reminded, id)
  end
end
return cjson.encode({status = 200, reminded = reminded})
"""

CLOSE_SLOTS = r"""
-- A manager closes slots of a day (a holiday, staff away): their standing bookings are cancelled, each told.
-- KEYS X+1 bookings, X+2 booking index, X+3 booking expiry, X+4 booking reminders, X+5 slots of the day,
--      X+6 closed slots of the day, X+7 booking stats of the day
-- ARGV[8] day, [9] reason, [10] day start ms, [11] day end ms, [12] TTL (s) of the day's keys,
-- [13] TTL of its stats, [14..] slot fields ('<agency>|HH:MM')
local K_BOOKINGS, K_BINDEX, K_EXPIRY, K_REMIND = KEYS[X + 1], KEYS[X + 2], KEYS[X + 3], KEYS[X + 4]
local K_SLOTS, K_CLOSED, K_BSTATS = KEYS[X + 5], KEYS[X + 6], KEYS[X + 7]
local reason = ARGV[9]
local closing, fields = {}, {}
for i = 14, #ARGV do
  local f = ARGV[i]
  closing[f] = true
  if redis.call('HSETNX', K_CLOSED, f, cjson.encode({reason = reason, by = actor, at = now})) == 1 then
    table.insert(fields, f)
  end
end
redis.call('EXPIRE', K_CLOSED, tonumber(ARGV[12]))
local cancelled = {}
for _, id in ipairs(redis.call('ZRANGEBYSCORE', K_BINDEX, ARGV[10], '(' .. ARGV[11])) do
  local b = get_booking(K_BOOKINGS, id)
  if b and b.status == 'booked' and b.day == ARGV[8] and closing[b.agency .. '|' .. b.time] then
    cancel_booking(b, 'slot_closed', K_SLOTS, K_BSTATS, K_EXPIRY, K_REMIND)
    b.cancel_note = reason
    put_booking(K_BOOKINGS, b)
    table.insert(cancelled, id)
  end
end
redis.call('EXPIRE', K_BSTATS, tonumber(ARGV[13]))
emit('slots_closed', {day = ARGV[8], slots = fields, reason = reason, cancelled = #cancelled})
return finish({status = 200, closed = fields, cancelled = cancelled})
"""

OPEN_SLOTS = r"""
-- A manager opens closed slots again (their cancelled bookings stay cancelled).
-- KEYS X+1 closed slots of the day
-- ARGV[8] day, [9..] slot fields
local K_CLOSED = KEYS[X + 1]
local opened = {}
for i = 9, #ARGV do
  if redis.call('HDEL', K_CLOSED, ARGV[i]) == 1 then table.insert(opened, ARGV[i]) end
end
emit('slots_opened', {day = ARGV[8], slots = opened})
return finish({status = 200, opened = opened})
"""

MARK_NEAR = r"""
-- Tickets with a phone number whose turn is near (at most N ahead, in queue order) get one `near` event
-- each, ever: what the webhook worker sends as ticket-near. Run by the worker, never on the call path.
-- KEYS X+1 the day's set of tickets already told
-- ARGV[8] agency, [9] N
local K_NEAR = KEYS[X + 1]
local q = qkey[ARGV[8]]
if not q then return fail('unknown_agency', {agency = ARGV[8]}) end
local marked = {}
for rank, id in ipairs(redis.call('ZRANGE', q, 0, tonumber(ARGV[9]))) do
  local t = get_ticket(id)
  if t and t.contact and t.status == 'waiting' and redis.call('SADD', K_NEAR, id) == 1 then
    emit('near', {ticket = t, ahead = rank - 1})
    table.insert(marked, id)
  end
end
if #marked > 0 then redis.call('EXPIRE', K_NEAR, ttl) end
return cjson.encode({status = 200, marked = marked})
"""

#: name → body; registered with the prelude and :data:`HOME_HELPERS` by :mod:`.scripts`.
HOME_BODIES = {
    "online_issue": ONLINE_ISSUE,
    "book": BOOK,
    "cancel_booking": CANCEL_BOOKING,
    "move_booking": MOVE_BOOKING,
    "check_in": CHECK_IN,
    "expire_bookings": EXPIRE_BOOKINGS,
    "remind_bookings": REMIND_BOOKINGS,
    "close_slots": CLOSE_SLOTS,
    "open_slots": OPEN_SLOTS,
    "mark_near": MARK_NEAR,
}

#: The webhook worker's lease on a site (no prelude: one key, not a transition).
LEASE_SCRIPTS = {
    # KEYS[1] lease, ARGV[1] owner, ARGV[2] ttl ms → 1 when the owner holds it (taken or renewed), else 0
    "lease_take": r"""
local holder = redis.call('GET', KEYS[1])
if holder == ARGV[1] then redis.call('PEXPIRE', KEYS[1], ARGV[2]) return 1 end
if holder then return 0 end
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
return 1
""",
    # KEYS[1] lease, ARGV[1] owner → 1 when released
    "lease_release": r"""
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
""",
}
