"""Configuration: the directives forkv supports, parsed the way redis-server parses them.

Sources, later ones winning: defaults, the config file (redis.conf syntax), `FORKV_<DIRECTIVE>`
environment variables (upper case, '-' as '_'), then `--name value ...` command-line options.
The same directive table serves CONFIG GET / CONFIG SET, so a directive is declared once. Values
are kept already parsed in `Config.values` (ints, bools, lists); `CONFIG GET` formats them back.
"""

import os
import re
import sys
from dataclasses import dataclass

from protocol.parser import ProtocolError, split_inline
from server import errors
from server.glob import glob_match
from server.log import sds_repr

REDIS_VERSION = "7.0.15"
FORKV_VERSION = "0.1.0"


class ConfigError(Exception):
    """A directive or value was refused. `message` is Redis's text for it."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


_MEMORY_UNITS = {"": 1, "b": 1, "k": 1000, "kb": 1024, "m": 1000**2, "mb": 1024**2,
                 "g": 1000**3, "gb": 1024**3}


def parse_memory(text: str) -> int:
    """Redis's memtoull: a non-negative number with an optional unit."""
    m = re.fullmatch(r"(\d+)([a-zA-Z]*)", text)
    if not m or m.group(2).lower() not in _MEMORY_UNITS:
        raise ConfigError("argument must be a memory value")
    return int(m.group(1)) * _MEMORY_UNITS[m.group(2).lower()]


def _parse_int(text: str) -> int:
    """Redis's string2ll: a decimal that fits a signed 64-bit integer, or the parse error."""
    if not re.fullmatch(r"-?\d+", text) or not -(2**63) <= int(text) < 2**63:
        raise ConfigError("argument couldn't be parsed into an integer")
    return int(text)


@dataclass
class Directive:
    name: str
    kind: str  # int, memory, bool, enum, str, save, bind, dir, obuf, events, percentiles, ...
    default: object
    low: int = None
    high: int = None
    choices: tuple = ()
    immutable: bool = False  # only from the file / command line
    protected: bool = False  # CONFIG SET needs enable-protected-configs
    multi: bool = False  # takes several arguments (save, bind)
    alias: str = ""  # the other name of the same setting (Redis 7.0's ziplist -> listpack renames)
    hidden: bool = False  # a test knob: CONFIG GET answers it by name, never in a pattern

    def parse(self, args: list):
        kind = self.kind
        if kind == "save":
            return _parse_save(args)
        if kind == "bind":
            return list(args)
        if kind == "obuf":
            return _parse_obuf(args)
        if kind == "flags":
            return self._parse_flags(args)
        if len(args) != 1:
            raise ConfigError("wrong number of arguments")
        text = args[0]
        if kind == "int":
            value = _parse_int(text)
            self._range(value)
            return value
        if kind == "memory":
            value = parse_memory(text)
            self._range(value)
            return value
        if kind == "bool":
            if text.lower() not in ("yes", "no"):
                raise ConfigError("argument must be 'yes' or 'no'")
            return text.lower() == "yes"
        if kind == "enum":
            if text.lower() not in self.choices:
                raise ConfigError("argument(s) must be one of the following: " + ", ".join(self.choices))
            return text.lower()
        if kind == "dir":
            return text
        if kind == "events":
            return parse_events(text)
        if kind == "percentiles":
            return _parse_percentiles(text)
        if kind == "memperc":  # maxmemory-clients: bytes, or a percentage of maxmemory up to 100
            if not re.fullmatch(r"\d+%", text):
                try:
                    parse_memory(text)
                except ConfigError:
                    raise ConfigError("argument must be a memory or percent value") from None
            elif int(text[:-1]) > 100:
                raise ConfigError("percentage argument must be less or equal to 100")
            return text
        if kind == "oomvalues":
            parts = text.split()
            if len(parts) != 3:
                raise ConfigError("wrong number of arguments")
            for part in parts:
                if not re.fullmatch(r"-?\d+", part) or not -2000 <= int(part) <= 2000:
                    raise ConfigError("Invalid oom-score-adj-values, elements must be between -2000 and 2000.")
            return text
        return text

    def _parse_flags(self, args: list) -> str:
        """An enum of flags (shutdown-on-sigint): one or more of the choices, kept in the
        choices' order; the first choice stands for none."""
        words = [w.lower() for a in args for w in a.split()]
        if not words or any(w not in self.choices for w in words):
            raise ConfigError("argument(s) must be one of the following: " + ", ".join(self.choices))
        if "save" in words and "nosave" in words:
            raise ConfigError("shutdown options SAVE and NOSAVE can't be used simultaneously")
        return " ".join(c for c in self.choices[1:] if c in words) or self.choices[0]

    def _range(self, value: int) -> None:
        if (self.low is not None and value < self.low) or (self.high is not None and value > self.high):
            raise ConfigError(f"argument must be between {self.low} and {self.high} inclusive")

    def format(self, value) -> str:
        if self.kind == "bool":
            return "yes" if value else "no"
        if self.kind == "save":
            return " ".join(f"{s} {c}" for s, c in value)
        if self.kind == "bind":
            return " ".join(value)
        if self.kind == "obuf":
            return " ".join(f"{'slave' if cls == 'replica' else cls} {h} {s} {t}"
                            for cls, (h, s, t) in value.items())
        if self.kind == "events":
            return format_events(value)
        return str(value)


