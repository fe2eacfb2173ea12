"""The glob matcher (server/glob.py): Redis 7.0's stringmatchlen answers byte for byte (a table of
edge cases; KEYS and CONFIG GET with random patterns against Debian's redis-server), and a bounded
cost for the patterns that make a backtracking matcher spin for ever (CVE-2022-36021's shape)."""

import random
import time

import pytest

from server.glob import glob_match, matcher
from tests.servers import ServerProcess, session

# (pattern, subject, stringmatchlen's answer)
CASES = [
    # The empty pattern and the empty subject: Redis's loop needs a byte of each to start.
    (b"", b"", True), (b"", b"a", False), (b"*", b"", False), (b"**", b"", False),
    (b"a*", b"", False), (b"?", b"", False), (b"[", b"", False), (b"\\", b"", False),
    # ? and *, runs of stars
    (b"h?llo", b"hello", True), (b"h?llo", b"hllo", False), (b"h*llo", b"heeeello", True),
    (b"h*llo", b"hllo", True), (b"*", b"x", True), (b"**", b"x", True), (b"a**b", b"ab", True),
    (b"a*", b"a", True), (b"a*b", b"a", False), (b"**a", b"ba", True), (b"*a*", b"xxaxx", True),
    (b"*a*b", b"ab", True), (b"*a*b", b"ba", False), (b"*a*b", b"abab", True),
    (b"a*b*c", b"abcbc", True), (b"a*b*c", b"acb", False), (b"?*?", b"a", False),
    # classes, negation, ranges (reversed ones swapped)
    (b"h[ae]llo", b"hallo", True), (b"h[ae]llo", b"hillo", False), (b"h[^e]llo", b"hello", False),
    (b"h[^e]llo", b"hallo", True), (b"h[a-b]llo", b"hbllo", True), (b"h[b-a]llo", b"hallo", True),
    (b"[a-c-e]", b"d", False), (b"[a-c-e]", b"-", True), (b"[--]", b"-", True),
    (b"[]", b"]", False), (b"[]]", b"]", False), (b"[]]", b"x]", False), (b"[^]", b"x", True),
    (b"[^]]", b"x]", True), (b"[^^]", b"^", False), (b"[*?]", b"?", True), (b"[*?]", b"a", False),
    # an unterminated class takes the rest of the pattern; `[a-]` is the range ]..a
    (b"a[", b"a", False), (b"a[", b"ab", False), (b"[^", b"x", True), (b"[abc", b"c", True),
    (b"[a-", b"-", True), (b"[a-]", b"]", True), (b"[a-]", b"_", True), (b"[a-]", b"-", False),
    (b"[a*", b"*", True), (b"[a*", b"ab", False),
    # escapes, inside and outside classes; a trailing backslash is itself
    (b"\\*", b"*", True), (b"\\*", b"a", False), (b"\\?", b"?", True), (b"\\?", b"x", False),
    (b"\\[a]", b"[a]", True), (b"\\[a]", b"a", False), (b"a\\", b"a\\", True), (b"\\", b"\\", True),
    (b"\\\\", b"\\", True), (b"\\a", b"a", True), (b"[\\]]", b"]", True), (b"[\\", b"\\", True),
    (b"[\\^a]", b"^", True), (b"[\\-]", b"-", True), (b"[a\\-z]", b"b", False),
    (b"[a\\-z]", b"-", True), (b"*\\*", b"ab*", True), (b"*\\*", b"a*b", False),
    # range ends compare as signed chars, as in Redis: \xff is -1, so [a-\xff] is -1..97
    (b"[\x00-\x7f]", b"\xe9", False), (b"[a-\xff]", b"\x10", True), (b"[a-\xff]", b"\xff", True),
    (b"[a-\xff]", b"z", False), (b"[\x80-\xff]", b"\x90", True), (b"[\x80-\xff]", b"a", False),
    # any byte, NUL included
    (b"?", b"\x00", True), (b"a\x00*", b"a\x00b", True), (b"[\x00]", b"\x00", True),
    (b"\xe9*", b"\xe9t\xe9", True),
]


