"""Function commands: FCALL, FCALL_RO and FUNCTION LOAD/DELETE/FLUSH/LIST/DUMP/RESTORE/STATS/KILL/HELP.

The handlers parse arguments and shape replies; server/functions.py keeps the libraries and runs
the functions, persistence/rdb.py makes and reads DUMP payloads.
"""

import time
from typing import TYPE_CHECKING

from persistence import rdb
from protocol.reply import Map, SetReply, Status, encoded
from server import errors, functions
from server.args import help_reply
from server.commands.scripting import _RO_NOTES, _RW_NOTES, _feed_monitors, _keys_and_args, _specs, prepare_oom
from server.errors import CommandError
from server.glob import glob_match
from server.table import Argv, Flag, Reply, command, container

if TYPE_CHECKING:
    from server.client import Client

F = Flag
OK = encoded(Status("OK"))
_FCALL_FLAGS = F.NOSCRIPT | F.STALE | F.SKIP_MONITOR | F.NO_MANDATORY_KEYS
_FCALL_ARGS = ("function numkeys [key [key ...]] [arg [arg ...]]",)
_ALL_SHARDS = ("request_policy:all_shards", "response_policy:all_succeeded")


def _fcall(client: "Client", argv: Argv, read_only: bool) -> Reply:
    guarded = client.guarded  # without a guard: no MONITOR, not OOM (see prepare_oom)
    if guarded:
        _feed_monitors(client, argv)  # before the commands the function runs, as Redis (FCALL is SKIP_MONITOR)
    server = client.server
    registry = functions.registry_for(server)
    name = bytes(argv[1]).lower()  # function names are case-insensitive
    function = registry.current.functions.get(name)
    if function is None:
        raise CommandError(errors.FUNCTION_NOT_FOUND)
    keys, args = _keys_and_args(argv, errors.FUNCTION_BAD_NUMKEYS)
    if guarded or server.script_oom:
        prepare_oom(server, function.flags)
    return registry.call(client, argv, keys, args, read_only)


@command("fcall", -3, _FCALL_FLAGS, group="scripting", summary="Invoke a function", since="7.0.0",
         complexity="Depends on the function that is executed.", arguments=_FCALL_ARGS,
         key_specs=_specs("RW access update", _RW_NOTES))
def fcall(client: "Client", argv: Argv) -> Reply:
    return _fcall(client, argv, False)


@command("fcall_ro", -3, F.READONLY | _FCALL_FLAGS, group="scripting",
         summary="Invoke a read-only function", since="7.0.0",
         complexity="Depends on the function that is executed.", arguments=_FCALL_ARGS,
         key_specs=_specs("RO access", _RO_NOTES))
def fcall_ro(client: "Client", argv: Argv) -> Reply:
    return _fcall(client, argv, True)


container("function", "scripting", summary="A container for function commands", since="7.0.0",
          complexity="Depends on subcommand.")


@command("function|load", -3, F.WRITE | F.DENYOOM | F.NOSCRIPT, group="scripting",
         summary="Create a function with the given arguments (name, code, description)",
         since="7.0.0", complexity="O(1) (considering compilation time is redundant)",
         arguments=("[REPLACE] function-code",), tips=_ALL_SHARDS)
def function_load(client: "Client", argv: Argv) -> Reply:
    replace = False
    for arg in argv[2:-1]:
        if arg.lower() != b"replace":
            raise CommandError(errors.function_unknown_option(bytes(arg).decode("utf-8", "surrogateescape")))
        replace = True
    name = functions.registry_for(client.server).create(bytes(argv[-1]), replace)
    client.server.keyspace.dirty += 1
    return name


@command("function|delete", 3, F.WRITE | F.NOSCRIPT, group="scripting",
         summary="Delete a function by name", since="7.0.0", complexity="O(1)",
         arguments=("library-name",), tips=_ALL_SHARDS)
