"""Request parser: bytes from one client in, complete commands (lists of bytes) out.

Multibulk frames (`*N\\r\\n$L\\r\\n...`) are parsed by `hiredis.Reader` at C speed; inline commands
(`PING\\r\\n`, as telnet and redis-benchmark send them) are split here, because hiredis rejects them
and then stays broken. hiredis only ever sees bytes that start a multibulk frame.

hiredis gives no byte offsets, so the parser reconstructs them from the commands it returned (the
wire length of a canonical frame is a function of its arguments). That is done only off the hot
path: when a frame is left incomplete at the end of a read (to check its headers against the size
limits before hiredis buffers a huge value) and when hiredis reports an error.
"""

import re

import hiredis


class _NeedData:
    __slots__ = ()

    def __repr__(self):
        return "NEED_DATA"


NEED_DATA = _NeedData()  # hiredis's "no complete reply yet" marker: equal to nothing else

INLINE_MAX_SIZE = 64 * 1024  # Redis's PROTO_INLINE_MAX_SIZE
MULTIBULK_MAX = 2**31 - 1  # Redis refuses counts above INT_MAX
AUTH_MULTIBULK_MAX = 10  # before AUTH, Redis refuses larger frames
AUTH_BULK_MAX = 16384
# hiredis allocates a frame's whole array as soon as it reads the header. Frames claiming more
# elements than this are held back here until they are complete, so that a bare claim costs nothing.
BIG_ARRAY = 65536
_MAYBE_BIG_ARRAY = re.compile(rb"\*[0-9]{5,}\r")


