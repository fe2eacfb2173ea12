"""HyperLogLog values as Redis 7.0 lays them out (hyperloglog.c): plain strings that PFADD, PFCOUNT
and PFMERGE read and change in place. No clients and no keyspace here: the commands live in
server/commands/hyperloglog.py; this module owns the bytes and the estimator.

    +------+---+-----+----------+---------------------------------------------+
    | HYLL | E | 0 0 0 | card (8) | registers: dense 12288 bytes, or sparse opcodes |
    +------+---+-----+----------+---------------------------------------------+

E is the encoding (0 dense, 1 sparse); `card` is the cached cardinality, little endian, whose most
significant bit set means "stale" (any change sets it; PFCOUNT recomputes and writes it back).
Dense: 16384 registers of 6 bits packed from the least significant bit up, which is the little
endian bit order of the whole register area. Sparse: a run-length code over the registers,
    ZERO  00xxxxxx           1..64 zero registers
    XZERO 01xxxxxx yyyyyyyy  1..16384 zero registers (14-bit length - 1)
    VAL   1vvvvvxx           1..4 registers of value 1..32
promoted for good to dense once a register exceeds 32 or the string would pass
`hll-sparse-max-bytes`. The sparse edit (`_py_sparse_set`) follows Redis's step by step, merge of
neighbouring VAL opcodes included, so the same PFADD sequence gives the same bytes as Redis.

One known difference, on corrupt values only: when a sparse string ends in half an XZERO opcode,
Redis reads its missing second byte from past the string's end (the sds terminator, which its own
sparse edit may have overwritten with an opcode byte); here that byte always reads as 0.

The kernels (`add`, `histogram`, `merge`, `to_dense`, `write_registers`, `is_hll`) run from
server/_hll.c when it is built and chosen (protocol._loader.kernel); the `_py_` functions here
are their reference, and the estimator (`estimate`: Ertl's improved estimator, as hllCount in
7.0) is Python for both.
"""

import math

from protocol._loader import kernel

P = 14
Q = 64 - P
REGISTERS = 1 << P
HDR = 16
DENSE, SPARSE = 0, 1
DENSE_SIZE = HDR + REGISTERS * 6 // 8
SEED = 0xADC83B19
ALPHA_INF = 0.721347520444481703680  # 1 / (2 ln 2)
SPARSE_VAL_MAX = 32
M64 = (1 << 64) - 1
_MURMUR_M = 0xC6A4A7935BD1E995

# A new HLL: sparse, one XZERO opcode covering all 16384 registers, cached cardinality 0.
EMPTY = b"HYLL\x01" + bytes(11) + b"\x7f\xff"


class Corrupt(Exception):
    """The HLL's registers cannot be decoded (INVALIDOBJ)."""


def _py_is_hll(value) -> bool:
    """Redis's isHLLObjectOrReply test (the header only; the opcodes are checked when read)."""
    return (len(value) >= HDR and value[:4] == b"HYLL" and value[4] <= SPARSE
            and (value[4] == SPARSE or len(value) == DENSE_SIZE))


def cached(value):
    """The cached cardinality, or None when it is stale."""
    if value[15] & 0x80:
        return None
    return int.from_bytes(value[8:16], "little")


def set_cached(value: bytearray, card: int) -> None:
    value[8:16] = card.to_bytes(8, "little")


def invalidate(value: bytearray) -> None:
    value[15] |= 0x80


# -- the estimator ---------------------------------------------------------------------------------

def _sigma(x: float) -> float:
    if x == 1.0:
        return math.inf
    y = 1.0
    z = x
    while True:
        x *= x
        before = z
        z += x * y
        y += y
        if before == z:
            return z


def _tau(x: float) -> float:
    if x == 0.0 or x == 1.0:
        return 0.0
    y = 1.0
    z = 1 - x
    while True:
        x = math.sqrt(x)
        before = z
        y *= 0.5
        z -= (1 - x) ** 2 * y
        if before == z:
            return z / 3


