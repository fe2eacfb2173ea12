"""Dispatch: one command from a client -> checks from the command table -> handler -> reply bytes.

The checks run in Redis 7.0's processCommand order: unknown command, arity, authentication,
OOM (DENYOOM commands refused while used memory > maxmemory: Server.oom, kept by the cron and
CONFIG SET), MISCONF (writes refused after a failed background save), RESP2's subscribed mode, CLIENT PAUSE
(the command and the rest of the pipeline wait), MULTI queueing; only then the handler.
Handlers never see a client that may not run them, and recount arguments only where Redis's arity
cannot say it (MSET's pairs, PING's one optional argument, CONFIG SET's pairs), with Redis's same
arity error. Handlers learn a value's Redis type from the keyspace's typed lookups and the value
registry (server/values.py), never from its Python class.
"""

import time
import traceback

from protocol.reply import Encoded, ErrorReply, encode_error, encode_reply
from server import acl, errors, log
from server.blocking import postpone, serve_ready
from server.busy import busy_error
from server.errors import CommandError
from server.log import sds_repr
from server.pubsub import is_push
from server.table import COMMANDS, Flag


def resolve(argv):
    """The Command for argv (a subcommand for containers), or raise CommandError like Redis."""
    cmd = COMMANDS.get(argv[0])
    if cmd is None:
        cmd = COMMANDS.get(argv[0].lower())
        if cmd is None:
            raise CommandError(errors.unknown_command(argv))
    if cmd.subcommands:
        if len(argv) >= 2:
            sub = cmd.subcommands.get(argv[1].lower())
            if sub is None:
                raise CommandError(errors.unknown_subcommand(argv[1], cmd.name))
            cmd = sub
        elif cmd.handler is None:
            raise CommandError(errors.wrong_arity(cmd.name))
    arity = cmd.arity
    if (arity > 0 and len(argv) != arity) or len(argv) < -arity:
        raise CommandError(errors.wrong_arity(cmd.name))
    return cmd


def _named(argv):
    """The Command argv names, whatever its arity; None if none. A container with an unknown
    subcommand names nothing, as Redis's lookupCommand (CLIENT LIST cmd=NULL, no commandstats)."""
    cmd = COMMANDS.get(argv[0].lower()) if argv and isinstance(argv[0], bytes) else None
    if cmd is not None and cmd.subcommands and len(argv) >= 2:
        return cmd.subcommands.get(argv[1].lower())
    return cmd


# Command names exactly as clients send them ("SET", "set", "Set") -> Command, filled on first use
# so the hot path is one dict lookup with no lower(). Bounded: odd spellings stop being cached.
_BY_SPELLING = {}
_BY_SPELLING_MAX = 4096
_ALWAYS_CHECKED = frozenset(("debug",))  # a check of its own in _admit (enable-debug-command)
# The same spellings for server/_fastpath.c: (command, handler, min_args, max_args), read without
# attribute lookups.
_FAST = {}


def execute(client, argv, out: list) -> None:
    """Run one command for `client` and append its encoded reply to `out`.

    The fast path serves a client with nothing to check (authenticated, not in MULTI, writes not
    refused: `client.guarded` is False) sending a command spelled as before with a valid arity;
    everything else goes through `_checked`, which runs Redis's checks in order. The caller counts
    the batch in `stats.commands`; a command that is not run takes itself off that count."""
    cmd = _BY_SPELLING.get(argv[0])  # never holds containers: their subcommand decides
    if cmd is None or client.guarded or not cmd.min_args <= len(argv) <= cmd.max_args:
        cmd = _checked(client, argv, out, cmd)
        if cmd is None:
            return
        # MONITOR and CLIENT REPLY keep every client guarded, so this is the only way in
        if client.server.monitors or client.reply_mode or client.tracking is not None or (
                cmd.name == "client|reply"):
            _observed(client, cmd, argv, out)
            return
    client.last_command = cmd
    started = _now_ns()
    try:
        reply = cmd.handler(client, argv)
    except CommandError as exc:
        out.append(command_failed(client, cmd, exc.message))
        _account(client, cmd, argv, started)
        return
    except Exception as exc:  # noqa: BLE001 - a bug in a handler must not cost the connection
        out.append(internal_error(client, argv, exc))
        return
    _account(client, cmd, argv, started)
    kind = type(reply)
    if kind is Encoded:
        out.append(reply)
    elif kind is bytes:
        out.append(b"$%d\r\n%b\r\n" % (len(reply), reply))
    elif kind is int:
        out.append(b":%d\r\n" % reply)
    else:
        encode_reply(reply, out, client.proto)
    ks = client.db.ks
    if ks.ready:  # the command wrote keys that clients wait on: serve them now, as Redis does
        serve_ready(ks)