@pytest.mark.parametrize("pattern,subject,expected", CASES)
def test_cases(pattern, subject, expected):
    assert glob_match(pattern, subject) is expected
    if pattern != b"*":  # matcher("*") matches every key, the empty one too, as KEYS * does
        assert matcher(pattern)(subject) is expected


def test_matcher_star_alone_matches_every_key_as_keys_does():
    assert matcher(b"*")(b"") is True and matcher(b"*")(b"x") is True
    assert matcher(b"**")(b"") is False and matcher(b"**")(b"x") is True


NOCASE_CASES = [
    (b"HeLLo", b"hello", True), (b"hello", b"HELLO", True), (b"h?LLO", b"HeLlo", True),
    (b"[A-C]x", b"bX", True), (b"[a-c]", b"B", True), (b"[^A]", b"a", False),
    (b"\\A", b"a", True),  # an escape outside a class still folds case...
    (b"[\\A]", b"A", True), (b"[\\A]", b"a", False),  # ...inside one it is compared exactly
    (b"[Z-a]", b"z", False), (b"[Z-a]", b"Z", False), (b"[Z-a]", b"_", False),  # z..a: empty
    (b"[A-z]", b"_", False), (b"[A-z]", b"Q", True),  # lowered to a..z
    (b"\xc9", b"\xe9", False),  # only A-Z fold (C locale)
]


@pytest.mark.parametrize("pattern,subject,expected", NOCASE_CASES)
def test_nocase(pattern, subject, expected):
    assert glob_match(pattern, subject, nocase=True) is expected


def test_nocase_is_off_by_default():
    assert not glob_match(b"HeLLo", b"hello")
    assert glob_match(b"[Z-a]", b"_")  # without nocase the range is Z..a


@pytest.mark.parametrize("pattern,subject", [
    (b"a*" * 20 + b"b", b"a" * 40),
    (b"*a" * 50 + b"*b", b"a" * 100),
    (b"?*" * 50 + b"[b]", b"a" * 100),
    (b"*[a-z]" * 200 + b"!", b"q" * 500),
    (b"*[[a-z]*[^]]" * 30 + b"x", b"[a]" * 100),  # classes holding [ and ]
    (b"*[[]" * 100 + b"x", b"[" * 2000),
    (b"*" + b"?" * 100 + b"[b]*", b"a" * 2000),  # a long segment that almost matches everywhere
    (b"*a" * 1000 + b"*b", b"a" * 3000),  # 1000 nested stars: the most Redis allows
    (b"*a" * 1001 + b"*", b"a" * 1100),  # past the nesting limit
    (b"*" + b"[ab]" * 1500 + b"*c", b"ab" * 1500),  # too long for matcher's regex
])
def test_pathological_patterns_answer_at_once(pattern, subject):
    start = time.perf_counter()
    assert not glob_match(pattern, subject)
    assert not matcher(pattern)(subject)
    assert time.perf_counter() - start < 0.5


@pytest.mark.parametrize("pattern,subject", [
    (b"*" + b"a" * 200 + b"b*", b"a" * 100_000),
    (b"*" + b"?" * 200 + b"[b]*", b"a" * 100_000),
    (b"*a" * 300 + b"*b", b"a" * 100_000),
])
def test_matcher_on_a_long_key_answers_at_once(pattern, subject):
    start = time.perf_counter()
    assert not matcher(pattern)(subject)
    assert time.perf_counter() - start < 0.5


def test_more_than_1000_nested_stars_never_match_as_in_redis():
    subject = b"a" * 1100
    assert not glob_match(b"*a" * 1001 + b"*", subject)
    assert glob_match(b"*a" * 1000 + b"*", subject)  # a final star does not recurse
    assert not glob_match(b"*a" * 1001, subject)  # 1001 stars, each followed by more pattern
    assert not matcher(b"*a" * 1001 + b"*")(subject)
    assert matcher(b"*a" * 1000 + b"*")(subject)
    assert not matcher(b"**a" * 1001 + b"***")(subject)  # runs of stars count once
    assert matcher(b"**a" * 1000 + b"***")(subject)