def estimate(histo) -> int:
    """The cardinality from the register histogram (histo[v] = registers holding v), in the same
    double arithmetic as Redis's hllCount, rounded half away from zero as llroundl."""
    m = float(REGISTERS)
    z = m * _tau((m - histo[Q + 1]) / m)
    for j in range(Q, 0, -1):
        z += histo[j]
        z *= 0.5
    z += m * _sigma(histo[0] / m)
    e = ALPHA_INF * m * m / z
    low = math.floor(e)
    return int(low + 1 if e - low >= 0.5 else low)


def count(value) -> int:
    """The cardinality of one stored HLL (its cache is the caller's business); Corrupt if its
    sparse opcodes do not cover exactly 16384 registers."""
    histo = histogram(value)
    if histo is None:
        raise Corrupt()
    return estimate(histo)


def registers(value) -> list:
    """Every register of a dense HLL (PFDEBUG GETREG)."""
    return _unpack(value[HDR:DENSE_SIZE])


# -- the reference kernels ---------------------------------------------------------------------------

def _murmur64a(data: bytes, seed: int) -> int:
    """MurmurHash64A as Redis has it (endian neutral: 8-byte blocks read little endian)."""
    m = _MURMUR_M
    n = len(data)
    h = (seed ^ (n * m)) & M64
    tail = n - (n & 7)
    for i in range(0, tail, 8):
        k = int.from_bytes(data[i:i + 8], "little")
        k = (k * m) & M64
        k ^= k >> 47
        k = (k * m) & M64
        h ^= k
        h = (h * m) & M64
    rest = n & 7
    if rest:
        h ^= int.from_bytes(data[tail:], "little")
        h = (h * m) & M64
    h ^= h >> 47
    h = (h * m) & M64
    h ^= h >> 47
    return h


def _pattern(element: bytes):
    """(register index, run of zeros + 1) for an element (Redis's hllPatLen)."""
    h = _murmur64a(element, SEED)
    index = h & (REGISTERS - 1)
    h = (h >> P) | (1 << Q)
    return index, (h & -h).bit_length()


def _get(value, index: int) -> int:
    byte = HDR + index * 6 // 8
    fb = index * 6 & 7
    b1 = value[byte + 1] if byte + 1 < len(value) else 0
    return ((value[byte] >> fb) | (b1 << (8 - fb))) & 63


def _py_dense_set(value: bytearray, index: int, count: int) -> bool:
    if _get(value, index) >= count:
        return False
    byte = HDR + index * 6 // 8
    fb = index * 6 & 7
    value[byte] = (value[byte] & ~(63 << fb) & 0xFF) | ((count << fb) & 0xFF)
    if fb > 2:  # the register spills into the next byte
        value[byte + 1] = (value[byte + 1] & ~(63 >> (8 - fb)) & 0xFF) | (count >> (8 - fb))
    return True


def _unpack(packed) -> list:
    """16384 6-bit registers from their 12288 packed bytes."""
    out = []
    for j in range(0, len(packed), 3):
        x = packed[j] | packed[j + 1] << 8 | packed[j + 2] << 16
        out += (x & 63, x >> 6 & 63, x >> 12 & 63, x >> 18)
    return out


def _pack(regs) -> bytes:
    out = bytearray()
    for j in range(0, REGISTERS, 4):
        x = regs[j] | regs[j + 1] << 6 | regs[j + 2] << 12 | regs[j + 3] << 18
        out += bytes((x & 0xFF, x >> 8 & 0xFF, x >> 16))
    return bytes(out)


def _opcode(value, p: int, end: int):
    """(registers covered, register value, opcode length) of the sparse opcode at p. An XZERO
    cut short by the end of the string reads a zero second byte (the sds terminator in Redis)."""
    b = value[p]
    if b & 0x80:
        return (b & 3) + 1, ((b >> 2) & 0x1F) + 1, 1
    if b & 0x40:
        low = value[p + 1] if p + 1 < end else 0
        return ((b & 0x3F) << 8 | low) + 1, 0, 2
    return (b & 0x3F) + 1, 0, 1