def _parse_percentiles(text: str) -> str:
    """latency-tracking-info-percentiles: doubles within [0, 100], space separated; kept as Redis
    shows them (printf's %f without its trailing zeros: "0.10" -> "0.1", "1e1" -> "10")."""
    shown = []
    for part in text.split():
        try:
            value = float(part)
        except ValueError:
            raise ConfigError("Invalid latency-tracking-info-percentiles parameters") from None
        if not 0.0 <= value <= 100.0:
            raise ConfigError("latency-tracking-info-percentiles parameters should sit between [0.0,100.0]")
        shown.append(("%f" % value).rstrip("0").rstrip("."))
    return " ".join(shown)


def _parse_save(args: list) -> list:
    if len(args) == 1:
        args = args[0].split()
    if not args or args == [""]:
        return []
    if len(args) % 2:
        raise ConfigError("Invalid save parameters")
    points = []
    for i in range(0, len(args), 2):
        try:
            seconds, changes = int(args[i]), int(args[i + 1])
        except ValueError:
            raise ConfigError("Invalid save parameters") from None
        if seconds < 1 or changes < 0:
            raise ConfigError("Invalid save parameters")
        points.append((seconds, changes))
    return points


# client-output-buffer-limit: class -> (hard bytes, soft bytes, soft seconds); 0 is no limit.
OBUF_CLASSES = {"normal": "normal", "slave": "replica", "replica": "replica", "pubsub": "pubsub"}
OBUF_DEFAULT = {"normal": (0, 0, 0), "replica": (256 * 1024**2, 64 * 1024**2, 60),
                "pubsub": (32 * 1024**2, 8 * 1024**2, 60)}


def _parse_obuf(args: list) -> dict:
    """`<class> <hard> <soft> <soft seconds>` groups, as Redis's client-output-buffer-limit.
    Returns only the classes given; the caller merges them into the current limits."""
    if len(args) == 1:
        args = args[0].split()
    if len(args) % 4:
        raise ConfigError("Wrong number of arguments in buffer limit configuration.")
    out = {}
    for i in range(0, len(args), 4):
        cls = OBUF_CLASSES.get(args[i].lower())
        if cls is None:
            raise ConfigError("Invalid client class specified in buffer limit configuration.")
        try:
            hard, soft = parse_memory(args[i + 1]), parse_memory(args[i + 2])
            seconds = _parse_int(args[i + 3])
        except ConfigError:
            hard = -1
        if hard < 0 or soft < 0 or seconds < 0:
            raise ConfigError("Error in hard, soft or soft_seconds setting in buffer limit configuration.")
        out[cls] = (hard, soft, seconds)
    return out


