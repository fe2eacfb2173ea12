"""The command table: every command declared once, with Redis's own metadata.

`@command("set", arity=-3, flags=Flag.WRITE | Flag.DENYOOM, keys=(1, 1, 1), group="string")`
registers a handler `fn(client, argv) -> reply`. `argv` keeps the command name, as Redis's does, so
arity and key positions copy straight from Redis's `src/commands/<cmd>.json`. Subcommands are
declared as "container|sub" ("client|setname"). Dispatch, arity errors, COMMAND INFO/DOCS, write
tracking, MULTI queueing and read-only checks are all driven from this table; nothing else lists
commands.
"""

import enum
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from server.client import Client

# A handler's signature: `def name(client: Client, argv: Argv) -> Reply`. `argv` is the command
# line with the name first; the reply is a value protocol/reply.py encodes (bytes, int, None,
# list, Map, Status, ErrorReply, Encoded constants, NO_REPLY...).
Argv = list[bytes]
Reply = Any
Handler = Callable[["Client", Argv], Reply]


class Flag(enum.Flag):
    """Redis's command flags, declared in the order Redis lists them in COMMAND INFO."""

    WRITE = enum.auto()
    READONLY = enum.auto()
    DENYOOM = enum.auto()
    ADMIN = enum.auto()
    PUBSUB = enum.auto()
    NOSCRIPT = enum.auto()
    BLOCKING = enum.auto()
    LOADING = enum.auto()
    STALE = enum.auto()
    SKIP_MONITOR = enum.auto()
    SKIP_SLOWLOG = enum.auto()
    FAST = enum.auto()
    NO_AUTH = enum.auto()
    MAY_REPLICATE = enum.auto()
    SENTINEL = enum.auto()  # in Redis's tables, shown only by a sentinel: never listed here
    NO_MANDATORY_KEYS = enum.auto()
    NO_ASYNC_LOADING = enum.auto()
    NO_MULTI = enum.auto()
    ALLOW_BUSY = enum.auto()
    # forkv-only: runs at once even inside MULTI (EXEC, DISCARD, MULTI, WATCH, QUIT, RESET)
    NO_QUEUE = enum.auto()


_HIDDEN_FLAGS = Flag.SENTINEL | Flag.NO_QUEUE

# ACL categories in the order Redis prints them.
_CATEGORY_ORDER = ["@keyspace", "@read", "@write", "@set", "@sortedset", "@list", "@hash", "@string",
                   "@bitmap", "@hyperloglog", "@geo", "@stream", "@pubsub", "@admin", "@fast", "@slow",
                   "@blocking", "@dangerous", "@connection", "@transaction", "@scripting"]

NONE = Flag(0)

# The ACL categories Redis reports for each command group.
_GROUP_CATEGORIES = {
    "string": "@string",
    "bitmap": "@bitmap",
    "hyperloglog": "@hyperloglog",
    "generic": "@keyspace",
    "connection": "@connection",
    "server": None,
    "transactions": "@transaction",
    "list": "@list",
    "hash": "@hash",
    "set": "@set",
    "sorted-set": "@sortedset",
    "stream": "@stream",
    "pubsub": None,  # from the PUBSUB flag, as Redis derives it (PUBSUB HELP has neither)
    "scripting": "@scripting",
    "geo": "@geo",
}


