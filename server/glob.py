"""Redis's glob-style patterns (util.c stringmatchlen) for KEYS, SCAN MATCH and CONFIG GET.

`*` any run, `?` one byte, `[abc]` / `[^abc]` / `[a-z]` classes, `\\x` a literal x, with Redis's
quirks kept byte for byte: an unterminated class runs to the end of the pattern, `[a-]` ranges up
to `]`, range ends compare as signed chars, an escaped byte inside a class ignores `nocase`, and a
non-empty pattern never matches an empty subject. It must never backtrack exponentially (a
client's pattern would stall the event loop; Redis's CVE-2022-36021): every token but `*` takes
exactly one byte, so matching keeps only the last `*` to retry from, which is linear per retry and
O(pattern x subject) at worst, and it gives the same answers as Redis's recursive search, whose
nesting limit (more than 1000 stars deep: no match) is applied from the pattern alone.
"""

import functools

_STAR, _ANY, _LIT, _CLASS = 0, 1, 2, 3
_NESTING_LIMIT = 1000  # Redis gives up (no match) past this many nested stars


def _signed(c: int) -> int:
    """A byte as C's (signed) char, as Redis compares range ends."""
    return c - 256 if c >= 128 else c


def _lower(c: int) -> int:
    """C's tolower() in the C locale (a negative, signed char stays as it is)."""
    return c + 32 if 65 <= c <= 90 else c


@functools.lru_cache(maxsize=256)
def _compile(pattern: bytes):
    """(tokens, too_deep): tokens are (_STAR,), (_ANY,), (_LIT, byte) or (_CLASS, negate,
    exact bytes, bytes, signed ranges); too_deep when Redis's nesting limit forbids any match."""
    tokens = []
    i, n = 0, len(pattern)
    while i < n:
        c = pattern[i]
        if c == 0x2A:  # '*': a run of them is one
            while i + 1 < n and pattern[i + 1] == 0x2A:
                i += 1
            tokens.append((_STAR,))
        elif c == 0x3F:  # '?'
            tokens.append((_ANY,))
        elif c == 0x5B:  # '['
            i += 1
            negate = i < n and pattern[i] == 0x5E
            if negate:
                i += 1
            exact, plain, ranges = [], [], []
            while True:
                if i < n and pattern[i] == 0x5C and n - i >= 2:  # escaped: compared exactly
                    i += 1
                    exact.append(pattern[i])
                elif i < n and pattern[i] == 0x5D:  # ']'
                    break
                elif i >= n:  # unterminated: the class ran to the end of the pattern
                    break
                elif n - i >= 3 and pattern[i + 1] == 0x2D:  # 'a-z'
                    lo, hi = _signed(pattern[i]), _signed(pattern[i + 2])
                    ranges.append((min(lo, hi), max(lo, hi)))
                    i += 2
                else:
                    plain.append(pattern[i])
                i += 1
            tokens.append((_CLASS, negate, frozenset(exact), tuple(plain), tuple(ranges)))
        else:
            if c == 0x5C and n - i >= 2:  # '\x': x taken literally
                i += 1
                c = pattern[i]
            tokens.append((_LIT, c))
        i += 1
    # Redis recurses once per star it passes with bytes of the subject left; past 1000 deep it
    # answers "no match". A star followed by more pattern must be passed by any match.
    stars = [k for k, t in enumerate(tokens) if t[0] == _STAR and k + 1 < len(tokens)]
    return tuple(tokens), len(stars) > _NESTING_LIMIT


def _one(token, c: int, nocase: bool) -> bool:
    kind = token[0]
    if kind == _ANY:
        return True
    if kind == _LIT:
        return token[1] == c or (nocase and _lower(token[1]) == _lower(c))
    _, negate, exact, plain, ranges = token
    match = c in exact
    if not match:
        lc = _lower(c)
        for p in plain:
            if p == c or (nocase and _lower(p) == lc):
                match = True
                break
    if not match:
        sc = _signed(c)
        for lo, hi in ranges:
            if nocase:  # Redis orders the ends first, then lowers ends and byte alike
                lo, hi, sc = _lower(lo), _lower(hi), _lower(_signed(c))
            if lo <= sc <= hi:
                match = True
                break
    return match != negate


def _match_tokens(tokens, subject: bytes, nocase: bool) -> bool:
    m, n = len(tokens), len(subject)
    ti = si = 0
    star_ti, star_si = -1, 0
    while si < n:
        if ti < m:
            token = tokens[ti]
            if token[0] == _STAR:
                if ti + 1 == m:
                    return True
                star_ti, star_si = ti, si
                ti += 1
                continue
            if _one(token, subject[si], nocase):
                ti += 1
                si += 1
                continue
        if star_ti < 0:
            return False
        # Let the last star take one more byte and retry what follows it. Earlier stars never
        # need to move again: every other token takes exactly one byte.
        star_si += 1
        si, ti = star_si, star_ti + 1
    while ti < m and tokens[ti][0] == _STAR:
        ti += 1
    return ti == m


def glob_match(pattern: bytes, subject: bytes, nocase: bool = False) -> bool:
    if pattern == b"*":
        return True
    if not subject:  # Redis's stringmatchlen never matches an empty string but with ""
        return not pattern
    tokens, too_deep = _compile(bytes(pattern))
    if too_deep:
        return False
    return _match_tokens(tokens, subject, nocase)


def matcher(pattern: bytes):
    """A fast predicate for many subjects (KEYS, SCAN): the common shapes (`*`, a literal,
    `prefix*`, `*suffix`, `*infix*`, literals and stars only) never reach the token matcher."""
    pattern = bytes(pattern)
    if pattern == b"*":
        return lambda subject: True
    if not any(c in pattern for c in b"?[\\"):
        parts = pattern.split(b"*")
        if len(parts) == 1:
            return lambda subject: subject == pattern
        nested = sum(1 for part in parts[1:] if part)  # stars followed by more pattern
        return functools.partial(_stars_only, parts, nested > _NESTING_LIMIT)
    tokens, too_deep = _compile(pattern)
    if too_deep:
        return lambda subject: False
    return lambda subject: _match_tokens(tokens, subject, False) if subject else not pattern


def _stars_only(parts, too_deep: bool, subject) -> bool:
    """A pattern of literals and stars (split on the stars: `parts`), matched greedily: the head
    and tail are anchored, each middle part is taken at its first place after the previous one."""
    if not subject or too_deep:
        return False
    head, tail = parts[0], parts[-1]
    if len(subject) < len(head) + len(tail) or not subject.startswith(head) or not subject.endswith(tail):
        return False
    pos, end = len(head), len(subject) - len(tail)
    for part in parts[1:-1]:
        if part:
            found = subject.find(part, pos, end)
            if found < 0:
                return False
            pos = found + len(part)
    return True
