"""The slow log (Redis's slowlog.c): the last `slowlog-max-len` commands that took at least
`slowlog-log-slower-than` microseconds, newest first, with their arguments cut as Redis cuts them
(32 arguments, 128 bytes each) and the client's address and name.

It must not: time commands (dispatch does, around the handler, as Redis's call()).
"""

import time
from collections import deque

MAX_ARGS = 32  # SLOWLOG_ENTRY_MAX_ARGC
MAX_STRING = 128  # SLOWLOG_ENTRY_MAX_STRING


class SlowLog:
    __slots__ = ("entries", "next_id", "max_len")

    def __init__(self, max_len: int):
        self.entries = deque()  # newest first: [id, unix time, usec, args, addr, name]
        self.next_id = 0
        self.max_len = max_len

    def add(self, client, argv, usec: int) -> None:
        args = []
        shown = min(len(argv), MAX_ARGS)
        for i in range(shown):
            arg = argv[i]
            if shown < len(argv) and i == shown - 1:  # the last slot says how many are missing
                arg = b"... (%d more arguments)" % (len(argv) - shown + 1)
            elif len(arg) > MAX_STRING:
                arg = bytes(arg[:MAX_STRING]) + b"... (%d more bytes)" % (len(arg) - MAX_STRING)
            args.append(bytes(arg))
        self.entries.appendleft([self.next_id, int(time.time()), usec, args,
                                 client.addr.encode(), client.name])
        self.next_id += 1
        self.trim()

    def trim(self) -> None:
        while len(self.entries) > self.max_len:
            self.entries.pop()

    def reset(self) -> None:
        self.entries.clear()