def function_delete(client: "Client", argv: Argv) -> Reply:
    functions.registry_for(client.server).delete(bytes(argv[2]))
    client.server.keyspace.dirty += 1
    return OK


@command("function|flush", -2, F.WRITE | F.NOSCRIPT, group="scripting",
         summary="Deleting all functions", since="7.0.0",
         complexity="O(N) where N is the number of functions deleted", arguments=("[ASYNC|SYNC]",),
         tips=_ALL_SHARDS)
def function_flush(client: "Client", argv: Argv) -> Reply:
    if len(argv) > 3:
        raise CommandError(errors.subcommand_syntax(argv[1], "function"))
    if len(argv) == 3 and argv[2].lower() not in (b"sync", b"async"):
        raise CommandError(errors.FUNCTION_FLUSH_MODE)
    functions.registry_for(client.server).flush()
    client.server.keyspace.dirty += 1
    return OK


@command("function|list", -2, F.NOSCRIPT, group="scripting",
         summary="List information about all the functions", since="7.0.0",
         complexity="O(N) where N is the number of functions",
         arguments=("[LIBRARYNAME library-name-pattern] [WITHCODE]",),
         tips=("nondeterministic_output_order",))
def function_list(client: "Client", argv: Argv) -> Reply:
    with_code = False
    pattern = None
    i = 2
    while i < len(argv):
        arg = argv[i]
        if not with_code and arg.lower() == b"withcode":
            with_code = True
        elif pattern is None and arg.lower() == b"libraryname":
            if i >= len(argv) - 1:
                raise CommandError(errors.FUNCTION_LIST_NO_NAME)
            i += 1
            pattern = bytes(argv[i])
        else:
            raise CommandError(errors.function_unknown_argument(bytes(arg).decode("utf-8", "surrogateescape")))
        i += 1
    out = []
    for library in functions.registry_for(client.server).current.libraries.values():
        if pattern is not None and not glob_match(pattern, library.name, True):
            continue
        entry = Map()
        entry[b"library_name"] = library.name
        entry[b"engine"] = functions.ENGINE_NAME.encode()
        entry[b"functions"] = [
            Map(((b"name", f.name), (b"description", f.description),
                 (b"flags", SetReply(Status(flag) for flag in f.flags))))
            for f in library.functions.values()
        ]
        if with_code:
            entry[b"library_code"] = library.code
        out.append(entry)
    return out


@command("function|dump", 2, F.NOSCRIPT, group="scripting",
         summary="Dump all functions into a serialized binary payload", since="7.0.0",
         complexity="O(N) where N is the number of functions")
def function_dump(client: "Client", argv: Argv) -> Reply:
    codes = functions.registry_for(client.server).codes()
    return rdb.dump_functions(codes, compression=client.server.config["rdbcompression"])


_POLICIES = {b"append": "append", b"replace": "replace", b"flush": "flush"}


@command("function|restore", -3, F.WRITE | F.DENYOOM | F.NOSCRIPT, group="scripting",
         summary="Restore all the functions on the given payload", since="7.0.0",
         complexity="O(N) where N is the number of functions on the payload",
         arguments=("serialized-value", "[FLUSH|APPEND|REPLACE]{policy}"), tips=_ALL_SHARDS)
def function_restore(client: "Client", argv: Argv) -> Reply:
    if len(argv) > 4:
        raise CommandError(errors.subcommand_syntax(argv[1], "function"))
    policy = "append"
    if len(argv) == 4:
        policy = _POLICIES.get(argv[3].lower())
        if policy is None:
            raise CommandError(errors.FUNCTION_RESTORE_POLICY)
    try:
        codes = rdb.load_functions(argv[2])
    except rdb.RDBError as exc:
        if exc.kind == "function":  # which field of a library record failed, in Redis's words
            raise CommandError("ERR " + exc.message) from None
        raise CommandError(_PAYLOAD_ERRORS.get(exc.kind, errors.FUNCTION_PAYLOAD_BAD)) from None
    registry = functions.registry_for(client.server)
    restored = registry.load_codes(codes)
    if policy == "flush":
        registry.current = restored
    else:
        registry.join(restored, policy == "replace")
    client.server.keyspace.dirty += 1
    return OK