# notify-keyspace-events: Redis's NOTIFY_* bits, by the character that names each class.
NOTIFY_KEYSPACE, NOTIFY_KEYEVENT, NOTIFY_GENERIC, NOTIFY_STRING, NOTIFY_LIST, NOTIFY_SET = 1, 2, 4, 8, 16, 32
NOTIFY_HASH, NOTIFY_ZSET, NOTIFY_EXPIRED, NOTIFY_EVICTED, NOTIFY_STREAM = 64, 128, 256, 512, 1024
NOTIFY_KEY_MISS, NOTIFY_MODULE, NOTIFY_NEW = 2048, 4096, 8192
# "A": every class but key-miss and new (Redis's NOTIFY_ALL)
NOTIFY_ALL = (NOTIFY_GENERIC | NOTIFY_STRING | NOTIFY_LIST | NOTIFY_SET | NOTIFY_HASH | NOTIFY_ZSET
              | NOTIFY_EXPIRED | NOTIFY_EVICTED | NOTIFY_STREAM | NOTIFY_MODULE)
_EVENT_CLASSES = {"A": NOTIFY_ALL, "g": NOTIFY_GENERIC, "$": NOTIFY_STRING, "l": NOTIFY_LIST,
                  "s": NOTIFY_SET, "h": NOTIFY_HASH, "z": NOTIFY_ZSET, "x": NOTIFY_EXPIRED,
                  "e": NOTIFY_EVICTED, "K": NOTIFY_KEYSPACE, "E": NOTIFY_KEYEVENT, "t": NOTIFY_STREAM,
                  "m": NOTIFY_KEY_MISS, "d": NOTIFY_MODULE, "n": NOTIFY_NEW}


def parse_events(text: str) -> int:
    """Redis's keyspaceEventsStringToFlags."""
    flags = 0
    for ch in text:
        bit = _EVENT_CLASSES.get(ch)
        if bit is None:
            raise ConfigError("Invalid event class character. Use 'Ag$lshzxeKEtmdn'.")
        flags |= bit
    return flags


def format_events(flags: int) -> str:
    """Redis's keyspaceEventsFlagsToString (n is shown only when A is not)."""
    if flags & NOTIFY_ALL == NOTIFY_ALL:
        text = "A"
    else:
        text = "".join(ch for ch in "g$lshzxetdn" if flags & _EVENT_CLASSES[ch])
    return text + "".join(ch for ch in "KEm" if flags & _EVENT_CLASSES[ch])


INT_MAX = 2**31 - 1
LONG_MAX = 2**63 - 1

