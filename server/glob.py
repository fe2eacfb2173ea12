"""Redis's glob-style patterns (util.c stringmatchlen) for KEYS, SCAN MATCH, CONFIG GET and COMMAND LIST.

`glob_match` answers exactly as Redis 7.0's stringmatchlen does, quirks and all; `matcher` builds
the predicate KEYS and SCAN run over every key. Neither may ever backtrack without bound (a
client's pattern would stall the event loop: Redis's CVE-2022-36021): the cost of one match is
at most O(pattern x subject), as in Redis, whatever the pattern.

The semantics, byte for byte: `*` any run (a run of stars is one), `?` one byte, `[abc]` /
`[^abc]` / `[a-z]` classes (reversed ranges swapped, range ends compared as signed chars), `\\x`
a literal x inside or outside a class, a trailing `\\` itself. An unterminated class runs to the
end of the pattern (so `[a-]` is the range `]`..`a`), and `[` right before `]` is an empty class.
`nocase` lowers A-Z on both sides (C's tolower), except for an escaped byte inside a class, which
Redis compares exactly. A non-empty pattern never matches an empty subject, not even `*`
(`matcher(b"*")` matches everything, as KEYS and SCAN special-case it). Past 1000 nested stars
Redis gives up: a pattern with more than 1000 stars followed by more pattern matches nothing.
"""

import functools
import operator
import re

_NESTING_LIMIT = 1000  # Redis's recursion guard: deeper than this, "no match"
_REGEX_MAX_TOKENS = 1024  # longer patterns skip the regex: compiling costs ~15 us a token

# A token is None for a star, else the 256-byte table of the bytes it accepts (1 = accepted):
# `?`, a literal and a class all take exactly one byte, so they differ only in the table.
_ALL = b"\x01" * 256
_FLIP = bytes.maketrans(b"\x00\x01", b"\x01\x00")


def _signed(c: int) -> int:
    """A byte as C's (signed) char, as Redis compares range ends."""
    return c - 256 if c >= 128 else c


def _lower(v: int) -> int:
    """C's tolower() in the C locale, which Redis keeps for LC_CTYPE: a negative char stays."""
    return v + 32 if 65 <= v <= 90 else v


def _mark(table: bytearray, lo: int, hi: int) -> None:
    """Accept every byte whose signed-char value lies in lo..hi (nothing when lo > hi)."""
    a, b = max(lo, 0), min(hi, 127)
    if a <= b:
        table[a:b + 1] = b"\x01" * (b + 1 - a)
    a, b = max(lo, -128), min(hi, -1)
    if a <= b:  # -128..-1 are the bytes 128..255
        table[a + 256:b + 257] = b"\x01" * (b + 1 - a)


def _mark_byte(table: bytearray, c: int, nocase: bool) -> None:
    table[c] = 1
    if nocase and 65 <= c <= 90:
        table[c + 32] = 1
    elif nocase and 97 <= c <= 122:
        table[c - 32] = 1


def _mark_range(table: bytearray, first: int, last: int, nocase: bool) -> None:
    lo, hi = _signed(first), _signed(last)
    if lo > hi:
        lo, hi = hi, lo
    if not nocase:
        _mark(table, lo, hi)
        return
    # Redis orders the ends, then lowers ends and byte alike: [Z-a] becomes z..a, which is empty.
    lo, hi = _lower(lo), _lower(hi)
    _mark(table, lo, min(hi, 64))  # the bytes tolower leaves alone...
    _mark(table, max(lo, 91), hi)
    _mark(table, max(lo - 32, 65), min(hi - 32, 90))  # ...and the capitals, by their lowercase


def _parse_class(pattern: bytes, i: int, nocase: bool):
    """The class whose `[` is just before `i`: (index of its last byte, its table). Redis's loop,
    step for step, so that `[a-]`, `[\\`, `[^` and an unterminated class end where Redis's do."""
    n = len(pattern)
    negate = i < n and pattern[i] == 0x5E  # '^'
    if negate:
        i += 1
    table = bytearray(256)
    while True:
        if i + 1 < n and pattern[i] == 0x5C:  # '\x': x exactly, even under nocase
            i += 1
            table[pattern[i]] = 1
        elif i < n and pattern[i] == 0x5D:  # ']'
            break
        elif i >= n:  # unterminated: the class took the rest of the pattern
            i = n - 1
            break
        elif i + 2 < n and pattern[i + 1] == 0x2D:  # 'a-z'
            _mark_range(table, pattern[i], pattern[i + 2], nocase)
            i += 2
        else:
            _mark_byte(table, pattern[i], nocase)
        i += 1
    accepted = bytes(table)
    return i, accepted.translate(_FLIP) if negate else accepted


