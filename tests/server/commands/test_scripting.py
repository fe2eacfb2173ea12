"""Lua scripting: EVAL, EVALSHA, EVAL_RO, EVALSHA_RO, SCRIPT and the `redis` API inside scripts.

Most cases are differential: the same commands on a fresh connection to forkv and to Debian's
redis-server 7.0, compared byte for byte on the wire in RESP2 and RESP3 (so error texts, the
`script: <sha>, on @user_script:N.` suffixes and the Lua <-> RESP conversions are Redis's own).
"""

import re
import socket

import pytest
import redis

from tests.server.commands._replies import raw
from tests.servers import command_bytes, raw_call, wait_for


def _reply_end(buf: bytes, pos: int) -> int:
    """The index just past the RESP2/RESP3 reply starting at `pos` (-1: not all there yet)."""
    end = buf.find(b"\r\n", pos)
    if end < 0:
        return -1
    kind, head = buf[pos:pos + 1], buf[pos + 1:end]
    pos = end + 2
    if kind in b"$=!" and head != b"-1" and head != b"?":
        pos += int(head) + 2
        return pos if pos <= len(buf) else -1
    if kind in b"*~>%|" and head != b"-1":
        n = int(head) * (2 if kind in b"%|" else 1)
        for _ in range(n):
            pos = _reply_end(buf, pos)
            if pos < 0:
                return -1
        return pos
    return pos


def wire(port: int, commands: list, proto: int = 2) -> list:
    """The raw bytes of each reply to `commands` sent on one fresh connection (after HELLO 3 for
    RESP3, whose own reply is left out)."""
    if proto == 3:
        commands = [["HELLO", "3"]] + commands
    replies = []
    buf = b""
    with socket.create_connection(("127.0.0.1", port), timeout=10) as s:
        s.sendall(b"".join(command_bytes(*argv) for argv in commands))
        while len(replies) < len(commands):
            end = _reply_end(buf, 0) if buf else -1
            if end < 0:
                chunk = s.recv(1 << 20)
                if not chunk:
                    raise ConnectionError("server closed the connection")
                buf += chunk
                continue
            replies.append(buf[:end])
            buf = buf[end:]
    return replies[1:] if proto == 3 else replies


def same(forkv_server, redis_server, commands: list, proto: int = 2) -> list:
    """Run `commands` (after FLUSHALL and SCRIPT FLUSH) on both servers: their replies must be equal."""
    setup = [["FLUSHALL"], ["SCRIPT", "FLUSH"]]
    ours = wire(forkv_server.port, setup + commands, proto)[2:]
    theirs = wire(redis_server.port, setup + commands, proto)[2:]
    assert ours == theirs, commands
    return ours


