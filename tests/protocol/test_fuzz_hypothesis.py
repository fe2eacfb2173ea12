"""Property-based fuzz of the request parser: random and mutated RESP, cut anywhere, against a
model of Redis's own request parsing (tests/fuzz/redis_model.py, itself checked against the real
redis-server in tests/integration/test_fuzz_live.py).

Properties: whatever the bytes, `feed` never raises; the commands and the protocol error are
Redis's, however the bytes are split into reads. The budget is fixed and derandomized for CI;
FUZZ_EXAMPLES raises it (`make fuzz`).
"""

import os

import pytest
from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from protocol import RequestParser
from tests.fuzz import redis_model
from tests.servers import command_bytes

EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "150"))
FUZZ = settings(max_examples=EXAMPLES, deadline=None, derandomize=True, database=None,
                suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow,
                                       HealthCheck.data_too_large])


def parse(chunks):
    parser = RequestParser()
    out = []
    for chunk in chunks:
        out.extend(parser.feed(chunk))
        if parser.error is not None:
            break
    message = parser.error.message if parser.error is not None else None
    return out, message


def expected(data: bytes):
    """Redis's reading of `data`; examples where Redis reads a header ended by '\r' and a byte
    other than '\n' are set aside (see test_header_cr_without_lf)."""
    lax: list = []
    commands, message = redis_model.parse(data, lax=lax)
    assume(not lax)
    return commands, message


def normalised(result):
    commands, message = result
    # CR and LF in an error are sent as spaces (in one place, on the way out)
    if message is not None:
        message = message.replace("\r", " ").replace("\n", " ")
    return commands, message


def split(data: bytes, cuts) -> list:
    points = sorted({c % (len(data) + 1) for c in cuts})
    bounds = [0] + points + [len(data)]
    return [data[a:b] for a, b in zip(bounds, bounds[1:]) if b > a]


# --- strategies -------------------------------------------------------------------------------

args = st.lists(st.binary(max_size=40) | st.sampled_from([b"", b"\r\n", b"\x00", b"*1\r\n$4\r\n"]),
                min_size=1, max_size=5)
words = st.text(alphabet="abcdefghXYZ0123456789-_.:", min_size=1, max_size=8).map(str.encode)
inline_line = st.lists(words | st.sampled_from([b'"a b"', b"'c d'", b'"\\x41\\n"', b"''"]),
                       min_size=0, max_size=4).map(lambda ws: b" ".join(ws)) \
    .flatmap(lambda line: st.sampled_from([line + b"\r\n", line + b"\n"]))
number = st.sampled_from([b"0", b"1", b"2", b"-1", b"-2", b"-0", b"01", b"+1", b" 1", b"1 ", b"abc",
                          b"", b"2147483647", b"2147483648", b"9223372036854775807",
                          b"9223372036854775808", b"-9223372036854775809", b"99999999999999999999",
                          b"1.5", b"1e3", b"0x10", b"\x00", b"536870912", b"536870913"])
type_byte = st.sampled_from(list(b"+-:$*%~_,#!=(|>x0 \x00\xff"))


@st.composite
def hostile_part(draw) -> bytes:
    """A piece of a request stream that Redis refuses or waits on."""
    kind = draw(st.integers(0, 7))
    if kind == 0:  # truncated frame
        frame = command_bytes(*draw(args))
        return frame[:draw(st.integers(0, len(frame) - 1))]
    if kind == 1:  # wrong type byte for an element
        return b"*2\r\n$3\r\nGET\r\n" + bytes([draw(type_byte)]) + b"3\r\nabc\r\n"
    if kind == 2:  # odd count
        return b"*" + draw(number) + b"\r\n$4\r\nPING\r\n"
    if kind == 3:  # odd bulk length
        return b"*1\r\n$" + draw(number) + b"\r\nPING\r\n"
    if kind == 4:  # nested array
        return b"*2\r\n$4\r\nECHO\r\n*1\r\n$1\r\na\r\n"
    if kind == 5:  # NUL bytes in headers or inline lines
        where = draw(st.sampled_from([b"*1\x00\r\n$4\r\nPING\r\n", b"*1\r\n$4\x00\r\nPING\r\n",
                                     b"PI\x00NG\r\n", b"\x00\r\n", b"*\x00"]))
        return where
    if kind == 6:  # a top-level non-array
        return bytes([draw(type_byte)]) + draw(number) + b"\r\n"
    return b"*" + draw(number) + b"\r\n"  # a bare count, perhaps empty or null


part = st.one_of(args.map(lambda a: command_bytes(*a)), inline_line, hostile_part())
valid_part = st.one_of(args.map(lambda a: command_bytes(*a)), inline_line)
cuts = st.lists(st.integers(0, 10**6), max_size=6)


@st.composite
def mutated(draw) -> bytes:
    """A valid stream with one byte deleted, inserted or replaced, or cut short."""
    data = b"".join(draw(st.lists(valid_part, min_size=1, max_size=4)))
    i = draw(st.integers(0, len(data)))
    how = draw(st.integers(0, 3))
    byte = bytes([draw(st.integers(0, 255) | st.sampled_from(list(b"*$\r\n:+-0")))])
    if how == 0:
        return data[:i] + data[i + 1:]
    if how == 1:
        return data[:i] + byte + data[i:]
    if how == 2:
        return data[:i] + byte + data[i + 1:]
    return data[:i]


# --- properties -------------------------------------------------------------------------------

