"""MEMORY (Redis's object.c memoryCommand) and ROLE.

forkv's memory is CPython's, not jemalloc's: MEMORY USAGE answers the value registry's estimate of
what Redis would allocate for the key (server/values.py: each type's `memory`), plus the key and
its dict entry, rounded to jemalloc's size classes, so that tools ranking keys by size
(`redis-cli --memkeys`) see the same order of magnitude as with Redis. MEMORY STATS has Redis's
fields, filled from the process's RSS and those estimates.
"""

from typing import TYPE_CHECKING

from protocol.reply import Map, Status, Verbatim, encoded
from server import errors, values
from server.args import help_reply, to_int
from server.errors import CommandError
from server.info import rss_bytes
from server.table import KS, Argv, Flag, Reply, command, container

if TYPE_CHECKING:
    from server.client import Client

F = Flag
OK = encoded(Status("OK"))
_DICT_ENTRY = 24  # Redis's dictEntry: key, value, next


def jemalloc_size(n: int) -> int:
    """The size class jemalloc serves a request of `n` bytes from on x86-64: 8, then multiples
    of 16 up to 128, then four classes per doubling."""
    if n <= 8:
        return 8
    step = 16 if n <= 128 else 1 << ((n - 1).bit_length() - 3)
    return (n + step - 1) // step * step


def key_usage(key: bytes, value) -> int:
    """Bytes Redis would use for `key` holding `value`, estimated."""
    return jemalloc_size(values.of(value).memory(value)) + jemalloc_size(3 + len(key) + 1) + _DICT_ENTRY


container("memory", "server", summary="A container for memory diagnostics commands", since="4.0.0",
          complexity="Depends on subcommand.")

MEMORY_HELP = help_reply("memory", [
    "DOCTOR",
    "    Return memory problems reports.",
    "MALLOC-STATS",
    "    Return internal statistics report from the memory allocator.",
    "PURGE",
    "    Attempt to purge dirty pages for reclamation by the allocator.",
    "STATS",
    "    Return information about the memory usage of the server.",
    "USAGE <key> [SAMPLES <count>]",
    "    Return memory in bytes used by <key> and its value. Nested values are",
    "    sampled up to <count> times (default: 5, 0 means sample all).",
])


@command("memory|help", 2, F.LOADING | F.STALE, group="server", summary="Show helpful text about the "
         "different subcommands", since="4.0.0", complexity="O(1)")
def memory_help(client: "Client", argv: Argv) -> Reply:
    return MEMORY_HELP


@command("memory|usage", -3, F.READONLY, keys=(2, 2, 1), group="server",
         summary="Estimate the memory usage of a key", since="4.0.0",
         complexity="O(N) where N is the number of samples.", arguments=("key", "[SAMPLES count]"),
         key_specs=(KS("RO", 2),))
def memory_usage(client: "Client", argv: Argv) -> Reply:
    i = 3
    while i < len(argv):
        if argv[i].lower() == b"samples" and i + 1 < len(argv):
            if to_int(argv[i + 1]) < 0:
                raise CommandError(errors.SYNTAX)
            i += 2
        else:
            raise CommandError(errors.SYNTAX)
    value = client.db.get(argv[2], False)  # Redis reads the dict directly: no touch
    if value is None:
        return None
    return key_usage(argv[2], value)


_SHARDS = ("nondeterministic_output", "request_policy:all_shards", "response_policy:special")


@command("memory|stats", 2, group="server", summary="Show memory usage details", since="4.0.0",
         complexity="O(1)", tips=_SHARDS)
def memory_stats(client: "Client", argv: Argv) -> Reply:
    server = client.server
    rss = rss_bytes()
    ks = server.keyspace
    keys = ks.total_keys()
    out = Map({
        "peak.allocated": rss, "total.allocated": rss, "startup.allocated": 0,
        "replication.backlog": 0, "clients.slaves": 0,
        "clients.normal": sum(c.output_buffer_size() for c in server.clients.values()),
        "cluster.links": 0, "aof.buffer": 0, "lua.caches": 0, "functions.caches": 0,
    })
    for db in ks.dbs:
        if db.size():
            out[f"db.{db.index}"] = Map({"overhead.hashtable.main": 8 * len(db.data),
                                         "overhead.hashtable.expires": 8 * len(db.expires)})
    out.update({
        "overhead.total": 0, "keys.count": keys, "keys.bytes-per-key": rss // keys if keys else 0,
        "dataset.bytes": rss, "dataset.percentage": 100.0, "peak.percentage": 100.0,
        "allocator.allocated": rss, "allocator.active": rss, "allocator.resident": rss,
        "allocator-fragmentation.ratio": 1.0, "allocator-fragmentation.bytes": 0,
        "allocator-rss.ratio": 1.0, "allocator-rss.bytes": 0, "rss-overhead.ratio": 1.0,
        "rss-overhead.bytes": 0, "fragmentation": 1.0, "fragmentation.bytes": 0,
    })
    return out


@command("memory|doctor", 2, group="server", summary="Outputs memory problems report", since="4.0.0",
         complexity="O(1)", tips=_SHARDS)
def memory_doctor(client: "Client", argv: Argv) -> Reply:
    if client.server.keyspace.total_keys() == 0:
        return Verbatim(
            "Hi Sam, this instance is empty or is using very little memory, my issues detector can't be "
            "used in these conditions. Please, leave for your mission on Earth and fill it with some data. "
            "The new Sam and I will be back to our programming as soon as I finished rebooting.")
    return Verbatim("Hi Sam, I can't find any memory issue in your instance. I can only account for what "
                    "occurs on this base.")


@command("memory|malloc-stats", 2, group="server", summary="Show allocator internal stats",
         since="4.0.0", complexity="Depends on how much memory is allocated, could be slow",
         tips=_SHARDS)
def memory_malloc_stats(client: "Client", argv: Argv) -> Reply:
    return Verbatim("Stats not supported for the current allocator")


@command("memory|purge", 2, group="server", summary="Ask the allocator to release memory",
         since="4.0.0", complexity="Depends on how much memory is allocated, could be slow",
         tips=("request_policy:all_shards", "response_policy:all_succeeded"))
def memory_purge(client: "Client", argv: Argv) -> Reply:
    return OK


@command("role", 1, F.NOSCRIPT | F.LOADING | F.STALE | F.FAST, group="server", acl=("@admin", "@dangerous"),
         summary="Return the role of the instance in the context of replication", since="2.8.12",
         complexity="O(1)")
def role(client: "Client", argv: Argv) -> Reply:
    return [b"master", 0, []]
