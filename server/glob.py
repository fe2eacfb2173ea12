"""Redis's glob-style patterns (stringmatchlen) for KEYS, SCAN MATCH and CONFIG GET.

`*` any run, `?` one byte, `[abc]` / `[^abc]` / `[a-z]` classes, `\\x` a literal x. Patterns are
compiled to byte regexes once and cached.
"""

import functools
import re


@functools.lru_cache(maxsize=256)
def _compile(pattern: bytes):
    out = []
    i, n = 0, len(pattern)
    while i < n:
        c = pattern[i:i + 1]
        if c == b"*":
            out.append(b".*")
        elif c == b"?":
            out.append(b".")
        elif c == b"\\" and i + 1 < n:
            i += 1
            out.append(re.escape(pattern[i:i + 1]))
        elif c == b"[":
            i += 1
            negate = i < n and pattern[i:i + 1] == b"^"
            if negate:
                i += 1
            items = []
            while i < n and pattern[i:i + 1] != b"]":
                ch = pattern[i:i + 1]
                if ch == b"\\" and i + 1 < n:
                    i += 1
                    items.append(re.escape(pattern[i:i + 1]))
                elif i + 2 < n and pattern[i + 1:i + 2] == b"-":  # "[a-]": Redis ranges to "]"
                    lo, hi = pattern[i], pattern[i + 2]
                    if lo > hi:
                        lo, hi = hi, lo
                    items.append(re.escape(bytes([lo])) + b"-" + re.escape(bytes([hi])))
                    i += 2
                else:
                    items.append(re.escape(ch))
                i += 1
            body = b"".join(items)
            if not body:
                out.append(b"[^\\s\\S]" if not negate else b"[\\s\\S]")
            else:
                out.append(b"[" + (b"^" if negate else b"") + body + b"]")
        else:
            out.append(re.escape(c))
        i += 1
    return re.compile(b"".join(out) + b"\\Z", re.DOTALL)


def glob_match(pattern: bytes, subject: bytes, nocase: bool = False) -> bool:
    if pattern == b"*":
        return True
    if not subject:  # Redis's stringmatchlen never matches an empty string but with ""
        return not pattern
    if nocase:
        pattern, subject = pattern.lower(), subject.lower()
    return _compile(pattern).match(subject) is not None


def matcher(pattern: bytes):
    """A fast predicate for many subjects (KEYS, SCAN)."""
    if pattern == b"*":
        return lambda subject: True
    regex = _compile(pattern)
    return lambda subject: regex.match(subject) is not None if subject else not pattern