def _observed(client, cmd, argv, out: list) -> None:
    """execute() for a command that MONITOR clients must see, whose reply CLIENT REPLY
    suppresses or whose keys CLIENT TRACKING remembers: the same call, then the monitors fed
    (after the call, as Redis 7.0's call() does, so SELECT shows its new database), the reply
    dropped if it must be, the keys read remembered and pending invalidations sent."""
    mark = len(out)
    client.last_command = cmd
    started = _now_ns()
    try:
        reply = cmd.handler(client, argv)
    except CommandError as exc:
        out.append(command_failed(client, cmd, exc.message))
        _account(client, cmd, argv, started)
    except Exception as exc:  # noqa: BLE001 - see execute
        out.append(internal_error(client, argv, exc))
    else:
        _account(client, cmd, argv, started)
        encode_reply(reply, out, client.proto)
    if client.server.monitors:
        feed_monitors(client, cmd, argv)
    if client.reply_mode:
        reply_mode_after(client, out, mark)
    if client.tracking is not None:
        tracking = client.server.tracking
        tracking.after_command(client, cmd, argv)
        tracking.flush_pending(client)  # its own writes' invalidations: after the reply
    ks = client.db.ks
    if ks.ready:
        serve_ready(ks)


# CLIENT REPLY modes (Client.reply_mode): replies sent; none; CLIENT REPLY SKIP just ran; skip
# this command's reply.
REPLY_ON, REPLY_OFF, REPLY_SKIP_NEXT, REPLY_SKIP = 0, 1, 2, 3


def reply_mode_after(client, out: list, mark: int) -> None:
    """After one command (run or refused) of a client whose replies CLIENT REPLY suppresses: drop
    what it answered (from `mark` on) and step the mode, as Redis's resetClient."""
    mode = client.reply_mode
    if mode == REPLY_OFF or mode == REPLY_SKIP:
        out[mark:] = [p for p in out[mark:] if is_push(p)]  # pub/sub's writes stay
    if mode == REPLY_SKIP:
        client.reply_mode = REPLY_ON
        client.refresh_guard()
    elif mode == REPLY_SKIP_NEXT:
        client.reply_mode = REPLY_SKIP


def feed_monitors(client, cmd, argv) -> None:
    """One line per command for the MONITOR clients (Redis's replicationFeedMonitors), unless
    the command is an administrative one; passwords are redacted as Redis redacts them."""
    if cmd.flags & (Flag.ADMIN | Flag.SKIP_MONITOR):
        return
    now = time.time()
    where = "lua" if client.in_script else client.addr
    args = _redacted(cmd.name, argv)
    line = "+%d.%06d [%d %s] %s\r\n" % (int(now), int(now * 1e6) % 1000000, client.db.index, where,
                                        " ".join(sds_repr(a) for a in args))
    payload = line.encode("utf-8", "surrogateescape")
    for monitor in list(client.server.monitors):
        monitor.send(payload)


def _redacted(name: str, argv):
    if name == "auth":
        return argv[:1] + [b"(redacted)"] * (len(argv) - 1)
    if name == "acl|setuser":  # the username and every rule (Redis's redactClientCommandArgument)
        return argv[:2] + [b"(redacted)"] * (len(argv) - 2)
    if name == "hello":
        shown = list(argv)
        for i in range(2, len(argv) - 2):
            if argv[i].lower() == b"auth":
                shown[i + 1] = shown[i + 2] = b"(redacted)"
        return shown
    if name == "migrate":  # AUTH password / AUTH2 username password, before KEYS
        shown = list(argv)
        i = 6
        while i < len(argv) and argv[i].lower() != b"keys":
            n = {b"auth": 1, b"auth2": 2}.get(argv[i].lower(), 0)
            shown[i + 1:i + 1 + n] = [b"(redacted)"] * len(shown[i + 1:i + 1 + n])
            i += n + 1
        return shown
    return argv


