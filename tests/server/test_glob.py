"""The glob matcher (server/glob.py): Redis's stringmatchlen answers, and a bounded cost for the
patterns that made the old regex translation backtrack for ever (CVE-2022-36021's shape)."""

import random
import time

import pytest

from server.glob import glob_match, matcher
from tests.servers import ServerProcess, session

CASES = [
    (b"", b"", True), (b"", b"a", False), (b"*", b"", True), (b"a*", b"", False), (b"?", b"", False),
    (b"h?llo", b"hello", True), (b"h*llo", b"heeeello", True), (b"h[ae]llo", b"hallo", True),
    (b"h[^e]llo", b"hello", False), (b"h[a-b]llo", b"hbllo", True), (b"h[b-a]llo", b"hallo", True),
    (b"[a-]", b"]", True), (b"[a-]", b"-", False), (b"a[", b"a", False), (b"a[", b"ab", False),
    (b"[^", b"x", True), (b"[abc", b"c", True), (b"\\*", b"*", True), (b"\\*", b"a", False),
    (b"a\\", b"a\\", True), (b"[\\]]", b"]", True), (b"[\\", b"\\", True), (b"**a", b"ba", True),
    (b"*a*", b"xxaxx", True), (b"*a*b", b"ab", True), (b"*a*b", b"ba", False),
    (b"[\x00-\x7f]", b"\xe9", False), (b"[a-\xff]", b"\x10", True), (b"[a-\xff]", b"\xff", True),
    (b"[a-\xff]", b"z", False),  # range ends compare as signed chars, as in Redis
]


@pytest.mark.parametrize("pattern,subject,expected", CASES)
def test_cases(pattern, subject, expected):
    assert glob_match(pattern, subject) is expected
    if pattern != b"*" or subject:  # matcher("*") matches everything, as KEYS * does
        assert matcher(pattern)(subject) is expected


def test_nocase_lowers_everything_but_escapes_inside_a_class():
    assert glob_match(b"HeLLo", b"hello", nocase=True)
    assert glob_match(b"[A-C]x", b"bX", nocase=True)
    assert glob_match(b"[\\A]", b"A", nocase=True)
    assert not glob_match(b"[\\A]", b"a", nocase=True)
    assert not glob_match(b"HeLLo", b"hello")


@pytest.mark.parametrize("pattern,subject", [
    (b"a*" * 20 + b"b", b"a" * 40),
    (b"*a" * 50 + b"*b", b"a" * 100),
    (b"?*" * 50 + b"[b]", b"a" * 100),
    (b"*[a-z]" * 200 + b"!", b"q" * 500),
])
def test_pathological_patterns_answer_at_once(pattern, subject):
    start = time.perf_counter()
    assert not glob_match(pattern, subject)
    assert not matcher(pattern)(subject)
    assert time.perf_counter() - start < 0.5


def test_more_than_1000_nested_stars_never_match_as_in_redis():
    assert not glob_match(b"*a" * 1001 + b"*", b"a" * 1100)
    assert glob_match(b"*a" * 1000 + b"*", b"a" * 1100)
    assert not matcher(b"*a" * 1001 + b"*")(b"a" * 1100)
    assert matcher(b"*a" * 1000 + b"*")(b"a" * 1100)


def test_keys_with_random_patterns_matches_redis():
    """The same keys in Debian's redis-server; KEYS with random patterns over the characters that
    mean something, against both glob_match and matcher."""
    rng = random.Random(20261205)
    keys = sorted({bytes(rng.choice(b"abAB-]^\\\xe9z") for _ in range(rng.randint(1, 6)))
                   for _ in range(300)})
    patterns = [bytes(rng.choice(b"ab*?[]^-\\A\xe9") for _ in range(rng.randint(0, 7)))
                for _ in range(800)]
    with ServerProcess("redis") as redis_:
        session(redis_.port, ["MSET"] + [x for k in keys for x in (k, b"v")])
        replies = session(redis_.port, *[["KEYS", p] for p in patterns])
    for pattern, reply in zip(patterns, replies):
        want = sorted(reply)
        assert sorted(k for k in keys if glob_match(pattern, k)) == want, pattern
        predicate = matcher(pattern)
        assert sorted(k for k in keys if predicate(k)) == want, pattern


def test_keys_with_a_pathological_pattern_does_not_stall_the_server():
    with ServerProcess("forkv") as forkv:
        session(forkv.port, ["SET", "a" * 40, "v"])
        start = time.monotonic()
        assert session(forkv.port, ["KEYS", "a*" * 20 + "b"], ["PING"]) == [[], b"PONG"]
        assert time.monotonic() - start < 2.0