# Scripts whose reply (value or error) must be Redis's in both protocols: (script, keys and args).
CASES = [
    ("return 1", []),
    ("return 'hello'", []),
    ("return 3.99", []),
    ("return -3.99", []),
    ("return 2^53", []),
    ("return 1e300", []),
    ("return 0/0", []),
    ("return -(2^63)", []),
    ("return 'a\\0b'", []),
    ("return true", []),
    ("return false", []),
    ("return nil", []),
    ("return", []),
    ("return {1, 2, nil, 4}", []),
    ("return {1, {2, {3, 'x'}}, 'y', true, false}", []),
    ("return {}", []),
    ("return {err = 'My Error'}", []),
    ("return {err = 'bad\\r\\nthing'}", []),
    ("return {ok = 'FINE'}", []),
    ("return {ok = 'a\\r\\nb'}", []),
    ("return {double = 3.5}", []),
    ("return {double = 1/3}", []),
    ("return {big_number = '123456789012345678901234567890'}", []),
    ("return {map = {a = 1}}", []),
    ("return {map = {a = {1, 2}}}", []),
    ("return {set = {a = true}}", []),
    ("return {map = {a = 1, b = 2, c = 3, d = {4}, e = 'five'}}", []),  # lua_next order, as Redis's
    ("return {set = {a = true, b = true, c = true, [1] = true}}", []),
    ("return {map = {[1.2] = 'a', [1.7] = 'b'}}", []),
    ("return {map = {[{1}] = 'a'}}", []),
    ("return {verbatim_string = {format = 'txt', string = 'hi'}}", []),
    ("return {1, {err = 'inner'}, {ok = 'fine'}}", []),
    ("return {ok = 5}", []),
    ("return {err = 5}", []),
    ("return function() end", []),
    ("return redis.status_reply('FINE')", []),
    ("return redis.status_reply()", []),
    ("return redis.error_reply('My Error')", []),
    ("return redis.error_reply('-My Error')", []),
    ("return redis.error_reply('x')", []),
    ("return redis.error_reply()", []),
    ("return {KEYS[1], KEYS[2], ARGV[1], ARGV[2], #KEYS, #ARGV}", ["2", "k1", "k2", "a1", "a2"]),
    ("return KEYS", ["0"]),
    ("return ARGV", ["1", "k", "a", "b"]),
    ("KEYS[1] = 'x' return KEYS[1]", ["1", "a"]),
    # errors: runtime, compile, error() with strings and tables
    ("error('boom')", []),
    ("error({err = 'X y'})", []),
    # a number as the err field reads as Lua's tostring of it ("%.14g")
    ("error({err = 1})", []),
    ("error({err = 0.1})", []),
    ("error({err = 1e20})", []),
    ("error({err = 1/0})", []),
    ("error()", []),
    ("local x = nil + 1", []),
    ("\n\nlocal x = nil + 1", []),
    ("local function f()\n  error('deep')\nend\nf()", []),
    ("return (", []),
    ("return 1 +", []),
    ("local t = {} t.x.y = 1", []),
    # the sandbox
    ("x = 5", []),
    ("function f() end", []),
    ("return y", []),
    ("return nosuch()", []),
    ("return _G.zz", []),
    ("return rawget(_G, 'zz')", []),
    ("rawset(_G, 'a', 1)", []),
    ("redis.x = 1", []),
    ("redis.call = 1", []),
    ("string.x = 1", []),
    ("setmetatable(_G, nil)", []),
    ("local t = {} t.x = 1 return t.x", []),
    ("return type(os)", []),
    ("return io", []),
    ("return loadfile", []),
    ("return dofile", []),
    ("return require", []),
    ("return debug", []),
    ("return setfenv", []),
    ("return print", []),
    ("return _VERSION", []),
    ("return {type(cjson), type(bit), type(string), type(math), type(table), type(coroutine)}", []),
    ("return {type(redis.call), type(redis.pcall), type(redis.sha1hex), type(math.random), type(pairs),"
     " type(cjson.decode), type(cmsgpack.pack), type(struct.unpack), type(cjson.null)}", []),
    ("return tostring(redis.call):sub(1, 12)", []),
    ("return cjson.encode({redis.call})", []),
    ("local t = type()", []),  # (as `return type()` forkv loses the line: type is a Lua function)
    ("local s = tostring()", []),
    ("return loadstring('return 1 + 1')()", []),
    ("local f, e = loadstring(string.dump(function() return 1 end)) return {tostring(f), e}", []),
    ("local s = string.dump(function() return 1 end) local done = false "
     "local f, e = load(function() if done then return nil end done = true return s end) "
     "return {tostring(f), e}", []),
    ("pairs(nil)", []),
    ("next(nil)", []),
    ("rawget(nil, 1)", []),
    ("rawset({}, nil, 1)", []),
    ("setmetatable(1, {})", []),
    ("return getmetatable()", []),
    ("return loadstring(nil)", []),
    ("return {pcall()}", []),
    ("return xpcall()", []),
    ("return {xpcall(function() error('x') end, function(e) return 'h:' .. e end)}", []),
    ("return {xpcall(function() redis.call('nosuch') end, function(e) return e end)}", []),
    ("return {pcall(function() error('x') end)}", []),
    ("return {pcall(function() error({err = 'E t'}) end)}", []),
    ("return rawget(redis, 'call') ~= nil", []),
    ("return {next({})}", []),
    ("return next(redis) ~= nil", []),
    ("local t = setmetatable({}, {__index = function() return 5 end}) return t.x", []),
    ("return type(pairs(KEYS))", []),
    ("return load(function() return nil end)", []),
    ("local n = 0 for k, v in pairs({a = 1, b = 2}) do n = n + v end return n", []),
    ("local n = 0 for i, v in ipairs(ARGV) do n = n + #v end return n", ["0", "ab", "cde"]),
    ("return loadstring('return zz')()", []),
    ("local f = loadstring('return (') return f", []),
    ("local t = {} for k, v in pairs(redis) do t[#t + 1] = k end table.sort(t) return t", []),
    ("return {redis.REDIS_VERSION, redis.REDIS_VERSION_NUM}", []),
    ("return {redis.LOG_DEBUG, redis.LOG_VERBOSE, redis.LOG_NOTICE, redis.LOG_WARNING}", []),
    ("return {redis.REPL_NONE, redis.REPL_AOF, redis.REPL_SLAVE, redis.REPL_REPLICA, redis.REPL_ALL}", []),
    # redis.call / redis.pcall
    ("return redis.call('ping')", []),
    ("return redis.call('set', 'k', 'v')", []),
    ("redis.call('set', 'k', 'v') return redis.call('get', 'k')", []),
    ("return redis.call('get', 'nokey')", []),
    ("return redis.call('nosuch')", []),
    ("return redis.pcall('nosuch')", []),
    ("return redis.call('get')", []),
    ("return redis.call('get', 1, 2)", []),
    ("return redis.call()", []),
    ("return redis.pcall()", []),
    ("return redis.call({})", []),
    ("return redis.call('set', 'k', {})", []),
    ("return redis.call('set', 'k', true)", []),
    ("return redis.call('eval', 'return 1', '0')", []),
    ("return redis.call('multi')", []),
    ("return redis.call('subscribe', 'c')", []),
    ("return redis.call('client')", []),
    ("return redis.call('client', 'nosuch')", []),
    ("return redis.call('config', 'get', 'maxmemory')", []),
    ("redis.call('set', 'k', 'v') return redis.call('incr', 'k')", []),
    ("redis.call('set', 'k', 'v') return redis.pcall('incr', 'k')", []),
    ("redis.call('set', 'k', 'v') local r = redis.pcall('incr', 'k') return r.err", []),
    ("local ok, e = pcall(redis.call, 'nosuch') return {tostring(ok), e.err}", []),
    ("local ok, e = pcall(error, {err = 'mine'}) return e", []),
    ("local ok, e = pcall(error, 'text') return e", []),
    ("local ok, e = pcall(redis.call, 'nosuch') error(e)", []),
    ("redis.call('set', 'k', 'v') redis.call('incr', 'k')", []),
    ("return redis.call('set', 'f', 1.1) and redis.call('get', 'f')", []),
    ("return redis.call('set', 'f', 3) and redis.call('get', 'f')", []),
    ("return redis.call('set', 'f', 1e20) and redis.call('get', 'f')", []),
    ("return redis.call('set', 'f', 0/0) and redis.call('get', 'f')", []),
    ("redis.call('set', 'k', 'v') return redis.call('lpush', 'k', 'x')", []),
    ("redis.call('rpush', 'l', 'a', 'b') return redis.call('lrange', 'l', 0, -1)", []),
    ("return redis.call('mget', 'a', 'nokey')", []),
    ("redis.call('set', 'n', 10) return redis.call('incrbyfloat', 'n', 1.5)", []),
    ("redis.call('zadd', 'z', 1.5, 'a') return redis.call('zscore', 'z', 'a')", []),
    ("redis.call('hset', 'h', 'f', 'v') return redis.call('hgetall', 'h')", []),
    ("redis.call('sadd', 's', 'm') return redis.call('smembers', 's')", []),
    ("return redis.call('exists', 'nokey')", []),
    ("return redis.call('type', 'nokey')", []),
    ("redis.call('select', 3) redis.call('set', 'sel', 'x') return redis.call('dbsize')", []),
    # RESP3 inside the script
    ("redis.setresp(3) return redis.call('get', 'nokey')", []),
    ("redis.setresp(3) return redis.call('set', 'k', 'v')", []),
    ("redis.setresp(3) redis.call('hset', 'h', 'f', 'v') return redis.call('hgetall', 'h')", []),
    ("redis.setresp(3) redis.call('hset', 'h', 'f', 'v') local r = redis.call('hgetall', 'h') return r.map.f", []),
    ("redis.setresp(3) redis.call('sadd', 's', 'm') return redis.call('smembers', 's')", []),
    ("redis.setresp(3) redis.call('zadd', 'z', 1.5, 'a') return redis.call('zscore', 'z', 'a')", []),
    ("redis.setresp(3) redis.call('zadd', 'z', 1.5, 'a') return redis.call('zscore', 'z', 'a').double", []),
    ("redis.setresp(3) return redis.call('config', 'get', 'port')['map'] ~= nil", []),
    ("redis.setresp(3) return true", []),
    ("redis.setresp(3) return false", []),
    ("redis.setresp(3) return {true, false, 1}", []),
    ("redis.setresp(3) return redis.call('exists', 'nokey')", []),
    ("redis.setresp(2) return redis.call('get', 'nokey')", []),
    ("redis.setresp(3) local r = redis.call('info', 'keyspace') "
     "return {type(r), r.verbatim_string and r.verbatim_string.format}", []),
    ("redis.setresp(3) return redis.call('info', 'keyspace')", []),
    ("redis.setresp(3) redis.call('set', 'k', '1') return redis.call('object', 'freq', 'k')", []),
    ("return redis.setresp(4)", []),
    ("return redis.setresp()", []),
    # other API functions
    ("return redis.sha1hex('')", []),
    ("return redis.sha1hex('abc')", []),
    ("return redis.sha1hex(42)", []),
    ("return redis.sha1hex()", []),
    ("return redis.log(redis.LOG_WARNING, 'from a script')", []),
    ("return redis.log(redis.LOG_DEBUG, 'a', 'b')", []),
    ("return redis.log(99, 'hi')", []),
    ("return redis.log(redis.LOG_WARNING)", []),
    ("return redis.set_repl(redis.REPL_ALL)", []),
    ("return redis.set_repl(redis.REPL_NONE)", []),
    ("return redis.set_repl(99)", []),
    ("return redis.replicate_commands()", []),
    ("return redis.breakpoint()", []),
    ("return redis.debug('x')", []),
    ("return redis.acl_check_cmd('get', 'k')", []),
    ("return redis.acl_check_cmd('nosuch')", []),
    ("return redis.acl_check_cmd()", []),
    ("return redis.acl_check_cmd({})", []),
    ("return redis.acl_check_cmd('config', 'get')", []),
    ("return redis.set_repl()", []),
    ("return redis.set_repl('x')", []),
    ("return redis.log('x', 'y')", []),
    ("return redis.log(redis.LOG_NOTICE, {}, 'x')", []),
    ("return redis.setresp('3')", []),
    ("return redis.setresp(2.5)", []),
    ("return redis.sha1hex(nil)", []),
    ("return redis.sha1hex({})", []),
    ("return redis.sha1hex(1.5)", []),
    ("return redis.error_reply(5)", []),
    ("return redis.status_reply(5)", []),
    ("return redis.error_reply('a', 'b')", []),
    ("return redis.call('get', 'a', nil)", []),
    ("return redis.call('ping', nil)", []),
    ("return redis.call(nil)", []),
    ("return redis.call('PING')", []),
    ("return redis.call('SeT', 'k', 5) and redis.call('gEt', 'k')", []),
    ("return redis.call('set', 'k', 'v', 'ex', 0)", []),
    ("return redis.pcall('set', 'k', 'v', 'ex', 0)", []),
    # math, string, table
    ("math.randomseed(42) return tostring(math.random())", []),
    ("math.randomseed(0) return {math.random(100), math.random(5, 10), tostring(math.random())}", []),
    ("return math.random(0)", []),
    ("return math.random(1, 2, 3)", []),
    ("return math.random(5, 1)", []),
    ("return string.format('%d %s %5.2f', 3, 'x', 1.5)", []),
    ("return tostring(1e15)", []),
    ("return tostring(0.1)", []),
    ("return table.concat({'a', 'b', 'c'}, ',')", []),
    ("return string.rep('ab', 3)", []),
    ("return #string.rep('x', 1000)", []),
    ("return {string.byte('A'), string.char(66), ('x'):upper()}", []),
    ("return tonumber('0x10')", []),
    ("return unpack({1, 2, 3})", []),
    ("return select('#', 1, 2, 3)", []),
    ("local co = coroutine.create(function() coroutine.yield(1) end) return {coroutine.resume(co)}", []),
    # bit
    ("return {bit.band(0xff, 0x0f), bit.bor(1, 2, 4), bit.bxor(5, 3), bit.bnot(0)}", []),
    ("return {bit.lshift(1, 31), bit.rshift(-1, 28), bit.arshift(-256, 4), bit.tobit(2^32 + 5)}", []),
    ("return {bit.rol(0x12345678, 8), bit.ror(0x12345678, 8), bit.bswap(0x12345678)}", []),
    ("return {bit.tohex(255), bit.tohex(-1, 4), bit.tohex(255, -2)}", []),
    # cjson
    ("return cjson.encode({1, 2, 3})", []),
    ("return cjson.encode({a = 'x/y'})", []),
    ("return cjson.encode('quote\" backslash\\\\ tab\\t nl\\n')", []),
    ("return cjson.encode({})", []),
    ("return cjson.encode({1, 2, nil, 4})", []),
    ("return cjson.encode(1.5)", []),
    ("return cjson.encode(123456789012)", []),
    ("return cjson.encode(true)", []),
    ("return cjson.encode(cjson.null)", []),
    ("return cjson.encode({a = {b = {c = {1}}}})", []),
    ("return cjson.encode({[1] = 'a', [3] = 'c'})", []),
    ("return cjson.decode('[1, 2, 3]')", []),
    ("return cjson.decode('{\"a\": \"b\"}').a", []),
    ("return cjson.decode('\"\\\\u00e9\"')", []),
    ("return cjson.decode('1.5')", []),
    ("return cjson.decode('[1, null, 3]')[2] == cjson.null", []),
    ("return type(cjson.null)", []),
    ("return cjson.decode(cjson.encode({x = {1, 2, {y = 'z'}}})).x[3].y", []),
    ("return cjson.decode('[1,')", []),
    ("return cjson.decode('x')", []),
    ("return cjson.decode('{\"a\":1,}')", []),
    ("return cjson.decode('[1 2]')", []),
    ("return cjson.decode('\"\\\\x\"')", []),
    ("return cjson.decode('tru')", []),
    ("return cjson.decode(' ')", []),
    ("return cjson.decode('[1] x')", []),
    ("return cjson.decode('{1:2}')", []),
    ("return cjson.decode('{\"a\" 2}')", []),
    ("return cjson.decode('[1e400]')", []),
    ("return cjson.decode('0x10')", []),
    ("return cjson.decode('123456789012345678')", []),
    ("return cjson.decode()", []),
    ("return cjson.decode({})", []),
    ("return cjson.encode({1, 2, [5] = 3})", []),
    ("return cjson.encode({[20] = 1})", []),
    ("return cjson.encode(0/0)", []),
    ("return cjson.encode(function() end)", []),
    ("return cjson.encode({[true] = 1})", []),
    ("return cjson.encode()", []),
    ("return cjson.encode(1e100)", []),
    ("return cjson.encode(0.1)", []),
    ("return cjson.encode('\\127\\1')", []),
    ("return {cjson._NAME, cjson._VERSION}", []),
    ("return {cjson.encode_max_depth(), cjson.decode_max_depth(), cjson.encode_number_precision()}", []),
    ("local t = {} for k in pairs(cjson) do t[#t + 1] = k end table.sort(t) return t", []),
    # cmsgpack
    ("return cmsgpack.pack({1, 2, 3})", []),
    ("return cmsgpack.pack('abc', 1, -1, 1.5, true, false, nil, {a = 1})", []),
    ("return cmsgpack.pack(0, 127, 128, 255, 256, 65535, 65536, 4294967295, 4294967296)", []),
    ("return cmsgpack.pack(-32, -33, -128, -129, -32768, -32769, -2147483648, -2147483649)", []),
    ("return cmsgpack.pack(0.1, 1e300, 2^64, string.rep('x', 40), string.rep('y', 300))", []),
    ("return cmsgpack.pack({}, {{{}}}, {1, nil, 3}, {[1] = 'a', [2] = 'b', x = 1})", []),
    ("local t = {} for i = 1, 20 do t[i] = i end return cmsgpack.pack(t)", []),
    ("local t = {} local c = t for i = 1, 20 do c[1] = {} c = c[1] end return cmsgpack.pack(t)", []),
    ("return {cmsgpack.unpack(cmsgpack.pack(1, 'x', {2, 3}, {a = 'b'}, true, 1.5, -7))}", []),
    ("return cmsgpack.unpack(cmsgpack.pack({1, 'x', {a = {1}}}))[3].a[1]", []),
    ("return cmsgpack.unpack('\\205')", []),
    ("return cmsgpack.unpack('\\193')", []),
    ("return cmsgpack.unpack('')", []),
    ("return cmsgpack.pack()", []),
    ("return cmsgpack.unpack()", []),
    ("return {cmsgpack.unpack_one(cmsgpack.pack(1, 2, 3))}", []),
    ("return {cmsgpack.unpack_one(cmsgpack.pack(1, 2, 3), 2)}", []),
    ("return {cmsgpack.unpack_limit(cmsgpack.pack(1, 2, 3), 2)}", []),
    ("return {cmsgpack.unpack_limit(cmsgpack.pack(1, 2, 3), 2, 1)}", []),
    ("return {cmsgpack.unpack_one('\\145\\1', 5)}", []),
    ("return cmsgpack.unpack_limit('\\1', -1)", []),
    ("return {cmsgpack._NAME, cmsgpack._VERSION, cmsgpack._COPYRIGHT, cmsgpack._DESCRIPTION}", []),
    # struct
    ("return struct.pack('>I2', 258)", []),
    ("return {struct.unpack('<i4', '\\1\\0\\0\\0')}", []),
    ("return struct.size('>i4h')", []),
    ("return {struct.unpack('>i4s', struct.pack('>i4s', 7, 'ab'))}", []),
    ("return struct.pack('!4i4', 1)", []),
    ("return {struct.unpack('<d', struct.pack('<d', 1.5))}", []),
    ("return {struct.unpack('<f', struct.pack('<f', 0.25))}", []),
    ("return struct.pack('z')", []),
    ("return struct.pack('i17')", []),
    ("return struct.pack('i17', -1)", []),
    ("return {struct.unpack('c2', 'ab')}", []),
    ("return {struct.unpack('B', '')}", []),
    ("return struct.pack('c', 'abc')", []),
    ("return struct.size('s')", []),
    ("return struct.size('c0')", []),
    ("return {struct.unpack('c0', 'ab')}", []),
    ("return {struct.unpack('Bc0', '\\2abc')}", []),
    ("return struct.pack('i', 'x')", []),
    ("return struct.pack('i', '12')", []),
    ("return struct.pack('c3', 'ab')", []),
    ("return {struct.unpack('s', 'ab')}", []),
    ("return {struct.unpack('!8bd', struct.pack('!8bd', 1, 2))}", []),
    ("return #struct.pack('!8bd', 1, 2)", []),
    ("return {struct.unpack('B', '\\1\\2', 2)}", []),
    ("return {struct.unpack('B', '\\1\\2', 5)}", []),
    ("return struct.pack('!3i')", []),
    ("return struct.pack('i33')", []),
    ("return struct.pack()", []),
    ("return {struct.unpack('bBhHlLTfIi', struct.pack('bBhHlLTfIi', -1, 255, -2, 65535, -3, 4, 5, 0.5, 6, -7))}", []),
    ("return {struct.unpack('>xHx', '\\0\\1\\2\\0')}", []),
    ("local t = {} for k in pairs(struct) do t[#t + 1] = k end table.sort(t) return t", []),
]


