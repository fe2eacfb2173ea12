"""Server commands: INFO, DBSIZE, FLUSHDB, FLUSHALL, TIME, LASTSAVE, SHUTDOWN, CONFIG, COMMAND."""

import time
from typing import TYPE_CHECKING

from protocol.reply import NO_REPLY, Map, SetReply, Status, Verbatim, encoded
from server import acl, errors, info, log, values
from server.args import help_reply, to_int
from server.busy import busy_error
from server.config import ConfigError
from server.config_rewrite import rewrite as config_rewrite_file
from server.docs import Documented, arg, command_docs
from server.errors import CommandError
from server.table import COMMANDS, Argv, Flag, Reply, all_commands, command, container, spec_invalid

if TYPE_CHECKING:
    from server.client import Client

OK = encoded(Status("OK"))
F = Flag


@command("info", -1, F.LOADING | F.STALE | F.SENTINEL, group="server", acl=("@dangerous",),
         summary="Get information and statistics about the server", complexity="O(1)",
         arguments=("[section [section ...]]",),
         tips=("nondeterministic_output", "request_policy:all_shards", "response_policy:special"),
         history=(("7.0.0", "Added support for taking multiple section arguments."),))
def info_(client: "Client", argv: Argv) -> Reply:
    return Verbatim(info.render(client.server, [a.decode("utf-8", "replace") for a in argv[1:]]))


@command("dbsize", 1, F.READONLY | F.FAST, group="server", acl=("@keyspace",),
         summary="Return the number of keys in the selected database", complexity="O(1)",
         tips=("request_policy:all_shards", "response_policy:agg_sum"))
def dbsize(client: "Client", argv: Argv) -> Reply:
    return client.db.size()


def _flush_mode(client, argv) -> bool:
    """Whether the flush is ASYNC (by argument, or by lazyfree-lazy-user-flush without one)."""
    if len(argv) > 2 or (len(argv) == 2 and argv[1].lower() not in (b"async", b"sync")):
        raise CommandError(errors.SYNTAX)
    if len(argv) == 2:
        return argv[1].lower() == b"async"
    return bool(client.server.config["lazyfree-lazy-user-flush"])


@command("flushdb", -1, F.WRITE, group="server", acl=("@keyspace", "@dangerous"),
         summary="Remove all keys from the current database",
         complexity="O(N) where N is the number of keys in the selected database",
         arguments=("[ASYNC{since=4.0.0}|SYNC{since=6.2.0}]",),
         tips=("request_policy:all_shards", "response_policy:all_succeeded"),
         history=(("4.0.0", "Added the `ASYNC` flushing mode modifier."),
                  ("6.2.0", "Added the `SYNC` flushing mode modifier.")))
def flushdb(client: "Client", argv: Argv) -> Reply:
    ks = client.server.keyspace
    if _flush_mode(client, argv):  # Redis counts each key as freed in the background
        ks.lazyfreed += client.db.size()
    client.server.tracking.flushed()
    client.server.tracking.forget_all()  # Redis 7.0 empties the whole table on FLUSHDB too
    ks.dirty += client.db.flush()
    values.forget(db=client.db)
    return OK


@command("flushall", -1, F.WRITE, group="server", acl=("@keyspace", "@dangerous"),
         summary="Remove all keys from all databases",
         complexity="O(N) where N is the total number of keys in all databases",
         arguments=("[ASYNC{since=4.0.0}|SYNC{since=6.2.0}]",),
         tips=("request_policy:all_shards", "response_policy:all_succeeded"),
         history=(("4.0.0", "Added the `ASYNC` flushing mode modifier."),
                  ("6.2.0", "Added the `SYNC` flushing mode modifier.")))
def flushall(client: "Client", argv: Argv) -> Reply:
    server = client.server
    if _flush_mode(client, argv):
        server.keyspace.lazyfreed += server.keyspace.total_keys()
    server.tracking.flushed()
    server.tracking.forget_all()
    server.keyspace.dirty += server.keyspace.flushall()
    values.RING.clear()
    server.persistence.after_flushall()
    return OK


# -- SLOWLOG ------------------------------------------------------------------------------------------

container("slowlog", "server", summary="A container for slow log commands", since="2.2.12",
          complexity="Depends on subcommand.")

SLOWLOG_HELP = help_reply("slowlog", [
    "GET [<count>]",
    "    Return top <count> entries from the slowlog (default: 10, -1 mean all).",
    "    Entries are made of:",
    "    id, timestamp, time in microseconds, arguments array, client IP and port,",
    "    client name",
    "LEN",
    "    Return the length of the slowlog.",
    "RESET",
    "    Reset the slowlog.",
])
_NODES = "request_policy:all_nodes"


@command("slowlog|help", 2, F.LOADING | F.STALE, group="server", summary="Show helpful text about the "
         "different subcommands", since="6.2.0", complexity="O(1)")
def slowlog_help(client: "Client", argv: Argv) -> Reply:
    return SLOWLOG_HELP


@command("slowlog|get", -2, F.ADMIN | F.LOADING | F.STALE, group="server",
         summary="Get the slow log's entries", since="2.2.12",
         complexity="O(N) where N is the number of entries returned", arguments=("[count]",),
         tips=(_NODES, "nondeterministic_output"),
         history=(("4.0.0", "Added client IP address, port and name to the reply."),))
def slowlog_get(client: "Client", argv: Argv) -> Reply:
    count = 10
    if len(argv) == 3:
        count = to_int(argv[2], errors.SLOWLOG_COUNT)
        if count < -1:
            raise CommandError(errors.SLOWLOG_COUNT)
    elif len(argv) > 3:
        raise CommandError(errors.subcommand_syntax(argv[1], "slowlog"))
    entries = list(client.server.slowlog.entries)
    return entries if count == -1 else entries[:count]


