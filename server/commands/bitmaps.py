"""Bitmap commands over string values: SETBIT, GETBIT, BITCOUNT, BITPOS, BITOP, BITFIELD(_RO)
(Redis's bitops.c).

Bit 0 is the most significant bit of byte 0. Writes turn the value into a `bytearray` once (that
one copy goes through `Database.store`) and then change it in place, reporting each change with
`Database.touched`, so SETBIT on a large bitmap never copies it. Reads never convert a value.
"""

import re
from typing import TYPE_CHECKING

from server import errors
from server.args import is_int, to_int
from server.config import NOTIFY_GENERIC, NOTIFY_STRING
from server.docs import Documented, arg
from server.errors import CommandError
from server.table import KS, Argv, Flag, Reply, command

if TYPE_CHECKING:
    from server.client import Client

F = Flag

_NOT_TABLE = bytes(255 - i for i in range(256))
_ANY_ONE = re.compile(rb"[^\x00]")  # a byte with at least one 1 bit
_ANY_ZERO = re.compile(rb"[^\xff]")  # a byte with at least one 0 bit
_POPCOUNT_CHUNK = 1 << 20


def _bit_offset(client, arg, bits: int = 0) -> int:
    """A bit offset argument. With `bits` (BITFIELD), "#N" means N * bits. Offsets whose byte
    would reach proto-max-bulk-len (512MB by default: bit 4294967295 is the last) are refused."""
    scaled = bits and arg[:1] == b"#"
    raw = arg[1:] if scaled else arg
    if not is_int(raw):
        raise CommandError(errors.BIT_OFFSET)
    offset = int(raw) * bits if scaled else int(raw)
    if offset < 0 or (offset >> 3) >= client.server.config["proto-max-bulk-len"]:
        raise CommandError(errors.BIT_OFFSET)
    return offset


def _popcount(buf, start: int, end: int) -> int:
    """Set bits in buf[start:end], a chunk at a time so no huge temporary integer is built."""
    total = 0
    for i in range(start, end, _POPCOUNT_CHUNK):
        total += int.from_bytes(buf[i:min(end, i + _POPCOUNT_CHUNK)], "big").bit_count()
    return total


def _parse_unit(arg) -> bool:
    """BIT or BYTE (the unit of BITCOUNT/BITPOS ranges): True for BIT."""
    unit = arg.upper()
    if unit == b"BIT":
        return True
    if unit == b"BYTE":
        return False
    raise CommandError(errors.SYNTAX)



def _clamp_range(start: int, end: int, total: int):
    """Negative indexes count from the end, then both are clamped to the value (Redis's BITCOUNT
    and BITPOS range rules)."""
    if start < 0:
        start = max(0, total + start)
    if end < 0:
        end = max(0, total + end)
    if end >= total:
        end = total - 1
    return start, end

@command("setbit", 4, F.WRITE | F.DENYOOM, keys=(1, 1, 1), group="bitmap",
         summary="Sets or clears the bit at offset in the string value stored at key",
         since="2.2.0", complexity="O(1)", arguments=("key", "offset", "value{:integer}"))
def setbit(client: "Client", argv: Argv) -> Reply:
    offset = _bit_offset(client, argv[2])
    on = argv[3]
    if on == b"1":
        on = 1
    elif on == b"0":
        on = 0
    else:
        on = to_int(on, errors.BIT_VALUE)
        if on & ~1:
            raise CommandError(errors.BIT_VALUE)
    db = client.db
    key = argv[1]
    value = db.get_string(key)
    byte = offset >> 3
    mask = 0x80 >> (offset & 7)
    if value is None:
        value = bytearray(byte + 1)
        if on:
            value[byte] = mask
        db.store(key, value)
        db.notify(NOTIFY_STRING, b"setbit", key)
        return 0
    size = len(value)
    old = 1 if byte < size and value[byte] & mask else 0
    if byte < size and old == on:
        # Nothing changes: no write, as in Redis, which still unshares the string first (an int
        # or embstr becomes raw), so hold the same bytes in their mutable form.
        if type(value) is bytes:
            db.hold(key.decode("latin-1"), bytearray(value))
        return old
    fresh = type(value) is bytes
    if fresh:
        value = bytearray(value)
    if byte >= size:
        value += bytes(byte + 1 - size)
    if on:
        value[byte] |= mask
    else:
        value[byte] &= ~mask & 0xFF
    if fresh:
        db.store(key, value, keepttl=True)
    else:
        db.touched(key)
    db.notify(NOTIFY_STRING, b"setbit", key)
    return old