def _patterns_like(keys, rng, count, alphabet):
    """Random patterns over `alphabet`, and patterns made from keys by turning some bytes into
    stars, ?, classes and escapes (so that many of them match something)."""
    out = [bytes(rng.choice(alphabet) for _ in range(rng.randint(0, 8))) for _ in range(count // 2)]
    while len(out) < count:
        pattern = bytearray()
        for c in rng.choice(keys):
            r = rng.random()
            if r < 0.15:
                pattern += b"*"
            elif r < 0.25:
                pattern += b"?"
            elif r < 0.33:
                pattern += b"[" + bytes([c, rng.choice(alphabet)]) + b"]"
            elif r < 0.38:
                pattern += b"[^" + bytes([rng.choice(alphabet)]) + b"]"
            elif r < 0.45:
                pattern += b"[" + bytes([rng.choice(alphabet), 0x2D, rng.choice(alphabet)]) + b"]"
            elif r < 0.5:
                pattern += b"\\" + bytes([c])
            else:
                pattern.append(c)
        out.append(bytes(pattern))
    return out


def test_matcher_agrees_with_glob_match():
    """matcher's shortcuts (bytes methods, a regex, the long-pattern paths) against the plain
    search, with no server: many random patterns, including ones too long for the regex."""
    rng = random.Random(7)
    keys = [bytes(rng.choice(b"ab-]\\\xe9") for _ in range(rng.randint(0, 12))) for _ in range(60)]
    patterns = _patterns_like([k for k in keys if k], rng, 1500, b"ab*?[]^-\\\xe9")
    patterns += [b"*".join(rng.choice([b"a", b"ab", b"?", b"[ab]"]) for _ in range(rng.randint(300, 700)))
                 for _ in range(10)]
    patterns += [b"*" + b"*".join([rng.choice([b"a", b"ab", b"b"]) for _ in range(1200)]) + b"*"
                 for _ in range(5)]  # literal-only, too long for the regex
    long_keys = [bytes(rng.choice(b"ab") for _ in range(3000)) for _ in range(5)]
    for pattern in patterns:
        predicate = matcher(pattern)
        for key in keys + (long_keys if len(pattern) > 100 else []):
            assert predicate(key) is glob_match(pattern, key) or (pattern == b"*" and key == b""), \
                (pattern, key)


def test_keys_with_random_patterns_matches_redis():
    """The same keys in Debian's redis-server and in forkv; KEYS with random patterns over the
    bytes that mean something: Redis's answer, forkv's, glob_match's and matcher's agree."""
    rng = random.Random(20261205)
    keys = sorted({bytes(rng.choice(b"abAB-]^[\\*?\xe9z\x00") for _ in range(rng.randint(1, 7)))
                   for _ in range(300)} | {b"", b"a" * 40, b"a" * 1100})
    patterns = _patterns_like(keys[1:], rng, 400, b"ab*?[]^-\\A\xe9\x00")
    patterns += [b"*", b"**", b"", b"a*" * 20 + b"b", b"*a" * 1000 + b"*", b"*a" * 1001 + b"*",
                 b"*a" * 1001, b"*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*a*b"]
    mset = ["MSET"] + [x for k in keys for x in (k, b"v")]
    with ServerProcess("redis") as redis_, ServerProcess("forkv") as forkv:
        session(redis_.port, mset)
        session(forkv.port, mset)
        want_all = session(redis_.port, *[["KEYS", p] for p in patterns])
        got_all = session(forkv.port, *[["KEYS", p] for p in patterns])
    for pattern, want, got in zip(patterns, want_all, got_all):
        want = sorted(want)
        assert sorted(got) == want, pattern
        predicate = matcher(pattern)
        assert sorted(k for k in keys if predicate(k)) == want, pattern
        if pattern != b"*":  # KEYS * does not ask stringmatchlen (which refuses the empty key)
            assert sorted(k for k in keys if glob_match(pattern, k)) == want, pattern


def test_config_get_patterns_match_redis_nocase():
    """Redis's CONFIG GET matches its directive names with nocase: glob_match(nocase=True) must
    pick the same names for the same patterns, upper case, escapes and ranges included."""
    rng = random.Random(36021)
    with ServerProcess("redis") as redis_:
        (everything,) = session(redis_.port, ["CONFIG", "GET", "*"])
        names = sorted(set(everything[0::2]))
        patterns = []
        for pattern in _patterns_like(names, rng, 300, b"aemnoprsAEMNZ_`-[]^\\*?"):
            pattern = bytes(c if rng.random() < 0.6 else bytes([c]).upper()[0] for c in pattern)
            if not any(c in pattern for c in b"*?["):  # a plain name is looked up, not matched
                pattern += b"*"
            patterns.append(pattern)
        patterns += [b"MAXMEM*", b"[\\M]axmemory", b"[\\m]axmemory", b"[Z-a]axmemory",
                     b"[M-N]axmemory", b"maxmemor[Y]", b"*[\\Y]", b"*-[A-Z]*"]
        patterns += [b"max\\memory", b"MAXMEMORY", b"nosuchdirective"]  # no glob: looked up
        replies = session(redis_.port, *[["CONFIG", "GET", p] for p in patterns])
    with ServerProcess("forkv") as forkv:
        (ours,) = session(forkv.port, ["CONFIG", "GET", "*"])
        our_names = set(ours[0::2])
        our_replies = session(forkv.port, *[["CONFIG", "GET", p] for p in patterns])
    both = our_names & set(names)
    for pattern, reply, our_reply in zip(patterns, replies, our_replies):
        want = sorted(set(reply[0::2]))
        if any(c in pattern for c in b"*?["):
            assert sorted(n for n in names if glob_match(pattern, n, nocase=True)) == want, pattern
            assert sorted(set(our_reply[0::2]) & both) == sorted(set(want) & both), pattern
        else:  # a plain name comes back as typed, or not at all
            assert our_reply[0::2] == reply[0::2], pattern


FORKV_ONLY = {b"client|setinfo", b"client|no-touch"}  # Redis 7.2 subcommands, which redis-py sends


def test_command_list_filterby_matches_redis():
    """COMMAND LIST FILTERBY PATTERN (nocase, subcommands included) and ACLCAT pick, among the
    commands forkv has, the ones Redis picks."""
    rng = random.Random(7007)
    with ServerProcess("forkv") as forkv:
        (ours,) = session(forkv.port, ["COMMAND", "LIST"])
        assert b"config|get" in ours
        patterns = [b"CONFIG*", b"config|g*", b"[C]onfig", b"[\\C]onfig", b"*|*", b"G?T", b"*SCAN"]
        patterns += _patterns_like(sorted(ours), rng, 120, b"agmlsetIEXC|*?[]^-\\")
        queries = [["COMMAND", "LIST", "FILTERBY", "PATTERN", p] for p in patterns]
        queries += [["COMMAND", "LIST", "FILTERBY", "ACLCAT", c]
                    for c in ("keyspace", "Keyspace", "STRING", "dangerous", "nosuch")]
        our_replies = session(forkv.port, *queries)
    with ServerProcess("redis") as redis_:
        replies = session(redis_.port, *queries)
    for query, reply, our_reply in zip(queries, replies, our_replies):
        assert sorted(set(our_reply) - FORKV_ONLY) == sorted(set(reply) & set(ours)), query


def test_keys_and_scan_with_a_pathological_pattern_do_not_stall_the_server():
    with ServerProcess("forkv") as forkv:
        session(forkv.port, ["SET", "a" * 40, "v"], ["SET", "a" * 1100, "v"])
        start = time.monotonic()
        assert session(forkv.port, ["KEYS", "a*" * 20 + "b"], ["SCAN", "0", "MATCH", "*a" * 50 + "*b"],
                       ["PING"]) == [[], [b"0", []], b"PONG"]
        assert time.monotonic() - start < 2.0
