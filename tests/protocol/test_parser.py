"""RequestParser: frames split anywhere, inline commands, and Redis's protocol errors."""

import pytest

from protocol import RequestParser
from protocol.parser import INLINE_MAX_SIZE, split_inline
from tests.servers import command_bytes

FRAMES = (b"*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$5\r\nhello\r\n"
          b"PING\r\n"
          b"*2\r\n$3\r\nGET\r\n$1\r\nk\r\n"
          b"*0\r\n"
          b"ECHO \"a b\" 'c d'\r\n"
          b"*1\r\n$4\r\nPING\r\n")
EXPECTED = [[b"SET", b"k", b"hello"], [b"PING"], [b"GET", b"k"], [b"ECHO", b"a b", b"c d"], [b"PING"]]


def feed_all(parser, chunks):
    out = []
    for chunk in chunks:
        out.extend(parser.feed(chunk))
    return out


def test_whole_batch():
    parser = RequestParser()
    assert parser.feed(FRAMES) == EXPECTED
    assert parser.error is None


def test_one_byte_at_a_time():
    parser = RequestParser()
    assert feed_all(parser, [FRAMES[i:i + 1] for i in range(len(FRAMES))]) == EXPECTED
    assert parser.error is None


@pytest.mark.parametrize("cut", range(1, 80))
def test_every_split_point(cut):
    parser = RequestParser()
    assert feed_all(parser, [FRAMES[:cut], FRAMES[cut:]]) == EXPECTED


def test_binary_values_with_crlf_inside():
    value = b"\r\n*1\r\n$4\r\nPING\r\n\x00\xff"
    frame = b"*2\r\n$4\r\nECHO\r\n$%d\r\n%b\r\n" % (len(value), value)
    parser = RequestParser()
    assert feed_all(parser, [frame[i:i + 3] for i in range(0, len(frame), 3)]) == [[b"ECHO", value]]


def test_many_pipelined():
    data = b"*1\r\n$4\r\nPING\r\n" * 10000
    assert len(RequestParser().feed(data)) == 10000


@pytest.mark.parametrize("data, message", [
    (b"*1\r\n$600000000\r\n", "Protocol error: invalid bulk length"),
    (b"*1\r\n$-5\r\n", "Protocol error: invalid bulk length"),
    (b"*abc\r\n", "Protocol error: invalid multibulk length"),
    (b"*3000000000\r\n", "Protocol error: invalid multibulk length"),
    (b"*1\r\n:5\r\n", "Protocol error: expected '$', got ':'"),
    (b"x" * (INLINE_MAX_SIZE + 10), "Protocol error: too big inline request"),
    (b"*1\r\n" + b"$" + b"1" * (INLINE_MAX_SIZE + 10), "Protocol error: too big bulk count string"),
    (b"ECHO \"abc\r\n", "Protocol error: unbalanced quotes in request"),
])
def test_protocol_errors(data, message):
    parser = RequestParser()
    assert parser.feed(data) == []
    assert parser.error is not None and parser.error.message == message
    assert parser.feed(b"*1\r\n$4\r\nPING\r\n") == []  # dead after an error


def test_error_after_good_commands_keeps_them():
    parser = RequestParser()
    assert parser.feed(b"*1\r\n$4\r\nPING\r\n*1\r\n$999999999999\r\n") == [[b"PING"]]
    assert parser.error.message == "Protocol error: invalid bulk length"


def test_bulk_limit_is_configurable():
    parser = RequestParser(max_bulk_len=10)
    assert parser.feed(b"*2\r\n$4\r\nECHO\r\n$11\r\nhello") == []
    assert parser.error.message == "Protocol error: invalid bulk length"


def test_unauthenticated_limits():
    parser = RequestParser()
    parser.auth_required = True
    parser.feed(b"*11\r\n$3\r\nDEL\r\n")
    assert parser.error.message == "Protocol error: unauthenticated multibulk length"
    parser = RequestParser()
    parser.auth_required = True
    parser.feed(b"*2\r\n$4\r\nAUTH\r\n$20000\r\nxx")
    assert parser.error.message == "Protocol error: unauthenticated bulk length"


def test_huge_claim_allocates_nothing_until_data_arrives():
    parser = RequestParser()
    assert parser.feed(b"*2\r\n$3\r\nSET\r\n$500000000\r\nabc") == []
    assert parser.error is None


def test_split_inline_quotes_and_escapes():
    assert split_inline(b'SET "a\\x41\\n" \'it\\\'s\'  x') == [b"SET", b"aA\n", b"it's", b"x"]
    assert split_inline(b"   ") == []


def test_empty_inline_lines_are_skipped():
    assert RequestParser().feed(b"\r\n\r\nPING\r\n\n") == [[b"PING"]]