@command("getbit", 3, F.READONLY | F.FAST, keys=(1, 1, 1), group="bitmap",
         summary="Returns the bit value at offset in the string value stored at key",
         since="2.2.0", complexity="O(1)", arguments=("key", "offset"))
def getbit(client: "Client", argv: Argv) -> Reply:
    offset = _bit_offset(client, argv[2])
    value = client.db.read_string(argv[1])
    if value is None:
        return 0
    byte = offset >> 3
    if byte >= len(value):
        return 0
    return 1 if value[byte] & (0x80 >> (offset & 7)) else 0


@command("bitcount", -2, F.READONLY, keys=(1, 1, 1), group="bitmap",
         summary="Count set bits in a string", since="2.6.0", complexity="O(N)",
         arguments=("key", "[start end [BYTE|BIT]{index_unit since=7.0.0}]{index}"),
         history=(("7.0.0", "Added the `BYTE|BIT` option."),))
def bitcount(client: "Client", argv: Argv) -> Reply:
    value = client.db.read_string(argv[1])
    if value is None:
        return 0
    size = len(value)
    n = len(argv)
    first_mask = last_mask = 0  # bits of the edge bytes outside a BIT range
    if n == 4 or n == 5:
        start = to_int(argv[2])
        end = to_int(argv[3])
        if start < 0 and end < 0 and start > end:
            return 0  # before the unit is read, as in Redis 7.0: BITCOUNT k -1 -2 junk is 0
        in_bits = _parse_unit(argv[4]) if n == 5 else False
        total = size * 8 if in_bits else size
        start, end = _clamp_range(start, end, total)
        if in_bits and start <= end:
            first_mask = (0xFF << (8 - (start & 7))) & 0xFF
            last_mask = (1 << (7 - (end & 7))) - 1
            start >>= 3
            end >>= 3
    elif n == 2:
        start, end = 0, size - 1
    else:
        raise CommandError(errors.SYNTAX)
    if start > end:
        return 0
    count = _popcount(value, start, end + 1)
    if first_mask:
        count -= (value[start] & first_mask).bit_count()
    if last_mask:
        count -= (value[end] & last_mask).bit_count()
    return count


def _first_in_byte(byte: int, bit: int, first: int, last: int) -> int:
    """Index (0 = most significant) of the first `bit` among bits first..last of `byte`, or -1."""
    for i in range(first, last + 1):
        if (byte >> (7 - i)) & 1 == bit:
            return i
    return -1


def _find_bit(buf, bit: int, lo: int, hi: int) -> int:
    """Position of the first bit equal to `bit` among bit positions lo..hi of buf, or -1."""
    first, last = lo >> 3, hi >> 3
    if first == last:
        i = _first_in_byte(buf[first], bit, lo & 7, hi & 7)
        return -1 if i < 0 else first * 8 + i
    i = _first_in_byte(buf[first], bit, lo & 7, 7)
    if i >= 0:
        return first * 8 + i
    if last > first + 1:
        m = (_ANY_ONE if bit else _ANY_ZERO).search(buf, first + 1, last)
        if m is not None:
            byte = m.start()
            return byte * 8 + _first_in_byte(buf[byte], bit, 0, 7)
    i = _first_in_byte(buf[last], bit, 0, hi & 7)
    return -1 if i < 0 else last * 8 + i