def skip_without_commands(forkv_server, script: str) -> None:
    """Skip a case whose script calls a command forkv does not have yet (lists, hashes, sets and
    sorted sets come from other branches)."""
    for name in re.findall(r"redis\.p?call\('(\w+)'", script):
        if raw_call(forkv_server.port, "COMMAND", "INFO", name) == [None]:
            pytest.skip(f"forkv has no {name.upper()} yet")


@pytest.mark.parametrize("proto", [2, 3])
@pytest.mark.parametrize("script,args", CASES)
def test_eval_matches_redis(forkv_server, redis_server, script, args, proto):
    skip_without_commands(forkv_server, script)
    same(forkv_server, redis_server, [["EVAL", script, *(args or ["0"])]], proto)


def test_select_in_script_does_not_change_the_callers_db(forkv_server, redis_server):
    same(forkv_server, redis_server, [
        ["EVAL", "redis.call('select', 3) return redis.call('set', 'sel', '1')", "0"],
        ["GET", "sel"], ["SELECT", "3"], ["GET", "sel"], ["SELECT", "0"],
    ])


# -- EVAL, EVALSHA and their numkeys -------------------------------------------------------------

NUMKEYS = [
    ["EVAL", "return 1", "1"], ["EVAL", "return 1", "-1"], ["EVAL", "return 1", "x"],
    ["EVAL", "return 1", "2", "a"], ["EVAL", "return 1"], ["EVAL"],
    ["EVALSHA", "0000000000000000000000000000000000000000", "0"], ["EVALSHA", "abc", "0"],
    ["EVALSHA", "abc", "-1"], ["EVAL_RO", "return 1", "5"], ["EVALSHA_RO", "x", "0"],
    ["EVAL", "return 1", "99999999999999999999"],
]