DIRECTIVES = {d.name: d for d in [
    Directive("port", "int", 6379, 0, 65535),  # CONFIG SET rebinds (server.rebind)
    Directive("bind", "bind", ["127.0.0.1", "-::1"], multi=True),
    Directive("protected-mode", "bool", True),
    Directive("requirepass", "str", ""),
    Directive("databases", "int", 16, 1, INT_MAX, immutable=True),
    Directive("dir", "dir", "", protected=True),
    Directive("dbfilename", "str", "dump.rdb", protected=True),
    Directive("loglevel", "enum", "notice", choices=("debug", "verbose", "notice", "warning")),
    Directive("logfile", "str", "", immutable=True),
    Directive("hz", "int", 10, 0, INT_MAX),  # clamped to 1..500 when set, as Redis does
    Directive("maxclients", "int", 10000, 1, INT_MAX),
    Directive("save", "save", [(3600, 1), (300, 100), (60, 10000)], multi=True),
    Directive("appendonly", "bool", False),
    Directive("appendfilename", "str", "appendonly.aof", immutable=True),
    Directive("appendfsync", "enum", "everysec", choices=("everysec", "always", "no")),
    Directive("stop-writes-on-bgsave-error", "bool", True),
    Directive("rdbcompression", "bool", True),
    Directive("rdbchecksum", "bool", True, immutable=True),
    Directive("rdb-key-save-delay", "int", 0, INT_MAX * -1 - 1, INT_MAX, hidden=True),
    Directive("key-load-delay", "int", 0, INT_MAX * -1 - 1, INT_MAX, hidden=True),
    Directive("loading-process-events-interval-bytes", "int", 2 * 1024 * 1024, 1024, INT_MAX, hidden=True),
    Directive("rdb-del-sync-files", "bool", False),
    Directive("proto-max-bulk-len", "memory", 512 * 1024 * 1024, 1024 * 1024, LONG_MAX),
    Directive("client-query-buffer-limit", "memory", 1024**3, 1024 * 1024, LONG_MAX),
    Directive("client-output-buffer-limit", "obuf", OBUF_DEFAULT, multi=True),
    Directive("timeout", "int", 0, 0, INT_MAX),
    Directive("tcp-keepalive", "int", 300, 0, INT_MAX),
    Directive("tcp-backlog", "int", 511, 0, INT_MAX, immutable=True),
    Directive("daemonize", "bool", False, immutable=True),
    Directive("supervised", "enum", "no", choices=("upstart", "systemd", "auto", "no"), immutable=True),
    Directive("pidfile", "str", "", immutable=True),
    Directive("maxmemory", "memory", 0, 0, LONG_MAX),
    Directive("maxmemory-policy", "enum", "noeviction", choices=(
        "volatile-lru", "volatile-lfu", "volatile-random", "volatile-ttl", "allkeys-lru",
        "allkeys-lfu", "allkeys-random", "noeviction")),
    Directive("enable-protected-configs", "enum", "no", choices=("no", "yes", "local"), immutable=True),
    Directive("enable-debug-command", "enum", "no", choices=("no", "yes", "local"), immutable=True),
    Directive("io-threads", "int", 1, 1, 128, immutable=True),
    Directive("always-show-logo", "bool", False, immutable=True),
    Directive("lazyfree-lazy-user-flush", "bool", False),
    Directive("notify-keyspace-events", "events", 0),
    Directive("tracking-table-max-keys", "int", 1000000, 0, LONG_MAX),
    Directive("slowlog-log-slower-than", "int", 10000, -1, LONG_MAX),
    Directive("slowlog-max-len", "int", 128, 0, LONG_MAX),
    Directive("latency-monitor-threshold", "int", 0, 0, LONG_MAX),
    Directive("unixsocket", "str", "", immutable=True),
    # Small-container encodings (server/types/): Redis 7.0 renamed ziplist to listpack and keeps
    # the old names as aliases of the same setting; CONFIG GET lists both.
    Directive("list-max-listpack-size", "int", -2, -(2**31), INT_MAX, alias="list-max-ziplist-size"),
    Directive("list-max-ziplist-size", "int", -2, -(2**31), INT_MAX, alias="list-max-listpack-size"),
    Directive("list-compress-depth", "int", 0, 0, INT_MAX),
    Directive("hash-max-listpack-entries", "int", 512, 0, LONG_MAX, alias="hash-max-ziplist-entries"),
    Directive("hash-max-ziplist-entries", "int", 512, 0, LONG_MAX, alias="hash-max-listpack-entries"),
    Directive("hash-max-listpack-value", "memory", 64, 0, LONG_MAX, alias="hash-max-ziplist-value"),
    Directive("hash-max-ziplist-value", "memory", 64, 0, LONG_MAX, alias="hash-max-listpack-value"),
    Directive("set-max-intset-entries", "int", 512, 0, LONG_MAX),
    Directive("zset-max-listpack-entries", "int", 128, 0, LONG_MAX, alias="zset-max-ziplist-entries"),
    Directive("zset-max-ziplist-entries", "int", 128, 0, LONG_MAX, alias="zset-max-listpack-entries"),
    Directive("zset-max-listpack-value", "memory", 64, 0, LONG_MAX, alias="zset-max-ziplist-value"),
    Directive("zset-max-ziplist-value", "memory", 64, 0, LONG_MAX, alias="zset-max-listpack-value"),
]}