@command("slowlog|len", 2, F.ADMIN | F.LOADING | F.STALE, group="server",
         summary="Get the slow log's length", since="2.2.12", complexity="O(1)",
         tips=(_NODES, "response_policy:agg_sum", "nondeterministic_output"))
def slowlog_len(client: "Client", argv: Argv) -> Reply:
    return len(client.server.slowlog.entries)


@command("slowlog|reset", 2, F.ADMIN | F.LOADING | F.STALE, group="server",
         summary="Clear all entries from the slow log", since="2.2.12",
         complexity="O(N) where N is the number of entries in the slowlog",
         tips=(_NODES, "response_policy:all_succeeded"))
def slowlog_reset(client: "Client", argv: Argv) -> Reply:
    client.server.slowlog.reset()
    return OK


# -- LATENCY ------------------------------------------------------------------------------------------

container("latency", "server", summary="A container for latency diagnostics commands", since="2.8.13",
          complexity="Depends on subcommand.")

LATENCY_HELP = help_reply("latency", [
    "DOCTOR",
    "    Return a human readable latency analysis report.",
    "GRAPH <event>",
    "    Return an ASCII latency graph for the <event> class.",
    "HISTORY <event>",
    "    Return time-latency samples for the <event> class.",
    "LATEST",
    "    Return the latest latency samples for all events.",
    "RESET [<event> ...]",
    "    Reset latency data of one or more <event> classes.",
    "    (default: reset all data for all event classes)",
    "HISTOGRAM [COMMAND ...]",
    "    Return a cumulative distribution of latencies in the format of a histogram for the specified "
    "command names.",
    "    If no commands are specified then all histograms are replied.",
])
_LATENCY = F.ADMIN | F.NOSCRIPT | F.LOADING | F.STALE
_NODES_SPECIAL = ("nondeterministic_output", "request_policy:all_nodes", "response_policy:special")


@command("latency|help", 2, F.LOADING | F.STALE, group="server", summary="Show helpful text about the "
         "different subcommands.", since="2.8.13", complexity="O(1)")
def latency_help(client: "Client", argv: Argv) -> Reply:
    return LATENCY_HELP


@command("latency|latest", 2, _LATENCY, group="server", summary="Return the latest latency samples for "
         "all events.", since="2.8.13", complexity="O(1)", tips=_NODES_SPECIAL)
def latency_latest(client: "Client", argv: Argv) -> Reply:
    return [[name.encode(), samples[-1][0], samples[-1][1], most]
            for name, (samples, most) in client.server.latency.events.items()]


@command("latency|history", 3, _LATENCY, group="server", summary="Return timestamp-latency samples "
         "for the event.", since="2.8.13", complexity="O(1)", arguments=("event",),
         tips=_NODES_SPECIAL)
def latency_history(client: "Client", argv: Argv) -> Reply:
    entry = client.server.latency.events.get(argv[2].decode("utf-8", "surrogateescape"))
    return [] if entry is None else [list(sample) for sample in entry[0]]


@command("latency|reset", -2, _LATENCY, group="server", summary="Reset latency data for one or more "
         "events.", since="2.8.13", complexity="O(1)", arguments=("[event [event ...]]",),
         tips=("request_policy:all_nodes", "response_policy:all_succeeded"))
def latency_reset(client: "Client", argv: Argv) -> Reply:
    return client.server.latency.reset([a.decode("utf-8", "surrogateescape") for a in argv[2:]])


@command("latency|graph", 3, _LATENCY, group="server", summary="Return a latency graph for the event.",
         since="2.8.13", complexity="O(1)", arguments=("event",), tips=_NODES_SPECIAL)
