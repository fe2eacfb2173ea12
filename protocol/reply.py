"""Reply encoding: the Python values that command handlers return -> RESP2 or RESP3 bytes.

The mapping (one table, dispatched on the exact type, so the hot path is one dict lookup):
  bytes/bytearray/str -> bulk string         None -> null ($-1 / _)
  int                 -> integer             bool -> RESP3 boolean (RESP2: integer 1/0)
  float               -> RESP3 double (RESP2: bulk string, Redis 7.0's %.17g)
  list/tuple          -> array               NULL_ARRAY -> null array (*-1 / _)
  Map (dict)          -> RESP3 map (RESP2: flat array of key, value, ...)
  set/frozenset/SetReply -> RESP3 set (RESP2: array); SetReply keeps its order
  Status              -> simple string +...  ErrorReply -> error -...
  Verbatim            -> RESP3 verbatim text (RESP2: bulk string)
  Push                -> RESP3 push (RESP2: array)
  Encoded             -> bytes already in wire form, written as they are (pre-encoded constants,
                         which keep the value they encode: see `encoded`)
NO_REPLY (an Encoded of no bytes) answers nothing at all (SHUTDOWN).
"""


class Encoded(bytes):
    """A reply already encoded for the wire (identical in RESP2 and RESP3): a constant encoded
    once. `value` is the reply it encodes, for whoever needs the value rather than the bytes
    (a script's redis.call, MONITOR, replication); build constants with `encoded(value)`."""

    value: object

    def __new__(cls, wire: bytes, value=None):
        self = super().__new__(cls, wire)
        self.value = value
        return self


class Status(str):
    """A simple-string reply such as +OK."""

    __slots__ = ()


class Verbatim(str):
    """Text that RESP3 sends as a verbatim string (INFO, CLIENT LIST...)."""

    __slots__ = ()


class BigNumber(bytes):
    """The digits of a RESP3 big number; RESP2 sends them as a bulk string (DEBUG PROTOCOL
    bignum, a script's {big_number=...})."""

    __slots__ = ()


class Map(dict):
    """A RESP3 map; RESP2 flattens it into key, value, key, value."""

    __slots__ = ()


class SetReply(list):
    """A RESP3 set whose members keep their order (RESP2: an array)."""

    __slots__ = ()


class Push(list):
    """A RESP3 push message (out-of-band); RESP2 sends it as an array."""

    __slots__ = ()


class ErrorReply:
    """An error inside a reply (an EXEC result), or as a whole reply. `message` starts with its code."""

    __slots__ = ("message",)

    def __init__(self, message: str):
        self.message = message


class _NullArray:
    __slots__ = ()

    def __repr__(self):
        return "NULL_ARRAY"


NULL_ARRAY = _NullArray()


def encode_error(message: str) -> bytes:
    # Newlines would break the frame; Redis trims them from both ends (addReplyErrorFormat's
    # sdstrim) and replaces the others with spaces.
    if "\r" in message or "\n" in message:
        message = message.strip("\r\n").replace("\r", " ").replace("\n", " ")
    return b"-" + message.encode("utf-8", "surrogateescape") + b"\r\n"


def format_double(value: float) -> bytes:
    """Redis 7.0's addReplyDouble text: %.17g, with inf / -inf spelled out."""
    if value != value:
        return b"nan"
    if value in (float("inf"), float("-inf")):
        return b"inf" if value > 0 else b"-inf"
    return (b"%.17g" % value)


def _bulk(v, out, proto):
    out.append(b"$%d\r\n%b\r\n" % (len(v), v))


def _str(v, out, proto):
    b = v.encode("utf-8", "surrogateescape")
    out.append(b"$%d\r\n%b\r\n" % (len(b), b))


def _int(v, out, proto):
    out.append(b":%d\r\n" % v)


def _bool(v, out, proto):
    if proto == 3:
        out.append(b"#t\r\n" if v else b"#f\r\n")
    else:
        out.append(b":1\r\n" if v else b":0\r\n")


def _double(v, out, proto):
    text = format_double(v)
    if proto == 3:
        out.append(b"," + text + b"\r\n")
    else:
        out.append(b"$%d\r\n%b\r\n" % (len(text), text))