# The rest of Redis 7.0's directives: accepted with Redis's types, defaults and CONFIG SET rules so
# that tools and config files that set them work; forkv has no use for them (no replication,
# cluster, TLS, AOF rewrite, defragmentation, eviction or modules yet): they are kept and reported,
# and do nothing. One line each: name, kind, default, then flags (i: immutable, alias=other).
_INERT = """
acl-pubsub-default enum resetchannels choices=allchannels,resetchannels
aclfile str "" i
acllog-max-len int 128
active-defrag-cycle-max int 25 range=1,99
active-defrag-cycle-min int 1 range=1,99
active-defrag-ignore-bytes memory 104857600 range=1,9223372036854775807
active-defrag-max-scan-fields int 1000 range=1,9223372036854775807
active-defrag-threshold-lower int 10 range=0,1000
active-defrag-threshold-upper int 100 range=0,1000
active-expire-effort int 1 range=1,10
activedefrag bool no
activerehashing bool yes
aof-disable-auto-gc bool no
aof-load-truncated bool yes
aof-rewrite-incremental-fsync bool yes
aof-timestamp-enabled bool no
aof-use-rdb-preamble bool yes
aof_rewrite_cpulist str "" i
appenddirname str appendonlydir i
auto-aof-rewrite-min-size memory 67108864
auto-aof-rewrite-percentage int 100 range=0,2147483647
bgsave_cpulist str "" i
bind-source-addr str ""
bio_cpulist str "" i
busy-reply-threshold int 5000 alias=lua-time-limit
lua-time-limit int 5000 alias=busy-reply-threshold
cluster-allow-pubsubshard-when-down bool yes
cluster-allow-reads-when-down bool no
cluster-allow-replica-migration bool yes
cluster-announce-bus-port int 0 range=0,65535
cluster-announce-hostname str ""
cluster-announce-ip str ""
cluster-announce-port int 0 range=0,65535
cluster-announce-tls-port int 0 range=0,65535
cluster-config-file str nodes.conf i
cluster-enabled bool no i
cluster-link-sendbuf-limit memory 0
cluster-migration-barrier int 1 range=0,2147483647
cluster-node-timeout int 15000
cluster-port int 0 i
cluster-preferred-endpoint-type enum ip choices=ip,hostname,unknown-endpoint
cluster-replica-no-failover bool no alias=cluster-slave-no-failover
cluster-slave-no-failover bool no alias=cluster-replica-no-failover
cluster-replica-validity-factor int 10 alias=cluster-slave-validity-factor range=0,2147483647
cluster-slave-validity-factor int 10 alias=cluster-replica-validity-factor range=0,2147483647
cluster-require-full-coverage bool yes
crash-log-enabled bool yes
crash-memcheck-enabled bool yes
disable-thp bool yes i
dynamic-hz bool yes
enable-module-command enum no choices=no,yes,local i
hll-sparse-max-bytes memory 3000
ignore-warnings str ""
io-threads-do-reads bool no i
jemalloc-bg-thread bool yes
latency-tracking bool yes
latency-tracking-info-percentiles percentiles "50 99 99.9"
lazyfree-lazy-eviction bool no
lazyfree-lazy-expire bool no
lazyfree-lazy-server-del bool no
lazyfree-lazy-user-del bool no
lfu-decay-time int 1 range=0,2147483647
lfu-log-factor int 10 range=0,2147483647
masterauth str ""
masteruser str ""
maxmemory-clients memperc 0
maxmemory-eviction-tenacity int 10 range=0,100
maxmemory-samples int 5 range=1,2147483647
min-replicas-max-lag int 10 alias=min-slaves-max-lag range=0,2147483647
min-slaves-max-lag int 10 alias=min-replicas-max-lag range=0,2147483647
min-replicas-to-write int 0 alias=min-slaves-to-write range=0,2147483647
min-slaves-to-write int 0 alias=min-replicas-to-write range=0,2147483647
no-appendfsync-on-rewrite bool no
oom-score-adj enum no choices=no,yes,relative,absolute
oom-score-adj-values oomvalues "0 200 800"
proc-title-template str "{title} {listen-addr} {server-mode}"
propagation-error-behavior enum ignore choices=ignore,panic,panic-on-replicas
rdb-save-incremental-fsync bool yes
repl-backlog-size memory 1048576 range=1,9223372036854775807
repl-backlog-ttl int 3600
repl-disable-tcp-nodelay bool no
repl-diskless-load enum disabled choices=disabled,on-empty-db,swapdb
repl-diskless-sync bool yes
repl-diskless-sync-delay int 5 range=0,2147483647
repl-diskless-sync-max-replicas int 0 range=0,2147483647
repl-ping-replica-period int 10 alias=repl-ping-slave-period range=1,2147483647
repl-ping-slave-period int 10 alias=repl-ping-replica-period range=1,2147483647
repl-timeout int 60 range=1,2147483647
replica-announce-ip str "" alias=slave-announce-ip
slave-announce-ip str "" alias=replica-announce-ip
replica-announce-port int 0 alias=slave-announce-port range=0,65535
slave-announce-port int 0 alias=replica-announce-port range=0,65535
replica-announced bool yes
replica-ignore-disk-write-errors bool no
replica-ignore-maxmemory bool yes alias=slave-ignore-maxmemory
slave-ignore-maxmemory bool yes alias=replica-ignore-maxmemory
replica-lazy-flush bool no alias=slave-lazy-flush
slave-lazy-flush bool no alias=replica-lazy-flush
replica-priority int 100 alias=slave-priority range=0,2147483647
slave-priority int 100 alias=replica-priority range=0,2147483647
replica-read-only bool yes alias=slave-read-only
slave-read-only bool yes alias=replica-read-only
replica-serve-stale-data bool yes alias=slave-serve-stale-data
slave-serve-stale-data bool yes alias=replica-serve-stale-data
replicaof str "" i alias=slaveof
slaveof str "" i alias=replicaof
sanitize-dump-payload enum no choices=no,yes,clients
server_cpulist str "" i
set-proc-title bool yes i
shutdown-on-sigint flags default choices=default,save,nosave,now,force
shutdown-on-sigterm flags default choices=default,save,nosave,now,force
shutdown-timeout int 10 range=0,2147483647
socket-mark-id int 0 i
stream-node-max-bytes memory 4096
stream-node-max-entries int 100
syslog-enabled bool no i
syslog-facility enum local0 choices=user,local0,local1,local2,local3,local4,local5,local6,local7 i
syslog-ident str redis i
tls-auth-clients enum yes choices=no,yes,optional
tls-ca-cert-dir str ""
tls-ca-cert-file str ""
tls-cert-file str ""
tls-ciphers str ""
tls-ciphersuites str ""
tls-client-cert-file str ""
tls-client-key-file str ""
tls-client-key-file-pass str ""
tls-cluster bool no
tls-dh-params-file str ""
tls-key-file str ""
tls-key-file-pass str ""
tls-port int 0 range=0,65535
tls-prefer-server-ciphers bool no
tls-protocols str ""
tls-replication bool no
tls-session-cache-size int 20480 range=0,2147483647
tls-session-cache-timeout int 300 range=0,2147483647
tls-session-caching bool yes
unixsocketperm int 0 i
"""


