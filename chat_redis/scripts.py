"""The chat's state changes as Lua scripts: Redis runs each one whole, with no other command
in between, so a rule that reads several keys (a name and its look-alikes, a bound, a room's
members) holds across every process that shares the store.

Every script takes the key prefix as ARGV[1]; the keys below it:

    id                 the message id counter (INCR: one counter for every process)
    serial             numbers making session stream keys unique ("<name>#<n>")
    tok:<token>        → the session's stream key
    ses:<stream>       hash: name, token, client, skel, tokens, updated, dropped
    names              hash: name → stream key of its holder
    skel               hash: UTS #39 skeleton → the name in use that has it
    pc                 hash: client address → sessions logged in from it
    seen               zset: stream key → when last seen (also: how many sessions exist)
    srooms:<stream>    set: the rooms the session is in
    cids:<stream>      zset: cid → the id it was given (its score), oldest first
    st:<stream>        zset: the session's stream, message JSON by id
    open:<process>     hash: stream key → streams open in that process (expires unless the
                       process renews it, so a killed process's streams stop counting)
    procs              set: processes that may hold open streams
    rooms              hash: room → the client address that made it
    rsk                hash: room → its skeleton;  rskel: skeleton → room
    rpc                hash: client address → rooms made from it that still exist
    mem:<room>         hash: stream key → member's name
    empty              zset: room → when it last became empty
    hist:<room>        zset: the room's history, message JSON by id
    wake               the pub/sub channel: a message's JSON (empty when a stream ended), then
                       the stream keys that grew (or ended), one line each

Scripts touch keys they compute, not only those passed in KEYS: they need a single Redis
(or a primary with replicas), not Redis Cluster.
"""

PRELUDE = r"""
local P = ARGV[1]

local function open_count(stream)
  local n = 0
  for _, proc in ipairs(redis.call('SMEMBERS', P .. 'procs')) do
    local key = P .. 'open:' .. proc
    if redis.call('EXISTS', key) == 0 then
      redis.call('SREM', P .. 'procs', proc)
    else
      n = n + tonumber(redis.call('HGET', key, stream) or 0)
    end
  end
  return n
end

local function leave_room(stream, room, now)
  local members = P .. 'mem:' .. room
  if redis.call('HDEL', members, stream) == 1 and redis.call('HLEN', members) == 0 then
    redis.call('ZADD', P .. 'empty', now, room)
  end
  redis.call('SREM', P .. 'srooms:' .. stream, room)
end

local function end_session(stream, now)
  local ses = P .. 'ses:' .. stream
  local f = redis.call('HMGET', ses, 'name', 'token', 'client', 'skel')
  local name, token, client, skel = f[1], f[2], f[3], f[4]
  if not name then return false end
  for _, room in ipairs(redis.call('SMEMBERS', P .. 'srooms:' .. stream)) do
    leave_room(stream, room, now)
  end
  redis.call('DEL', ses, P .. 'srooms:' .. stream, P .. 'cids:' .. stream,
             P .. 'st:' .. stream, P .. 'tok:' .. token)
  if redis.call('HGET', P .. 'names', name) == stream then
    redis.call('HDEL', P .. 'names', name)
  end
  if redis.call('HGET', P .. 'skel', skel) == name then
    redis.call('HDEL', P .. 'skel', skel)
  end
  if redis.call('HINCRBY', P .. 'pc', client, -1) <= 0 then
    redis.call('HDEL', P .. 'pc', client)
  end
  redis.call('ZREM', P .. 'seen', stream)
  redis.call('PUBLISH', P .. 'wake', '\n' .. stream)  -- no message: the stream ended
  return name
end

local function trim(key, keep)
  local excess = redis.call('ZCARD', key) - keep
  if excess <= 0 then return nil end
  local last = redis.call('ZRANGE', key, excess - 1, excess - 1, 'WITHSCORES')
  redis.call('ZREMRANGEBYRANK', key, 0, excess - 1)
  return last[2]
end

local function member_check(stream, room)
  if redis.call('EXISTS', P .. 'ses:' .. stream) == 0 then return 'ended' end
  if redis.call('HEXISTS', P .. 'rooms', room) == 0 then return 'no_room' end
  if redis.call('HEXISTS', P .. 'mem:' .. room, stream) == 0 then return 'forbidden' end
  return nil
end
"""