_PAYLOAD_ERRORS = {"payload": errors.DUMP_PAYLOAD, "type": errors.FUNCTION_PAYLOAD_TYPE}


@command("function|stats", 2, F.NOSCRIPT | F.ALLOW_BUSY, group="scripting",
         summary="Return information about the function currently running (name, description, "
                 "duration)", since="7.0.0", complexity="O(1)",
         tips=("nondeterministic_output", "request_policy:all_shards", "response_policy:special"))
def function_stats(client: "Client", argv: Argv) -> Reply:
    registry = functions.registry_for(client.server)
    current = registry.current
    counts = Map(((b"libraries_count", len(current.libraries)),
                  (b"functions_count", len(current.functions))))
    running = None
    if registry.running is not None:  # seen only while a function is busy (past busy-reply-threshold)
        function, call_argv, started = registry.running
        running = Map(((b"name", function.name), (b"command", [bytes(a) for a in call_argv]),
                       (b"duration_ms", int((time.monotonic() - started) * 1000))))
    return Map(((b"running_script", running), (b"engines", Map(((functions.ENGINE_NAME.encode(), counts),)))))


@command("function|kill", 2, F.NOSCRIPT | F.ALLOW_BUSY, group="scripting",
         summary="Kill the function currently in execution.", since="7.0.0", complexity="O(1)",
         tips=("request_policy:all_shards", "response_policy:one_succeeded"))
def function_kill(client: "Client", argv: Argv) -> Reply:
    functions.kill(client)
    return OK


FUNCTION_HELP = help_reply("function", [
    "LOAD [REPLACE] <FUNCTION CODE>",
    "    Create a new library with the given library name and code.",
    "DELETE <LIBRARY NAME>",
    "    Delete the given library.",
    "LIST [LIBRARYNAME PATTERN] [WITHCODE]",
    "    Return general information on all the libraries:",
    "    * Library name",
    "    * The engine used to run the Library",
    "    * Library description",
    "    * Functions list",
    "    * Library code (if WITHCODE is given)",
    "    It also possible to get only function that matches a pattern using LIBRARYNAME argument.",
    "STATS",
    "    Return information about the current function running:",
    "    * Function name",
    "    * Command used to run the function",
    "    * Duration in MS that the function is running",
    "    If no function is running, return nil",
    "    In addition, returns a list of available engines.",
    "KILL",
    "    Kill the current running function.",
    "FLUSH [ASYNC|SYNC]",
    "    Delete all the libraries.",
    "    When called without the optional mode argument, the behavior is determined by the",
    "    lazyfree-lazy-user-flush configuration directive. Valid modes are:",
    "    * ASYNC: Asynchronously flush the libraries.",
    "    * SYNC: Synchronously flush the libraries.",
    "DUMP",
    "    Return a serialized payload representing the current libraries, can be restored using "
    "FUNCTION RESTORE command",
    "RESTORE <PAYLOAD> [FLUSH|APPEND|REPLACE]",
    "    Restore the libraries represented by the given payload, it is possible to give a restore "
    "policy to",
    "    control how to handle existing libraries (default APPEND):",
    "    * FLUSH: delete all existing libraries.",
    "    * APPEND: appends the restored libraries to the existing libraries. On collision, abort.",
    "    * REPLACE: appends the restored libraries to the existing libraries, On collision, replace "
    "the old",
    "      libraries with the new libraries (notice that even on this option there is a chance of "
    "failure",
    "      in case of functions name collision with another library).",
])


@command("function|help", 2, F.LOADING | F.STALE, group="scripting",
         summary="Show helpful text about the different subcommands", since="7.0.0",
         complexity="O(1)")
def function_help(client: "Client", argv: Argv) -> Reply:
    return FUNCTION_HELP