@command("bitpos", -3, F.READONLY, keys=(1, 1, 1), group="bitmap",
         summary="Find first bit set or clear in a string", since="2.8.7", complexity="O(N)",
         arguments=("key",
                    "bit",
                    "[start [end [BYTE|BIT]{index_unit since=7.0.0}]{end_index}]{index}"),
         history=(("7.0.0", "Added the `BYTE|BIT` option."),))
def bitpos(client: "Client", argv: Argv) -> Reply:
    bit = to_int(argv[2])
    if bit != 0 and bit != 1:
        raise CommandError(errors.BIT_ARGUMENT)
    value = client.db.read_string(argv[1])
    if value is None:
        # A missing key is an endless run of zeros.
        return -1 if bit else 0
    size = len(value)
    n = len(argv)
    end_given = in_bits = False
    if 4 <= n <= 6:
        start = to_int(argv[3])
        if n == 6:
            in_bits = _parse_unit(argv[5])
        if n >= 5:
            end = to_int(argv[4])
            end_given = True
        else:
            end = size - 1
        total = size * 8 if in_bits else size
        start, end = _clamp_range(start, end, total)
    elif n == 3:
        start, end = 0, size - 1
    else:
        raise CommandError(errors.SYNTAX)
    if start > end:
        return -1
    lo, hi = (start, end) if in_bits else (start * 8, end * 8 + 7)
    pos = _find_bit(value, bit, lo, hi)
    if pos >= 0 or bit == 1 or end_given:
        return pos
    # Looking for a clear bit with no end given: the string counts as padded with zeros.
    return hi + 1


_BITOPS = {b"AND": "and", b"OR": "or", b"XOR": "xor", b"NOT": "not"}


@command("bitop", -4, F.WRITE | F.DENYOOM, keys=(2, -1, 1), group="bitmap",
         summary="Perform bitwise operations between strings", since="2.6.0", complexity="O(N)",
         arguments=("operation", "destkey", "key [key ...]"),
         key_specs=(KS("OW update", 2), KS("RO access", 3, lastkey=-1)))
def bitop(client: "Client", argv: Argv) -> Reply:
    op = _BITOPS.get(argv[1].upper())
    if op is None:
        raise CommandError(errors.SYNTAX)
    if op == "not" and len(argv) != 4:
        raise CommandError(errors.BITOP_NOT)
    db = client.db
    sources = []
    for key in argv[3:]:
        value = db.read_string(key)
        sources.append(b"" if value is None else value)
    size = max(len(s) for s in sources)
    dest = argv[2]
    if size == 0:
        if db.delete(dest):
            db.notify(NOTIFY_GENERIC, b"del", dest)
        return 0
    if op == "not":
        result = bytes(sources[0]).translate(_NOT_TABLE)
    else:
        # Shorter strings count as padded with zero bytes on the right.
        acc = int.from_bytes(sources[0], "big") << (8 * (size - len(sources[0])))
        for src in sources[1:]:
            operand = int.from_bytes(src, "big") << (8 * (size - len(src)))
            if op == "and":
                acc &= operand
            elif op == "or":
                acc |= operand
            else:
                acc ^= operand
        result = acc.to_bytes(size, "big")
    db.store(dest, bytearray(result))  # Redis stores the result unencoded: "raw" at any length
    db.notify(NOTIFY_STRING, b"set", dest)
    return size


# -- BITFIELD -------------------------------------------------------------------------------------

_WRAP, _SAT, _FAIL = 0, 1, 2
_OVERFLOWS = {b"WRAP": _WRAP, b"SAT": _SAT, b"FAIL": _FAIL}
_GET, _SET, _INCRBY = 0, 1, 2
_OPS = {b"GET": _GET, b"SET": _SET, b"INCRBY": _INCRBY}


def _field_type(arg):
    """An i1..i64 / u1..u63 type argument: (signed, bits)."""
    kind = arg[:1]  # lower case only, unlike every other keyword
    if kind == b"i":
        signed = True
    elif kind == b"u":
        signed = False
    else:
        raise CommandError(errors.BITFIELD_TYPE)
    width = arg[1:]
    if not is_int(width):
        raise CommandError(errors.BITFIELD_TYPE)
    bits = int(width)
    if bits < 1 or bits > (64 if signed else 63):
        raise CommandError(errors.BITFIELD_TYPE)
    return signed, bits