# ARGV: prefix, name, skeleton, client, token, now, max_sessions, max_per_client, burst
LOGIN = r"""
local name, skel, client, token, now = ARGV[2], ARGV[3], ARGV[4], ARGV[5], ARGV[6]
if tonumber(redis.call('HGET', P .. 'pc', client) or 0) >= tonumber(ARGV[8]) then
  return {'per_client'}
end
if redis.call('ZCARD', P .. 'seen') >= tonumber(ARGV[7]) then return {'all'} end
if name == '' then return {'ok'} end  -- the bounds alone were asked
if redis.call('HEXISTS', P .. 'names', name) == 1 then return {'taken'} end
local holder = redis.call('HGET', P .. 'skel', skel)
if holder then return {'lookalike', holder} end
local stream = name .. '#' .. redis.call('INCR', P .. 'serial')
redis.call('HSET', P .. 'ses:' .. stream, 'name', name, 'token', token, 'client', client,
           'skel', skel, 'tokens', ARGV[9], 'updated', now, 'dropped', 0)
redis.call('SET', P .. 'tok:' .. token, stream)
redis.call('HSET', P .. 'names', name, stream)
redis.call('HSET', P .. 'skel', skel, name)
redis.call('HINCRBY', P .. 'pc', client, 1)
redis.call('ZADD', P .. 'seen', now, stream)
return {'ok', stream}
"""

# ARGV: prefix, token, now → {stream, name, client, rooms} or nil
AUTHENTICATE = r"""
local stream = redis.call('GET', P .. 'tok:' .. ARGV[2])
if not stream then return false end
redis.call('ZADD', P .. 'seen', 'XX', ARGV[3], stream)
local f = redis.call('HMGET', P .. 'ses:' .. stream, 'name', 'client')
return {stream, f[1], f[2], redis.call('SMEMBERS', P .. 'srooms:' .. stream)}
"""

# ARGV: prefix, stream, now
LOGOUT = r"""
end_session(ARGV[2], ARGV[3])
return 1
"""

# ARGV: prefix, deadline, at_most, now → names of the sessions ended
EXPIRE_IDLE = r"""
local ended, at_most = {}, tonumber(ARGV[3])
-- a session seen now (streaming) leaves the range, so each look starts from the front
for _ = 1, redis.call('ZCARD', P .. 'seen') do
  local idle = redis.call('ZRANGEBYSCORE', P .. 'seen', '-inf', '(' .. ARGV[2],
                          'LIMIT', 0, at_most - #ended)
  if #idle == 0 then break end
  for _, stream in ipairs(idle) do
    if open_count(stream) > 0 then
      redis.call('ZADD', P .. 'seen', ARGV[4], stream)  -- streaming is not idling
    else
      local name = end_session(stream, ARGV[4])
      if name then table.insert(ended, name) end
    end
  end
  if #ended >= at_most then break end
end
return ended
"""

# ARGV: prefix, stream, room, skeleton, client, per_session, per_client, max_rooms, now
JOIN = r"""
local stream, room = ARGV[2], ARGV[3]
if redis.call('EXISTS', P .. 'ses:' .. stream) == 0 then return {'ended'} end
local members = P .. 'mem:' .. room
local exists = redis.call('HEXISTS', P .. 'rooms', room) == 1
if exists and redis.call('HEXISTS', members, stream) == 1 then
  return {'ok', redis.call('HVALS', members)}
end
if redis.call('SCARD', P .. 'srooms:' .. stream) >= tonumber(ARGV[6]) then
  return {'per_session'}
end
if not exists then
  local holder = redis.call('HGET', P .. 'rskel', ARGV[4])
  if holder then return {'lookalike', holder} end
  if tonumber(redis.call('HGET', P .. 'rpc', ARGV[5]) or 0) >= tonumber(ARGV[7]) then
    return {'per_client'}
  end
  if redis.call('HLEN', P .. 'rooms') >= tonumber(ARGV[8]) then return {'all'} end
  redis.call('HSET', P .. 'rooms', room, ARGV[5])
  redis.call('HSET', P .. 'rsk', room, ARGV[4])
  redis.call('HSET', P .. 'rskel', ARGV[4], room)
  redis.call('HINCRBY', P .. 'rpc', ARGV[5], 1)
end
redis.call('HSET', members, stream, redis.call('HGET', P .. 'ses:' .. stream, 'name'))
redis.call('ZREM', P .. 'empty', room)
redis.call('SADD', P .. 'srooms:' .. stream, room)
return {'ok', redis.call('HVALS', members)}
"""