def _none(v, out, proto):
    out.append(b"_\r\n" if proto == 3 else b"$-1\r\n")


def _null_array(v, out, proto):
    out.append(b"_\r\n" if proto == 3 else b"*-1\r\n")


def _array(v, out, proto):
    out.append(b"*%d\r\n" % len(v))
    for item in v:
        encode_reply(item, out, proto)


def _push(v, out, proto):
    out.append((b">%d\r\n" if proto == 3 else b"*%d\r\n") % len(v))
    for item in v:
        encode_reply(item, out, proto)


def _map(v, out, proto):
    if proto == 3:
        out.append(b"%%%d\r\n" % len(v))
    else:
        out.append(b"*%d\r\n" % (2 * len(v)))
    for key, item in v.items():
        encode_reply(key, out, proto)
        encode_reply(item, out, proto)


def _set(v, out, proto):
    out.append((b"~%d\r\n" if proto == 3 else b"*%d\r\n") % len(v))
    for item in v:
        encode_reply(item, out, proto)


def _status(v, out, proto):
    out.append(b"+" + v.encode("utf-8", "surrogateescape") + b"\r\n")


def _verbatim(v, out, proto):
    b = v.encode("utf-8", "surrogateescape")
    if proto == 3:
        out.append(b"=%d\r\ntxt:%b\r\n" % (len(b) + 4, b))
    else:
        out.append(b"$%d\r\n%b\r\n" % (len(b), b))


def _bignum(v, out, proto):
    if proto == 3:
        out.append(b"(" + bytes(v) + b"\r\n")
    else:
        out.append(b"$%d\r\n%b\r\n" % (len(v), bytes(v)))


def _error(v, out, proto):
    out.append(encode_error(v.message))


def _encoded(v, out, proto):
    out.append(v)


_ENCODERS = {
    bytes: _bulk,
    bytearray: _bulk,
    memoryview: _bulk,
    str: _str,
    int: _int,
    bool: _bool,
    float: _double,
    type(None): _none,
    _NullArray: _null_array,
    list: _array,
    tuple: _array,
    Push: _push,
    dict: _map,
    Map: _map,
    set: _set,
    frozenset: _set,
    SetReply: _set,
    Status: _status,
    Verbatim: _verbatim,
    BigNumber: _bignum,
    ErrorReply: _error,
    Encoded: _encoded,
}


def encode_reply(value, out: list, proto: int = 2) -> None:
    """Append the wire form of `value` to `out` (a list of bytes joined once per batch)."""
    try:
        encoder = _ENCODERS[type(value)]
    except KeyError:
        encoder = _fallback(value)
    encoder(value, out, proto)


def _fallback(value):
    for kind, encoder in _ENCODERS.items():
        if isinstance(value, kind):
            _ENCODERS[type(value)] = encoder
            return encoder
    if isinstance(value, BaseException) and hasattr(value, "message"):
        _ENCODERS[type(value)] = _error
        return _error
    raise TypeError(f"no RESP encoding for {type(value).__name__}")


def encoded(value) -> Encoded:
    """`value` encoded once, for a constant reply that RESP2 and RESP3 spell the same way."""
    resp2: list = []
    resp3: list = []
    encode_reply(value, resp2, 2)
    encode_reply(value, resp3, 3)
    wire = b"".join(resp2)
    if wire != b"".join(resp3):
        raise ValueError(f"{value!r} is spelled differently in RESP2 and RESP3")
    return Encoded(wire, value)


class _NoReply:
    __slots__ = ()

    def __repr__(self):
        return "NO_REPLY"


NO_REPLY = Encoded(b"", _NoReply())  # a command that answers nothing (SHUTDOWN on success)


def frozen(value):
    """`value` with every bytearray in it copied to bytes. A reply kept while later commands run
    (EXEC's) must not change when they modify a stored string in place (APPEND, SETRANGE)."""
    kind = type(value)
    if kind is bytearray:
        return bytes(value)
    if kind is bytes or kind is int or value is None:
        return value
    if isinstance(value, dict):
        return kind({k: frozen(v) for k, v in value.items()})
    if isinstance(value, (list, tuple)):
        return kind(frozen(v) for v in value)
    return value