GETKEYS = [
    ["COMMAND", "GETKEYS", "EVAL", "return 1", "2", "a", "b", "c"],
    ["COMMAND", "GETKEYS", "EVAL", "return 1", "0"],
    ["COMMAND", "GETKEYS", "EVAL_RO", "return 1", "1", "a"],
    ["COMMAND", "GETKEYS", "EVALSHA", "x", "3", "a"],
    ["COMMAND", "GETKEYS", "EVALSHA_RO", "x", "-1", "a"],
    ["COMMAND", "GETKEYS", "EVAL", "return 1", "x", "a"],
]


@pytest.mark.parametrize("command", GETKEYS)
def test_command_getkeys_for_scripts(forkv_server, redis_server, command):
    same(forkv_server, redis_server, [command])


@pytest.mark.parametrize("command", NUMKEYS)
def test_numkeys_and_noscript_errors(forkv_server, redis_server, command):
    same(forkv_server, redis_server, [command])


def test_evalsha_after_eval_and_script_load(forkv_server, redis_server):
    sha = "e0e1f9fabfc9d4800c877a703b823ac0578ff8db"  # sha1("return 1")
    same(forkv_server, redis_server, [
        ["EVALSHA", sha, "0"], ["EVAL", "return 1", "0"], ["EVALSHA", sha, "0"],
        ["EVALSHA", sha.upper(), "0"], ["EVALSHA_RO", sha, "0"],
        ["SCRIPT", "EXISTS", sha, sha.upper(), "nope", "a" * 40],
        ["SCRIPT", "FLUSH"], ["EVALSHA", sha, "0"], ["SCRIPT", "EXISTS", sha],
        ["SCRIPT", "LOAD", "return 1"], ["EVALSHA", sha, "0"], ["SCRIPT", "FLUSH", "ASYNC"],
        ["SCRIPT", "EXISTS", sha], ["SCRIPT", "LOAD", "return 1"], ["SCRIPT", "FLUSH", "SYNC"],
        ["SCRIPT", "EXISTS", sha],
    ])


