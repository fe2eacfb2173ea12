"""Server commands: INFO, DBSIZE, FLUSHDB, FLUSHALL, TIME, LASTSAVE, SHUTDOWN, CONFIG, COMMAND."""

import time

from protocol.reply import Encoded, Map, SetReply, Status, Verbatim
from server import errors, info, log
from server.docs import command_docs
from server.config import ConfigError
from server.errors import CommandError
from server.table import COMMANDS, Flag, command, container

OK = Encoded(b"+OK\r\n")
F = Flag


@command("info", -1, F.LOADING | F.STALE | F.SENTINEL, group="server", acl=("@dangerous",),
         summary="Get information and statistics about the server", complexity="O(1)",
         arguments=("[section [section ...]]",))
def info_(client, argv):
    return Verbatim(info.render(client.server, [a.decode("utf-8", "replace") for a in argv[1:]]))


@command("dbsize", 1, F.READONLY | F.FAST, group="server", acl=("@keyspace",),
         summary="Return the number of keys in the selected database", complexity="O(1)")
def dbsize(client, argv):
    return client.db.size()


def _flush_mode(argv) -> None:
    if len(argv) > 2 or (len(argv) == 2 and argv[1].lower() not in (b"async", b"sync")):
        raise CommandError(errors.SYNTAX)


@command("flushdb", -1, F.WRITE, group="server", acl=("@keyspace", "@dangerous"), summary="Remove all keys from the current database",
         complexity="O(N) where N is the number of keys in the selected database",
         arguments=("[ASYNC|SYNC]",))
def flushdb(client, argv):
    _flush_mode(argv)
    ks = client.server.keyspace
    ks.dirty += client.db.flush()
    return OK


@command("flushall", -1, F.WRITE, group="server", acl=("@keyspace", "@dangerous"), summary="Remove all keys from all databases",
         complexity="O(N) where N is the total number of keys in all databases",
         arguments=("[ASYNC|SYNC]",))
def flushall(client, argv):
    _flush_mode(argv)
    server = client.server
    server.keyspace.dirty += server.keyspace.flushall()
    server.persistence.after_flushall()
    return OK


@command("time", 1, F.LOADING | F.STALE | F.FAST, group="server", summary="Return the current server time",
         since="2.6.0", complexity="O(1)")