@pytest.mark.parametrize("count", [2_000_000_000, 3_000_000_000])
def test_huge_array_claim_is_held_not_allocated(count):
    import resource

    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    parser = RequestParser()
    out = parser.feed(b"*1\r\n$4\r\nPING\r\n*%d\r\n$3\r\nDEL\r\n" % count)
    assert out == [[b"PING"]]
    if count > 2**31 - 1:
        assert parser.error.message == "Protocol error: invalid multibulk length"
    else:
        assert parser.error is None
    del parser
    assert resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before < 100_000  # KB


def test_big_but_real_frame_arrives_in_pieces():
    argv = [b"MSET"] + [b"k%d" % i for i in range(200_000)]
    frame = command_bytes(*argv)
    parser = RequestParser()
    out = []
    for i in range(0, len(frame), 65536):
        out.extend(parser.feed(frame[i:i + 65536]))
    assert out == [argv]
    assert parser.feed(b"*1\r\n$4\r\nPING\r\n") == [[b"PING"]]


# -- the C inner loop and its reference implementation --------------------------------------------

def _replies(*items):
    """A stand-in for Reader.gets: hands out `items`, then the sentinel; raises exceptions."""
    from protocol.parser import NEED_DATA

    queue = list(items) + [NEED_DATA]

    def gets():
        item = queue.pop(0)
        if isinstance(item, Exception):
            raise item
        return item
    return gets


@pytest.mark.parametrize("items", [
    ([b"GET", b"k"], None, [], [b"PING"]),
    ([b"SET", b"k", b"v"], [b"GET", 5], [b"PING"]),
    ([b"PING"], [b"GET", [b"x"]]),
    ([b"PING"], [b"GET", None]),
    (None, 7, [b"PING"]),
    ([], [b"A"], ValueError("Protocol error, got 'P' as reply type byte"), [b"B"]),
    (),
])
def test_c_drain_matches_reference(items):
    from protocol import parser

    try:
        from protocol._drain import drain as c_drain
    except ImportError:
        pytest.skip("the C extension is not built")
    from protocol.parser import NEED_DATA

    got_c, got_py = [], []
    result_c = c_drain(_replies(*items), NEED_DATA, got_c)
    result_py = parser.drain_py(_replies(*items), NEED_DATA, got_py)
    assert got_c == got_py
    assert result_c[0] == result_py[0]
    assert repr(result_c[1]) == repr(result_py[1])


def test_parser_uses_the_c_loop_when_built(inner_loop):
    from protocol import parser

    if inner_loop == "python":
        pytest.skip("checks the default choice")
    try:
        import protocol._drain as c
    except ImportError:
        pytest.skip("the C extension is not built")
    assert parser.drain is c.drain


def test_parser_works_without_the_c_loop(monkeypatch):
    from protocol import parser

    monkeypatch.setattr(parser, "drain", parser.drain_py)
    assert RequestParser().feed(FRAMES) == EXPECTED
    p = RequestParser()
    assert feed_all(p, [FRAMES[i:i + 1] for i in range(len(FRAMES))]) == EXPECTED
    p = RequestParser()
    p.feed(b"*1\r\n:5\r\n")
    assert p.error.message == "Protocol error: expected '$', got ':'"


@pytest.mark.parametrize("data, commands, error", [
    # counts <= 0 are ignored (Redis: ll <= 0); "*00" / "*-0" are not numbers to Redis
    (b"*-2\r\n*1\r\n$4\r\nPING\r\n", [[b"PING"]], None),
    (b"*1\r\n$4\r\nPING\r\n*-1\r\n*0\r\n*-7\r\nGET a\r\n", [[b"PING"], [b"GET", b"a"]], None),
    (b"*1\r\n$4\r\nPING\r\n*00\r\n", [[b"PING"]], "Protocol error: invalid multibulk length"),
    # what hiredis would read as a null is an inline command to Redis
    (b"*1\r\n$4\r\nPING\r\n_\r\nGET a\r\n", [[b"PING"], [b"_"], [b"GET", b"a"]], None),
    (b"*1\r\n$4\r\nPING\r\n$-1\r\nGET a\r\n", [[b"PING"], [b"$-1"], [b"GET", b"a"]], None),
    (b"*1\r\n$4\r\nPING\r\n+OK\r\n:1\r\n", [[b"PING"], [b"+OK"], [b":1"]], None),
])
def test_top_level_items_that_are_not_requests(data, commands, error):
    parser = RequestParser()
    assert parser.feed(data) == commands
    assert (parser.error.message if parser.error else None) == error
    parser = RequestParser()
    assert feed_all(parser, [data[i:i + 1] for i in range(len(data))]) == commands


@pytest.mark.parametrize("cut", [1, 3, 5, 9, 11, 12])
def test_huge_array_claim_split_across_reads_is_held(cut):
    import resource

    data = b"*1\r\n$4\r\nPING\r\n*2000000000\r\n$3\r\nDEL\r\n"
    before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    parser = RequestParser()
    first = 14 + cut  # inside the count line of the second frame
    out = parser.feed(data[:first]) + parser.feed(data[first:])
    assert out == [[b"PING"]] and parser.error is None
    del parser
    assert resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before < 100_000  # KB