SCRIPT_COMMANDS = [
    ["SCRIPT", "LOAD", "return ("], ["SCRIPT", "LOAD", "return 2"], ["SCRIPT", "LOAD"],
    ["SCRIPT", "LOAD", "a", "b"], ["SCRIPT", "EXISTS"], ["SCRIPT", "FLUSH", "x"],
    ["SCRIPT", "FLUSH", "sync", "async"], ["SCRIPT", "HELP"], ["SCRIPT", "KILL"],
    ["SCRIPT", "DEBUG", "x"], ["SCRIPT", "DEBUG", "NO"], ["SCRIPT", "DEBUG", "YES", "x"],
    ["SCRIPT", "NOSUCH"], ["SCRIPT"],
    ["SCRIPT", "LOAD", "#!lua flags=bogus\nreturn 1"], ["SCRIPT", "LOAD", "#!lua\nreturn 1"],
]


@pytest.mark.parametrize("command", SCRIPT_COMMANDS)
def test_script_subcommands(forkv_server, redis_server, command):
    same(forkv_server, redis_server, [command])


@pytest.mark.parametrize("mode", ["x", "NO"])
def test_script_debug_alone(forkv_server, redis_server, mode):
    ours = wire(forkv_server.port, [["SCRIPT", "DEBUG", mode]])
    assert ours == wire(redis_server.port, [["SCRIPT", "DEBUG", mode]])