def _inert_directives():
    import shlex
    for line in _INERT.strip().splitlines():
        name, kind, default, *flags = shlex.split(line)
        opts = dict(f.split("=", 1) for f in flags if "=" in f)
        low, high = (0, LONG_MAX)
        if "range" in opts:
            low, high = (int(x) for x in opts["range"].split(","))
        value = {"bool": lambda t: t == "yes", "int": int, "memory": int}.get(kind, str)(default)
        choices = tuple(opts["choices"].split(",")) if "choices" in opts else ()
        yield Directive(name, kind, value, low if kind in ("int", "memory") else None,
                        high if kind in ("int", "memory") else None, choices=choices,
                        immutable="i" in flags, alias=opts.get("alias", ""), multi=kind == "flags")


DIRECTIVES.update({d.name: d for d in _inert_directives() if d.name not in DIRECTIVES})

DEFAULT_SAVE = DIRECTIVES["save"].default


class Config:
    def __init__(self):
        self.values = {name: d.default for name, d in DIRECTIVES.items()}
        self.values["dir"] = os.getcwd()
        self.config_file = None
        self.users = []  # `user name rule ...` lines, as strings: server/acl.py applies them at startup

    def __getitem__(self, name):
        return self.values[name]

    # -- loading (startup) -----------------------------------------------------------------------

    def apply(self, name: str, args: list, seen_save: set) -> None:
        name = name.lower()
        if name == "user" and args:
            self.users.append(list(args))
            return
        directive = DIRECTIVES.get(name)
        if directive is None:
            raise ConfigError("Bad directive or wrong number of arguments")
        if not directive.multi and len(args) != 1:
            raise ConfigError("wrong number of arguments")
        value = directive.parse(args)
        if directive.kind == "obuf":
            value = {**self.values[name], **value}
        if name == "save" and value and "save" in seen_save:
            value = self.values["save"] + value  # several save lines add up, as in redis.conf
        seen_save.add(name)
        if name == "dir":
            value = _change_dir(value)
        if name == "hz":
            value = max(1, min(500, value))
        self._put(name, value)

    def _put(self, name: str, value) -> None:
        self.values[name] = value
        alias = DIRECTIVES[name].alias
        if alias:
            self.values[alias] = value

    def get(self, pattern: str) -> dict:
        """CONFIG GET: every directive matching the glob pattern, formatted."""
        out = {}
        lowered = pattern.lower()
        exact = DIRECTIVES.get(lowered)
        if exact is not None:  # a plain name comes back spelled as the client typed it
            out[pattern] = exact.format(self.values[lowered])
            return out
        if not any(c in pattern for c in "[*?"):  # no glob: an unknown name, not a pattern
            return out
        # Redis matches the raw pattern with nocase: lowering it first would also lower an escaped
        # byte inside a class, which Redis compares exactly (`[\M]axmemory` matches nothing).
        raw = pattern.encode("utf-8", "surrogateescape")
        for name, directive in DIRECTIVES.items():
            if not directive.hidden and glob_match(raw, name.encode(), nocase=True):
                out[name] = directive.format(self.values[name])
        return out

    def set_many(self, pairs: list) -> list:
        """CONFIG SET: validate every pair first, then apply all; returns the names changed."""
        parsed = []
        seen = set()
        for name, text in pairs:
            lname = name.lower()
            directive = DIRECTIVES.get(lname)
            if directive is None:
                raise ConfigError(errors.config_set_unknown(name))
            if lname in seen:
                raise _set_failed(name, "duplicate parameter")
            seen.add(lname)
            if directive.immutable:
                raise _set_failed(name, "can't set immutable config")
            if directive.protected and self.values["enable-protected-configs"] == "no":
                raise _set_failed(name, "can't set protected config")
            try:
                if directive.kind == "bind":
                    value = directive.parse(text.split())
                elif directive.kind == "obuf":
                    value = {**self.values[lname], **directive.parse(text.split())}
                elif directive.kind == "save":
                    value = directive.parse([text])
                else:
                    value = directive.parse([text])
                if lname == "dir" and not os.path.isdir(value):
                    raise ConfigError("No such file or directory")
                if lname == "dbfilename" and os.path.basename(value) != value:
                    raise ConfigError("dbfilename can't be a path, just a filename")
            except ConfigError as exc:
                raise _set_failed(name, exc.message) from None
            parsed.append((lname, value))
        for lname, value in parsed:
            if lname == "dir":
                value = _change_dir(value)
            if lname == "hz":
                value = max(1, min(500, value))
            self._put(lname, value)
        return [lname for lname, _ in parsed]