def _get_field(buf, offset: int, bits: int, signed: bool) -> int:
    """The field of `bits` bits at bit `offset` of buf; bytes past the end read as zeros."""
    first = offset >> 3
    nbytes = ((offset + bits - 1) >> 3) - first + 1
    chunk = buf[first:first + nbytes]
    word = int.from_bytes(chunk, "big") << (8 * (nbytes - len(chunk)))
    value = (word >> (nbytes * 8 - (offset & 7) - bits)) & ((1 << bits) - 1)
    if signed and value >> (bits - 1):
        value -= 1 << bits
    return value


def _set_field(buf, offset: int, bits: int, value: int) -> None:
    """Write the low `bits` bits of value at bit `offset` of buf (long enough already)."""
    first = offset >> 3
    nbytes = ((offset + bits - 1) >> 3) - first + 1
    shift = nbytes * 8 - (offset & 7) - bits
    mask = ((1 << bits) - 1) << shift
    word = int.from_bytes(buf[first:first + nbytes], "big")
    word = (word & ~mask) | ((value << shift) & mask)
    buf[first:first + nbytes] = word.to_bytes(nbytes, "big")


def _overflow(value: int, incr: int, bits: int, signed: bool, mode: int):
    """value + incr in a field of this type: (overflowed, result), result None for FAIL."""
    total = value + incr
    if signed:
        low, high = -(1 << (bits - 1)), (1 << (bits - 1)) - 1
        # Redis decides the direction with 64-bit wrapping differences: a SET far below the
        # range (within 2**bits of -2**63) counts as overflowing upwards, and SAT stores the
        # maximum. Reproduce that.
        max_incr = _wrap64(high - value)
        min_incr = _wrap64(low - value)
        if (value > high or (bits != 64 and incr > max_incr)
                or (value >= 0 and incr > 0 and incr > max_incr)):
            upwards = True
        elif (value < low or (bits != 64 and incr < min_incr)
                or (value < 0 and incr < 0 and incr < min_incr)):
            upwards = False
        else:
            return False, total
    else:
        low, high = 0, (1 << bits) - 1
        if low <= total <= high:
            return False, total
        upwards = total > high
    if mode == _WRAP:
        total &= (1 << bits) - 1
        if signed and total >> (bits - 1):
            total -= 1 << bits
        return True, total
    if mode == _SAT:
        return True, high if upwards else low
    return True, None


def _wrap64(x: int) -> int:
    """x as a signed 64-bit integer after two's-complement wrapping."""
    x &= 0xFFFFFFFFFFFFFFFF
    return x - (1 << 64) if x >> 63 else x