# -- read-only scripts and shebangs --------------------------------------------------------------

READ_ONLY = [
    ["EVAL_RO", "return redis.call('set', 'a', 'b')", "1", "a"],
    ["EVAL_RO", "return redis.pcall('set', 'a', 'b')", "1", "a"],
    ["EVAL_RO", "return redis.call('get', 'a')", "1", "a"],
    ["EVAL_RO", "return redis.call('publish', 'a', 'b')", "0"],
    ["EVAL_RO", "return redis.call('eval_ro', 'return 1', '0')", "0"],
    ["EVAL_RO", "#!lua\nreturn 1", "0"],
    ["EVAL_RO", "#!lua flags=no-writes\nreturn redis.call('get', 'a')", "0"],
    ["EVAL", "#!lua flags=no-writes\nreturn redis.call('set', 'a', 'b')", "1", "a"],
    ["EVAL", "#!lua flags=no-writes\nreturn redis.pcall('set', 'a', 'b')", "0"],
    ["EVAL", "#!lua flags=no-writes\nreturn 1", "0"],
    ["EVAL", "#!lua flags=bogus\nreturn 1", "0"],
    ["EVAL", "#!lua flags=no-writes,bogus\nreturn 1", "0"],
    ["EVAL", "#!lua\nreturn 1", "0"],
    ["EVAL", "#!lua name=x\nreturn 1", "0"],
    ["EVAL", "#!luax\nreturn 1", "0"],
    ["EVAL", "#!lua flags=no-writes", "0"],
    ["EVAL", "#!lua flags=no-writes,allow-oom,allow-stale,no-cluster,allow-cross-slot-keys\nreturn 2", "0"],
    ["EVAL", "#!lua flags=\nreturn 3", "0"],
    ["EVAL", "#!lua\nreturn redis.call('set', 'a', 'b')", "0"],
    ["EVAL", "#!lua\n\nerror('line three')", "0"],
    ["EVAL", "#!lua flags=no-writes\nredis.setresp(3) return redis.call('config', 'get', 'port')", "0"],
]


@pytest.mark.parametrize("command", READ_ONLY)
def test_read_only_scripts_and_shebangs(forkv_server, redis_server, command):
    same(forkv_server, redis_server, [command, ["GET", "a"]])


# -- transactions --------------------------------------------------------------------------------

def test_scripts_inside_multi(forkv_server, redis_server):
    for proto in (2, 3):
        same(forkv_server, redis_server, [
            ["MULTI"], ["EVAL", "return redis.call('incr', KEYS[1])", "1", "c"],
            ["EVAL", "return redis.call('nosuch')", "0"],
            ["EVAL", "return {1, 'two', {ok = 'three'}}", "0"],
            ["EVALSHA", "0000000000000000000000000000000000000000", "0"],
            ["EVAL", "return 1", "-1"], ["EXEC"], ["GET", "c"],
        ], proto)


def test_script_inside_multi_sees_queued_writes(forkv_server, redis_server):
    same(forkv_server, redis_server, [
        ["MULTI"], ["SET", "k", "1"], ["EVAL", "return redis.call('get', 'k')", "0"],
        ["SET", "k", "2"], ["EVAL", "return redis.call('get', 'k')", "0"], ["EXEC"],
    ])


def test_watch_is_dirtied_by_a_script(forkv_server, redis_server):
    same(forkv_server, redis_server, [
        ["WATCH", "w"], ["EVAL", "return redis.call('set', 'w', '1')", "1", "w"],
        ["MULTI"], ["GET", "w"], ["EXEC"],
    ])


# -- redis-py's users of scripts -----------------------------------------------------------------

