"""server.args.to_int accepts exactly Redis's string2ll language, which _INT_RE states as a regex:
the byte-by-byte test that replaced the regex on the hot path must agree with it everywhere."""

import random

import pytest

from server.args import _INT_RE, LLONG_MAX, LLONG_MIN, to_int
from server.errors import CommandError


def _by_regex(arg):
    if len(arg) <= 20 and _INT_RE.fullmatch(arg) is not None and LLONG_MIN <= int(arg) <= LLONG_MAX:
        return int(arg)
    return None


def _parsed(arg):
    try:
        return to_int(arg)
    except CommandError:
        return None


EDGES = [b"", b"-", b"0", b"-0", b"00", b"01", b"-01", b"1", b"-1", b" 1", b"1 ", b"+1", b"1e3", b"0x1",
         b"9223372036854775807", b"9223372036854775808", b"-9223372036854775808",
         b"-9223372036854775809", b"12345678901234567890", b"\xd9\xa1", b"\x00", b"1\x00"]


@pytest.mark.parametrize("arg", EDGES)
def test_edges_match_the_regex(arg):
    assert _parsed(arg) == _by_regex(arg)


def test_random_arguments_match_the_regex():
    rng = random.Random(7)
    for _ in range(50_000):
        arg = bytes(rng.choice(b"-0123456789 +a") for _ in range(rng.randint(0, 22)))
        assert _parsed(arg) == _by_regex(arg), arg