class ProtocolError(Exception):
    """The client broke the protocol: reply with this message, then close the connection."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


def _new_reader():
    return hiredis.Reader(notEnoughData=NEED_DATA)


def drain_py(gets, sentinel, commands: list):
    """Take every request hiredis has complete (a non-empty list of bytes) into `commands`.
    Returns (kind, value): 0 when it ran out of data; 1 for a non-bulk element `value` inside a
    request; 2 for a top-level `value` that is not a request (*-1, *0, or a non-array the client
    sent between frames): the parser resynchronises on the bytes; 3 when hiredis raised `value`.
    The reference for protocol/_drain.c, which does the same in C."""
    append = commands.append
    while True:
        try:
            argv = gets()
        except Exception as exc:  # noqa: BLE001 - hiredis's protocol error, handed back
            return 3, exc
        if argv is sentinel:
            return 0, None
        if type(argv) is not list or not argv:
            return 2, argv
        for arg in argv:
            if type(arg) is not bytes:
                return 1, arg
        append(argv)


def _header_number(data: bytes, pos: int, end: int) -> tuple:
    """(value, offset past its CRLF) of the count or length at data[pos:], or (-1, pos) unless it
    is plain digits (0, or no leading zero; at most 18) followed by CRLF."""
    p = pos
    while p < end and 0x30 <= data[p] <= 0x39:
        p += 1
    digits = p - pos
    if (digits == 0 or digits > 18 or (digits > 1 and data[pos] == 0x30) or p + 1 >= end
            or data[p] != 0x0D or data[p + 1] != 0x0A):
        return -1, pos
    return int(data[pos:p]), p + 2


def clean_py(data, max_bulk_len: int) -> bool:
    """Whether `data` is nothing but complete requests in their one canonical form (`*N` with
    N >= 1, then N `$L` bulk strings with L <= max_bulk_len, each line ending in CRLF), so that
    none of the Redis-protocol checks below can apply: no simple-string or big-number element, no
    nested array, no inline command, no partial frame. take_clean_py's test; protocol/_drain.c's
    take_clean checks the same while it splits the read."""
    if type(data) is not bytes or not data:
        return False
    pos, end = 0, len(data)
    while pos < end:
        if data[pos] != 0x2A:
            return False
        count, pos = _header_number(data, pos + 1, end)
        if count <= 0:
            return False
        for _ in range(count):
            if pos >= end or data[pos] != 0x24:
                return False
            size, pos = _header_number(data, pos + 1, end)
            if size < 0 or size > max_bulk_len or size > end - pos - 2:
                return False
            pos += size
            if data[pos] != 0x0D or data[pos + 1] != 0x0A:
                return False
            pos += 2
    return True


def take_clean_py(data, max_bulk_len: int):
    """If clean_py(data), its requests (a list of bytes each, as hiredis gives them); else None.
    The reference for protocol/_drain.c's take_clean, the parser's usual read (no hiredis round
    trips)."""
    if not clean_py(data, max_bulk_len):
        return None
    commands = []
    pos, end = 0, len(data)
    while pos < end:
        count, pos = _header_number(data, pos + 1, end)
        argv = []
        for _ in range(count):
            size, pos = _header_number(data, pos + 1, end)
            argv.append(data[pos:pos + size])
            pos += size + 2
        commands.append(argv)
    return commands


try:
    from protocol._drain import drain  # type: ignore[import-not-found]  # a C extension
except ImportError:  # not built: the reference implementation does the same, slower
    drain = drain_py
try:
    from protocol._drain import take_clean  # type: ignore[import-not-found]  # a C extension
except ImportError:
    # Not built: every read takes the checks. (take_clean_py would give the same answers, but
    # walking the headers in Python costs more than the checks it would spare.)
    take_clean = None


def _wire_length(argv) -> int:
    """Bytes taken by `argv` as a canonical multibulk frame."""
    n = 3 + len(str(len(argv)))
    for arg in argv:
        size = len(arg)
        n += 5 + len(str(size)) + size
    return n


class _FrameScanner:
    """Follows the headers of one multibulk frame that is still arriving, to enforce limits.

    Only the headers are read; payloads are skipped by arithmetic, so a value that is still
    arriving costs nothing here, and a header that claims a huge size is refused at once.
    """

    __slots__ = ("limits", "state", "line", "elements", "skip", "count")

    def __init__(self, limits):
        self.limits = limits
        self.state = "count"  # count -> (bulk-header -> payload)* -> done
        self.line = b""
        self.elements = 0
        self.skip = 0
        self.count = 0

    def scan(self, data, pos: int) -> int:
        """Follow data[pos:]; return the offset just past the frame's end, or -1 if it goes on."""
        end = len(data)
        while pos < end and self.state != "done":
            if self.state == "payload":
                step = min(self.skip, end - pos)
                self.skip -= step
                pos += step
                if self.skip == 0:
                    self.elements -= 1
                    self.state = "bulk" if self.elements else "done"
                continue
            # As Redis reads a header: up to the first '\r', once the byte after it (the '\n',
            # not checked) has arrived too.
            # Redis finds the '\r' with strchr: a NUL byte before it hides it, for good.
            if self.line[-1:] == b"\r" and b"\x00" not in self.line:  # it ended the previous read
                line, self.line = self.line[:-1], b""
                pos += 1
                self._header(line)
                continue
            cr = data.find(b"\r", pos)
            if cr >= 0 and (b"\x00" in self.line or data.find(b"\x00", pos, cr) >= 0):
                cr = -1
            if cr < 0 or cr + 1 >= end:
                self.line += data[pos:]
                if len(self.line) > INLINE_MAX_SIZE:
                    self._too_big()
                return -1
            line, self.line = self.line + data[pos:cr], b""
            if len(line) > INLINE_MAX_SIZE:  # Redis, reading 16K at a time, would have refused it
                self._too_big()
            pos = cr + 2
            self._header(line)
        return pos if self.state == "done" else -1

    def _too_big(self):
        what = "mbulk count" if self.state == "count" else "bulk count"
        raise ProtocolError(f"Protocol error: too big {what} string")

    def _header(self, line: bytes) -> None:
        body = line[1:]
        max_bulk, auth_required = self.limits
        if self.state == "count":
            count = _parse_int(body)
            if count is None or count > MULTIBULK_MAX:
                raise ProtocolError("Protocol error: invalid multibulk length")
            if count > AUTH_MULTIBULK_MAX and auth_required:
                raise ProtocolError("Protocol error: unauthenticated multibulk length")
            self.elements = self.count = count
            self.state = "bulk" if count > 0 else "done"
            return
        if line[:1] != b"$":  # an empty line: the '\r' that ended it is what Redis reads there
            got = (line[:1] or b"\r").decode("utf-8", "surrogateescape")  # the byte, as sent
            raise ProtocolError(f"Protocol error: expected '$', got '{got}'")
        size = _parse_int(body)
        if size is None or size < 0 or size > max_bulk:
            raise ProtocolError("Protocol error: invalid bulk length")
        if size > AUTH_BULK_MAX and auth_required:
            raise ProtocolError("Protocol error: unauthenticated bulk length")
        self.skip = size + 2
        self.state = "payload"