def latency_graph(client: "Client", argv: Argv) -> Reply:
    name = argv[2].decode("utf-8", "surrogateescape")
    entry = client.server.latency.events.get(name)
    if entry is None:
        raise CommandError(errors.no_latency_samples(name))
    samples, most = entry
    values = [ms for _, ms in samples]
    lines = [f"{name} - high {max(values)} ms, low {min(values)} ms (all time high {most} ms)",
             "-" * 80]
    top = max(values) or 1
    for row in range(4, 0, -1):  # four rows of marks, highest first
        lines.append("".join("_" if v * 4 >= row * top and v * 4 < (row + 1) * top else
                             ("|" if v * 4 >= (row + 1) * top else " ") for v in values))
    now = int(time.time())
    lines.append("".join(str(min(9, (now - t) // 60)) for t, _ in samples))
    lines.append("".join("m" for _ in samples))
    return Verbatim("\n".join(lines) + "\n")


@command("latency|doctor", 2, _LATENCY, group="server", summary="Return a human readable latency "
         "analysis report.", since="2.8.13", complexity="O(1)", tips=_NODES_SPECIAL)
def latency_doctor(client: "Client", argv: Argv) -> Reply:
    monitor = client.server.latency
    if not monitor.threshold:
        return Verbatim(
            "I'm sorry, Dave, I can't do that. Latency monitoring is disabled in this Redis instance. "
            "You may use \"CONFIG SET latency-monitor-threshold <milliseconds>.\" in order to enable it. "
            "If we weren't in a deep space mission I'd suggest to take a look at "
            "https://redis.io/topics/latency-monitor.\n")
    if not monitor.events:
        return Verbatim("Dave, no latency spike was observed during the lifetime of this Redis instance, "
                        "not in the slightest bit. I honestly think you ought to sleep in the night.\n")
    text = ["Dave, I have observed latency spikes in this Redis instance. You don't mind talking about "
            "it, do you Dave?", ""]
    for i, (name, (samples, most)) in enumerate(monitor.events.items(), 1):
        values = [ms for _, ms in samples]
        avg = sum(values) // len(values)
        dev = sum(abs(v - avg) for v in values) // len(values)
        text.append(f"{i}. {name}: {len(values)} latency spikes (average {avg}ms, mean deviation {dev}ms, "
                    f"period {_period(samples):.2f} sec). Worst all time event {most}ms.")
    return Verbatim("\n".join(text) + "\n")


def _period(samples) -> float:
    if len(samples) < 2:
        return 1.0
    return (samples[-1][0] - samples[0][0]) / (len(samples) - 1) or 1.0


@command("latency|histogram", -2, _LATENCY, group="server", summary="Return the cumulative "
         "distribution of latencies of a subset of commands or all.", since="7.0.0",
         complexity="O(N) where N is the number of commands with latency information being retrieved.",
         arguments=("[command [command ...]]",), tips=_NODES_SPECIAL)
def latency_histogram(client: "Client", argv: Argv) -> Reply:
    """Per command: calls and the cumulative distribution of their durations (latency-tracking).
    A name given may be a subcommand (`client|id`); a container's name brings its subcommands
    along, as Redis's latencySpecificCommandsFillCDF; unknown names are skipped."""
    if len(argv) > 2:
        chosen = [cmd for cmd in (_lookup(a) for a in argv[2:]) if cmd is not None]
    else:
        chosen = sorted(all_commands().values(), key=lambda c: c.name)
    out = Map()
    for cmd in chosen:
        for each in (cmd, *cmd.subcommands.values()):
            hist = each.stats.histogram()
            if hist:
                out[each.name] = Map({"calls": sum(hist),
                                      "histogram_usec": Map(info.histogram_usec(hist))})
    return out


@command("time", 1, F.LOADING | F.STALE | F.FAST, group="server", summary="Return the current server time",
         since="2.6.0", complexity="O(1)",
         tips=("nondeterministic_output",))
def time_(client: "Client", argv: Argv) -> Reply:
    now = time.time_ns() // 1000
    return [b"%d" % (now // 1_000_000), b"%d" % (now % 1_000_000)]


@command("lastsave", 1, F.LOADING | F.STALE | F.FAST, group="server",
         acl=("@admin", "@dangerous"),
         summary="Get the UNIX time stamp of the last successful save to disk", complexity="O(1)",
         tips=("nondeterministic_output",))
def lastsave(client: "Client", argv: Argv) -> Reply:
    return client.server.lastsave


@command("shutdown", -1, F.ADMIN | F.NOSCRIPT | F.LOADING | F.STALE | F.NO_MULTI | F.SENTINEL | F.ALLOW_BUSY,
         group="server", summary="Synchronously save the dataset to disk and then shut down the server",
         complexity="O(N) when saving, where N is the total number of keys in all databases when "
         "saving data, otherwise O(1)", arguments=("[NOSAVE|SAVE]{nosave_save}",
                    "[NOW]{since=7.0.0}",
                    "[FORCE]{since=7.0.0}",
                    "[ABORT]{since=7.0.0}"),
         history=(("7.0.0", "Added the `NOW`, `FORCE` and `ABORT` modifiers."),))
def shutdown(client: "Client", argv: Argv) -> Reply:
    save = None
    for word in argv[1:]:
        opt = word.lower()
        if opt == b"nosave":
            save = False
        elif opt == b"save":
            save = True
        elif opt in (b"now", b"force"):
            pass
        elif opt == b"abort":
            raise CommandError(errors.NO_SHUTDOWN_IN_PROGRESS)
        else:
            raise CommandError(errors.SYNTAX)
    if save is not False and client.server.busy is not None:  # only NOSAVE stops a busy script
        raise CommandError(busy_error(client.server.busy.run))
    if not client.server.shutdown(save=save):
        raise CommandError(errors.SHUTDOWN_FAILED)
    client.closing = True
    return NO_REPLY


# -- CONFIG -----------------------------------------------------------------------------------------

container("config", "server", summary="A container for server configuration commands", since="2.0.0",
          complexity="Depends on subcommand.")

CONFIG_HELP = help_reply("config", [
    "GET <pattern>",
    "    Return parameters matching the glob-like <pattern> and their values.",
    "SET <directive> <value>",
    "    Set the configuration <directive> to <value>.",
    "RESETSTAT",
    "    Reset statistics reported by the INFO command.",
    "REWRITE",
    "    Rewrite the configuration file.",
])


@command("config|help", 2, F.LOADING | F.STALE, group="server",
         summary="Show helpful text about the different subcommands", since="5.0.0", complexity="O(1)")
def config_help(client: "Client", argv: Argv) -> Reply:
    return CONFIG_HELP


@command("config|get", -3, F.ADMIN | F.NOSCRIPT | F.LOADING | F.STALE, group="server",
         summary="Get the values of configuration parameters", since="2.0.0",
         complexity="O(N) when N is the number of configuration parameters provided",
         arguments=("(parameter) [(parameter) ...]",),
         history=(("7.0.0", "Added the ability to pass multiple pattern parameters in one call"),))
def config_get(client: "Client", argv: Argv) -> Reply:
    found = {}
    for pattern in argv[2:]:
        found.update(client.server.config.get(pattern.decode("utf-8", "surrogateescape")))
    return Map({k.encode(): v.encode("utf-8", "surrogateescape") for k, v in found.items()})


@command("config|set", -4, F.ADMIN | F.NOSCRIPT | F.LOADING | F.STALE, group="server",
         summary="Set configuration parameters to the given values", since="2.0.0",
         complexity="O(N) when N is the number of configuration parameters provided",
         arguments=("parameter value [parameter value ...]",),
         tips=("request_policy:all_nodes", "response_policy:all_succeeded"),
         history=(("7.0.0", "Added the ability to set multiple parameters in one call."),))
def config_set(client: "Client", argv: Argv) -> Reply:
    if len(argv) % 2:
        raise CommandError(errors.wrong_arity("config|set"))
    pairs = [(argv[i].decode("utf-8", "surrogateescape"), argv[i + 1].decode("utf-8", "surrogateescape"))
             for i in range(2, len(argv), 2)]
    server = client.server
    before = dict(server.config.values)
    try:
        changed = server.config.set_many(pairs)
    except ConfigError as exc:
        raise CommandError(exc.message) from None
    # Redis applies a setting only when its value changes: CONFIG SET port <the same> is OK.
    moved = [k for k in ("port", "bind") if k in changed and server.config[k] != before[k]]
    if moved and server.loop is not None:
        try:
            server.rebind(server.config["port"], server.config["bind"])
        except OSError:
            server.config.values.update({k: before[k] for k in changed})  # all or nothing, as Redis
            which = "bind" if "bind" in moved else "port"
            why = ("Failed to bind to specified addresses." if which == "bind"
                   else "Unable to listen on this port. Check server logs.")
            raise CommandError(errors.config_set_failed(which, why)) from None
    if "maxclients" in changed:
        why = server.maxclients_changed(before["maxclients"])
        if why is not None:
            server.config.values.update({k: before[k] for k in changed})
            raise CommandError(errors.config_set_failed("maxclients", why))
    if "maxmemory" in changed:
        server.memory_check()  # the very next write is refused (or allowed), as in Redis
    if "loglevel" in changed:
        log.set_level(server.config["loglevel"])
    if "requirepass" in changed:  # the default user's password (ACLUpdateDefaultUserPassword)
        server.acl.set_requirepass(server.config["requirepass"])
    if "notify-keyspace-events" in changed:
        server.events_changed()
    if {"maxmemory-policy", "lfu-log-factor", "lfu-decay-time"} & set(changed):
        server.policy_changed()
    if {"slowlog-log-slower-than", "slowlog-max-len", "latency-monitor-threshold",
            "latency-tracking"} & set(changed):
        server.slowlog_changed()
    if "tracking-table-max-keys" in changed:
        server.tracking.limit()
    if "client-output-buffer-limit" in changed:
        for other in server.clients.values():
            other.refresh_limited()
    if "proto-max-bulk-len" in changed:
        for other in server.clients.values():
            other.parser.max_bulk_len = server.config["proto-max-bulk-len"]
    server.persistence.config_changed(changed)
    return OK


@command("config|resetstat", 2, F.ADMIN | F.NOSCRIPT | F.LOADING | F.STALE, group="server",
         summary="Reset the stats returned by INFO", since="2.0.0", complexity="O(1)")
def config_resetstat(client: "Client", argv: Argv) -> Reply:
    server = client.server
    server.stats.reset()
    server.keyspace.hits = server.keyspace.misses = server.keyspace.expired_keys = 0
    server.keyspace.lazyfreed = 0
    server.error_counts.clear()
    for cmd in all_commands().values():
        for each in (cmd, *cmd.subcommands.values()):
            each.stats.reset()
    return OK


@command("config|rewrite", 2, F.ADMIN | F.NOSCRIPT | F.LOADING | F.STALE, group="server",
         summary="Rewrite the configuration file with the in memory configuration", since="2.8.0",
         complexity="O(1)")
def config_rewrite(client: "Client", argv: Argv) -> Reply:
    config = client.server.config
    if config.config_file is None:
        raise CommandError(errors.NO_CONFIG_FILE)
    try:
        users = () if config["aclfile"] else [line.decode("utf-8", "surrogateescape")
                                              for line in acl_list(client, argv)]
        config_rewrite_file(config, users)
    except OSError as exc:
        log.warning(f"CONFIG REWRITE failed: {exc.strerror}")
        raise CommandError(errors.config_rewrite_failed(exc.strerror)) from None
    log.notice("CONFIG REWRITE executed with success.")
    return OK


# -- COMMAND ----------------------------------------------------------------------------------------

def _key_spec_reply(spec) -> Map:
    """A KeySpec as COMMAND INFO shows it (Redis's addReplyCommandKeySpecs)."""
    fields = {}
    if spec.notes:
        fields["notes"] = spec.notes
    fields["flags"] = SetReply(Status(f) for f in spec.flags)  # RESP3 sets, as Redis sends them
    if spec.begin[0] == "index":
        begin = Map({"type": "index", "spec": Map({"index": spec.begin[1]})})
    elif spec.begin[0] == "unknown":
        begin = Map({"type": "unknown", "spec": Map()})
    else:
        begin = Map({"type": "keyword", "spec": Map({"keyword": spec.begin[1], "startfrom": spec.begin[2]})})
    if spec.find[0] == "range":
        find = Map({"type": "range", "spec": Map({
            "lastkey": spec.find[1], "keystep": spec.find[2], "limit": spec.find[3]})})
    elif spec.find[0] == "unknown":
        find = Map({"type": "unknown", "spec": Map()})
    else:
        find = Map({"type": "keynum", "spec": Map({
            "keynumidx": spec.find[1], "firstkey": spec.find[2], "keystep": spec.find[3]})})
    fields["begin_search"] = begin
    fields["find_keys"] = find
    return Map(fields)


def command_info(cmd) -> list:
    return [
        cmd.name,
        cmd.arity,
        SetReply(Status(f) for f in cmd.flag_names()),
        cmd.first_key,
        cmd.last_key,
        cmd.step,
        SetReply(Status(c) for c in cmd.acl_categories()),
        SetReply(cmd.tips),
        SetReply(_key_spec_reply(spec) for spec in cmd.key_specs),
        # an empty set where there are no subcommands, as Redis's addReplyCommandSubCommands
        [command_info(sub) for sub in cmd.subcommands.values()] if cmd.subcommands else SetReply(),
    ]


def _command(client: "Client", argv: Argv) -> Reply:
    return [command_info(cmd) for cmd in COMMANDS.values()]


container("command", "server", summary="Get array of Redis command details", since="2.8.13",
          flags=F.LOADING | F.STALE, handler=_command, arity=-1, acl=("@connection",),
          complexity="O(N) where N is the total number of Redis commands",
          tips=("nondeterministic_output_order",))

COMMAND_HELP = help_reply("command", [
    "(no subcommand)",
    "    Return details about all Redis commands.",
    "COUNT",
    "    Return the total number of commands in this Redis server.",
    "LIST",
    "    Return a list of all commands in this Redis server.",
    "INFO [<command-name> ...]",
    "    Return details about multiple Redis commands.",
    "    If no command names are given, documentation details for all",
    "    commands are returned.",
    "DOCS [<command-name> ...]",
    "    Return documentation details about multiple Redis commands.",
    "    If no command names are given, documentation details for all",
    "    commands are returned.",
    "GETKEYS <full-command>",
    "    Return the keys from a full Redis command.",
    "GETKEYSANDFLAGS <full-command>",
    "    Return the keys and the access flags from a full Redis command.",
])


@command("command|help", 2, F.LOADING | F.STALE, group="server", acl=("@connection",),
         summary="Show helpful text about the different subcommands", since="5.0.0", complexity="O(1)")
def command_help(client: "Client", argv: Argv) -> Reply:
    return COMMAND_HELP


@command("command|count", 2, F.LOADING | F.STALE, group="server", acl=("@connection",),
         summary="Get total number of Redis commands", since="2.8.13", complexity="O(1)")
def command_count(client: "Client", argv: Argv) -> Reply:
    return len(COMMANDS)


@command("command|list", -2, F.LOADING | F.STALE, group="server", acl=("@connection",),
         summary="Get an array of Redis command names", since="7.0.0",
         complexity="O(N) where N is the total number of Redis commands",
         arguments=("[FILTERBY (MODULE module-name|ACLCAT category|PATTERN pattern)]{filterby}",),
         tips=("nondeterministic_output_order",))
def command_list(client: "Client", argv: Argv) -> Reply:
    every = [c for cmd in COMMANDS.values() for c in (cmd, *cmd.subcommands.values())]
    names = [cmd.name for cmd in every]  # subcommands too ("config|get"), as Redis lists them
    if len(argv) == 2:
        return names
    if len(argv) != 5 or argv[2].lower() != b"filterby":
        raise CommandError(errors.SYNTAX)
    kind, value = argv[3].lower(), argv[4].decode("utf-8", "replace")
    if kind == b"module":
        return []
    if kind == b"aclcat":
        return [c.name for c in every if "@" + value.lower() in c.acl_categories()]
    if kind == b"pattern":
        from server.glob import glob_match

        return [n for n in names if glob_match(argv[4], n.encode(), nocase=True)]
    raise CommandError(errors.SYNTAX)


def _lookup(name: bytes):
    parts = name.lower().split(b"|", 1)
    cmd = COMMANDS.get(parts[0])
    if cmd is not None and len(parts) == 2:
        cmd = cmd.subcommands.get(parts[1])
    return cmd


@command("command|info", -2, F.LOADING | F.STALE, group="server", acl=("@connection",),
         summary="Get array of specific Redis command details, or all when no argument is given.",
         since="2.8.13", complexity="O(N) where N is the number of commands to look up",
         arguments=("[command-name [command-name ...]]",),
         tips=("nondeterministic_output_order",),
         history=(("7.0.0", "Allowed to be called with no argument to get info on all commands."),))
def command_info_(client: "Client", argv: Argv) -> Reply:
    if len(argv) == 2:
        return [command_info(cmd) for cmd in COMMANDS.values()]
    out = []
    for name in argv[2:]:
        cmd = _lookup(name)
        out.append(command_info(cmd) if cmd is not None else None)
    return out


@command("command|docs", -2, F.LOADING | F.STALE, group="server", acl=("@connection",),
         summary="Get array of specific Redis command documentation", since="7.0.0",
         complexity="O(N) where N is the number of commands to look up",
         arguments=("[command-name [command-name ...]]",),
         tips=("nondeterministic_output_order",))
def command_docs_(client: "Client", argv: Argv) -> Reply:
    if len(argv) == 2:
        return Map({cmd.name: command_docs(cmd) for cmd in COMMANDS.values()})
    out = Map()
    for name in argv[2:]:
        cmd = _lookup(name)
        if cmd is not None:
            out[cmd.name] = command_docs(cmd)
    return out


@command("command|getkeys", -4, F.LOADING | F.STALE, group="server", acl=("@connection",),
         summary="Extract keys given a full Redis command", since="2.8.13",
         complexity="O(N) where N is the number of arguments to the command",
         arguments=())
def command_getkeys(client: "Client", argv: Argv) -> Reply:
    target, specs = _keys_target(argv)
    cmd = _keys_command(target)
    if cmd.getkeys is not None:
        return [target[i] for i, _ in cmd.getkeys(target)]
    return [target[i] for spec in specs for i in spec.positions(target)]


@command("command|getkeysandflags", -4, F.LOADING | F.STALE, group="server", acl=("@connection",),
         summary="Extract keys and access flags given a full Redis command", since="7.0.0",
         complexity="O(N) where N is the number of arguments to the command",
         arguments=())
def command_getkeysandflags(client: "Client", argv: Argv) -> Reply:
    target, specs = _keys_target(argv)
    cmd = _keys_command(target)
    if cmd.getkeys is not None:
        return [[target[i], [Status(flag) for flag in flags]] for i, flags in cmd.getkeys(target)]
    return [[target[i], [Status(flag) for flag in _actual_flags(cmd, spec, target)]]
            for spec in specs for i in spec.positions(target)]


def _actual_flags(cmd, spec, target) -> tuple:
    """A spec marked variable_flags stands for flags its command works out from the line, as
    Redis's setGetKeys / bitfieldGetKeys do."""
    if "variable_flags" not in spec.flags:
        return spec.flags
    words = {w.lower() for w in target[2:]}
    if cmd.name == "set":
        return ("RW", "access", "update") if b"get" in words else ("OW", "update")
    if cmd.name == "bitfield":
        return ("RW", "access", "update") if words & {b"set", b"incrby"} else ("RO", "access")
    return tuple(f for f in spec.flags if f != "variable_flags")


def _keys_command(target):
    cmd = COMMANDS.get(target[0].lower())
    if cmd is not None and cmd.subcommands and len(target) >= 2:
        cmd = cmd.subcommands.get(target[1].lower())
    return cmd


def _keys_target(argv):
    """(the command line inside COMMAND GETKEYS[ANDFLAGS], the key specs that apply to it), with
    Redis's checks in its order: the command (a container's subcommand when one is named),
    whether it has keys at all, its arity, then whether the line holds its mandatory keys. A
    spec the line makes invalid (getKeysUsingKeySpecs's invalid_spec) voids them all."""
    target = argv[2:]
    cmd = _keys_command(target)
    if cmd is None:
        raise CommandError(errors.GETKEYS_INVALID_COMMAND)
    specs = [spec for spec in cmd.key_specs if "not_key" not in spec.flags]
    if not specs:  # doesCommandHaveKeys
        raise CommandError(errors.GETKEYS_NO_KEYS)
    if (cmd.arity > 0 and cmd.arity != len(target)) or len(target) < -cmd.arity:
        raise CommandError(errors.GETKEYS_BAD_ARITY)
    if any(spec_invalid(spec, target) for spec in cmd.key_specs):
        specs = []
    if not any(spec.positions(target) for spec in specs) and not cmd.flags & F.NO_MANDATORY_KEYS:
        raise CommandError(errors.GETKEYS_BAD_ARGUMENTS)
    return target, specs


# -- MODULE, REPLICAOF: features forkv does not have, answered as Redis 7.0 without them ------------

container("module", "server", summary="A container for module commands", since="4.0.0",
          complexity="Depends on subcommand.")

MODULE_HELP = help_reply("module", [
    "LIST",
    "    Return a list of loaded modules.",
    "LOAD <path> [<arg> ...]",
    "    Load a module library from <path>, passing to it any optional arguments.",
    "LOADEX <path> [[CONFIG NAME VALUE] [CONFIG NAME VALUE]] [ARGS ...]",
    "    Load a module library from <path>, while passing it module configurations and optional arguments.",
    "UNLOAD <name>",
    "    Unload a module.",
])
_MODULE_ADMIN = F.ADMIN | F.NOSCRIPT | F.NO_ASYNC_LOADING


def _module_allowed(client: "Client") -> None:
    """LOAD, LOADEX and UNLOAD are Redis's protected commands (enable-module-command)."""
    from server.commands.debug import debug_allowed

    if not debug_allowed(client, "enable-module-command"):
        raise CommandError(errors.MODULE_NOT_ALLOWED)


@command("module|help", 2, F.LOADING | F.STALE, group="server",
         summary="Show helpful text about the different subcommands", since="5.0.0", complexity="O(1)")
def module_help(client: "Client", argv: Argv) -> Reply:
    return MODULE_HELP


@command("module|list", 2, F.ADMIN | F.NOSCRIPT, group="server", acl=("@dangerous",),
         summary="List all modules loaded by the server", since="4.0.0",
         complexity="O(N) where N is the number of loaded modules.",
         tips=("nondeterministic_output_order",))
def module_list(client: "Client", argv: Argv) -> Reply:
    return []  # forkv loads no modules


@command("module|load", -3, _MODULE_ADMIN, group="server", acl=("@dangerous",),
         summary="Load a module", since="4.0.0", complexity="O(1)", arguments=("path", "[arg [arg ...]]"))
def module_load(client: "Client", argv: Argv) -> Reply:
    _module_allowed(client)
    raise CommandError(errors.MODULE_LOAD_FAILED)  # forkv cannot load Redis modules


@command("module|loadex", -3, _MODULE_ADMIN, group="server", acl=("@dangerous",),
         summary="Load a module with extended parameters", since="7.0.0", complexity="O(1)",
         arguments=("path", Documented("[CONFIG name value [CONFIG name value ...]]",
                                       arg("configs", "block", token="CONFIG", flags="optional multiple multiple_token",
                                           args=(arg("name", "string"), arg("value", "string")))),
                    Documented("[ARGS arg [arg ...]]", arg("args", "block", token="ARGS", flags="optional multiple",
                                       args=(arg("arg", "string"),)))))
def module_loadex(client: "Client", argv: Argv) -> Reply:
    _module_allowed(client)
    raise CommandError(errors.MODULE_LOAD_FAILED)


@command("module|unload", 3, _MODULE_ADMIN, group="server", acl=("@dangerous",),
         summary="Unload a module", since="4.0.0", complexity="O(1)", arguments=("name",))
def module_unload(client: "Client", argv: Argv) -> Reply:
    _module_allowed(client)
    raise CommandError(errors.MODULE_NO_SUCH)


def _replicaof(client: "Client", argv: Argv) -> Reply:
    """Redis's replicaofCommand: NO ONE on a master is a no-op OK. A master to follow is checked as
    Redis checks it (the port), then refused: forkv has no replication."""
    if argv[1].lower() == b"no" and argv[2].lower() == b"one":
        return OK
    try:
        port = int(argv[2])
    except ValueError:
        port = -1
    if argv[2] != str(port).encode() or not 0 <= port <= 65535:  # string2ll's canonical digits
        raise CommandError(errors.INVALID_MASTER_PORT)
    raise CommandError(errors.NO_REPLICATION)


_REPLICAOF_ARGS = (Documented("host port|NO ONE", arg("args", "oneof", args=(
    arg("host-port", "block", args=(arg("host", "string"), arg("port", "integer"))),
    arg("no-one", "block", args=(arg("no", "pure-token", token="NO"), arg("one", "pure-token", token="ONE")))))),)
_REPLICAOF_FLAGS = F.ADMIN | F.NOSCRIPT | F.STALE | F.NO_ASYNC_LOADING

command("replicaof", 3, _REPLICAOF_FLAGS, group="server", acl=("@dangerous",),
        summary="Make the server a replica of another instance, or promote it as master.", since="5.0.0",
        complexity="O(1)", arguments=_REPLICAOF_ARGS)(_replicaof)
command("slaveof", 3, _REPLICAOF_FLAGS, group="server", acl=("@dangerous",),
        summary="Make the server a replica of another instance, or promote it as master.", since="1.0.0",
        complexity="O(1)", arguments=_REPLICAOF_ARGS, doc_flags=("deprecated",), deprecated_since="5.0.0",
        replaced_by="`REPLICAOF`")(_replicaof)


# -- ACL: users and their permissions (server/acl.py) -------------------------------------------------

container("acl", "server", summary="A container for Access List Control commands ", since="6.0.0",  # sic
          complexity="Depends on subcommand.")

ACL_HELP = help_reply("acl", [
    "CAT [<category>]",
    "    List all commands that belong to <category>, or all command categories",
    "    when no category is specified.",
    "DELUSER <username> [<username> ...]",
    "    Delete a list of users.",
    "DRYRUN <username> <command> [<arg> ...]",
    "    Returns whether the user can execute the given command without executing the command.",
    "GETUSER <username>",
    "    Get the user's details.",
    "GENPASS [<bits>]",
    "    Generate a secure 256-bit user password. The optional `bits` argument can",
    "    be used to specify a different size.",
    "LIST",
    "    Show users details in config file format.",
    "LOAD",
    "    Reload users from the ACL file.",
    "LOG [<count> | RESET]",
    "    Show the ACL log entries.",
    "SAVE",
    "    Save the current config to the ACL file.",
    "SETUSER <username> <attribute> [<attribute> ...]",
    "    Create or modify a user with the specified attributes.",
    "USERS",
    "    List all the registered usernames.",
    "WHOAMI",
    "    Return the current connection username.",
])
_ACL = F.NOSCRIPT | F.LOADING | F.STALE
_ACL_ADMIN = F.ADMIN | _ACL
_ACL_USERS_N = "O(N). Where N is the number of configured users."
_ACL_HISTORY_62 = ("6.2.0", "Added Pub/Sub channel patterns.")


@command("acl|help", 2, F.LOADING | F.STALE, group="server",
         summary="Show helpful text about the different subcommands", since="6.0.0", complexity="O(1)")
def acl_help(client: "Client", argv: Argv) -> Reply:
    return ACL_HELP


@command("acl|cat", -2, _ACL, group="server", summary="List the ACL categories or the commands inside a "
         "category", since="6.0.0", complexity="O(1) since the categories and commands are a fixed set.",
         arguments=("[categoryname]",))
def acl_cat(client: "Client", argv: Argv) -> Reply:
    from server.acl import CATEGORIES

    if len(argv) == 2:
        return list(CATEGORIES)
    if len(argv) > 3:
        raise CommandError(errors.subcommand_syntax(argv[1], "acl"))
    name = argv[2].decode("latin-1").lower()
    if name not in CATEGORIES:
        raise CommandError(errors.acl_unknown_category(argv[2]))
    wanted = "@" + name
    return [each.name for cmd in COMMANDS.values() for each in (cmd, *cmd.subcommands.values())
            if wanted in each.acl_categories()]


@command("acl|whoami", 2, _ACL, group="server",
         summary="Return the name of the user associated to the current connection", since="6.0.0",
         complexity="O(1)")
def acl_whoami(client: "Client", argv: Argv) -> Reply:
    return client.user.name


@command("acl|users", 2, _ACL_ADMIN, group="server",
         summary="List the username of all the configured ACL rules", since="6.0.0", complexity=_ACL_USERS_N)
def acl_users(client: "Client", argv: Argv) -> Reply:
    return [u.name for u in client.server.acl.sorted_users()]


@command("acl|list", 2, _ACL_ADMIN, group="server",
         summary="List the current ACL rules in ACL config file format", since="6.0.0",
         complexity=_ACL_USERS_N)
def acl_list(client: "Client", argv: Argv) -> Reply:
    return [f"user {acl.text(u.name)} {u.describe()}".encode("utf-8", "surrogateescape")
            for u in client.server.acl.sorted_users()]


@command("acl|getuser", 3, _ACL_ADMIN, group="server", summary="Get the rules for a specific ACL user",
         since="6.0.0", complexity="O(N). Where N is the number of password, command and pattern rules "
         "that the user has.", arguments=("username",),
         history=(_ACL_HISTORY_62, ("7.0.0", "Added selectors and changed the format of key and channel "
                                             "patterns from a list to their rule representation.")))
def acl_getuser(client: "Client", argv: Argv) -> Reply:
    user = client.server.acl.users.get(bytes(argv[2]))
    if user is None:
        return None
    fields = {
        "flags": SetReply([name for flag, name in acl.USER_FLAG_NAMES if user.flags & flag]),
        "passwords": list(user.passwords),
    }
    fields.update(user.root.reply())
    fields["selectors"] = [Map(s.reply()) for s in user.selectors[1:]]
    return Map(fields)


@command("acl|deluser", -3, _ACL_ADMIN, group="server",
         summary="Remove the specified ACL users and the associated rules", since="6.0.0",
         complexity="O(1) amortized time considering the typical user.", arguments=("username [username ...]",))
def acl_deluser(client: "Client", argv: Argv) -> Reply:
    if acl.DEFAULT_USER in argv[2:]:
        raise CommandError(errors.ACL_DEFAULT_UNDELETABLE)
    users = client.server.acl.users
    gone = [users.pop(bytes(name)) for name in argv[2:] if bytes(name) in users]
    acl.drop_clients_of(client.server, gone, client)
    return len(gone)


@command("acl|dryrun", -4, _ACL_ADMIN, group="server",
         summary="Returns whether the user can execute the given command without executing the command.",
         since="7.0.0", complexity="O(1).", arguments=("username", "command", "[arg [arg ...]]"))
def acl_dryrun(client: "Client", argv: Argv) -> Reply:
    user = client.server.acl.users.get(bytes(argv[2]))
    if user is None:
        raise CommandError(errors.acl_unknown_user(argv[2]))
    target = argv[3:]
    cmd = COMMANDS.get(target[0].lower())
    if cmd is not None and cmd.subcommands and len(target) >= 2:
        cmd = cmd.subcommands.get(target[1].lower())
    if cmd is None:
        raise CommandError(errors.acl_unknown_command(target[0]))
    if not cmd.min_args <= len(target) <= cmd.max_args:
        raise CommandError(errors.wrong_arity(cmd.name))
    result, pos = user.check(cmd, target)
    if result == acl.DENIED_CMD:
        return f"This user has no permissions to run the '{cmd.name}' command".encode()
    if result == acl.DENIED_KEY:
        return b"This user has no permissions to access the '%s' key" % acl.text(target[pos]).encode(
            "utf-8", "surrogateescape")
    if result == acl.DENIED_CHANNEL:
        return b"This user has no permissions to access the '%s' channel" % acl.text(target[pos]).encode(
            "utf-8", "surrogateescape")
    return OK


@command("acl|genpass", -2, _ACL, group="server",
         summary="Generate a pseudorandom secure password to use for ACL users", since="6.0.0",
         complexity="O(1)", arguments=("[bits{:integer}]",))
def acl_genpass(client: "Client", argv: Argv) -> Reply:
    import os

    bits = 256
    if len(argv) == 3:
        bits = to_int(argv[2])
        if bits <= 0 or bits > 4096:
            raise CommandError(errors.ACL_GENPASS_BITS)
    elif len(argv) > 3:
        raise CommandError(errors.subcommand_syntax(argv[1], "acl"))
    chars = (bits + 3) // 4
    return os.urandom((chars + 1) // 2).hex()[:chars].encode()


@command("acl|log", -2, _ACL_ADMIN, group="server",
         summary="List latest events denied because of ACLs in place", since="6.0.0",
         complexity="O(N) with N being the number of entries shown.", arguments=("[count|RESET]{operation}",))
def acl_log(client: "Client", argv: Argv) -> Reply:
    log_ = client.server.acl_log
    count = 10
    if len(argv) == 3:
        if argv[2].lower() == b"reset":
            log_.reset()
            return OK
        count = to_int(argv[2])
    elif len(argv) > 3:
        raise CommandError(errors.subcommand_syntax(argv[1], "acl"))
    now = int(time.time() * 1000)
    return [Map({
        "count": entry[0],
        "reason": entry[1],
        "context": entry[2],
        "object": entry[3],
        "username": entry[4],
        "age-seconds": (now - entry[5]) / 1000,
        "client-info": entry[6],
    }) for entry in list(log_.entries)[:max(count, 0)]]


@command("acl|setuser", -3, _ACL_ADMIN, group="server",
         summary="Modify or create the rules for a specific ACL user", since="6.0.0",
         complexity="O(N). Where N is the number of rules provided.", arguments=("username", "[rule [rule ...]]"),
         history=(_ACL_HISTORY_62, ("7.0.0", "Added selectors and key based permissions.")))
def acl_setuser(client: "Client", argv: Argv) -> Reply:
    name = bytes(argv[2])
    if acl.has_spaces(name):
        raise CommandError(errors.ACL_USERNAME_SPACES)
    server = client.server
    before = server.acl.users.get(name)
    before = before.copy() if before is not None else None
    error, user = server.acl.set_user(name, [bytes(a) for a in argv[3:]])
    if error is not None:
        raise CommandError("ERR " + error.replace("\r", " ").replace("\n", " "))
    if before is not None:
        acl.kill_pubsub_clients(server, user, before, client)
    acl.refresh_clients(server)
    return OK


def _acl_load(client: "Client", argv: Argv) -> Reply:
    server = client.server
    path = server.config["aclfile"]
    if not path:
        raise CommandError(errors.ACL_NO_FILE)
    error, old = server.acl.load_file(path)
    if error is not None:
        raise CommandError("ERR " + error)
    acl.drop_clients_of(server, old, client)
    acl.refresh_clients(server)
    return OK


def _acl_save(client: "Client", argv: Argv) -> Reply:
    path = client.server.config["aclfile"]
    if not path:
        raise CommandError(errors.ACL_NO_FILE)
    if not client.server.acl.save_file(path):
        raise CommandError(errors.ACL_SAVE_FAILED)
    return OK


command("acl|load", 2, _ACL_ADMIN, group="server", summary="Reload the ACLs from the configured ACL file",
        since="6.0.0", complexity=_ACL_USERS_N)(_acl_load)
command("acl|save", 2, _ACL_ADMIN, group="server", summary="Save the current ACL rules in the configured "
        "ACL file", since="6.0.0", complexity=_ACL_USERS_N)(_acl_save)


# -- WAIT: no replica ever acknowledges -------------------------------------------------------------

@command("wait", 3, F.NOSCRIPT, group="generic", acl=("@connection", "-@keyspace"),
         summary="Wait for the synchronous replication of all the write commands sent in the context of "
         "the current connection", since="3.0.0", complexity="O(1)",
         arguments=("numreplicas{:integer}", "timeout{:integer}"),
         tips=("request_policy:all_shards", "response_policy:agg_min"))
def wait(client: "Client", argv: Argv) -> Reply:
    """Redis's waitCommand with no replicas: 0 acknowledgements, at once when that is enough (or
    the client may not block), else when the timeout (ms, 0: for ever) passes."""
    from server import blocking

    wanted = to_int(argv[1])
    timeout = to_int(argv[2], errors.TIMEOUT_NOT_INTEGER)
    if timeout < 0:
        raise CommandError(errors.TIMEOUT_NEGATIVE)
    if wanted <= 0 or not blocking.may_block(client):
        return 0
    deadline = client.server.keyspace.clock() + timeout if timeout > 0 else None
    blocking.block(client, [], deadline, None, timeout_reply=0)
    return NO_REPLY