def _set_failed(name: str, why: str) -> ConfigError:
    return ConfigError(errors.config_set_failed(name, why))


def _change_dir(path: str) -> str:
    """Like Redis, `dir` is the process's working directory; the value kept is absolute."""
    try:
        os.chdir(path)
    except OSError as exc:
        raise ConfigError(f"Can't chdir to '{path}': {exc.strerror}") from None
    return os.getcwd()


# -- command line, file and environment ---------------------------------------------------------

class FatalConfigError(Exception):
    """Startup configuration failed: print `text` to stderr and exit 1."""

    def __init__(self, text: str):
        super().__init__(text)
        self.text = text


def _fatal(source: str, line_no: int, line: str, why: str) -> FatalConfigError:
    return FatalConfigError(
        f"\n*** FATAL CONFIG FILE ERROR (forkv {FORKV_VERSION}, Redis {REDIS_VERSION}) ***\n"
        f"Reading the configuration {source}, at line {line_no}\n"
        f">>> '{line}'\n{why}\n")


def parse_lines(text: str, source: str):
    """Yield (line number, line, directive, args) for each directive in redis.conf text."""
    for number, line in enumerate(text.splitlines(), 1):
        stripped = line.strip()
        if not stripped or stripped.startswith("#"):
            continue
        try:
            argv = [a.decode("utf-8", "surrogateescape") for a in split_inline(stripped.encode())]
        except ProtocolError:
            raise _fatal(source, number, stripped, "Unbalanced quotes in configuration line") from None
        if argv:
            yield number, stripped, argv[0], argv[1:]