def _parse_int(body: bytes):
    # Redis's string2ll: optional '-', digits, no spaces, no '+'.
    if not body or len(body) > 20:
        return None
    if body == b"0":
        return 0
    digits = body[1:] if body[:1] == b"-" else body
    if not digits.isdigit() or digits[:1] == b"0":  # no leading zeros, and no "-0"
        return None
    value = int(body)
    return value if -2**63 <= value < 2**63 else None


_SPACE = b" \t\r\n\x0b\x0c"  # isspace(): what may follow a closing quote, and what leads a token
_TOKEN_END = b" \t\r\n"  # what ends an unquoted token (sdssplitargs keeps \v and \f in it)
_ESCAPES = {0x6E: 10, 0x72: 13, 0x74: 9, 0x62: 8, 0x61: 7}


def _unbalanced():
    return ProtocolError("Protocol error: unbalanced quotes in request")


def split_inline(line: bytes) -> list:
    """Split an inline command like Redis's sdssplitargs: spaces, "double" and 'single' quotes.
    A quote may open in the middle of a token (a"b c" is one argument, `ab c`); its closing quote
    must be followed by a space or the end. The line is a C string there: a NUL byte ends it."""
    nul = line.find(b"\x00")
    if nul >= 0:
        line = line[:nul]
    args: list = []
    i, n = 0, len(line)
    while True:
        while i < n and line[i] in _SPACE:
            i += 1
        if i >= n:
            return args
        cur = bytearray()
        while i < n:
            c = line[i]
            if c in _TOKEN_END:
                break
            if c == 0x22:  # "
                i += 1
                while True:
                    if i >= n:
                        raise _unbalanced()
                    c = line[i]
                    if c == 0x5C and i + 3 < n and line[i + 1] == 0x78 and _is_hex(line[i + 2:i + 4]):
                        cur.append(int(line[i + 2:i + 4], 16))
                        i += 4
                    elif c == 0x5C and i + 1 < n:
                        cur.append(_ESCAPES.get(line[i + 1], line[i + 1]))
                        i += 2
                    elif c == 0x22:
                        if i + 1 < n and line[i + 1] not in _SPACE:
                            raise _unbalanced()
                        i += 1
                        break
                    else:
                        cur.append(c)
                        i += 1
                break
            if c == 0x27:  # '
                i += 1
                while True:
                    if i >= n:
                        raise _unbalanced()
                    c = line[i]
                    if c == 0x5C and i + 1 < n and line[i + 1] == 0x27:
                        cur.append(0x27)
                        i += 2
                    elif c == 0x27:
                        if i + 1 < n and line[i + 1] not in _SPACE:
                            raise _unbalanced()
                        i += 1
                        break
                    else:
                        cur.append(c)
                        i += 1
                break
            cur.append(c)
            i += 1
        args.append(bytes(cur))


def _is_hex(two: bytes) -> bool:
    return len(two) == 2 and all(c in b"0123456789abcdefABCDEF" for c in two)


