"""The parser's fast path (a clean read: complete canonical requests only, which `take_clean`
splits into requests without hiredis): the reference clean_py, protocol/_drain.c's take_clean
against its reference take_clean_py on hostile reads, and the parser's commands and errors with
the fast path on and off (every read through the Redis-protocol checks) on the same reads."""

import pytest
from hypothesis import given
from hypothesis import strategies as st

from protocol import RequestParser, parser
from tests.protocol.test_fuzz_hypothesis import FUZZ, hostile_part, mutated, part
from tests.servers import command_bytes

MAX = 512 * 1024 * 1024
GET = command_bytes(b"GET", b"k")

# (read, clean?) : each refused case is one the checks must see.
CASES = [
    (GET, True),
    (GET * 3, True),
    (command_bytes(b"SET", b"k", b""), True),
    (command_bytes(b"SET", b"k", b"\r\n*1\r\n+x\r\n"), True),  # a payload may look like anything
    (b"", False),
    (GET[:-1], False),  # a partial frame
    (GET[:-2], False),
    (GET + b"*1\r\n", False),
    (b"PING\r\n", False),  # inline
    (GET + b"PING\r\n", False),
    (b"*1\r\n+PING\r\n", False),  # a simple string element
    (b"*1\r\n(12\r\n", False),  # a big number element
    (b"*1\r\n:1\r\n", False),
    (b"*2\r\n$4\r\nECHO\r\n*1\r\n$1\r\na\r\n", False),  # a nested array
    (b"*0\r\n", False),
    (b"*-1\r\n", False),
    (b"*01\r\n$4\r\nPING\r\n", False),  # leading zero
    (b"*1\r\n$04\r\nPING\r\n", False),
    (b"*1\r\n$-1\r\n", False),
    (b"*+1\r\n$4\r\nPING\r\n", False),
    (b"*1 \r\n$4\r\nPING\r\n", False),
    (b"*1\n$4\r\nPING\r\n", False),  # loose line ends
    (b"*1\r\n$4\nPING\r\n", False),
    (b"*1\r\n$4\r\nPINGxx", False),  # no CRLF after the payload
    (b"*1\r\n$4\r\nPING\n\r", False),
    (b"*1\x00\r\n$4\r\nPING\r\n", False),
    (b"*1\r\n$4\r\nPING\r\n\r\n", False),
    (b"*1\r\n$" + b"9" * 19 + b"\r\n", False),  # past 18 digits
    (b"*" + b"9" * 18 + b"\r\n", False),
    (b"*1\r\n$536870913\r\n", False),
]


WALKS = [parser.clean_py]
try:
    from protocol._drain import take_clean as c_take_clean
except ImportError:  # not built: only the reference is checked
    c_take_clean = None
TAKES = [t for t in (parser.take_clean_py, c_take_clean) if t is not None]


@pytest.fixture(autouse=True)
def inner_loop():
    """These tests choose the walk themselves: they run once, not once per conftest mode."""
    return "own"


@pytest.mark.parametrize("data, expected", CASES)
def test_clean_cases(data, expected):
    for walk in WALKS:
        assert walk(data, MAX) is expected


def _hiredis_split(data) -> list:
    """What hiredis (through the parser's checked path) makes of a clean read."""
    with pytest.MonkeyPatch.context() as monkeypatch:
        monkeypatch.setattr(parser, "take_clean", None)
        return RequestParser().feed(data)


@pytest.mark.parametrize("data, expected", CASES)
def test_take_clean_cases(data, expected):
    for take in TAKES:
        commands = take(data, MAX)
        if expected:
            assert commands == _hiredis_split(data)
            assert all(type(argv) is list for argv in commands)
            assert all(type(a) is bytes for argv in commands for a in argv)
        else:
            assert commands is None


def test_take_clean_bulk_limit_and_types():
    data = command_bytes(b"SET", b"k", b"x" * 100)
    for take in TAKES:
        assert take(data, 99) is None
        assert take(bytearray(data), MAX) is None
        assert take(data, 100) == [[b"SET", b"k", b"x" * 100]]
    if c_take_clean is not None:
        with pytest.raises(TypeError):
            c_take_clean(data)
        with pytest.raises(TypeError):
            c_take_clean(data, "100")


def test_take_clean_long_reads_and_a_late_fault():
    """More requests than the C walk keeps on its stack (64), and reads refused only near their
    end, after most of their requests were made: the same result as the reference."""
    many = b"".join(command_bytes(b"SET", b"k%d" % i, b"v" * (i % 7)) for i in range(300))
    late_faults = [
        many + b"*1\r\n$4\r\nPIN",                   # a partial frame that ends in no newline
        many + b"*1\r\n$4\r\nPINGX\r\n",              # a payload longer than its length
        many + b"*2\r\n$4\r\nPING\r\n",              # a count larger than the arguments
        many + b"*01\r\n$4\r\nPING\r\n",             # a leading zero
        many + b"+PING\r\n",                         # a simple string
        many.replace(b"$3\r\nSET", b"$03\r\nSET", 1)[:-5] + b"\r\n",
    ]
    for take in TAKES:
        assert take(many, MAX) == [[b"SET", b"k%d" % i, b"v" * (i % 7)] for i in range(300)]
        for data in late_faults:
            assert take(data, MAX) is None
        assert take(b"*99999999\r\n$1\r\nx\r\n", MAX) is None


def test_parser_uses_the_c_fast_path_when_built():
    if c_take_clean is None:
        pytest.skip("the C extension is not built")
    assert parser.take_clean is c_take_clean


def _parse(reads, take):
    with pytest.MonkeyPatch.context() as monkeypatch:
        monkeypatch.setattr(parser, "take_clean", take)
        p = RequestParser()
        out = []
        for data in reads:
            out.extend(p.feed(data))
        return out, p.error and p.error.message


hostile_reads = st.lists(part | hostile_part() | mutated(), min_size=1, max_size=6)


@FUZZ
@given(hostile_reads)
def test_walks_agree_on_hostile_reads(reads):
    for data in reads + [b"".join(reads)]:
        assert len({walk(data, MAX) for walk in WALKS}) == 1
        taken = [take(data, MAX) for take in TAKES]
        assert all(t == taken[0] for t in taken)
        assert (taken[0] is not None) == WALKS[0](data, MAX)


@FUZZ
@given(hostile_reads)
def test_parser_agrees_with_and_without_the_walk(reads):
    """Each read parsed with no fast path (all through the checks), then with each one."""
    want = _parse(reads, None)
    for take in TAKES:
        assert _parse(reads, take) == want


def test_take_clean_repeated_and_changing_names():
    """take_clean shares a repeated short command name (C): a name of the same length but other
    bytes, a long one, an empty one, and the name as a later argument are all still their own."""
    names = [b"GET", b"GET", b"SET", b"set", b"x" * 40, b"x" * 40, b"", b"GET", b"y" * 32, b"y" * 32]
    for take in TAKES:
        for name in names:
            data = command_bytes(name, b"GET") + command_bytes(name)
            assert take(data, MAX) == [[name, b"GET"], [name]]