def _py_histogram(value, raw: bool = False):
    """histo[v] = number of registers holding v (64 slots), for a stored HLL, or for a raw array
    of 16384 one-byte registers with `raw`; None when a sparse HLL does not cover 16384."""
    histo = [0] * 64
    if raw:
        for v in range(64):
            histo[v] = value.count(bytes((v,)))
        return histo
    if value[4] == DENSE:
        for reg in _unpack(value[HDR:DENSE_SIZE]):
            histo[reg] += 1
        return histo
    idx, p, end = 0, HDR, len(value)
    while p < end:
        span, reg, oplen = _opcode(value, p, end)
        idx += span
        histo[reg] += span
        p += oplen
    return histo if idx == REGISTERS else None


def _py_merge(out: bytearray, value) -> bool:
    """out[i] = max(out[i], register i of `value`) for a raw array `out`; False if corrupt."""
    if value[4] == DENSE:
        for i, reg in enumerate(_unpack(value[HDR:DENSE_SIZE])):
            if reg > out[i]:
                out[i] = reg
        return True
    i, p, end = 0, HDR, len(value)
    while p < end:
        span, reg, oplen = _opcode(value, p, end)
        if reg:
            if i + span > REGISTERS:
                return False  # a VAL past the last register: corrupt even where the sum ends right
            for j in range(i, i + span):
                if reg > out[j]:
                    out[j] = reg
        i += span
        p += oplen
    return i == REGISTERS


def _py_to_dense(value: bytearray) -> bool:
    """Promote a sparse HLL to dense in place (header and cached cardinality kept); False, and
    nothing changed, if its opcodes are corrupt."""
    if value[4] == DENSE:
        return True
    regs = bytearray(REGISTERS)
    idx, p, end = 0, HDR, len(value)
    while p < end:
        span, reg, oplen = _opcode(value, p, end)
        if reg:
            if idx + span > REGISTERS:
                return False
            regs[idx:idx + span] = bytes((reg,)) * span
        idx += span
        p += oplen
    if idx != REGISTERS:
        return False
    head = value[:HDR]
    head[4] = DENSE
    value[:] = head + _pack(regs)
    return True


def _val(value: int, run: int) -> int:
    return 0x80 | (value - 1) << 2 | (run - 1)


def _zeros(run: int) -> bytes:
    if run > 64:
        return bytes((0x40 | (run - 1) >> 8, (run - 1) & 0xFF))
    return bytes((run - 1,))


def _py_sparse_set(value: bytearray, index: int, count: int, max_bytes: int) -> int:
    """Set register `index` to `count` if that raises it (hllSparseSet): 1 changed, 0 not, -1
    corrupt. May promote the HLL to dense."""
    if count > SPARSE_VAL_MAX:
        return _promote_set(value, index, count)
    end = len(value)
    p, first, prev, span, oplen, reg = HDR, 0, -1, 0, 1, 0
    while p < end:
        span, reg, oplen = _opcode(value, p, end)
        if index <= first + span - 1:
            break
        prev = p
        p += oplen
        first += span
    if span == 0 or p >= end:
        return -1
    b = value[p]
    is_val = b & 0x80
    if is_val:
        if reg >= count:
            return 0
        if span == 1:
            value[p] = _val(count, 1)
            return _tidy(value, prev)
    elif oplen == 1 and span == 1:
        value[p] = _val(count, 1)
        return _tidy(value, prev)
    last = first + span - 1
    seq = bytearray()
    if is_val:
        if index != first:
            seq.append(_val(reg, index - first))
        seq.append(_val(count, 1))
        if index != last:
            seq.append(_val(reg, last - index))
    else:
        if index != first:
            seq += _zeros(index - first)
        seq.append(_val(count, 1))
        if index != last:
            seq += _zeros(last - index)
    delta = len(seq) - oplen
    if delta > 0 and end + delta > max_bytes:
        return _promote_set(value, index, count)
    value[p:] = seq + value[p + oplen:]
    del value[end + delta:]  # an XZERO cut short at the end loses the sequence's tail, as in Redis
    return _tidy(value, prev)