def _repr_arg(arg: str) -> str:
    """An argument quoted as Redis's sdscatrepr writes it into the options text."""
    return sds_repr(arg.encode("utf-8", "surrogateescape"))


def split_command_line(argv: list):
    """redis-server's argument rules: an optional config file first (or '-' for stdin), then the
    options, which become config-file lines (Redis's main): `--name` starts a line; the words
    after it are its arguments, quoted, even when they start with "--" as long as the name has
    no argument yet ("--port --bla" is `port "--bla"`); "--name value" in one word is a whole
    line; `--save` followed by an option or last is `save ""`. Returns (config file or None,
    [(line, name, args)])."""
    config_file = None
    rest = list(argv)
    if rest and not rest[0].startswith("--"):
        config_file = rest.pop(0)
    lines = []
    handled = True  # the last option has an argument: a "--" word starts a new one
    for j, arg in enumerate(rest):
        if handled and arg.startswith("--"):
            line = arg[2:] + " "
            try:
                alone = len(split_inline(arg.encode("utf-8", "surrogateescape"))) == 1
            except ProtocolError:
                alone = False
            handled = not alone
            if alone and arg.lower() == "--save" and (j == len(rest) - 1 or rest[j + 1].startswith("--")):
                line += '""'
                handled = True
            lines.append(line)
        else:
            if not lines:
                lines.append("")
            lines[-1] += _repr_arg(arg) + " "
            handled = True
    options = []
    for number, line in enumerate(lines, 1):
        line = line.strip()
        try:
            words = [a.decode("utf-8", "surrogateescape")
                     for a in split_inline(line.encode("utf-8", "surrogateescape"))]
        except ProtocolError:
            raise _fatal("command line", number, line, "Unbalanced quotes in configuration line") from None
        if words:
            options.append((line, words[0], words[1:]))
    return config_file, options


def load(argv: list, environ=None) -> Config:
    """Build the startup configuration. Raises FatalConfigError with the text for stderr."""
    environ = os.environ if environ is None else environ
    config = Config()
    seen = set()
    config_file, options = split_command_line(argv)
    if config_file is not None:
        path = config_file
        try:
            text = sys.stdin.read() if path == "-" else open(path, encoding="utf-8").read()
        except OSError as exc:
            raise FatalConfigError(f"Fatal error, can't open config file '{path}': {exc.strerror}\n") from None
        config.config_file = None if path == "-" else os.path.abspath(path)
        for number, line, name, args in parse_lines(text, f"file {path}"):
            _apply_or_fail(config, name, args, seen, f"file {path}", number, line)
    for key in sorted(environ):
        if not key.startswith("FORKV_"):
            continue
        name = key[len("FORKV_"):].lower().replace("_", "-")
        directive = DIRECTIVES.get(name)
        value = environ[key]
        args = value.split() if directive is not None and directive.multi else [value]
        if directive is not None and directive.multi and not args:
            args = [""]
        _apply_or_fail(config, name, args, seen, "environment", 0, f"{key}={value}")
    for number, (line, name, args) in enumerate(options, 1):
        directive = DIRECTIVES.get(name.lower())
        if directive is not None and directive.multi and len(args) == 1:
            args = args[0].split() or [""]
        _apply_or_fail(config, name, args, seen, "command line", number, line)
    return config


def _apply_or_fail(config, name, args, seen, source, number, line) -> None:
    try:
        config.apply(name, args, seen)
    except ConfigError as exc:
        why = exc.message  # Redis's words alone, as redis-server prints them
        raise _fatal(source, number, line, why) from None