def time_(client, argv):
    now = time.time_ns() // 1000
    return [b"%d" % (now // 1_000_000), b"%d" % (now % 1_000_000)]


@command("lastsave", 1, F.LOADING | F.STALE | F.FAST, group="server",
         acl=("@admin", "@dangerous"),
         summary="Get the UNIX time stamp of the last successful save to disk", complexity="O(1)")
def lastsave(client, argv):
    return client.server.lastsave


@command("shutdown", -1, F.ADMIN | F.NOSCRIPT | F.LOADING | F.STALE | F.NO_MULTI | F.SENTINEL | F.ALLOW_BUSY,
         group="server", summary="Synchronously save the dataset to disk and then shut down the server",
         complexity="O(N) when saving, where N is the total number of keys in all databases when "
         "saving data, otherwise O(1)", arguments=("[NOSAVE|SAVE]", "[NOW]", "[FORCE]", "[ABORT]"))
def shutdown(client, argv):
    save = None
    for arg in argv[1:]:
        opt = arg.lower()
        if opt == b"nosave":
            save = False
        elif opt == b"save":
            save = True
        elif opt in (b"now", b"force"):
            pass
        elif opt == b"abort":
            raise CommandError("ERR No shutdown in progress.")
        else:
            raise CommandError(errors.SYNTAX)
    if not client.server.shutdown(save=save):
        raise CommandError(errors.SHUTDOWN_FAILED)
    client.closing = True
    return Encoded(b"")


# -- CONFIG -----------------------------------------------------------------------------------------

container("config", "server", summary="A container for server configuration commands", since="2.0.0")

CONFIG_HELP = [
    "CONFIG <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
    "GET <pattern>",
    "    Return parameters matching the glob-like <pattern> and their values.",
    "SET <directive> <value>",
    "    Set the configuration <directive> to <value>.",
    "RESETSTAT",
    "    Reset statistics reported by the INFO command.",
    "REWRITE",
    "    Rewrite the configuration file.",
    "HELP",
    "    Prints this help.",
]


@command("config|help", 2, F.LOADING | F.STALE, group="server",
         summary="Show helpful text about the different subcommands", since="5.0.0", complexity="O(1)")
def config_help(client, argv):
    return [Status(line) for line in CONFIG_HELP]


@command("config|get", -3, F.ADMIN | F.NOSCRIPT | F.LOADING | F.STALE, group="server",
         summary="Get the values of configuration parameters", since="2.0.0",
         complexity="O(N) when N is the number of configuration parameters provided",
         arguments=("parameter [parameter ...]",))
def config_get(client, argv):
    found = {}
    for pattern in argv[2:]:
        found.update(client.server.config.get(pattern.decode("utf-8", "surrogateescape")))
    return Map({k.encode(): v.encode("utf-8", "surrogateescape") for k, v in found.items()})


@command("config|set", -4, F.ADMIN | F.NOSCRIPT | F.LOADING | F.STALE, group="server",
         summary="Set configuration parameters to the given values", since="2.0.0",
         complexity="O(N) when N is the number of configuration parameters provided",
         arguments=("parameter value [parameter value ...]",))
def config_set(client, argv):
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
    if ("port" in changed or "bind" in changed) and server.loop is not None:
        try:
            server.rebind(server.config["port"], server.config["bind"])
        except OSError:
            server.config.values.update({k: before[k] for k in changed})  # all or nothing, as Redis
            which = "bind" if "bind" in changed else "port"
            why = ("Failed to bind to specified addresses." if which == "bind"
                   else "Unable to listen on this port. Check server logs.")
            raise CommandError(f"ERR CONFIG SET failed (possibly related to argument '{which}') - {why}") from None
    if "loglevel" in changed:
        log.set_level(server.config["loglevel"])
    if "proto-max-bulk-len" in changed:
        for other in server.clients.values():
            other.parser.max_bulk_len = server.config["proto-max-bulk-len"]
    server.persistence.config_changed(changed)
    return OK


@command("config|resetstat", 2, F.ADMIN | F.NOSCRIPT | F.LOADING | F.STALE, group="server",
         summary="Reset the stats returned by INFO", since="2.0.0", complexity="O(1)")
def config_resetstat(client, argv):
    server = client.server
    server.stats.reset()
    server.keyspace.hits = server.keyspace.misses = server.keyspace.expired_keys = 0
    return OK


@command("config|rewrite", 2, F.ADMIN | F.NOSCRIPT | F.LOADING | F.STALE, group="server",
         summary="Rewrite the configuration file with the in memory configuration", since="2.8.0",
         complexity="O(1)")
def config_rewrite(client, argv):
    raise CommandError("ERR The server is running without a config file")


# -- COMMAND ----------------------------------------------------------------------------------------

def _key_specs(cmd) -> list:
    if not cmd.first_key:
        return []
    flags = ["RW", "access", "update"] if cmd.flags & F.WRITE else ["RO", "access"]
    last = cmd.last_key
    lastkey = last - cmd.first_key if last >= 0 else last
    return [Map({
        "flags": [Status(f) for f in flags],
        "begin_search": Map({"type": "index", "spec": Map({"index": cmd.first_key})}),
        "find_keys": Map({"type": "range", "spec": Map({
            "lastkey": lastkey, "keystep": cmd.step or 1, "limit": 0})}),
    })]


def command_info(cmd) -> list:
    return [
        cmd.name,
        cmd.arity,
        SetReply(Status(f) for f in cmd.flag_names()),
        cmd.first_key,
        cmd.last_key,
        cmd.step,
        SetReply(Status(c) for c in cmd.acl_categories()),
        [],
        _key_specs(cmd),
        [command_info(sub) for sub in cmd.subcommands.values()],
    ]


def _command(client, argv):
    return [command_info(cmd) for cmd in COMMANDS.values()]


container("command", "server", summary="Get array of Redis command details", since="2.8.13",
          flags=F.LOADING | F.STALE, handler=_command, arity=-1, acl=("@connection",),
          complexity="O(N) where N is the total number of Redis commands")

COMMAND_HELP = [
    "COMMAND <subcommand> [<arg> [value] [opt] ...]. Subcommands are:",
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
    "HELP",
    "    Prints this help.",
]


@command("command|help", 2, F.LOADING | F.STALE, group="server", acl=("@connection",),
         summary="Show helpful text about the different subcommands", since="5.0.0", complexity="O(1)")
def command_help(client, argv):
    return [Status(line) for line in COMMAND_HELP]


@command("command|count", 2, F.LOADING | F.STALE, group="server", acl=("@connection",),
         summary="Get total number of Redis commands", since="2.8.13", complexity="O(1)")
def command_count(client, argv):
    return len(COMMANDS)


@command("command|list", -2, F.LOADING | F.STALE, group="server", acl=("@connection",),
         summary="Get an array of Redis command names", since="7.0.0",
         complexity="O(N) where N is the total number of Redis commands",
         arguments=("[FILTERBY MODULE module-name|ACLCAT category|PATTERN pattern]",))
def command_list(client, argv):
    names = [cmd.name for cmd in COMMANDS.values()]
    if len(argv) == 2:
        return names
    if len(argv) != 5 or argv[2].lower() != b"filterby":
        raise CommandError(errors.SYNTAX)
    kind, value = argv[3].lower(), argv[4].decode("utf-8", "replace")
    if kind == b"module":
        return []
    if kind == b"aclcat":
        return [c.name for c in COMMANDS.values() if "@" + value.lower() in c.acl_categories()]
    if kind == b"pattern":
        from server.glob import glob_match

        return [n for n in names if glob_match(argv[4].lower(), n.encode())]
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
         arguments=("[command-name [command-name ...]]",))
def command_info_(client, argv):
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
         arguments=("[command-name [command-name ...]]",))
def command_docs_(client, argv):
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
         arguments=("command", "[arg [arg ...]]"))
def command_getkeys(client, argv):
    from server.dispatch import resolve

    target = argv[2:]
    try:
        cmd = resolve(target)
    except CommandError:
        if _lookup(target[0]) is None:
            raise CommandError("ERR Invalid command specified") from None
        raise CommandError("ERR Invalid number of arguments specified for command") from None
    positions = cmd.key_positions(target)
    if not positions:
        raise CommandError("ERR The command has no key arguments")
    return [target[i] for i in positions]
