"""The libraries Redis builds into its Lua that lupa's Lua 5.1 lacks, done in Python: cjson's
decoder (with lua-cjson's error texts), cmsgpack (lua-cmsgpack 0.4.0's encoding choices) and
struct (Roberto Ierusalimschy's struct.c formats).

Pure functions over Python values: server/scripting.py converts Lua tables to and from them. A
failure raises LibError with lua-cjson/cmsgpack/struct's own message (the engine adds the script
position as luaL_error would). Nothing here touches the server.
"""

import math
import re
import struct as _struct


class LibError(Exception):
    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


class Null:
    """cjson.null (decoded JSON null), replaced by the engine's Lua light userdata."""

    __slots__ = ()


NULL = Null()

# -- cjson.decode ---------------------------------------------------------------------------------

_WS = b" \t\r\n"
_NUMBER = re.compile(rb"[-+]?(0[xX][0-9a-fA-F]+|(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?|inf(inity)?|nan)",
                     re.IGNORECASE)
_ESCAPES = {ord('"'): '"', ord("\\"): "\\", ord("/"): "/", ord("b"): "\b", ord("f"): "\f",
            ord("n"): "\n", ord("r"): "\r", ord("t"): "\t"}
DECODE_MAX_DEPTH = 1000


class _Token:
    __slots__ = ("kind", "value", "index")

    def __init__(self, kind, value, index):
        self.kind = kind
        self.value = value
        self.index = index


def _next_token(data: bytes, pos: int, invalid_numbers: bool = True):
    """(token, next position), as lua-cjson's json_next_token: kinds are its T_* names."""
    n = len(data)
    while pos < n and data[pos] in _WS:
        pos += 1
    if pos >= n:
        return _Token("T_END", None, pos), pos
    c = data[pos]
    simple = {ord("{"): "T_OBJ_BEGIN", ord("}"): "T_OBJ_END", ord("["): "T_ARR_BEGIN",
              ord("]"): "T_ARR_END", ord(":"): "T_COLON", ord(","): "T_COMMA"}.get(c)
    if simple:
        return _Token(simple, None, pos), pos + 1
    if c == ord('"'):
        return _string_token(data, pos)
    if c == ord("-") or 0x30 <= c <= 0x39 or (invalid_numbers and data[pos:pos + 3].lower() in (b"inf", b"nan")):
        match = _NUMBER.match(data, pos)
        if match is None:
            return _Token("T_ERROR", "invalid number", pos), pos
        text = match.group(0)
        if not invalid_numbers and (b"x" in text.lower() or b"n" in text.lower()):
            return _Token("T_ERROR", "invalid number", pos), pos  # -Infinity, hexadecimal
        try:
            value = float(int(text, 16)) if b"x" in text.lower() else float(text)
        except ValueError:
            return _Token("T_ERROR", "invalid number", pos), pos
        return _Token("T_NUMBER", value, pos), match.end()
    for word, kind, value in ((b"true", "T_BOOLEAN", True), (b"false", "T_BOOLEAN", False),
                              (b"null", "T_NULL", NULL)):
        if data.startswith(word, pos):
            return _Token(kind, value, pos), pos + len(word)
    return _Token("T_ERROR", "invalid token", pos), pos


def _string_token(data: bytes, start: int):
    out = bytearray()
    pos = start + 1
    n = len(data)
    while True:
        if pos >= n:
            return _Token("T_ERROR", "unexpected end of string", pos), pos
        c = data[pos]
        if c == ord('"'):
            return _Token("T_STRING", bytes(out), start), pos + 1
        if c != ord("\\"):
            out.append(c)
            pos += 1
            continue
        if pos + 1 >= n:
            return _Token("T_ERROR", "unexpected end of string", pos), pos
        esc = data[pos + 1]
        if esc == ord("u"):
            code, pos2 = _unicode_escape(data, pos)
            if code is None:
                return _Token("T_ERROR", "invalid unicode escape code", pos), pos
            out += chr(code).encode("utf-8", "surrogatepass")
            pos = pos2
            continue
        char = _ESCAPES.get(esc)
        if char is None:
            return _Token("T_ERROR", "invalid escape code", pos), pos
        out += char.encode()
        pos += 2