def _tidy(value: bytearray, prev: int) -> int:
    """Merge neighbouring VAL opcodes of equal value around the change (at most 5 opcodes from
    the one before it), then mark the cache stale: Redis's step 4."""
    p = prev if prev >= 0 else HDR
    end = len(value)
    scan = 5
    while p < end and scan:
        scan -= 1
        b = value[p]
        if not b & 0x80:
            p += 2 if b & 0x40 else 1
            continue
        if p + 1 < end and value[p + 1] & 0x80:
            nxt = value[p + 1]
            if (b >> 2) & 0x1F == (nxt >> 2) & 0x1F:
                run = (b & 3) + (nxt & 3) + 2
                if run <= 4:
                    value[p + 1] = _val(((b >> 2) & 0x1F) + 1, run)
                    del value[p]
                    end -= 1
                    continue
        p += 1
    invalidate(value)
    return 1


def _promote_set(value: bytearray, index: int, count: int) -> int:
    if not to_dense(value):
        return -1
    _py_dense_set(value, index, count)
    return 1


def _py_add(value: bytearray, elements, start: int, max_bytes: int) -> int:
    """PFADD's loop (hllAdd for elements[start:]): how many changed a register, or -1 at the
    first corrupt step (what changed before stays, as in Redis)."""
    updated = 0
    for i in range(start, len(elements)):
        index, run = _pattern(elements[i])
        if value[4] == DENSE:
            changed = _py_dense_set(value, index, run)
        else:
            changed = _py_sparse_set(value, index, run, max_bytes)
            if changed < 0:
                return -1
        updated += changed
    return updated


def _py_write_registers(value: bytearray, regs, max_bytes: int) -> None:
    """PFMERGE's write: raise each register of `value` to regs[i] (a raw array), one register
    at a time in order, as Redis does (the sparse bytes depend on that order)."""
    for i in range(REGISTERS):
        reg = regs[i]
        if reg:
            if value[4] == DENSE:
                _py_dense_set(value, i, reg)
            else:
                _py_sparse_set(value, i, reg, max_bytes)


def selftest() -> str:
    """PFSELFTEST, lighter than Redis's: "" when the register packing, the sparse and dense adds
    and the estimator hold, else what failed."""
    import random
    rnd = random.Random(1)
    regs = [rnd.randrange(64) for _ in range(REGISTERS)]
    if _unpack(_pack(regs)) != regs:
        return "dense register packing"
    dense = bytearray(EMPTY)
    if not to_dense(dense):
        return "sparse to dense"
    sparse = bytearray(EMPTY)
    elements = [b"%d" % i for i in range(600)]
    add(dense, elements, 0, 1 << 30)
    add(sparse, elements, 0, 1 << 30)
    if not to_dense(sparse) or sparse[HDR:] != dense[HDR:]:
        return "sparse and dense adds disagree"
    card = estimate(histogram(dense))
    if abs(card - 600) > 600 * 0.05:
        return f"estimate {card} for 600 elements"
    return ""


_C = kernel("server._hll")
if _C is None:  # the references above run
    add, histogram, merge, to_dense = _py_add, _py_histogram, _py_merge, _py_to_dense
    write_registers, pattern = _py_write_registers, _pattern
    is_hll = _py_is_hll
else:
    add, histogram, merge, to_dense = _C.add, _C.histogram, _C.merge, _C.to_dense
    write_registers, pattern = _C.write_registers, _C.pattern
    is_hll = _C.is_hll