# ARGV: prefix, stream, room, now
LEAVE = r"""
if redis.call('EXISTS', P .. 'ses:' .. ARGV[2]) == 0 then return 'ended' end
leave_room(ARGV[2], ARGV[3], ARGV[4])
return 'ok'
"""

# ARGV: prefix, emptied_before, at_most → names of the rooms forgotten
FORGET_EMPTY_ROOMS = r"""
local rooms = redis.call('ZRANGEBYSCORE', P .. 'empty', '-inf', '(' .. ARGV[2],
                         'LIMIT', 0, tonumber(ARGV[3]))
for _, room in ipairs(rooms) do
  redis.call('ZREM', P .. 'empty', room)
  local creator = redis.call('HGET', P .. 'rooms', room)
  local skel = redis.call('HGET', P .. 'rsk', room)
  redis.call('HDEL', P .. 'rooms', room)
  redis.call('HDEL', P .. 'rsk', room)
  if skel and redis.call('HGET', P .. 'rskel', skel) == room then
    redis.call('HDEL', P .. 'rskel', skel)
  end
  if creator and redis.call('HINCRBY', P .. 'rpc', creator, -1) <= 0 then
    redis.call('HDEL', P .. 'rpc', creator)
  end
  redis.call('DEL', P .. 'hist:' .. room, P .. 'mem:' .. room)
end
return rooms
"""

# ARGV: prefix → {room, members, room, members, ...} for rooms with members
OCCUPIED_ROOMS = r"""
local out = {}
for _, room in ipairs(redis.call('HKEYS', P .. 'rooms')) do
  local n = redis.call('HLEN', P .. 'mem:' .. room)
  if n > 0 then
    table.insert(out, room)
    table.insert(out, n)
  end
end
return out
"""

# ARGV: prefix, stream, room → {'ok', names...} or {refusal}
MEMBERS = r"""
local refusal = member_check(ARGV[2], ARGV[3])
if refusal then return {refusal} end
local out = redis.call('HVALS', P .. 'mem:' .. ARGV[3])
table.insert(out, 1, 'ok')
return out
"""

# ARGV: prefix, stream, room, limit → {'ok', json...} oldest first, or {refusal}
HISTORY = r"""
local refusal = member_check(ARGV[2], ARGV[3])
if refusal then return {refusal} end
local n = tonumber(ARGV[4])
local out = redis.call('ZRANGE', P .. 'hist:' .. ARGV[3], -n, -1)
table.insert(out, 1, 'ok')
return out
"""

# ARGV: prefix, stream, kind ('room' | 'to'), room or recipient, cid ('' for none), now,
#       rate, burst, stream_retention, room_retention, cid_memory, the message's JSON after
#       its id ('"room":...}')  → {'ok', id} | {'dup', id} | {'rate', wait} | {refusal}
SEND = r"""
local stream, kind, target, cid = ARGV[2], ARGV[3], ARGV[4], ARGV[5]
local ses = P .. 'ses:' .. stream
if redis.call('EXISTS', ses) == 0 then return {'ended'} end
if cid ~= '' then
  local seen = redis.call('ZSCORE', P .. 'cids:' .. stream, cid)
  if seen then return {'dup', seen} end
end
local owners
if kind == 'room' then
  local refusal = member_check(stream, target)
  if refusal then return {refusal} end
  owners = redis.call('HKEYS', P .. 'mem:' .. target)
else
  local to = redis.call('HGET', P .. 'names', target)
  if not to then return {'no_user'} end
  if to == stream then owners = {stream} else owners = {stream, to} end
end
local now, rate, burst = tonumber(ARGV[6]), tonumber(ARGV[7]), tonumber(ARGV[8])
local bucket = redis.call('HMGET', ses, 'tokens', 'updated')
local tokens = math.min(burst, tonumber(bucket[1]) + math.max(0, now - tonumber(bucket[2])) * rate)
if tokens < 1 then
  return {'rate', string.format('%.17g', (1 - tokens) / rate)}
end
redis.call('HSET', ses, 'tokens', string.format('%.17g', tokens - 1), 'updated', ARGV[6])
local id = redis.call('INCR', P .. 'id')
local json = '{"id":' .. id .. ',' .. ARGV[12]
local retention = tonumber(ARGV[9])
for _, owner in ipairs(owners) do
  local key = P .. 'st:' .. owner
  redis.call('ZADD', key, id, json)
  local dropped = trim(key, retention)
  if dropped then redis.call('HSET', P .. 'ses:' .. owner, 'dropped', dropped) end
end
if kind == 'room' then
  redis.call('ZADD', P .. 'hist:' .. target, id, json)
  trim(P .. 'hist:' .. target, tonumber(ARGV[10]))
end
if cid ~= '' then
  redis.call('ZADD', P .. 'cids:' .. stream, id, cid)
  trim(P .. 'cids:' .. stream, tonumber(ARGV[11]))
end
redis.call('PUBLISH', P .. 'wake', json .. '\n' .. table.concat(owners, '\n'))
return {'ok', id}
"""