def _unicode_escape(data: bytes, pos: int):
    def hex4(at):
        text = data[at:at + 4]
        if len(text) != 4 or not all(ch in b"0123456789abcdefABCDEF" for ch in text):
            return None
        return int(text, 16)

    code = hex4(pos + 2)
    if code is None:
        return None, pos
    pos += 6
    if 0xD800 <= code <= 0xDBFF:  # a surrogate pair must follow
        if data[pos:pos + 2] != b"\\u":
            return None, pos
        low = hex4(pos + 2)
        if low is None or not 0xDC00 <= low <= 0xDFFF:
            return None, pos
        code = 0x10000 + ((code - 0xD800) << 10) + (low - 0xDC00)
        pos += 6
    elif 0xDC00 <= code <= 0xDFFF:
        return None, pos
    return code, pos


def _parse_error(expected: str, token) -> LibError:
    found = token.value if token.kind == "T_ERROR" else token.kind
    return LibError(f"Expected {expected} but found {found} at character {token.index + 1}")


def json_decode(data: bytes, max_depth: int = DECODE_MAX_DEPTH, invalid_numbers: bool = True):
    """A JSON text as Python values (bytes strings, floats, bools, NULL, lists, dicts with bytes
    keys), or LibError with lua-cjson's message. `max_depth` and `invalid_numbers` (accept
    NaN, Infinity and hexadecimal) are cjson.decode_max_depth / decode_invalid_numbers."""
    limits = (max_depth, invalid_numbers)
    token, pos = _next_token(data, 0, invalid_numbers)
    value, pos = _decode_value(data, token, pos, 1, limits)
    token, pos = _next_token(data, pos, invalid_numbers)
    if token.kind != "T_END":
        raise _parse_error("the end", token)
    return value


def _decode_value(data, token, pos, depth, limits):
    kind = token.kind
    if kind in ("T_STRING", "T_NUMBER", "T_BOOLEAN", "T_NULL"):
        return token.value, pos
    if kind == "T_OBJ_BEGIN" or kind == "T_ARR_BEGIN":
        if depth > limits[0]:
            raise LibError(f"Found too many nested data structures ({depth}) at character {token.index + 1}")
        if kind == "T_ARR_BEGIN":
            return _decode_array(data, pos, depth, limits)
        return _decode_object(data, pos, depth, limits)
    raise _parse_error("value", token)


def _decode_array(data, pos, depth, limits):
    items = []
    token, pos = _next_token(data, pos, limits[1])
    if token.kind == "T_ARR_END":
        return items, pos
    while True:
        value, pos = _decode_value(data, token, pos, depth + 1, limits)
        items.append(value)
        token, pos = _next_token(data, pos, limits[1])
        if token.kind == "T_ARR_END":
            return items, pos
        if token.kind != "T_COMMA":
            raise _parse_error("comma or array end", token)
        token, pos = _next_token(data, pos, limits[1])


def _decode_object(data, pos, depth, limits):
    items = {}
    token, pos = _next_token(data, pos, limits[1])
    if token.kind == "T_OBJ_END":
        return items, pos
    while True:
        if token.kind != "T_STRING":
            raise _parse_error("object key string", token)
        key = token.value
        token, pos = _next_token(data, pos, limits[1])
        if token.kind != "T_COLON":
            raise _parse_error("colon", token)
        token, pos = _next_token(data, pos, limits[1])
        items[key], pos = _decode_value(data, token, pos, depth + 1, limits)
        token, pos = _next_token(data, pos, limits[1])
        if token.kind == "T_OBJ_END":
            return items, pos
        if token.kind != "T_COMMA":
            raise _parse_error("comma or object end", token)
        token, pos = _next_token(data, pos, limits[1])


# -- cmsgpack -------------------------------------------------------------------------------------

