"""A model of how Redis 7.0 cuts a client's bytes into commands (networking.c's processInputBuffer,
processInlineBuffer, processMultibulkBuffer and sds.c's sdssplitargs), as the oracle of the
protocol fuzz suite. It reads the whole buffer at once and returns what Redis would run and the
protocol error it would send (or None, with the unread rest when it waits for more bytes).

Written from Redis's behaviour, checked against the real redis-server by tests/integration/
test_fuzz_live.py: header lines end at the first '\\r' (found as strchr does, so a NUL byte before
it means "not yet"), the byte after that '\\r' is skipped unread, a bulk's trailing two bytes too.
"""

INLINE_MAX = 64 * 1024
INT_MAX = 2**31 - 1
# Redis checks the length of a line still without its end after each read (16K first, then as
# much as its growing buffer takes): a line longer than DECIDED is always refused, even when its
# end is in the buffer. Between INLINE_MAX and DECIDED the verdict depends on how the reads fell
# (a test showed 81K refused as "too big inline" and accepted as a bulk count): tests avoid those.
DECIDED = 4 * INLINE_MAX


def string2ll(body: bytes):
    """Redis's string2ll: optional '-', digits, no leading zeros or '+', fits in 64 bits."""
    if not body or len(body) > 20:
        return None
    if body == b"0":
        return 0
    digits = body[1:] if body[:1] == b"-" else body
    if not digits or not all(48 <= c <= 57 for c in digits) or digits[:1] == b"0":
        return None
    value = int(body)
    return value if -2**63 <= value < 2**63 else None


def _strchr(buf: bytes, ch: int, pos: int) -> int:
    """strchr from pos: -1 if a NUL byte (the C string's end) comes first."""
    i = buf.find(bytes([ch]), pos)
    nul = buf.find(b"\x00", pos)
    if i < 0 or (0 <= nul < i):
        return -1
    return i


_SPACES = b" \n\r\t\x0b\x0c"  # isspace() in the C locale


def sdssplitargs(line: bytes):
    """The arguments of an inline line, or None for unbalanced quotes (sds.c)."""
    args = []
    p, n = 0, len(line)

    def at(i):
        return line[i] if i < n else 0

    while True:
        while at(p) and at(p) in _SPACES:
            p += 1
        if not at(p):
            return args
        cur = bytearray()
        quote = 0  # the quote character of the quoted token p is in, if any
        while True:
            c = at(p)
            if quote:
                if quote == 0x22 and c == 0x5C and at(p + 1) == 0x78 and _hex(at(p + 2)) and _hex(at(p + 3)):
                    cur.append(int(bytes([at(p + 2), at(p + 3)]), 16))
                    p += 3
                elif quote == 0x22 and c == 0x5C and at(p + 1):
                    p += 1
                    esc = at(p)
                    cur.append({0x6E: 10, 0x72: 13, 0x74: 9, 0x62: 8, 0x61: 7}.get(esc, esc))
                elif quote == 0x27 and c == 0x5C and at(p + 1) == 0x27:
                    p += 1
                    cur.append(0x27)
                elif c == quote:  # a closing quote must end the token
                    if at(p + 1) and at(p + 1) not in _SPACES:
                        return None
                    p += 1
                    break
                elif not c:
                    return None
                else:
                    cur.append(c)
            else:
                if c in b" \n\r\t" or not c:  # not isspace(): \v and \f stay in the token
                    break
                if c in (0x22, 0x27):
                    quote = c
                else:
                    cur.append(c)
            p += 1
        args.append(bytes(cur))


def _hex(c: int) -> bool:
    return c in b"0123456789abcdefABCDEF" and c != 0


def _count_line(buf: bytes, pos: int, what: str) -> tuple:
    """The '\\r' ending the *<count> or $<size> line at pos, as processMultibulkBuffer finds it:
    (offset, None); or (-1, None) when Redis waits for more bytes, (-1, error) when it refuses a
    line that long (`what`: "mbulk" or "bulk")."""
    n = len(buf)
    cr = _strchr(buf, 0x0D, pos)
    if cr < 0:
        return -1, (f"Protocol error: too big {what} count string" if n - pos > INLINE_MAX else None)
    if cr > n - 2:
        return -1, None
    if cr - pos > DECIDED:
        return -1, f"Protocol error: too big {what} count string"
    return cr, None


def parse(buf: bytes, max_bulk: int = 512 * 1024 * 1024, auth_required: bool = False,
          lax=None):
    """(commands, error message or None) for `buf` read at once by a Redis 7.0 client. If `lax`
    is a list, the offsets of two known divergences are appended to it: where Redis skipped a byte
    other than '\n' after a header's '\r' (forkv, reading with hiredis, refuses those frames), and
    where an inline command starts with a RESP3 aggregate's type byte (%~|>: hiredis waits for
    its elements, so forkv runs it only once more bytes arrive)."""
    commands = []
    pos, n = 0, len(buf)
    while pos < n:
        if buf[pos] != 0x2A:  # inline
            nl = _strchr(buf, 0x0A, pos)
            if nl < 0:
                if n - pos > INLINE_MAX:
                    return commands, "Protocol error: too big inline request"
                return commands, None
            if nl - pos > DECIDED:
                return commands, "Protocol error: too big inline request"
            if lax is not None and buf[pos] in b"%~|>":
                lax.append(pos)  # hiredis starts a RESP3 aggregate there: see the xfail tests
            end = nl - 1 if nl != pos and buf[nl - 1] == 0x0D else nl
            argv = sdssplitargs(buf[pos:end])
            if argv is None:
                return commands, "Protocol error: unbalanced quotes in request"
            pos = nl + 1
            if argv:
                commands.append(argv)
            continue
        cr, error = _count_line(buf, pos, "mbulk")
        if cr < 0:
            return commands, error
        if lax is not None and buf[cr + 1] != 0x0A:
            lax.append(cr + 1)
        count = string2ll(buf[pos + 1:cr])
        if count is None or count > INT_MAX:
            return commands, "Protocol error: invalid multibulk length"
        if count > 10 and auth_required:
            return commands, "Protocol error: unauthenticated multibulk length"
        pos = cr + 2
        if count <= 0:
            continue
        argv = []
        while len(argv) < count:
            cr, error = _count_line(buf, pos, "bulk")
            if cr < 0:
                return commands, error
            if buf[pos] != 0x24:
                got = buf[pos:pos + 1].decode("utf-8", "surrogateescape")
                got = got.replace("\r", " ").replace("\n", " ")
                return commands, f"Protocol error: expected '$', got '{got}'"
            if lax is not None and buf[cr + 1] != 0x0A:
                lax.append(cr + 1)
            size = string2ll(buf[pos + 1:cr])
            if size is None or size < 0 or size > max_bulk:
                return commands, "Protocol error: invalid bulk length"
            if size > 16384 and auth_required:
                return commands, "Protocol error: unauthenticated bulk length"
            pos = cr + 2
            if n - pos < size + 2:
                return commands, None
            argv.append(buf[pos:pos + size])
            pos += size + 2
        commands.append(argv)
    return commands, None
