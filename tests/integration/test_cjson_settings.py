"""cjson's settings functions (encode_number_precision, encode_max_depth, decode_max_depth,
encode_sparse_array, encode_invalid_numbers, decode_invalid_numbers, encode_keep_buffer) applied
as Redis 7.0's lua_cjson applies them: each script body runs on forkv and on Debian's
redis-server, in order (the settings last across scripts until SCRIPT FLUSH), and the replies
must be the same bytes."""

import pytest

from tests.servers import session

CASES = [
    "return {cjson.encode_max_depth(), cjson.decode_max_depth(), cjson.encode_number_precision(), "
    "cjson.encode_keep_buffer(), cjson.encode_invalid_numbers(), cjson.decode_invalid_numbers()}",
    "return {cjson.encode_sparse_array()}",
    "cjson.encode_number_precision(3) local s = cjson.encode({1/3, 123456, 0.1}) "
    "cjson.encode_number_precision(14) return s",
    "cjson.encode_number_precision(0)",
    "cjson.encode_number_precision(15)",
    "return cjson.encode_number_precision('5')",
    "return cjson.encode(1/3)",  # the precision set by the script before
    "return cjson.encode_number_precision(2.6)",
    "return cjson.encode({1.5, -0.0, 1e300, 123456789012345})",
    "cjson.encode_number_precision(14) return cjson.encode({1.5, 1e300, 123456789012345, 0.1 + 0.2})",
    "cjson.encode_max_depth(2) local ok, e = pcall(cjson.encode, {{{1}}}) cjson.encode_max_depth(1000) return e",
    "cjson.encode_max_depth(0)",
    "return cjson.encode_max_depth('x')",
    "return cjson.encode_max_depth({})",
    "return cjson.encode_max_depth(5, 6)",
    "cjson.encode_sparse_array(true) local s = cjson.encode({[1]=1,[20]=2}) cjson.encode_sparse_array(false) return s",
    "cjson.encode_sparse_array(false, 1, 3) local ok, e = pcall(cjson.encode, {[1]=1,[4]=2}) "
    "local s2 = cjson.encode({[1]=1,[3]=2}) cjson.encode_sparse_array(false, 2, 10) return {e, s2}",
    "return {cjson.encode_sparse_array('yes')}",
    "return {cjson.encode_sparse_array(true, 'x')}",
    "return {cjson.encode_sparse_array(nil, -1)}",
    "return {cjson.encode_sparse_array(nil, 0, 0)}",
    "local s = cjson.encode({[1]=1,[30]=2}) cjson.encode_sparse_array(false, 2, 10) return s",
    "return {cjson.encode_sparse_array(true, 3, 4, 5)}",
    "cjson.encode_invalid_numbers(true) local s = cjson.encode({1/0, -1/0, 0/0}) "
    "cjson.encode_invalid_numbers(false) return s",
    "cjson.encode_invalid_numbers('null') local s = cjson.encode({1/0, 0/0}) local r = cjson.encode_invalid_numbers() "
    "cjson.encode_invalid_numbers(false) return {s, r}",
    "cjson.encode_invalid_numbers('maybe')",
    "return {cjson.encode_invalid_numbers(1)}",
    "return {cjson.encode_invalid_numbers('on')}",
    "cjson.encode_invalid_numbers('off') return {cjson.encode_invalid_numbers(), cjson.encode_keep_buffer(true)}",
    "return cjson.encode_keep_buffer(false)",
    "return cjson.encode_keep_buffer('on')",
    "return cjson.encode_keep_buffer(1)",
    "cjson.decode_max_depth(2) local ok, e = pcall(cjson.decode, '[[[1]]]') cjson.decode_max_depth(1000) return e",
    "cjson.decode_invalid_numbers(false) local ok, e = pcall(cjson.decode, '[NaN]') "
    "cjson.decode_invalid_numbers(true) return e",
    "return cjson.decode_invalid_numbers('null')",
    "cjson.decode_invalid_numbers(false) local ok, e = pcall(cjson.decode, '[0x10]') "
    "local ok2, e2 = pcall(cjson.decode, '[-Infinity]') local ok3, v = pcall(cjson.decode, '[1.5e3]') "
    "cjson.decode_invalid_numbers(true) return {e, e2, v[1]}",
    "return cjson.decode('[NaN, 0x10]')[2]",
    "local c = cjson.new() c.encode_number_precision(2) return {c.encode(1/3), cjson.encode(1/3)}",
    "local c = cjson.new() c.decode_max_depth(1) local ok, e = pcall(c.decode, '[[1]]') "
    "return {e, cjson.decode('[[1]]')[1][1]}",
]


def test_cjson_settings_as_redis(forkv_server, redis_server):
    try:
        mine = session(forkv_server.port, ["SCRIPT", "FLUSH"], *(["EVAL", body, "0"] for body in CASES))
        theirs = session(redis_server.port, ["SCRIPT", "FLUSH"], *(["EVAL", body, "0"] for body in CASES))
    finally:  # the settings outlive the scripts: leave both servers with the defaults
        session(forkv_server.port, ["SCRIPT", "FLUSH"])
        session(redis_server.port, ["SCRIPT", "FLUSH"])
    for body, a, b in zip(CASES, mine[1:], theirs[1:]):
        assert (type(a), repr(a)) == (type(b), repr(b)), body


@pytest.mark.parametrize("body", ["return cjson.encode({1/3})", "return {cjson.encode_number_precision()}"])
def test_script_flush_resets_the_settings(forkv_server, body):
    port = forkv_server.port
    session(port, ["EVAL", "cjson.encode_number_precision(3)", "0"])
    session(port, ["SCRIPT", "FLUSH"])
    assert session(port, ["EVAL", body, "0"])[0] in ([b"0.33333333333333"], b"[0.33333333333333]", [14])