MSGPACK_MAX_NESTING = 16  # deeper tables are packed as nil, as lua-cmsgpack's LUACMSGPACK_MAX_NESTING


def msgpack_int(n: int) -> bytes:
    if n >= 0:
        if n <= 127:
            return bytes((n,))
        if n <= 0xFF:
            return b"\xcc" + bytes((n,))
        if n <= 0xFFFF:
            return b"\xcd" + n.to_bytes(2, "big")
        if n <= 0xFFFFFFFF:
            return b"\xce" + n.to_bytes(4, "big")
        return b"\xcf" + n.to_bytes(8, "big")
    if n >= -32:
        return (n & 0xFF).to_bytes(1, "big")
    if n >= -128:
        return b"\xd0" + n.to_bytes(1, "big", signed=True)
    if n >= -32768:
        return b"\xd1" + n.to_bytes(2, "big", signed=True)
    if n >= -2147483648:
        return b"\xd2" + n.to_bytes(4, "big", signed=True)
    return b"\xd3" + n.to_bytes(8, "big", signed=True)


def msgpack_number(x) -> bytes:
    if not isinstance(x, float) or (x == x and math.isfinite(x) and x.is_integer()):
        n = int(x)
        if -(1 << 63) <= n < (1 << 63):
            return msgpack_int(n)
        x = float(x)
    try:
        single = _struct.unpack(">f", _struct.pack(">f", x))[0]
    except OverflowError:
        single = None
    if single == x or (x != x and single != single):
        return b"\xca" + _struct.pack(">f", x)
    return b"\xcb" + _struct.pack(">d", x)


def msgpack_bytes(s: bytes) -> bytes:
    n = len(s)
    if n < 32:
        return bytes((0xA0 | n,)) + s
    if n <= 0xFF:
        return b"\xd9" + bytes((n,)) + s
    if n <= 0xFFFF:
        return b"\xda" + n.to_bytes(2, "big") + s
    return b"\xdb" + n.to_bytes(4, "big") + s


def msgpack_array_header(n: int) -> bytes:
    if n <= 15:
        return bytes((0x90 | n,))
    if n <= 0xFFFF:
        return b"\xdc" + n.to_bytes(2, "big")
    return b"\xdd" + n.to_bytes(4, "big")


def msgpack_map_header(n: int) -> bytes:
    if n <= 15:
        return bytes((0x80 | n,))
    if n <= 0xFFFF:
        return b"\xde" + n.to_bytes(2, "big")
    return b"\xdf" + n.to_bytes(4, "big")


class MsgpackDecoder:
    """lua-cmsgpack's decoder: `table` makes a Lua table from a list (array) or pairs (map)."""

    def __init__(self, data: bytes, pos: int, array, mapping):
        self.data = data
        self.pos = pos
        self.array = array
        self.mapping = mapping

    def need(self, n: int) -> bytes:
        if self.pos + n > len(self.data):
            raise LibError("Missing bytes in input.")
        chunk = self.data[self.pos:self.pos + n]
        self.pos += n
        return chunk

    def value(self):
        c = self.need(1)[0]
        if c <= 0x7F:
            return c
        if c >= 0xE0:
            return c - 256
        if 0xA0 <= c <= 0xBF:
            return self.need(c & 0x1F)
        if 0x90 <= c <= 0x9F:
            return self.array([self.value() for _ in range(c & 0x0F)])
        if 0x80 <= c <= 0x8F:
            return self.mapping([(self.value(), self.value()) for _ in range(c & 0x0F)])
        if c == 0xC0:
            return None
        if c == 0xC2:
            return False
        if c == 0xC3:
            return True
        fixed = _MSGPACK_FIXED.get(c)
        if fixed is not None:
            size, fmt = fixed
            return _struct.unpack(fmt, self.need(size))[0]
        sized = _MSGPACK_SIZED.get(c)
        if sized is not None:
            width, kind = sized
            n = int.from_bytes(self.need(width), "big")
            if kind == "raw":
                return self.need(n)
            if kind == "array":
                return self.array([self.value() for _ in range(n)])
            return self.mapping([(self.value(), self.value()) for _ in range(n)])
        raise LibError("Bad data format in input.")


