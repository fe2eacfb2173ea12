"""Scripting commands: EVAL, EVALSHA, EVAL_RO, EVALSHA_RO and SCRIPT LOAD/EXISTS/FLUSH/KILL/DEBUG/HELP.

The handlers parse numkeys and find the script; server/scripting.py runs it. SCRIPT KILL reaches a
script only once it is past busy-reply-threshold, when server/busy.py serves the other clients.
"""

from typing import TYPE_CHECKING

from protocol.reply import Status, encoded
from server import busy, errors, scripting
from server.args import help_reply, to_int
from server.errors import CommandError
from server.table import NONE, Argv, Flag, KeySpec, Reply, command, container

if TYPE_CHECKING:
    from server.client import Client

F = Flag
OK = encoded(Status("OK"))
_EVAL_FLAGS = F.NOSCRIPT | F.STALE | F.SKIP_MONITOR | F.NO_MANDATORY_KEYS
_RW_NOTES = "We cannot tell how the keys will be used so we assume the worst, RW and UPDATE"
_RO_NOTES = "We cannot tell how the keys will be used so we assume the worst, RO and ACCESS"
_EVAL_ARGS = ("script numkeys [key [key ...]] [arg [arg ...]]",)
_EVALSHA_ARGS = ("sha1 numkeys [key [key ...]] [arg [arg ...]]",)


def _keys_and_args(argv: Argv, not_integer: str = errors.NOT_INTEGER):
    """EVAL's and FCALL's numkeys: (keys, args), with Redis's errors (`not_integer`: FCALL says
    its own words for a numkeys that is not a number)."""
    raw = argv[2]
    if raw == b"1":  # the usual numkeys: no to_int
        numkeys = 1
    elif raw == b"0":
        numkeys = 0
    else:
        numkeys = to_int(raw, not_integer)
    if numkeys > len(argv) - 3:
        raise CommandError(errors.NUMKEYS_TOO_BIG)
    if numkeys < 0:
        raise CommandError(errors.NUMKEYS_NEGATIVE)
    return argv[3:3 + numkeys], argv[3 + numkeys:]


def _feed_monitors(client: "Client", argv: Argv) -> None:
    """Redis feeds MONITOR with EVAL itself before it runs, so its commands come after it (EVAL
    is SKIP_MONITOR for the usual after-the-call feed). Callers may skip it for a client without
    a guard (Client.refresh_guard: any MONITOR sets every client's)."""
    if client.server.monitors:
        from server.dispatch import feed_monitors

        feed_monitors(client, _AS_MONITORED, argv)


class _Monitored:
    __slots__ = ("flags", "name")

    def __init__(self):
        self.flags = NONE
        self.name = "eval"


_AS_MONITORED = _Monitored()


def prepare_oom(server, flags) -> None:
    """Redis's OOM rules for a script about to run (flags: its shebang's, None without one), with
    used memory over maxmemory: a shebang naming neither allow-oom nor no-writes is refused
    (scriptPrepareForRun; dispatch has usually refused it already), and unless allow-oom is
    named its first DENYOOM redis.call before any write is refused (scriptVerifyOOM).
    Nothing to do when the client has no guard (so the server is not OOM: Server.oom sets
    every client's) and server.script_oom is already False: callers may skip it then."""
    if not server.oom:
        server.script_oom = False
    elif flags is None:
        server.script_oom = True
    elif "allow-oom" in flags:
        server.script_oom = False
    elif "no-writes" not in flags:
        raise CommandError(errors.SCRIPT_OOM)
    else:
        server.script_oom = True


def _eval(client: "Client", argv: Argv, read_only: bool) -> Reply:
    _feed_monitors(client, argv)
    keys, args = _keys_and_args(argv)
    engine = scripting.engine_for(client.server)
    script = engine.load(bytes(argv[1]))
    prepare_oom(client.server, script.flags)
    return engine.execute(client, script, keys, args, read_only)


def _evalsha(client: "Client", argv: Argv, read_only: bool) -> Reply:
    guarded = client.guarded  # without a guard: no MONITOR, not OOM (see prepare_oom)
    if guarded:
        _feed_monitors(client, argv)
    if len(argv[1]) != 40:  # Redis answers this before it looks at numkeys
        raise CommandError(errors.NOSCRIPT)
    keys, args = _keys_and_args(argv)
    server = client.server
    engine = server.scripting_engine
    if engine is None:
        engine = scripting.engine_for(server)
    script = engine.by_sha.get(argv[1])  # the SHA as loaded (lower case): no decoding
    if script is None:
        script = engine.scripts.get(bytes(argv[1]).decode("latin-1").lower())
        if script is None:
            raise CommandError(errors.NOSCRIPT)
    if guarded or server.script_oom:
        prepare_oom(server, script.flags)
    return engine.execute(client, script, keys, args, read_only)


def _specs(flags: str, notes: str = "") -> tuple:
    return (KeySpec(tuple(flags.split()), ("index", 2), ("keynum", 0, 1, 1), notes),)


@command("eval", -3, _EVAL_FLAGS, group="scripting", summary="Execute a Lua script server side",
         since="2.6.0", complexity="Depends on the script that is executed.", arguments=_EVAL_ARGS,
         key_specs=_specs("RW access update", _RW_NOTES))
def eval_(client: "Client", argv: Argv) -> Reply:
    return _eval(client, argv, False)