@functools.lru_cache(maxsize=256)
def _compile(pattern: bytes, nocase: bool):
    """(tokens, too_deep): the pattern as tokens (None for a run of stars, else a byte table);
    too_deep when Redis's nesting limit forbids any match."""
    tokens: list = []
    i, n = 0, len(pattern)
    while i < n:
        c = pattern[i]
        if c == 0x2A:  # '*': a run of them is one
            while i + 1 < n and pattern[i + 1] == 0x2A:
                i += 1
            tokens.append(None)
        elif c == 0x3F:  # '?'
            tokens.append(_ALL)
        elif c == 0x5B:  # '['
            i, table = _parse_class(pattern, i + 1, nocase)
            tokens.append(table)
        else:
            if c == 0x5C and i + 1 < n:  # '\x': x taken literally; a trailing '\' is itself
                i += 1
                c = pattern[i]
            table = bytearray(256)
            _mark_byte(table, c, nocase)
            tokens.append(bytes(table))
        i += 1
    # Redis recurses one level per star it passes with bytes of the subject left, and answers "no
    # match" past 1000 levels. Every star followed by more pattern is passed so by any match
    # (what follows it takes a byte); a final star returns "match" without recursing.
    nested = sum(1 for k, t in enumerate(tokens) if t is None and k + 1 < len(tokens))
    return tuple(tokens), nested > _NESTING_LIMIT


def _match_tokens(tokens, subject) -> bool:
    """Redis's search, unrolled. stringmatchlen_impl tries each start for the rest of the pattern
    after a star; once the rest reaches the next star, that star's loop either matches or sets
    skipLongerMatches, which unwinds every outer star. So only the innermost star reached ever
    advances, and one saved (star, start) pair replaces the recursion and its 1000-deep stack.
    The saved start only moves forward (len(subject) times in all) and each retry rescans one
    segment at most: O(pattern x subject), Redis's own bound."""
    m, n = len(tokens), len(subject)
    if n == 0:  # Redis's loop needs a byte to start: only the empty pattern matches
        return m == 0
    ti = si = 0
    star_ti, star_si = -1, 0
    while si < n:
        if ti < m:
            table = tokens[ti]
            if table is None:
                if ti + 1 == m:  # a final star takes the rest
                    return True
                star_ti, star_si = ti, si
                ti += 1
                continue
            if table[subject[si]]:
                ti += 1
                si += 1
                continue
        if star_ti < 0:
            return False
        star_si += 1  # the innermost star takes one more byte; retry what follows it
        si, ti = star_si, star_ti + 1
    # The subject is used up. Redis skips the stars that follow and matches if nothing is left.
    # (When it ran out mid-segment, a later start for the last star would have less room still.)
    while ti < m and tokens[ti] is None:
        ti += 1
    return ti == m


def glob_match(pattern: bytes, subject: bytes, nocase: bool = False) -> bool:
    """Redis's stringmatchlen(pattern, subject, nocase), for one subject (CONFIG GET and the like)."""
    tokens, too_deep = _compile(bytes(pattern), bool(nocase))
    return False if too_deep else _match_tokens(tokens, subject)


# -- matcher: one pattern against many keys -----------------------------------------------------


def matcher(pattern: bytes):
    """A predicate `subject -> bool` for KEYS and SCAN: glob_match(pattern, subject), except that
    the pattern `*` alone matches every key, the empty one included, as KEYS and SCAN special-case
    it. Built once per pattern (SCAN asks again on every call, hence the cache)."""
    return _matcher(bytes(pattern))


def _always(subject) -> bool:
    return True


def _never(subject) -> bool:
    return False


