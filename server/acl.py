"""ACL as far as forkv has it: the one user Redis always has, "default", whose only rule that can
change is its password (requirepass), the command categories ACL CAT reports, and the ACL log of
denied authentications (Redis's acl.c addACLLogEntry, grouped as Redis groups them).

It must not: pretend to hold other users. forkv enforces no per-user permissions, so ACL SETUSER is
refused rather than accepted and ignored."""

import time
from collections import deque

# ACL CAT's reply with no category, in Redis 7.0's order (ACLCommandCategories)
CATEGORIES = ("keyspace", "read", "write", "set", "sortedset", "list", "hash", "string", "bitmap",
              "hyperloglog", "geo", "stream", "pubsub", "admin", "fast", "slow", "blocking", "dangerous",
              "connection", "transaction", "scripting")
DEFAULT_USER = b"default"
GROUPING_MS = 60000  # ACL_LOG_GROUPING_MAX_TIME_DELTA: a repeat within a minute updates its entry


class AclLog:
    """The newest denial first: [count, reason, context, object, username, created ms, client info]."""

    __slots__ = ("entries",)

    def __init__(self):
        self.entries = deque()

    def add(self, client, argv, reason: str, obj: bytes, username: bytes, max_len: int) -> None:
        now = int(time.time() * 1000)
        context = "multi" if client.multi is not None else "toplevel"
        info = client.info_line(argv)
        for i, entry in enumerate(self.entries):
            if (entry[1] == reason and entry[2] == context and entry[3] == obj and entry[4] == username
                    and now - entry[5] < GROUPING_MS):
                del self.entries[i]
                entry[0] += 1
                entry[5] = now
                entry[6] = info
                self.entries.appendleft(entry)
                return
        self.entries.appendleft([1, reason, context, obj, username, now, info])
        while len(self.entries) > max_len:
            self.entries.pop()

    def reset(self) -> None:
        self.entries.clear()


def log_denied_auth(client, argv, obj: bytes, username: bytes) -> None:
    """A failed AUTH or HELLO AUTH, in the server's ACL log; its object is the command as the client
    spelled it, as Redis logs it."""
    server = client.server
    server.acl_log.add(client, argv, "auth", obj, username, server.config["acllog-max-len"])