@command("evalsha", -3, _EVAL_FLAGS, group="scripting", summary="Execute a Lua script server side",
         since="2.6.0", complexity="Depends on the script that is executed.", arguments=_EVALSHA_ARGS,
         key_specs=_specs("RW access update"))
def evalsha(client: "Client", argv: Argv) -> Reply:
    return _evalsha(client, argv, False)


@command("eval_ro", -3, F.READONLY | _EVAL_FLAGS, group="scripting",
         summary="Execute a read-only Lua script server side", since="7.0.0",
         complexity="Depends on the script that is executed.", arguments=_EVAL_ARGS,
         key_specs=_specs("RO access", _RO_NOTES))
def eval_ro(client: "Client", argv: Argv) -> Reply:
    return _eval(client, argv, True)


@command("evalsha_ro", -3, F.READONLY | _EVAL_FLAGS, group="scripting",
         summary="Execute a read-only Lua script server side", since="7.0.0",
         complexity="Depends on the script that is executed.", arguments=_EVALSHA_ARGS,
         key_specs=_specs("RO access"))
def evalsha_ro(client: "Client", argv: Argv) -> Reply:
    return _evalsha(client, argv, True)


container("script", "scripting", summary="A container for Lua scripts management commands",
          since="2.6.0", complexity="Depends on subcommand.")


@command("script|load", 3, F.NOSCRIPT | F.STALE, group="scripting",
         summary="Load the specified Lua script into the script cache.", since="2.6.0",
         complexity="O(N) with N being the length in bytes of the script body.", arguments=("script",),
         tips=("request_policy:all_nodes", "response_policy:all_succeeded"))
def script_load(client: "Client", argv: Argv) -> Reply:
    return scripting.engine_for(client.server).load(bytes(argv[2])).sha.encode()


@command("script|exists", -3, F.NOSCRIPT, group="scripting",
         summary="Check existence of scripts in the script cache.", since="2.6.0",
         complexity="O(N) with N being the number of scripts to check (so checking a single script "
                    "is an O(1) operation).", arguments=("sha1 [sha1 ...]",),
         tips=("request_policy:all_shards", "response_policy:agg_logical_and"))
def script_exists(client: "Client", argv: Argv) -> Reply:
    server = client.server
    return [int(scripting.cached(server, sha.decode("latin-1").lower())) for sha in argv[2:]]


@command("script|flush", -2, F.NOSCRIPT, group="scripting",
         summary="Remove all the scripts from the script cache.", since="2.6.0",
         complexity="O(N) with N being the number of scripts in cache",
         arguments=("[ASYNC|SYNC]{since=6.2.0}",),
         tips=("request_policy:all_nodes", "response_policy:all_succeeded"),
         history=(("6.2.0", "Added the `ASYNC` and `SYNC` flushing mode modifiers."),))
def script_flush(client: "Client", argv: Argv) -> Reply:
    if len(argv) > 3 or (len(argv) == 3 and argv[2].lower() not in (b"sync", b"async")):
        raise CommandError(errors.SCRIPT_FLUSH_MODE)
    scripting.flush(client.server)
    return OK


@command("script|kill", 2, F.NOSCRIPT | F.ALLOW_BUSY, group="scripting",
         summary="Kill the script currently in execution.", since="2.6.0", complexity="O(1)",
         tips=("request_policy:all_shards", "response_policy:one_succeeded"))
def script_kill(client: "Client", argv: Argv) -> Reply:
    # Runs only while a script is past busy-reply-threshold (server/busy.py serves the other
    # clients then) or when none runs (NOTBUSY).
    busy.kill(client.server, True)
    return OK


@command("script|debug", 3, F.NOSCRIPT, group="scripting",
         summary="Set the debug mode for executed scripts.", since="3.2.0", complexity="O(1)",
         arguments=("YES|SYNC|NO{mode}",))
def script_debug(client: "Client", argv: Argv) -> Reply:
    if client.out:  # replies of this batch not yet written: Redis's clientHasPendingReplies
        raise CommandError(errors.SCRIPT_DEBUG_PIPELINE)
    mode = argv[2].lower()
    if mode == b"no":
        return OK
    if mode in (b"yes", b"sync"):
        raise CommandError(errors.SCRIPT_DEBUG_UNSUPPORTED)
    raise CommandError(errors.SCRIPT_DEBUG_MODE)


SCRIPT_HELP = help_reply("script", [
    "DEBUG (YES|SYNC|NO)",
    "    Set the debug mode for subsequent scripts executed.",
    "EXISTS <sha1> [<sha1> ...]",
    "    Return information about the existence of the scripts in the script cache.",
    "FLUSH [ASYNC|SYNC]",
    "    Flush the Lua scripts cache. Very dangerous on replicas.",
    "    When called without the optional mode argument, the behavior is determined by the",
    "    lazyfree-lazy-user-flush configuration directive. Valid modes are:",
    "    * ASYNC: Asynchronously flush the scripts cache.",
    "    * SYNC: Synchronously flush the scripts cache.",
    "KILL",
    "    Kill the currently executing Lua script.",
    "LOAD <script>",
    "    Load a script into the scripts cache without executing it.",
])


@command("script|help", 2, F.LOADING | F.STALE, group="scripting",
         summary="Show helpful text about the different subcommands", since="5.0.0", complexity="O(1)")
def script_help(client: "Client", argv: Argv) -> Reply:
    return SCRIPT_HELP