class RequestParser:
    """Feed bytes, get commands. After a ProtocolError the parser is dead, as the connection is.

    `feed(data)` returns the complete commands in `data` (plus what was buffered before). If the
    client broke the protocol, the commands before the fault are returned and `error` is set to the
    ProtocolError that the connection must send before closing.

    Whether hiredis is in the middle of a frame is known exactly when it holds unread bytes
    (`has_data()`); when it has read everything it may still be inside an array whose remaining
    elements have not arrived. That case is settled lazily, from the byte count of what hiredis
    returned, only if the next read does not start a new frame (`_pending`).
    """

    __slots__ = ("_reader", "_inline", "_carry", "_scanner", "_pending", "_held", "_doomed",
                 "_head", "_suspect", "max_bulk_len", "auth_required", "error")
    _scanner: "_FrameScanner | None"
    _pending: "tuple | None"
    _held: "tuple[bytearray, _FrameScanner] | None"
    _doomed: "_FrameScanner | None"
    _suspect: "tuple | None"
    error: "ProtocolError | None"

    def __init__(self, max_bulk_len: int = 512 * 1024 * 1024):
        self._reader = _new_reader()
        self._inline = b""  # an inline command still waiting for its newline
        self._carry = 0  # bytes of an incomplete multibulk frame fed to hiredis in earlier reads
        self._scanner = None  # _FrameScanner of that incomplete frame
        self._pending = None  # the last read's accounting, when it may have ended mid-frame
        self._held = None  # (bytearray, scanner) of a huge frame kept from hiredis until complete
        self._doomed = None  # scanner of a frame hiredis refused, read on until it fails as in Redis
        self._head = b""  # the first bytes of the incomplete frame hiredis holds (for logs)
        self._suspect = None  # the last read's accounting, when this read may be a nested array
        self.max_bulk_len = max_bulk_len
        self.auth_required = False
        self.error = None

    def feed(self, data: bytes) -> list:
        commands = self.take(data)
        if commands is None:
            commands = self.feed_checked(data)
        return commands

    def take(self, data: bytes):
        """The usual read, cheaply: when hiredis holds nothing and `data` is complete canonical
        requests only, its commands (split in C, without hiredis); else None, with nothing
        consumed, and `feed_checked` must take `data`. None of the checks in _feed can apply to
        such a read (see clean_py), it ends at a frame's end (so the next read has nothing to
        settle), and it leaves nothing buffered (`buffered` stays 0)."""
        if (take_clean is not None and self._carry == 0 and self._held is None
                and self._doomed is None and not self._inline and not self.auth_required
                and self.error is None and (self._pending is None or self._settled())):
            return take_clean(data, self.max_bulk_len)
        return None

    def feed_checked(self, data: bytes) -> list:
        """feed() for a read that `take` refused: every Redis-protocol check applies."""
        if self.error is not None:
            return []
        commands: list = []
        try:
            self._feed(data, commands)
        except ProtocolError as exc:
            self.error = exc
        self._suspect = None
        return commands

    def _settled(self) -> bool:
        """Whether the last read (one the checks took) ended exactly at a frame's end; if so it
        is forgotten. Paid once when reads go back to the fast path (`take`)."""
        pending = self._pending
        assert pending is not None  # called only while a read's state is kept
        data, start, commands, first, carry, _ = pending
        if start - carry + _consumed(commands, first) < len(data):
            return False
        self._pending = None
        return True

    def _check_suspect(self) -> None:
        """The read before this one ended at a line's end and this one starts with '*': if that
        read ended inside a frame, this '*' is a nested array, which Redis refuses."""
        suspect, self._suspect = self._suspect, None
        if suspect is not None:
            data, start, commands, first, carry, _ = suspect
            if start - carry + _consumed(commands, first) < len(data):
                raise ProtocolError("Protocol error: expected '$', got '*'")

    def _feed(self, data: bytes, commands: list) -> None:
        # (feed has taken the reads take_clean accepts.)
        if self._doomed is not None:
            if self._doomed.scan(data, 0) >= 0:
                raise ProtocolError("Protocol error: invalid multibulk length")
            return
        if self._pending is not None:
            # '*' never continues a frame after a read that ended at a line's end: that read
            # ended clean. (hiredis may also have taken a lone type byte at the very end.)
            # Unless the client broke the protocol: a nested array. Redis refuses its header line
            # at once; here the last read is checked only when this one goes wrong or ends inside
            # a frame (`_suspect`), and this shortcut is taken only when the header line is whole.
            nl = data.find(b"\n")
            if data[:1] == b"*" and self._pending[0][-1:] == b"\n" and nl > 0 and data[nl - 1] == 0x0D:
                self._suspect = self._pending
                self._pending = None
            else:
                leftover = self._resolve_pending()
                if leftover is not None:
                    data = leftover + data
        if self._inline:
            data = self._inline + data
            self._inline = b""
        if self._carry and self._scanner is not None and self._scanner.state == "count":
            # hiredis holds only the start of a frame's count line: take it back, so that a huge
            # count split across reads is seen here before hiredis allocates for it.
            data = self._scanner.line + data
            self._reader = _new_reader()
            self._carry, self._scanner = 0, None
        # hiredis returns a simple string (+) or a big number (() element as bytes, like a bulk
        # string; Redis refuses both. Reads that may hold one take the careful path, which reads
        # every header. (One-byte `in` is a memchr; a regex here made big values 20x slower.)
        if (self._held is not None or _MAYBE_BIG_ARRAY.search(data) is not None
                or (b"+" in data and (data[:1] == b"+" or b"\n+" in data))
                or (b"(" in data and (data[:1] == b"(" or b"\n(" in data))
                or (self._scanner is not None and self._scanner.state == "bulk"
                    and self._scanner.line[:1] not in (b"", b"$"))):
            self._frame_by_frame(data, commands)
            return
        pos = 0
        end = len(data)
        while pos < end:
            if self._carry == 0 and data[pos] != 0x2A:  # not '*': an inline command
                pos = self._inline_command(data, pos, commands)
                continue
            pos = self._multibulk(data, pos, commands)

    def buffered(self, limit: int) -> int:
        """Bytes of requests not complete yet (Redis's query buffer), exact when above `limit`;
        an upper bound, cheaper, at or below it."""
        held = len(self._inline) + self._carry + (len(self._held[0]) if self._held is not None else 0)
        if self._pending is not None:
            data, start, commands, first, carry, _ = self._pending
            if held + carry + len(data) - start > limit:
                here = start - carry + _consumed(commands, first)
                held += max(0, len(data) - here)
                if 0 <= here < len(data):
                    self._head = bytes(data[here:here + 64])
            else:
                held += carry + len(data) - start
        return held

    def head(self) -> bytes:
        """Up to 64 first bytes of what `buffered` counts, for the log line of a client closed
        for its query buffer."""
        if self._held is not None:
            return bytes(self._held[0][:64])
        if self._inline:
            return self._inline[:64]
        return self._head

    def _inline_command(self, data: bytes, pos: int, commands: list) -> int:
        nl = data.find(b"\n", pos)
        if nl >= 0 and data.find(b"\x00", pos, nl) >= 0:
            nl = -1  # Redis finds the newline with strchr: a NUL before it hides it, for good
        if nl < 0:
            rest = data[pos:]
            if len(rest) > INLINE_MAX_SIZE:
                raise ProtocolError("Protocol error: too big inline request")
            self._inline = rest
            return len(data)
        if nl - pos > INLINE_MAX_SIZE:
            raise ProtocolError("Protocol error: too big inline request")
        argv = split_inline(data[pos:nl - 1] if nl > pos and data[nl - 1] == 0x0D else data[pos:nl])
        if argv:
            commands.append(argv)
        return nl + 1

    def _multibulk(self, data: bytes, start: int, commands: list) -> int:
        """Give data[start:] to hiredis; return where the caller must go on (len(data) unless an
        inline command follows the multibulk frames)."""
        reader = self._reader
        reader.feed(data, start) if start else reader.feed(data)
        first = len(commands)
        kind, value = drain(reader.gets, NEED_DATA, commands)
        if kind == 1:
            raise ProtocolError(_bad_element(value))
        if kind:
            self._check_suspect()
            # kind 3: hiredis refused the bytes (a ProtocolError, or e.g. a TypeError building a
            # RESP3 map with a list as key): the client's bytes are at fault either way.
            # A top-level item that is not a request (*-1, *0 and other counts <= 0, which Redis
            # ignores; an inline command after complete frames; or a malformed frame): start
            # again from its first byte, with a fresh reader.
            here = start - self._carry + _consumed(commands, first)
            scanner, self._carry, self._scanner = self._scanner, 0, None
            self._reader = _new_reader()
            if here < start and scanner is not None:
                # A frame that began in an earlier read (its first byte was '*': anything else
                # went back to the inline parser). Its scanner knows where it ends, and reads its
                # headers as Redis does (hiredis may refuse a byte before Redis would).
                end = scanner.scan(data, start)
                if end >= 0 and scanner.count <= 0:
                    return end  # an empty or null array: ignored, as Redis does
                if end < 0:  # Redis would still be waiting for the rest of the header
                    self._doomed = scanner
                    return len(data)
                raise ProtocolError("Protocol error: invalid multibulk length")
            if here < len(data) and data[here] != 0x2A:
                return here  # an inline command: the main loop takes it
            nl = data.find(b"\n", here)
            count = _parse_int(data[here + 1:nl].rstrip(b"\r")) if nl >= 0 else None
            if count is not None and count <= 0:
                return nl + 1  # an empty or null array: ignored, as Redis does
            if scanner is None or here >= start:
                scanner = _FrameScanner((self.max_bulk_len, self.auth_required))
            if scanner.scan(data, max(here, start)) < 0:
                self._doomed = scanner  # Redis would still be waiting (a NUL hides a '\r')
                return len(data)
            raise ProtocolError("Protocol error: invalid multibulk length")
        if reader.has_data():
            self._check_suspect()
            here = start - self._carry + _consumed(commands, first)
            self._pending = None
            if here >= start and data[here] != 0x2A:
                # not a frame: an inline command hiredis was given after complete frames
                self._reader = _new_reader()
                self._carry, self._scanner = 0, None
                return here
            self._track_partial(data, start, here)
        else:
            self._pending = (data, start, commands, first, self._carry, self._scanner)
            self._carry = 0
            self._scanner = None
            # Settle it now when a limit may be at stake: before AUTH (tiny frames, strict
            # limits), or when the read ends with what may be an array header.
            # Also when the read holds more array headers than it gave commands: one may be a
            # nested array, which Redis refuses as soon as its header line is in.
            if (self.auth_required or data[data.rfind(b"\n", 0, len(data) - 1) + 1] == 0x2A
                    or (data.count(b"*", start) > len(commands) - first
                        and data.count(b"\n*", start) + (data[start] == 0x2A) > len(commands) - first)):
                leftover = self._resolve_pending()
                if leftover is not None:
                    return len(data) - len(leftover)
        return len(data)

    def _frame_by_frame(self, data: bytes, commands: list) -> None:
        """The careful path, for reads that may carry a huge array header: find each frame's end
        here and give hiredis complete frames only, holding back an incomplete huge one."""
        self._check_suspect()
        pos = 0
        if self._held is not None:
            held, scanner = self._held
            end = scanner.scan(data, 0)
            if end < 0:
                held += data
                return
            held += data[:end]
            self._held = None
            self._complete(bytes(held), commands)
            pos = end
        elif self._carry:
            end = self._scanner.scan(data, 0)  # type: ignore[union-attr]  # set with _carry
            self._reader.feed(data if end < 0 else data[:end])
            if end < 0:
                self._carry += len(data)
                return
            self._carry, self._scanner = 0, None
            self._drain(commands)
            pos = end
        while pos < len(data):
            if data[pos] != 0x2A:
                pos = self._inline_command(data, pos, commands)
                continue
            scanner = _FrameScanner((self.max_bulk_len, self.auth_required))
            end = scanner.scan(data, pos)
            if end >= 0:
                if scanner.count > 0:  # counts <= 0 are ignored, as Redis does
                    self._complete(data[pos:end], commands)
                pos = end
            elif scanner.count > BIG_ARRAY:
                self._held = (bytearray(data[pos:]), scanner)
                return
            else:
                self._reader.feed(data, pos)
                self._carry, self._scanner = len(data) - pos, scanner
                self._head = bytes(data[pos:pos + 64])
                return

    def _complete(self, frame: bytes, commands: list) -> None:
        self._reader.feed(frame)
        self._drain(commands)

    def _drain(self, commands: list) -> None:
        """Take the complete frames the careful path gave hiredis."""
        while True:
            kind, value = drain(self._reader.gets, NEED_DATA, commands)
            if kind == 0:
                return
            if kind == 1:
                raise ProtocolError(_bad_element(value))
            if not (kind == 2 and (value is None or value == [])):
                raise ProtocolError("Protocol error: invalid multibulk length")
            # a complete *-1 / *0 frame: ignored, as Redis does

    def _track_partial(self, data, start: int, here: int) -> None:
        """A frame starting at `here` (before `start` if it began in an earlier read) is still
        incomplete: follow its headers so that the size limits apply before its data arrives.
        """
        if here >= start or self._scanner is None:
            self._head = bytes(data[max(here, start):max(here, start) + 64])
            self._scanner = _FrameScanner((self.max_bulk_len, self.auth_required))
            self._scanner.scan(data, max(here, start))
        else:
            self._scanner.scan(data, start)  # type: ignore[union-attr]  # checked above
        self._carry = len(data) - here

    def _resolve_pending(self):
        """Settle whether the last read ended inside a frame. Returns the bytes to parse again as
        an inline command when hiredis had started on a line that is not a frame, else None."""
        data, start, commands, first, carry, scanner = self._pending
        self._pending = None
        here = start - carry + _consumed(commands, first)
        if here >= len(data):
            return None
        if here >= start and data[here] != 0x2A:
            self._reader = _new_reader()
            return data[here:]
        self._carry, self._scanner = carry, scanner
        self._track_partial(data, start, here)
        return None


def _consumed(commands, first: int) -> int:
    total = 0
    for i in range(first, len(commands)):
        total += _wire_length(commands[i])
    return total


def _bad_element(arg) -> str:
    if arg is None:
        return "Protocol error: invalid bulk length"
    kind = {int: ":", list: "*", float: ","}.get(type(arg), "-" if isinstance(arg, Exception) else "+")
    return f"Protocol error: expected '$', got '{kind}'"