@FUZZ
@given(st.lists(valid_part, min_size=1, max_size=6), cuts)
def test_valid_streams_cut_anywhere(parts, points):
    data = b"".join(parts)
    want = expected(data)
    assert want[1] is None
    assert parse([data]) == want
    assert parse(split(data, points)) == want


@FUZZ
@given(st.lists(valid_part, min_size=1, max_size=3))
def test_valid_streams_cut_at_every_position(parts):
    data = b"".join(parts)[:400]
    want = expected(data)
    for i in range(len(data) + 1):
        assert parse([data[:i], data[i:]]) == want, i


@FUZZ
@given(st.lists(part, min_size=1, max_size=6), cuts)
def test_hostile_streams_match_redis(parts, points):
    data = b"".join(parts)
    want = normalised(expected(data))
    assert normalised(parse([data])) == want
    assert normalised(parse(split(data, points))) == want


@FUZZ
@given(mutated(), cuts)
def test_mutated_streams_match_redis(data, points):
    want = normalised(expected(data))
    assert normalised(parse([data])) == want
    assert normalised(parse(split(data, points))) == want


@FUZZ
@given(st.binary(max_size=300), cuts)
def test_random_bytes_never_raise(data, points):
    # Random bytes: the result is Redis's, and no exception escapes the parser.
    want = normalised(expected(data))
    assert normalised(parse([data])) == want
    assert normalised(parse(split(data, points))) == want


@pytest.mark.parametrize("size", [redis_model.INLINE_MAX - 10, redis_model.INLINE_MAX + 10,
                                  redis_model.DECIDED + 10])
@pytest.mark.parametrize("ending", [b"", b"\r\n"])
@pytest.mark.parametrize("head", [b"", b"*", b"*1\r\n$"])
def test_very_long_lines(size, ending, head):
    if ending and redis_model.INLINE_MAX < size <= redis_model.DECIDED:
        pytest.skip("Redis's verdict depends on how its reads fell")
    data = head + b"1" * size + ending
    want = normalised(redis_model.parse(data))
    for chunks in ([data], split(data, [1000, 40000, size - 5, size + 3])):
        assert normalised(parse(chunks)) == want


@FUZZ
@given(st.lists(part, min_size=1, max_size=3))
def test_hostile_streams_cut_at_every_position(parts):
    data = b"".join(parts)[:300]
    want = normalised(expected(data))
    for i in range(len(data) + 1):
        assert normalised(parse([data[:i], data[i:]])) == want, i


@FUZZ
@given(st.lists(part, min_size=1, max_size=2))
def test_hostile_streams_one_byte_at_a_time(parts):
    data = b"".join(parts)[:200]
    assert normalised(parse([data[i:i + 1] for i in range(len(data))])) == normalised(expected(data))


@pytest.mark.xfail(reason="Redis skips the byte after a header's '\\r' unread; hiredis demands "
                          "'\\n' there, so forkv refuses the frame (no client sends this)", strict=True)
def test_header_cr_without_lf():
    data = b"*1\r\n$4\rxPING\r\n"
    assert redis_model.parse(data) == ([[b"PING"]], None)
    assert parse([data]) == ([[b"PING"]], None)


@pytest.mark.xfail(reason="an inline command starting with %, ~, | or > at the end of what the client "
                          "sent: hiredis takes it for a RESP3 aggregate and waits for its elements; "
                          "forkv runs it only when more bytes arrive", strict=True)
def test_inline_resp3_aggregate_byte_at_the_end():
    data = b"*1\r\n$0\r\n\r\n%1\r\n"
    assert redis_model.parse(data) == ([[b""], [b"%1"]], None)
    assert parse([data]) == ([[b""], [b"%1"]], None)


@pytest.mark.parametrize("data", [
    b'ECHO a"b c"\r\n',  # a quote opens mid-token
    b'a b"\r\n',  # ... and is unbalanced
    b"ECHO a\x0bb\r\n",  # \v stays inside an unquoted token
    b"*-0\r\n$4\r\nPING\r\n",  # "-0" is not a count
    b"*-9223372036854775809\r\n",  # nor is a count beyond 64 bits
    b"PING\x00\r\nPING\r\n",  # a NUL hides the newline: Redis waits
    b"*1\x00\r\n$4\r\nPING\r\n", b"*1\r\n$4\x00\r\nPING\r\n",
    b"*2\r\n$3\r\nGET\r\n+3\r\nabc\r\n", b"*2\r\n$3\r\nGET\r\n(3\r\nabc\r\n",  # + and ( elements
    b"*2\r\n$4\r\nECHO\r\n*1\r\n$1\r\na\r\n", b"*2\r\n*1\r\n$0\r\n\r\n",  # nested arrays
    b"*2\r\n$3\r\nGET\r\n*3\r\nabc\r\n",
    b"*2\r\n$13\r\n*1\r\n$0\r\n\r\n\"a b\"\r\n",  # an empty element header: "got ' '"
    b"*3\r\n$0\r\n\r\n$0\r\n\r\n\x80$0\r\n\r\n",  # the offending byte as sent
])
def test_found_by_fuzzing(data):
    want = normalised(redis_model.parse(data))
    assert normalised(parse([data])) == want
    for i in range(len(data) + 1):
        assert normalised(parse([data[:i], data[i:]])) == want, i
    assert normalised(parse([data[i:i + 1] for i in range(len(data))])) == want