# -- accounting: INFO commandstats / errorstats and the slow log ---------------------------------

_now_ns = time.monotonic_ns


def _account(client, cmd, argv, started: int) -> None:
    """A command ran: its calls and microseconds (Redis's call()), and the slow log."""
    ns = _now_ns() - started
    cmd.stats.record(ns)
    usec = ns // 1000
    threshold = client.server.slowlog_threshold
    if 0 <= threshold <= usec:
        slow_command(client, cmd, argv, usec)


def slow_command(client, cmd, argv, usec: int) -> None:
    """A command at least as long as the slow log's or the latency monitor's threshold: an
    entry in the slow log and a latency sample, each by its own limit."""
    server = client.server
    limit = server.config["slowlog-log-slower-than"]
    if 0 <= limit <= usec and not cmd.flags & Flag.SKIP_SLOWLOG:
        blocked = client.blocked
        if blocked is not None and blocked.postponed is None:
            # logged once served or timed out, after what ran meanwhile (Redis's updateStatsOnUnblock)
            blocked.slow = (_redacted(cmd.name, list(argv)), usec)
        else:
            server.slowlog.add(client, _redacted(cmd.name, argv), usec)
    server.latency.add("fast-command" if cmd.flags & Flag.FAST else "command", usec // 1000)


def command_failed(client, cmd, message: str) -> bytes:
    """A handler raised CommandError: counted (failed_calls, errorstats) and encoded."""
    cmd.stats.failed += 1
    count_error(client.server, message)
    return encode_error(message)


def count_error(server, message: str) -> None:
    """One error reply, for INFO errorstats (by its code, the first word) and total_error_replies."""
    if type(message) is errors.Counted:
        return
    code = message.split(" ", 1)[0]
    counts = server.error_counts
    if code in counts or len(counts) < 128:  # Redis stops tracking new codes past 128
        counts[code] = counts.get(code, 0) + 1
    server.stats.error_replies += 1


# How many reply bytes a batch collects before it hands back to be written (as in _fastpath.c).
BATCH_OUT_BYTES = 65536


def run_batch_py(client, commands: list, out: list, start: int) -> int:
    """Run the commands of one read in order from `start`; stop after one that closes the
    connection or blocks the client (server/blocking.py), or once the replies collected pass
    BATCH_OUT_BYTES (so the caller writes them and
    consults flow control). Returns the index to go on from. The reference for
    server/_fastpath.c, which does the same with the hot path in C."""
    i = start
    seen = len(out)
    size = 0
    n = len(commands)
    while i < n:
        argv = commands[i]
        i += 1
        execute(client, argv, out)
        if client.closing or client.blocked is not None:
            break
        while seen < len(out):
            piece = out[seen]
            seen += 1
            if isinstance(piece, bytes):
                size += len(piece)
        if size >= BATCH_OUT_BYTES:
            break
    return i


def _checked(client, argv, out: list, cmd):
    """Redis's processCommand checks, in its order. Returns the command to run, or None after
    appending the rejection (or +QUEUED) to `out`."""
    cmd, reply = _admit(client, argv, cmd)
    if reply is None:
        return cmd
    client.server.stats.commands -= 1
    if not client.reply_mode:
        out.append(reply)
    else:
        mark = len(out)
        out.append(reply)
        reply_mode_after(client, out, mark)
    return None


def _admit(client, argv, cmd):
    """(command, None) if it may run now, else (command or None, the encoded reply instead)."""
    if cmd is None:
        try:
            cmd = resolve(argv)
        except CommandError as exc:
            # Redis's lastcmd is whatever the name looked up: NULL for an unknown command
            client.last_command = _named(argv)
            return _refuse(client, argv, encode_error(exc.message))
        if (not cmd.subcommands and "|" not in cmd.name and cmd.name not in _ALWAYS_CHECKED
                and len(_BY_SPELLING) < _BY_SPELLING_MAX):
            _BY_SPELLING[argv[0]] = cmd
            _FAST[argv[0]] = (cmd, cmd.handler, cmd.min_args, cmd.max_args, cmd.stats)
    elif not cmd.min_args <= len(argv) <= cmd.max_args:
        client.last_command = cmd
        return _refuse(client, argv, encode_error(errors.wrong_arity(cmd.name)))
    client.last_command = cmd  # CLIENT LIST's cmd= even if the command is then refused or held
    if not client.authenticated and not cmd.no_auth and client.server.acl.auth_required:
        return _refuse(client, argv, _NOAUTH)
    if cmd.name == "debug" and not debug_allowed(client):  # Redis's protected-command check
        return _refuse(client, argv, _DEBUG_NOT_ALLOWED)
    if not client.user.unrestricted and not (client.multi is not None and cmd.no_multi):
        denied = acl.check_client(client, cmd, argv)
        if denied is not None:
            return _refuse(client, argv, encode_error(acl.denied_message(cmd, denied[0])))
    if client.server.oom and client.server.busy is None and _denies_oom(client, cmd, argv):  # used memory > maxmemory
        # (not while a script is busy: Redis skips it inside a yielding command, and answers BUSY)
        return _refuse(client, argv, _OOM)
    if client.server.refuse_writes and (cmd.is_write or cmd.name == "ping"):
        return _refuse(client, argv, _MISCONF)
    if client.server.refuse_writes and _script_writes(client, cmd, argv, False):  # a shebang's flags
        return _refuse(client, argv, _MISCONF)
    if client.monitor and (cmd.is_write or cmd.flags & _KEYSPACE_FLAGS):
        return _refuse(client, argv, _MONITOR_KEYSPACE)
    if client.subs is not None and client.proto == 2 and cmd.name not in _SUBSCRIBED_MODE:
        return _refuse(client, argv, encode_error(errors.only_pubsub_allowed(cmd.name)))
    busy = client.server.busy
    if busy is not None and not cmd.flags & Flag.ALLOW_BUSY:  # a script past its threshold
        return _refuse(client, argv, encode_error(busy_error(busy.run)))
    paused = client.server.paused
    if paused and not client.monitor and (paused == PAUSE_ALL or _replicates(cmd, client, argv)):
        postpone(client, argv)  # CLIENT PAUSE: run later, with the rest of the pipeline
        return cmd, b""
    if client.multi is not None and not cmd.no_queue:
        if cmd.no_multi:
            client.multi_error = True
            return cmd, _NOT_IN_MULTI
        client.multi.append((cmd, argv))
        return cmd, _QUEUED
    return cmd, None


# CLIENT PAUSE modes (Server.paused): none, WRITE (what would replicate waits), ALL.
PAUSE_WRITE, PAUSE_ALL = 1, 2
_REPLICATING = Flag.WRITE | Flag.MAY_REPLICATE


def _replicates(cmd, client, argv) -> bool:
    """Whether a command would be propagated to replicas, which a WRITE pause holds: writes,
    MAY_REPLICATE commands, PUBLISH, and EXEC of a transaction holding any of them."""
    if cmd.flags & _REPLICATING or cmd.name in ("publish", "spublish") or _script_writes(client, cmd, argv, True):
        return True
    return cmd.name == "exec" and client.multi is not None and any(
        c.flags & _REPLICATING or c.name in ("publish", "spublish") or _script_writes(client, c, a, True)
        for c, a in client.multi)


def _script_writes(client, cmd, argv, for_pause: bool) -> bool:
    """EVAL & co.'s flags depend on their script's shebang (server/scripting.py's script_writes),
    FCALL's on its function's flags."""
    if cmd.group != "scripting":
        return False
    if cmd.name.startswith("fcall"):  # a function's flags (server/functions.py)
        from server.functions import function_writes

        return function_writes(client.server, cmd.name, argv, for_pause)
    if not cmd.name.startswith("eval"):
        return False
    from server.scripting import script_writes

    return script_writes(client.server, cmd.name, argv, for_pause)


# What a client inside MULTI may still send when used memory is over maxmemory.
_MULTI_UNDER_OOM = frozenset(("exec", "discard", "quit", "reset"))


def _denies_oom(client, cmd, argv) -> bool:
    """Redis 7.0's processCommand under maxmemory: DENYOOM commands are refused, scripts by their
    flags (a shebang without allow-oom or no-writes is DENYOOM), EXEC by what it queued, and
    inside MULTI everything but EXEC, DISCARD, QUIT and RESET (queuing takes memory too)."""
    if cmd.flags & Flag.DENYOOM or _script_denies_oom(client, cmd, argv):
        return True
    queue = client.multi
    if queue is None:
        return False
    if cmd.name != "exec":
        return cmd.name not in _MULTI_UNDER_OOM
    return any(c.flags & Flag.DENYOOM or _script_denies_oom(client, c, a) for c, a in queue)


def _script_denies_oom(client, cmd, argv) -> bool:
    """EVAL & co. and FCALL & co. are DENYOOM when their script has a shebang (a function always
    has flags) naming neither allow-oom nor no-writes (Redis's scriptFlagsToCmdFlags)."""
    if cmd.group != "scripting":
        return False
    if cmd.name.startswith("fcall"):
        from server.functions import function_flags

        flags = function_flags(client.server, argv)
    elif cmd.name.startswith("eval"):
        from server.scripting import _script_flags

        flags = _script_flags(client.server, cmd.name, argv)
    else:
        return False
    return flags is not None and "allow-oom" not in flags and "no-writes" not in flags


def _refuse(client, argv, reply: bytes):
    """A command refused before it runs flags an open transaction, as Redis's rejectCommand does;
    a refused EXEC ends the transaction with EXECABORT and the reason."""
    if reply[:1] == b"-":
        count_error(client.server, reply[1:-2].decode("utf-8", "surrogateescape"))
        if client.last_command is not None:
            client.last_command.stats.rejected += 1
    if client.multi is not None:
        client.multi_error = True
    if argv[0].lower() != b"exec":
        return None, reply
    reason = reply[1:-2].decode("utf-8", "surrogateescape")
    if reason.startswith("ERR "):  # Redis formats these reasons without the code
        reason = reason[4:]
    client.set_multi(None)
    client.unwatch()
    return None, encode_error(f"EXECABORT Transaction discarded because of: {reason}")


def call(client, cmd, argv):
    """Invoke a handler for EXEC; a CommandError becomes an error reply. The ACLs are checked
    again, as they may have changed since the command was queued."""
    if not client.user.unrestricted:
        denied = acl.check_client(client, cmd, argv, "multi")
        if denied is not None:
            message = errors.ACL_EXEC_DENIED + _EXEC_DENIED_REASONS[denied[0]]
            count_error(client.server, message)
            return ErrorReply(message)
    client.server.stats.commands += 1
    client.last_command = cmd
    started = _now_ns()
    try:
        return cmd.handler(client, argv)
    except CommandError as exc:
        count_error(client.server, exc.message)
        cmd.stats.failed += 1
        return ErrorReply(exc.message)
    except Exception as exc:  # noqa: BLE001 - see internal_error
        return ErrorReply(internal_error_message(argv, exc))
    finally:
        _account(client, cmd, argv, started)
        if client.server.monitors:
            feed_monitors(client, cmd, argv)
        if client.tracking is not None and cmd.flags & Flag.READONLY:
            state = client.tracking
            caching = state.caching
            client.server.tracking.after_command(client, cmd, argv)
            state.caching = caching  # CLIENT CACHING covers the whole transaction


def internal_error_message(argv, exc) -> str:
    """A handler raised something other than CommandError: a forkv bug. Log it with its traceback
    and give the client an error reply instead of dropping the connection."""
    name = argv[0].decode("utf-8", "replace") if argv and isinstance(argv[0], bytes) else "?"
    log.warning(f"Internal error running '{name}': {exc!r}\n" + "".join(traceback.format_exception(exc)))
    return errors.internal_error(name)


def internal_error(client, argv, exc) -> bytes:
    """internal_error_message, encoded (the C fast path calls this one)."""
    return encode_error(internal_error_message(argv, exc))


# What a RESP2 client may run while subscribed to anything (Redis's processCommand).
_SUBSCRIBED_MODE = frozenset(("ping", "subscribe", "ssubscribe", "unsubscribe", "sunsubscribe",
                              "psubscribe", "punsubscribe", "quit", "reset"))
_KEYSPACE_FLAGS = Flag.WRITE | Flag.READONLY | Flag.MAY_REPLICATE
_MONITOR_KEYSPACE = encode_error(errors.REPLICA_KEYSPACE)
_NOAUTH = encode_error(errors.NOAUTH)
_DEBUG_NOT_ALLOWED = encode_error(errors.DEBUG_NOT_ALLOWED)
_QUEUED = b"+QUEUED\r\n"
_EXEC_DENIED_REASONS = {acl.DENIED_CMD: "no permission to execute the command or subcommand",
                        acl.DENIED_KEY: "no permission to touch the specified keys",
                        acl.DENIED_CHANNEL: "no permission to access one of the channels used as arguments"}
_MISCONF = encode_error(errors.MISCONF)
_OOM = encode_error(errors.OOM)
_NOT_IN_MULTI = encode_error(errors.COMMAND_NOT_ALLOWED_IN_MULTI)


run_batch = run_batch_py


def set_accounting(usec: int, tracking: bool) -> None:
    """The slow-command threshold and latency-tracking changed (or the server started): tell
    the C loop too."""
    from server import table
    table.LATENCY_TRACKING[0] = tracking
    if run_batch is not run_batch_py:
        from server import _fastpath
        _fastpath.set_accounting(usec, slow_command, command_failed, tracking)


def debug_allowed(client) -> bool:
    from server.commands.debug import debug_allowed as allowed  # the command module decides
    return allowed(client)


def install_fast_path(client_class) -> None:
    """Use server/_fastpath.c for `run_batch` when it is built (server.client calls this once its
    Client class exists: the C loop reads that class's slots directly)."""
    global run_batch
    try:
        from server import _fastpath
    except ImportError:  # not built: the reference implementation does the same, slower
        return
    # Plain GET, SET, INCR, MGET, MSET and SETEX are done in C (see there); their handlers stay the
    # reference and serve every other case.
    from protocol.reply import Map, SetReply
    from server.commands.strings import OK, get, incr, mget, mset, set_, setex
    from server.config import NOTIFY_KEY_MISS
    from server.keyspace import Database, Keyspace

    _fastpath.configure(_FAST, execute, encode_reply, encode_error, CommandError, Encoded, client_class,
                        internal_error, get, set_, incr, Database, Keyspace, OK, mget, mset,
                        NOTIFY_KEY_MISS, SetReply, Map, setex)
    _fastpath.set_serve_ready(serve_ready)
    # PFADD of a dense HLL and PFCOUNT of a cached one (bench/NOTES.md, issue 9); the kernel is
    # server/_hll.c's, or None where hll.py's reference runs (protocol._loader.kernel).
    from server import hll
    from server.commands.hyperloglog import pfadd, pfcount
    _fastpath.configure_hll(pfadd, pfcount, hll._C)
    # XADD key * field value... onto a stream's tail node (issue 9), with persistence/_rdbload.c's
    # listpack encoders, or None where rdb.listpack_blob's Python reference runs (as chosen there).
    from protocol._loader import kernel
    from server.commands.streams import xadd
    from server.types import streams
    _fastpath.configure_streams(xadd, streams.Stream, streams.Node, streams._pending, streams._PENDING_CAP,
                                kernel("persistence._rdbload", "lp_kernel"))
    # Counters the C loop bumps natively: every command's stats become the C type.
    from server import table
    table.STATS_CLASS = _fastpath.CommandStats
    for cmd in table.all_commands().values():
        for each in (cmd, *cmd.subcommands.values()):
            old = each.stats
            each.stats = _fastpath.CommandStats()
            each.stats.calls, each.stats.usec = old.calls, old.usec
            each.stats.failed, each.stats.rejected = old.failed, old.rejected
    _fastpath.set_accounting(-1, slow_command, command_failed, True)
    run_batch = _fastpath.run_batch