_MSGPACK_FIXED = {0xCA: (4, ">f"), 0xCB: (8, ">d"), 0xCC: (1, ">B"), 0xCD: (2, ">H"), 0xCE: (4, ">I"),
                  0xCF: (8, ">Q"), 0xD0: (1, ">b"), 0xD1: (2, ">h"), 0xD2: (4, ">i"), 0xD3: (8, ">q")}
_MSGPACK_SIZED = {0xC4: (1, "raw"), 0xC5: (2, "raw"), 0xC6: (4, "raw"), 0xD9: (1, "raw"),
                  0xDA: (2, "raw"), 0xDB: (4, "raw"), 0xDC: (2, "array"), 0xDD: (4, "array"),
                  0xDE: (2, "map"), 0xDF: (4, "map")}


# -- struct ---------------------------------------------------------------------------------------

STRUCT_MAXINTSIZE = 32
STRUCT_MAXALIGN = 8
_STRUCT_SIZES = {"x": 1, "b": 1, "B": 1, "h": 2, "H": 2, "l": 8, "L": 8, "T": 8, "f": 4, "d": 8}


class StructArgError(LibError):
    """luaL_argerror: "bad argument #<arg> to '<function>' (<message>)"."""

    def __init__(self, arg: int, message: str):
        super().__init__(message)
        self.arg = arg


def struct_items(fmt: bytes):
    """Yield (option, size, alignment padding function) for each item of a struct format, as
    struct.c's optsize/gettoalign: (opt, size, align) where align is the current maximum."""
    align = 1
    little = True
    i = 0
    n = len(fmt)
    while i < n:
        opt = chr(fmt[i])
        i += 1
        number = None
        j = i
        while j < n and 0x30 <= fmt[j] <= 0x39:
            j += 1
        if j > i:
            number = int(fmt[i:j])
        if opt in "iIc!":
            i = j
        if opt == " ":
            continue
        if opt == ">":
            little = False
            continue
        if opt in "<=":
            little = True
            continue
        if opt == "!":
            a = STRUCT_MAXALIGN if number is None else number
            if a & (a - 1):
                raise LibError(f"alignment {a} is not a power of 2")
            align = a
            continue
        if opt in "iI":
            size = 4 if number is None else number
            if size > STRUCT_MAXINTSIZE:
                raise LibError(f"integral size {size} is larger than limit of {STRUCT_MAXINTSIZE}")
        elif opt == "c":
            size = 1 if number is None else number
        elif opt == "s":
            size = 0
        elif opt in _STRUCT_SIZES:
            size = _STRUCT_SIZES[opt]
        else:
            raise StructArgError(1, f"invalid format option '{opt}'")
        yield opt, size, align, little


def struct_padding(length: int, size: int, align: int, opt: str) -> int:
    if size == 0 or opt == "c":
        return 0
    size = min(size, align)
    return (size - (length & (size - 1))) & (size - 1)


def struct_pack_int(value: float, size: int, little: bool) -> bytes:
    n = int(value) if value == value and math.isfinite(value) else 0
    raw = (n & 0xFFFFFFFFFFFFFFFF).to_bytes(8, "little")  # struct.c shifts an unsigned long long:
    raw = raw[:size] if size <= 8 else raw + b"\x00" * (size - 8)  # no sign beyond 8 bytes
    return raw if little else raw[::-1]


def struct_unpack_int(raw: bytes, signed: bool, little: bool) -> int:
    if not little:
        raw = raw[::-1]
    size = len(raw)
    value = int.from_bytes(raw[:8], "little")
    if signed and size <= 8:
        bits = size * 8
        if value >= 1 << (bits - 1):
            value -= 1 << bits
    elif signed and value >= 1 << 63:
        value -= 1 << 64
    return value