@functools.lru_cache(maxsize=256)
def _matcher(pattern: bytes):
    if pattern == b"*":
        return _always
    tokens, too_deep = _compile(pattern, False)
    if too_deep:
        return _never
    # The pattern as fixed-width segments between its stars: seg0 * seg1 * ... * segK.
    segments: list = []
    current: list = []
    for token in tokens:
        if token is None:
            segments.append(tuple(current))
            current = []
        else:
            current.append(token)
    segments.append(tuple(current))
    literals = [_literal(segment) for segment in segments]
    if None not in literals:
        simple = _simple_literal_matcher(literals)
        if simple is not None:
            return simple
    if len(tokens) <= _REGEX_MAX_TOKENS:
        return _regex_matcher(segments)
    if None not in literals:
        return functools.partial(_literal_parts, literals[0], tuple(literals[1:-1]), literals[-1])
    return functools.partial(_match_tokens, tokens)


def _literal(segment):
    """The bytes a segment of single-byte tables spells, or None if a table accepts more than one."""
    out = bytearray()
    for table in segment:
        if table.count(1) != 1:
            return None
        out.append(table.index(1))
    return bytes(out)


def _simple_literal_matcher(parts):
    """The commonest shapes, `literal`, `prefix*`, `*suffix`, `*infix*` (`parts`: the pattern split
    on its stars), as one C-level bytes call each; None for any other shape."""
    if len(parts) == 1:
        return functools.partial(operator.eq, parts[0])
    if len(parts) == 2:
        head, tail = parts
        if not head and not tail:  # `**`: any non-empty subject (Redis's loop needs a byte)
            return bool
        if not tail:
            return _starts_with(head)
        if not head:
            return _ends_with(tail)
    if len(parts) == 3 and not parts[0] and not parts[2]:
        return _contains(parts[1])  # (`in` is slower: bytes first tries the needle as an int)
    return None


def _starts_with(head):
    return lambda subject: subject.startswith(head)


def _ends_with(tail):
    return lambda subject: subject.endswith(tail)


def _contains(infix):
    return lambda subject: subject.find(infix) >= 0


def _literal_parts(head, middle, tail, subject) -> bool:
    """Literals and stars, for patterns too long for a regex: head and tail anchored, each middle
    part at its first place after the previous one, which leaves the most room for the rest
    (every part has a fixed width). Linear in the subject for each part, like find()."""
    if len(subject) < len(head) + len(tail) or not subject.startswith(head) or not subject.endswith(tail):
        return False
    pos, end = len(head), len(subject) - len(tail)
    for part in middle:
        found = subject.find(part, pos, end)
        if found < 0:
            return False
        pos = found + len(part)
    return True


def _regex_char(c: int) -> bytes:
    """One byte as regex text: letters and digits as they are (shorter to parse), others as \\xHH."""
    return bytes((c,)) if 48 <= c <= 57 or 65 <= c <= 90 or 97 <= c <= 122 else b"\\x%02x" % c


@functools.lru_cache(maxsize=1024)
def _regex_byte(table: bytes) -> bytes:
    """A regex (bytes, DOTALL) for one byte accepted by `table`."""
    runs: list = []
    for c in range(256):
        if not table[c]:
            continue
        if runs and runs[-1][1] == c - 1:
            runs[-1][1] = c
        else:
            runs.append([c, c])
    if not runs:
        return b"(?!)"
    if runs == [[0, 255]]:
        return b"."
    if len(runs) == 1 and runs[0][0] == runs[0][1]:
        return _regex_char(runs[0][0])
    return b"[" + b"".join(_regex_char(a) if a == b else _regex_char(a) + b"-" + _regex_char(b)
                           for a, b in runs) + b"]"


def _regex_matcher(segments):
    """The same greedy search as a regex that cannot backtrack far: each middle segment is found at
    its first place and committed to by an atomic group `(?>.*?seg)` (skipLongerMatches: earlier
    stars never move again), and the last segment is checked once, against the end. Every segment
    has a fixed width, so a search costs O(segment x subject) and the whole O(pattern x subject)."""
    def source(segment):
        return b"".join(_regex_byte(table) for table in segment)

    if len(segments) == 1:
        compiled = re.compile(source(segments[0]), re.DOTALL)
        fullmatch = compiled.fullmatch
        return lambda subject: fullmatch(subject) is not None
    parts = [source(segments[0])]
    parts += [b"(?>.*?" + source(segment) + b")" for segment in segments[1:-1]]
    tail = segments[-1]
    if tail:
        # Room for the tail after what is matched so far, then the subject's last bytes.
        parts.append(b"(?=.{%d}).*+(?<=%s)" % (len(tail), source(tail)))
    match = re.compile(b"".join(parts), re.DOTALL).match
    return lambda subject: match(subject) is not None