def test_redis_py_lock(any_r):
    lock = any_r.lock("x", timeout=10)
    assert lock.acquire(blocking=False)
    assert not any_r.lock("x").acquire(blocking=False)
    assert lock.owned()
    assert lock.extend(5)
    assert 10 < any_r.pttl("x") <= 15000
    assert lock.reacquire()
    lock.release()
    assert any_r.get("x") is None
    assert lock.acquire(blocking=False)
    any_r.set("x", "someone else")  # the release script finds another token: not owned
    with pytest.raises(redis.exceptions.LockNotOwnedError):
        lock.release()
    other = any_r.lock("x", timeout=10)
    any_r.delete("x")
    assert other.acquire(blocking=False)
    any_r.delete("x")
    with pytest.raises(redis.exceptions.LockNotOwnedError):
        other.extend(1)
    with any_r.lock("y", timeout=5):
        assert any_r.exists("y")
    assert not any_r.exists("y")


def test_register_script(any_r):
    script = any_r.register_script("return redis.call('incrby', KEYS[1], ARGV[1])")
    assert script(keys=["n"], args=[5]) == 5
    any_r.script_flush()
    assert script(keys=["n"], args=[2]) == 7  # NOSCRIPT, then redis-py loads it again
    pipe = any_r.pipeline()
    script(keys=["n"], args=[1], client=pipe)
    script(keys=["n"], args=[1], client=pipe)
    assert pipe.execute() == [8, 9]


@pytest.mark.parametrize("transaction", [True, False])
def test_register_script_in_pipeline_after_flush(any_r, transaction):
    # A pipeline cannot retry on NOSCRIPT: redis-py asks SCRIPT EXISTS first and loads what is
    # missing, then sends EVALSHA (inside MULTI/EXEC, or plain). An error stays in its place.
    incr = any_r.register_script("return redis.call('incrby', KEYS[1], ARGV[1])")
    bad = any_r.register_script("return redis.call('lpush', KEYS[1], 'x')")
    any_r.script_flush()
    pipe = any_r.pipeline(transaction=transaction)
    incr(keys=["n"], args=[3], client=pipe)
    pipe.set("s", "v")
    bad(keys=["s"], client=pipe)
    incr(keys=["n"], args=[4], client=pipe)
    first, ok, error, last = pipe.execute(raise_on_error=False)
    assert (first, ok, last) == (3, True, 7)
    assert isinstance(error, redis.ResponseError) and str(error).startswith("WRONGTYPE")
    assert any_r.script_exists(incr.sha, bad.sha) == [True, True]


def test_script_exists_many(any_r):
    shas = [any_r.script_load(f"return {i}") for i in range(50)]
    assert any_r.script_exists(*shas, "0" * 40) == [True] * 50 + [False]
    assert any_r.evalsha(shas[7], 0) == 7


# -- forkv only ----------------------------------------------------------------------------------

def test_blocking_command_inside_a_script_does_not_block(r):
    """may_block is False while a script runs (no blocking command of 7.0 is allowed in scripts
    yet: this runs a stand-in through the same check)."""
    from server import blocking

    class Client:
        in_exec = False
        in_script = True

    assert not blocking.may_block(Client())
    Client.in_script = False
    assert blocking.may_block(Client())


def test_script_log_goes_to_forkv_log(forkv_server, r):
    r.eval("redis.log(redis.LOG_WARNING, 'marker-from-lua', 42)", 0)
    r.eval("redis.log(redis.LOG_DEBUG, 'debug-marker-from-lua')", 0)  # below the log level
    wait_for(lambda: "marker-from-lua 42" in forkv_server.log(), 10, what="the script's log line")
    line = next(line for line in forkv_server.log().splitlines() if "marker-from-lua 42" in line)
    assert " # " in line  # warning level
    assert "debug-marker-from-lua" not in forkv_server.log()


def test_monitor_shows_script_commands_after_eval(r, forkv_server):
    mon = redis.Redis(port=forkv_server.port)
    with mon.monitor() as m:
        r.eval("return redis.call('set', 'mk', 'v')", 1, "mk")
        lines = [m.next_command()["command"] for _ in range(2)]
    assert lines[0].startswith("EVAL ")
    assert lines[1] == "set mk v"


def test_sandbox_keeps_python_out_of_reach(r):
    for script in ("return redis.call.__class__", "return python", "return redis.call.__self__"):
        with pytest.raises(redis.ResponseError):
            r.eval(script, 0)
    assert raw(r, "EVAL", "return type(redis.call)", "0") == b"function"


def test_misconf_refuses_writes_inside_scripts(inproc):
    """After a failed background save (MISCONF), a script's write commands fail as Redis's
    scriptVerifyWriteCommandAllow makes them, reads still run, and a shebang script without
    no-writes is refused before it runs (a write command, as Redis's evalGetCommandFlags)."""
    server, conn = inproc
    conn.call("SET", "k", "v")
    server.server.refuse_writes = True
    try:
        reply = conn.call("EVAL", "return redis.call('set', 'k', 'w')", "0")
        assert str(reply).startswith("MISCONF Redis is configured to save RDB snapshots")
        assert str(reply).endswith(", on @user_script:1.")
        assert conn.call("EVAL", "return redis.call('get', 'k')", "0") == b"v"
        reply = conn.call("EVAL", "return redis.pcall('set', 'k', 'w')", "0")
        assert str(reply).startswith("MISCONF ")
        reply = conn.call("EVAL", "#!lua\nreturn 1", "0")  # a write, refused before it runs
        assert str(reply).startswith("MISCONF ") and "Commands that may modify the data set" in str(reply)
        assert conn.call("EVAL", "#!lua flags=no-writes\nreturn redis.call('get', 'k')", "0") == b"v"
    finally:
        server.server.refuse_writes = False
    assert conn.call("GET", "k") == b"v"