@dataclass(frozen=True, slots=True)
class KeySpec:
    """One of Redis 7.0's key specifications: where a command's keys start (begin_search) and how
    many follow (find_keys), with the key flags (RW/RO/OW/RM, access/update/insert/delete,
    variable_flags, ...). `begin` is ("index", i) or ("keyword", word, startfrom); `find` is
    ("range", lastkey, keystep, limit) or ("keynum", keynumidx, firstkey, keystep); both are
    ("unknown",) where no spec can say (SORT's BY/GET patterns and STORE): the command then has a
    `getkeys` function, as Redis's sortGetKeys. A command whose keys move (EVAL's numkeys,
    ZUNION, XREAD's STREAMS, SORT's STORE) needs a keyword, keynum or unknown spec, which makes it
    `movablekeys`."""

    flags: tuple
    begin: tuple
    find: tuple
    notes: str = ""

    @property
    def movable(self) -> bool:
        return self.begin[0] != "index" or self.find[0] != "range"

    def positions(self, argv) -> list:
        """The key indexes in the command line `argv` (Redis's getKeysUsingKeySpecs for this
        spec): [] when the line does not hold what the spec looks for (the keyword is absent,
        numkeys is not a count), as Redis then leaves the error to the command itself."""
        argc = len(argv)
        if self.begin[0] == "unknown":
            return []
        if self.begin[0] == "index":
            first = self.begin[1]
        else:  # ("keyword", word, startfrom): from startfrom on, or backwards from the end
            _, word, start = self.begin
            first = 0
            indexes = range(start, argc) if start > 0 else range(argc + start, 0, -1)
            for i in indexes:
                if i < 1 or i >= argc:
                    break
                if argv[i].lower() == word.encode().lower():
                    first = i + 1
                    break
            if not first:
                return []
        if self.find[0] == "range":
            _, lastkey, step, limit = self.find
            if lastkey >= 0:
                last = first + lastkey
            elif not limit:
                last = argc + lastkey
            else:
                last = first + (argc - first) // limit + lastkey
        else:  # ("keynum", keynumidx, firstkey, keystep): a count argument, then the keys
            _, numidx, firstkey, step = self.find
            if first + numidx >= argc:
                return []
            text = argv[first + numidx]
            if not text.lstrip(b"-").isdigit() or text.startswith(b"-"):
                return []
            first += firstkey
            last = first + int(text) - 1
            if last >= argc:  # more keys than arguments: Redis's invalid_spec, no keys at all
                return []
        return [i for i in range(first, last + 1, step or 1) if i < argc]


