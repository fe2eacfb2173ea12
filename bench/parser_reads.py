"""Parser per-read microbenchmark: the cost of RequestParser.feed for a read holding one GET (the
-P 1 case) and one holding 50 SETs (a pipeline), median of several runs, plain Python or compiled
as the environment decides (FORKVPY_PURE=1 forces the .py files). No server, no sockets.

Usage: python bench/parser_reads.py [runs]   (run from the checkout whose parser is measured)
"""

import os
import statistics
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import protocol.parser as parser_module  # noqa: E402
from protocol.parser import RequestParser  # noqa: E402

ONE = b"*2\r\n$3\r\nGET\r\n$10\r\nkey:000001\r\n"
FIFTY = b"".join(b"*3\r\n$3\r\nSET\r\n$10\r\nkey:%06d\r\n$3\r\nabc\r\n" % i for i in range(50))


def per_read(data: bytes, n: int) -> float:
    p = RequestParser()
    feed = p.feed
    t = time.perf_counter()
    for _ in range(n):
        feed(data)
    assert p.error is None
    return (time.perf_counter() - t) / n * 1e6


def main() -> None:
    runs = int(sys.argv[1]) if len(sys.argv) > 1 else 7
    compiled = not parser_module.__file__.endswith(".py")
    drain = getattr(parser_module, "drain", None)
    print(f"parser: {'compiled' if compiled else 'plain Python'}; drain: "
          f"{'C' if drain is not None and type(drain).__name__ == 'builtin_function_or_method' else 'Python'}")
    for name, data, n in (("1 GET", ONE, 200_000), ("50 SET", FIFTY, 20_000)):
        xs = [per_read(data, n) for _ in range(runs)]
        print(f"{name:7s} median {statistics.median(xs):.2f} us/read  "
              f"(min {min(xs):.2f}, max {max(xs):.2f}, {runs} runs)")


if __name__ == "__main__":
    main()