def test_script_runs_in_callers_db_and_restores_protocol(inproc):
    server, conn = inproc
    conn.call("SELECT", "5")
    conn.call("SET", "k", "five")
    assert conn.call("EVAL", "return redis.call('get', 'k')", "0") == b"five"
    conn.call("HELLO", "3")
    assert conn.raw("EVAL", "redis.setresp(3) return redis.call('exists', 'k')", "0") == b":1\r\n"
    assert conn.raw("EVAL", "return {double = 1.5}", "0") == b",1.5\r\n"
    assert conn.raw("EVAL", "return {big_number = '12'}", "0") == b"(12\r\n"
    assert conn.raw("EVAL", "return true", "0") == b":1\r\n"  # the script spoke RESP2
    assert conn.raw("EVAL", "redis.setresp(3) return true", "0") == b"#t\r\n"
    assert conn.raw("EVAL", "redis.setresp(3) return false", "0") == b"#f\r\n"
    assert conn.raw("EVAL", "return false", "0") == b"_\r\n"
    assert conn.raw("PING") == b"+PONG\r\n"
    info = conn.call("CLIENT", "INFO")
    assert b" db=5 " in info and b"resp=3" in info


def test_write_pause_holds_scripts_that_may_write(any_server):
    """CLIENT PAUSE WRITE holds EVAL and EVALSHA (their own flags replicate) unless the script's
    shebang says no-writes (Redis's evalGetCommandFlags); EVAL_RO and EVALSHA_RO run at once."""
    from tests.integration.test_pubsub import Raw

    a, b = Raw(any_server.port), Raw(any_server.port)
    try:
        a.call("SCRIPT", "FLUSH")
        assert a.call("CLIENT", "PAUSE", "20000", "WRITE") == b"+OK\r\n"
        assert b.call("EVAL", "#!lua flags=no-writes\nreturn 1", "0") == b":1\r\n"
        assert b.call("EVAL_RO", "return 2", "0") == b":2\r\n"
        assert b.call("EVALSHA_RO", sha1("nope"), "0").startswith(b"-NOSCRIPT")
        for held in (["EVAL", "return 4", "0"], ["EVALSHA", sha1("nope"), "0"]):
            b.send(*held)
            wait_for(lambda: b"blocked_clients:1" in a.call("INFO", "clients"), 10, what=f"the held {held}")
            assert a.call("CLIENT", "UNPAUSE") == b"+OK\r\n"
            b.read()
            assert a.call("CLIENT", "PAUSE", "20000", "WRITE") == b"+OK\r\n"
        assert b.call("MULTI") == b"+OK\r\n"
        assert b.call("EVAL_RO", "return 5", "0") == b"+QUEUED\r\n"
        assert b.call("EXEC") == b"*1\r\n:5\r\n"  # nothing in it replicates
        assert b.call("MULTI") == b"+OK\r\n"
        b.send("EVAL", "return 6", "0")  # held even to be queued
        wait_for(lambda: b"blocked_clients:1" in a.call("INFO", "clients"), 10, what="the held EVAL in MULTI")
        assert a.call("CLIENT", "UNPAUSE") == b"+OK\r\n"
        assert b.read()[0] == b"+QUEUED\r\n"
        assert b.call("EXEC") == b"*1\r\n:6\r\n"
        assert b.call("MULTI") == b"+OK\r\n"
        assert b.call("EVAL", "return 7", "0") == b"+QUEUED\r\n"
        assert a.call("CLIENT", "PAUSE", "20000", "WRITE") == b"+OK\r\n"
        b.send("EXEC")  # a transaction holding an EVAL replicates: held
        wait_for(lambda: b"blocked_clients:1" in a.call("INFO", "clients"), 10, what="the held EXEC")
        assert a.call("CLIENT", "UNPAUSE") == b"+OK\r\n"
        assert b.read()[0] == b"*1\r\n:7\r\n"
        assert a.call("CLIENT", "PAUSE", "20000", "WRITE") == b"+OK\r\n"
        b.send("EVAL", "#!lua\nreturn 3", "0")
        wait_for(lambda: b"blocked_clients:1" in a.call("INFO", "clients"), 10, what="the held EVAL")
        assert a.call("CLIENT", "UNPAUSE") == b"+OK\r\n"
        assert b.read()[0] == b":3\r\n"
        # the same once the script is cached, and by EVALSHA
        sha = sha1("#!lua\nreturn 3")
        assert a.call("CLIENT", "PAUSE", "20000", "WRITE") == b"+OK\r\n"
        b.send("EVALSHA", sha, "0")
        wait_for(lambda: b"blocked_clients:1" in a.call("INFO", "clients"), 10, what="the held EVALSHA")
        assert a.call("CLIENT", "UNPAUSE") == b"+OK\r\n"
        assert b.read()[0] == b":3\r\n"
    finally:
        a.call("CLIENT", "UNPAUSE")
        a.close()
        b.close()


def sha1(text: str) -> str:
    import hashlib

    return hashlib.sha1(text.encode()).hexdigest()


def test_redis_py_lock_and_scripts_over_resp3(any_server):
    client = redis.Redis(port=any_server.port, protocol=3)
    try:
        client.delete("x3")
        lock = client.lock("x3", timeout=10)
        assert lock.acquire(blocking=False)
        assert lock.extend(5)
        lock.release()
        assert client.get("x3") is None
        assert client.eval("return {1, 'a', {double = 2.5}, {ok = 'fine'}}", 0) == [1, b"a", 2.5, b"fine"]
        assert client.eval("return {map = {a = {set = {x = true}}}}", 0) == {b"a": [b"x"]}
        assert client.eval("redis.setresp(3) return redis.call('get', 'nokey') == nil", 0) is True
    finally:
        client.close()