def spec_invalid(spec: "KeySpec", argv) -> bool:
    """Whether Redis's getKeysUsingKeySpecs would reach invalid_spec for this line: a keynum
    spec whose count is not a non-negative integer or names more keys than there are
    arguments, or an index spec whose range falls outside the line (it then extracts no keys
    at all)."""
    argc = len(argv)
    if spec.find[0] == "range":  # an empty or out-of-line range (PFMERGE with no source key)
        if spec.begin[0] != "index":
            return False
        first = spec.begin[1]
        _, lastkey, _step, limit = spec.find
        last = (first + lastkey if lastkey >= 0 else argc + lastkey if not limit
                else first + (argc - first) // limit + lastkey)
        return first >= argc or last >= argc or last < first
    if spec.find[0] != "keynum":
        return False
    if spec.begin[0] == "index":
        first = spec.begin[1]
    else:
        if not spec.positions(argv):
            return False  # the keyword is absent: the spec is skipped, not invalid
        first = next((i + 1 for i in range(1, argc) if argv[i].lower() == spec.begin[1].encode().lower()), 0)
    _, numidx, firstkey, step = spec.find
    if first + numidx >= argc:
        return True
    text = argv[first + numidx]
    if not text.isdigit():
        return True
    return first + firstkey + (int(text) - 1) * (step or 1) >= argc


def KS(flags: str, index: int, lastkey: int = 0, step: int = 1, limit: int = 0, notes: str = "") -> KeySpec:
    """A key spec of the common shape: keys from argv[index], `lastkey` more (-1: to the end)
    every `step`; `flags` as Redis spells them ("RW access update")."""
    return KeySpec(tuple(flags.split()), ("index", index), ("range", lastkey, step, limit), notes)


HIST_BUCKETS = 384
LATENCY_TRACKING = [True]  # latency-tracking (set by the server)


def hist_index(ns: int) -> int:
    """The duration bucket of `ns` nanoseconds: exact below 8, then 8 per doubling."""
    if ns < 8:
        return max(ns, 0)
    e = ns.bit_length() - 1
    return min(e * 8 + ((ns >> (e - 3)) & 7), HIST_BUCKETS - 1)


def hist_upper(i: int) -> int:
    """The largest duration (ns) bucket `i` holds."""
    if i < 24:  # exact below 8; 8..23 are never used (durations of 8+ ns start at 24)
        return min(i, 7)
    e, sub = divmod(i, 8)
    return ((8 + sub + 1) << (e - 3)) - 1


class CommandStats:
    """One command's counters for INFO commandstats and its call durations for latencystats;
    server/_fastpath.c's CommandStats is the same in C (bumped there without allocating) and
    replaces this class when it is built."""

    __slots__ = ("calls", "usec", "failed", "rejected", "hist")

    def __init__(self):
        self.calls = self.usec = self.failed = self.rejected = 0
        self.hist = None

    def record(self, ns: int) -> None:
        self.calls += 1
        self.usec += ns // 1000
        if LATENCY_TRACKING[0]:
            if self.hist is None:
                self.hist = [0] * HIST_BUCKETS
            self.hist[hist_index(ns)] += 1

    def histogram(self):
        return None if self.hist is None else list(self.hist)

    def reset(self) -> None:
        self.calls = self.usec = self.failed = self.rejected = 0
        self.hist = None


STATS_CLASS = CommandStats  # what new commands get (dispatch.install_fast_path may swap it)


def _new_stats():
    return STATS_CLASS()


@dataclass(eq=False, slots=True)
class Command:
    name: str  # lower case; "client|setname" for a subcommand
    handler: Handler | None
    arity: int
    flags: Flag
    first_key: int = 0
    last_key: int = 0
    step: int = 0
    group: str = "generic"
    summary: str = ""
    since: str = "1.0.0"
    complexity: str = ""
    arguments: tuple = ()
    acl: tuple = ()  # ACL categories beyond those implied by the flags and the group
    tips: tuple = ()  # Redis's command tips ("nondeterministic_output", "request_policy:...")
    doc_flags: tuple = ()  # COMMAND DOCS's doc_flags ("syscmd", "deprecated")
    deprecated_since: str = ""  # COMMAND DOCS of a deprecated command: since when,
    replaced_by: str = ""  # and what replaces it
    history: tuple = ()  # COMMAND DOCS's history: (version, what changed) pairs
    key_specs: tuple = ()  # KeySpec, in Redis's order; derived from the key range if not given
    subcommands: dict = field(default_factory=dict)  # b"setname" -> Command
    getkeys: Any = None  # argv -> [(index, key flags)]: Redis's getkeys_proc, for "unknown" specs
    stats: object = field(default_factory=_new_stats)  # CommandStats: INFO commandstats
    # Derived once from `flags`, read per call on the hot path.
    is_write: bool = False
    no_auth: bool = False
    no_queue: bool = False
    no_multi: bool = False
    min_args: int = 0  # arity as a range, for a two-comparison check
    max_args: int = 0

    def __post_init__(self):
        self.min_args = abs(self.arity)
        self.max_args = self.arity if self.arity > 0 else 1 << 30
        self.is_write = bool(self.flags & Flag.WRITE)
        self.no_auth = bool(self.flags & Flag.NO_AUTH)
        self.no_queue = bool(self.flags & Flag.NO_QUEUE)
        self.no_multi = bool(self.flags & Flag.NO_MULTI)
        if not self.key_specs and self.first_key:
            access = "RW access update" if self.flags & Flag.WRITE else "RO access"
            lastkey = self.last_key - self.first_key if self.last_key >= 0 else self.last_key
            self.key_specs = (KS(access, self.first_key, lastkey, self.step or 1),)

    @property
    def movable_keys(self) -> bool:
        return any(spec.movable for spec in self.key_specs)

    def flag_names(self) -> list:
        names = [flag.name.lower() for flag in Flag if flag in self.flags and not flag & _HIDDEN_FLAGS]
        if self.movable_keys:  # derived, as Redis's populateCommandMovableKeys; listed before allow_busy
            names.insert(len(names) - (Flag.ALLOW_BUSY in self.flags), "movablekeys")
        return names

    def acl_categories(self) -> list:
        cats = {c for c in self.acl if c[0] == "@"}  # "-@keyspace": not the group's category
        if self.flags & Flag.WRITE:
            cats.add("@write")
        if self.flags & Flag.READONLY and self.group != "scripting":  # as Redis: EVAL_RO is not @read
            cats.add("@read")
        if self.flags & Flag.ADMIN:
            cats |= {"@admin", "@dangerous"}
        if self.flags & Flag.PUBSUB:
            cats.add("@pubsub")
        group_cat = _GROUP_CATEGORIES.get(self.group)
        if group_cat and self.handler is not None and not self.subcommands and "-" + group_cat not in self.acl:
            cats.add(group_cat)
        cats.add("@fast" if self.flags & Flag.FAST else "@slow")
        if self.flags & Flag.BLOCKING:
            cats.add("@blocking")
        return sorted(cats, key=_CATEGORY_ORDER.index)

    def key_positions(self, argv) -> list:
        """Indexes of the keys in `argv`, from the key specs (Redis's getKeysUsingKeySpecs), or
        from the command's own `getkeys` when its specs cannot find them all."""
        if self.getkeys is not None:
            return [i for i, _ in self.getkeys(argv)]
        out = []
        for spec in self.key_specs:
            out += spec.positions(argv)
        return out


COMMANDS: dict = {}  # b"get" -> Command


def command(name: str, arity: int, flags: Flag = NONE, keys=(0, 0, 0), group: str = "generic",
            summary: str = "", since: str = "1.0.0", complexity: str = "", arguments=(), acl=(),
            tips=(), key_specs=(), doc_flags=(), getkeys=None, history=(), deprecated_since="",
            replaced_by=""):
    """Declare a command. `name` may be "container|sub" for a subcommand. `keys` is Redis's
    legacy (first, last, step) range; `key_specs` (KS(...) each) are needed only where Redis's key
    flags differ from the plain "RW access update" / "RO access" derived from it. `history`,
    `deprecated_since` and `replaced_by` are COMMAND DOCS's, as Redis's JSON files have them."""

    def register(fn):
        first, last, step = keys
        cmd = Command(name=name, handler=fn, arity=arity, flags=flags, first_key=first,
                      last_key=last, step=step, group=group, summary=summary, since=since,
                      complexity=complexity, arguments=tuple(arguments), acl=tuple(acl),
                      tips=tuple(tips), key_specs=tuple(key_specs), doc_flags=tuple(doc_flags),
                      getkeys=getkeys, history=tuple(history), deprecated_since=deprecated_since,
                      replaced_by=replaced_by)
        if "|" in name:
            parent, sub = name.split("|", 1)
            COMMANDS[parent.encode()].subcommands[sub.encode()] = cmd
        else:
            if name.encode() in COMMANDS:
                raise ValueError(f"command {name} declared twice")
            COMMANDS[name.encode()] = cmd
        return fn

    return register


def container(name: str, group: str, summary: str = "", since: str = "1.0.0",
              flags: Flag = NONE, handler=None, arity: int = -2, complexity: str = "",
              acl=(), tips=()) -> None:
    """Declare a command made of subcommands (CLIENT, CONFIG, COMMAND, OBJECT). `handler`, if
    given, runs when no subcommand is named (plain COMMAND)."""
    if name.encode() in COMMANDS:
        raise ValueError(f"command {name} declared twice")
    COMMANDS[name.encode()] = Command(name=name, handler=handler, arity=arity, flags=flags,
                                      group=group, summary=summary, since=since,
                                      complexity=complexity, acl=tuple(acl), tips=tuple(tips))


def all_commands():
    """Every top-level command, after the command modules have registered themselves."""
    import server.commands  # noqa: F401  (registers everything)

    return COMMANDS