def _bitfield(client, argv, read_only: bool):
    ops = []
    mode = _WRAP
    writes = False
    highest = 0  # the last bit any SET/INCRBY touches
    i = 2
    n = len(argv)
    while i < n:
        name = argv[i].upper()
        more = n - i - 1
        op = _OPS.get(name)
        if name == b"OVERFLOW" and more >= 1:
            mode = _OVERFLOWS.get(argv[i + 1].upper())
            if mode is None:
                raise CommandError(errors.BITFIELD_OVERFLOW)
            i += 2
            continue
        if op is None or more < (2 if op == _GET else 3):
            raise CommandError(errors.SYNTAX)
        signed, bits = _field_type(argv[i + 1])
        offset = _bit_offset(client, argv[i + 2], bits)
        arg = 0
        if op != _GET:
            writes = True
            highest = max(highest, offset + bits - 1)
            arg = to_int(argv[i + 3])
        ops.append((op, signed, bits, offset, arg, mode))
        i += 3 if op == _GET else 4

    db = client.db
    key = argv[1]
    if not writes:
        buf = db.read_string(key)
        if buf is None:
            buf = b""
        return [_get_field(buf, offset, bits, signed) for _op, signed, bits, offset, _a, _m in ops]
    if read_only:
        raise CommandError(errors.BITFIELD_RO_WRITE)

    # Make room up to the highest bit written, as Redis does before running any operation (the
    # key is created even if every write then fails its OVERFLOW FAIL check).
    need = (highest >> 3) + 1
    buf = db.get_string(key)
    counted = False  # store() has already counted one write
    grown = True  # a new or lengthened string: every write counts, changed or not (Redis's dirty)
    if buf is None:
        buf = bytearray(need)
        db.store(key, buf)
        counted = True
    else:
        if type(buf) is bytes:
            buf = bytearray(buf)  # the same content in mutable form: not a write (see SETBIT)
            db.hold(key.decode("latin-1"), buf)
        if len(buf) < need:
            buf += bytes(need - len(buf))
        else:
            grown = False

    replies = []
    changes = 0
    for op, signed, bits, offset, arg, op_mode in ops:
        if op == _GET:
            replies.append(_get_field(buf, offset, bits, signed))
            continue
        old = _get_field(buf, offset, bits, signed)
        if op == _INCRBY:
            overflowed, new = _overflow(old, arg, bits, signed, op_mode)
            reply = new
        else:
            # SET takes the value as a 64-bit integer, unsigned for an unsigned field.
            overflowed, new = _overflow(arg if signed else arg & 0xFFFFFFFFFFFFFFFF, 0, bits,
                                        signed, op_mode)
            reply = old
        if new is None:
            replies.append(None)
        else:
            _set_field(buf, offset, bits, new)
            replies.append(reply)
            if grown or new != old:
                changes += 1
    if changes > counted:
        db.touched(key, changes - counted)
    if changes:
        db.notify(NOTIFY_STRING, b"setbit", key)
    return replies


@command("bitfield", -2, F.WRITE | F.DENYOOM, keys=(1, 1, 1), group="bitmap",
         summary="Perform arbitrary bitfield integer operations on strings", since="3.2.0",
         complexity="O(1) for each subcommand specified", arguments=("key",
                    Documented("[GET encoding offset|[OVERFLOW WRAP|SAT|FAIL] SET encoding offset value|"
                               "INCRBY encoding offset increment ...]",
                               arg("operation", "oneof", flags="optional multiple", args=(
                                   arg("encoding_offset", "block", token="GET", args=(
                                       arg("encoding", "string"),
                                       arg("offset", "integer"),
                                   )),
                                   arg("write", "block", args=(
                                       arg("wrap_sat_fail", "oneof", token="OVERFLOW", flags="optional", args=(
                                           arg("wrap", "pure-token", token="WRAP"),
                                           arg("sat", "pure-token", token="SAT"),
                                           arg("fail", "pure-token", token="FAIL"),
                                       )),
                                       arg("write_operation", "oneof", args=(
                                           arg("encoding_offset_value", "block", token="SET", args=(
                                               arg("encoding", "string"),
                                               arg("offset", "integer"),
                                               arg("value", "integer"),
                                           )),
                                           arg("encoding_offset_increment", "block", token="INCRBY", args=(
                                               arg("encoding", "string"),
                                               arg("offset", "integer"),
                                               arg("increment", "integer"),
                                           )),
                                       )),
                                   )),
                               )))),
         key_specs=(KS("RW access update variable_flags", 1,
                       notes="This command allows both access and modification of the key"),))
def bitfield(client: "Client", argv: Argv) -> Reply:
    return _bitfield(client, argv, False)


@command("bitfield_ro", -2, F.READONLY | F.FAST, keys=(1, 1, 1), group="bitmap",
         summary="Perform arbitrary bitfield integer operations on strings. Read-only variant of "
         "BITFIELD", since="6.0.0", complexity="O(1) for each subcommand specified",
         arguments=("key", "[GET encoding offset [GET encoding offset ...]]"))
def bitfield_ro(client: "Client", argv: Argv) -> Reply:
    return _bitfield(client, argv, True)