# ARGV: prefix, stream, after, limit → nil when the session ended, else
#       {gap_oldest (0: none), remaining, json...}
READ = r"""
local dropped = redis.call('HGET', P .. 'ses:' .. ARGV[2], 'dropped')
if not dropped then return false end
local key, after = P .. 'st:' .. ARGV[2], '(' .. ARGV[3]
local page = redis.call('ZRANGEBYSCORE', key, after, '+inf', 'LIMIT', 0, tonumber(ARGV[4]))
local gap = 0
if tonumber(ARGV[3]) < tonumber(dropped) then
  gap = redis.call('ZRANGE', key, 0, 0, 'WITHSCORES')[2] or 0
end
local remaining = 0
if #page > 0 then remaining = redis.call('ZCOUNT', key, after, '+inf') - #page end
table.insert(page, 1, remaining)
table.insert(page, 1, gap)
return page
"""

# ARGV: prefix, stream → streams the session has open in every live process
OPEN_STREAMS = r"""
return open_count(ARGV[2])
"""

# ARGV: prefix, stream, process, max_streams, ttl → 1 opened, 0 refused (quota)
STREAM_OPENED = r"""
if open_count(ARGV[2]) >= tonumber(ARGV[4]) then return 0 end
local key = P .. 'open:' .. ARGV[3]
redis.call('SADD', P .. 'procs', ARGV[3])
redis.call('HINCRBY', key, ARGV[2], 1)
redis.call('EXPIRE', key, tonumber(ARGV[5]))
return 1
"""

# ARGV: prefix, stream, process, now
STREAM_CLOSED = r"""
local key = P .. 'open:' .. ARGV[3]
if redis.call('HINCRBY', key, ARGV[2], -1) <= 0 then redis.call('HDEL', key, ARGV[2]) end
redis.call('ZADD', P .. 'seen', 'XX', ARGV[4], ARGV[2])
return 1
"""

# ARGV: prefix, process, ttl: this process is alive, and so are the streams it holds open
HEARTBEAT = r"""
local key = P .. 'open:' .. ARGV[2]
if redis.call('EXPIRE', key, tonumber(ARGV[3])) == 1 then
  redis.call('SADD', P .. 'procs', ARGV[2])
end
return 1
"""

# ARGV: prefix, process, ttl, stream, count, stream, count...: what this process has open
RESTORE_OPEN = r"""
local key = P .. 'open:' .. ARGV[2]
redis.call('DEL', key)
for i = 4, #ARGV, 2 do redis.call('HSET', key, ARGV[i], ARGV[i + 1]) end
redis.call('SADD', P .. 'procs', ARGV[2])
redis.call('EXPIRE', key, tonumber(ARGV[3]))
return 1
"""

ALL = {
    name: PRELUDE + body
    for name, body in {
        "login": LOGIN,
        "authenticate": AUTHENTICATE,
        "logout": LOGOUT,
        "expire_idle": EXPIRE_IDLE,
        "join": JOIN,
        "leave": LEAVE,
        "forget_empty_rooms": FORGET_EMPTY_ROOMS,
        "occupied_rooms": OCCUPIED_ROOMS,
        "members": MEMBERS,
        "history": HISTORY,
        "send": SEND,
        "read": READ,
        "open_streams": OPEN_STREAMS,
        "stream_opened": STREAM_OPENED,
        "stream_closed": STREAM_CLOSED,
        "heartbeat": HEARTBEAT,
        "restore_open": RESTORE_OPEN,
    }.items()
}
