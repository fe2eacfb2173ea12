"""Fuzz the request parser: random, mostly-valid RESP streams cut at random points.

Checks, for every stream: the C inner loop and its pure-Python reference agree exactly, however
the stream is cut; nothing but ProtocolError ever escapes; and for streams of well-formed frames
and inline commands, feeding them whole or in random pieces gives the same commands. (A malformed
stream may be refused at a different byte, or a frame left waiting, depending on where the reads
are cut: the connection is closed either way.) `make fuzz` runs it for FUZZ_SECONDS (default 60); the test suite runs
a one-second budget."""

import os
import random
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))

from protocol import parser  # noqa: E402
from protocol.parser import RequestParser  # noqa: E402
from tests.servers import command_bytes  # noqa: E402

PIECES = [b"*", b"$", b"\r\n", b"\n", b"\r", b"-1", b"0", b"3", b"12", b"-2", b"PING", b"GET",
          b"SET", b'"', b"'", b" ", b"\\x41", b":", b"+", b"_", b"~", b"%", b"*2000000000\r\n"]


def frame(rng) -> bytes:
    argv = [bytes(rng.randrange(256) for _ in range(rng.choice([0, 1, 3, 10, 70]))) for _ in
            range(rng.randint(1, 4))]
    return command_bytes(*argv)


def stream(rng, garbage: bool) -> bytes:
    parts = []
    for _ in range(rng.randint(1, 12)):
        roll = rng.random()
        if roll < 0.55:
            parts.append(frame(rng))
        elif roll < 0.75 or not garbage:
            quote = rng.choice([b"", b'"', b"'"])
            parts.append(b"PING " + quote + bytes(rng.choice(b"abc ") for _ in range(rng.randint(0, 8)))
                         + quote + b"\r\n")
        else:
            parts.append(b"".join(rng.choice(PIECES) for _ in range(rng.randint(1, 6))))
    return b"".join(parts)


def parse(data: bytes, cuts, drain) -> tuple:
    saved = parser.drain
    parser.drain = drain
    try:
        p = RequestParser()
        out = []
        prev = 0
        for cut in list(cuts) + [len(data)]:
            out.extend(p.feed(data[prev:cut]))
            prev = cut
        return out, (p.error.message if p.error else None)
    finally:
        parser.drain = saved


def run(seconds: float, seed: int = None) -> int:
    seed = random.randrange(1 << 30) if seed is None else seed
    rng = random.Random(seed)
    drains = [parser.drain_py] + ([parser.drain] if parser.drain is not parser.drain_py else [])
    deadline = time.monotonic() + seconds
    cases = 0
    while time.monotonic() < deadline:
        garbage = rng.random() < 0.5
        data = stream(rng, garbage)
        cuts = sorted(rng.sample(range(1, len(data)), min(len(data) - 1, rng.randint(0, 5)))) if len(data) > 1 else []
        whole = parse(data, [], drains[0])
        for pieces in ([], cuts):
            results = [parse(data, pieces, drain) for drain in drains]
            if any(r != results[0] for r in results):
                raise AssertionError(f"seed {seed} case {cases}: C and Python differ on {data!r} "
                                     f"cut at {pieces}: {results}")
            if not garbage and results[0] != whole:
                raise AssertionError(f"seed {seed} case {cases}: {data!r} cut at {pieces}: "
                                     f"{results[0]} != {whole}")
        cases += 1
    return cases


if __name__ == "__main__":
    budget = float(os.environ.get("FUZZ_SECONDS", "60"))
    n = run(budget)
    print(f"parser fuzz: {n} streams, whole vs cut and C vs Python all agree")
