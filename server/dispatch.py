"""Dispatch: one command from a client -> checks from the command table -> handler -> reply bytes.

The checks run in Redis 7.0's processCommand order: unknown command, arity, authentication,
MISCONF (writes refused after a failed background save), MULTI queueing; only then the handler.
Handlers never recount arguments and never see a client that may not run them.
"""

from protocol.reply import Encoded, ErrorReply, Status, encode_error, encode_reply
from server import errors
from server.errors import CommandError
from server.table import COMMANDS

QUEUED = Status("QUEUED")


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


# Command names exactly as clients send them ("SET", "set", "Set") -> Command, filled on first use
# so the hot path is one dict lookup with no lower(). Bounded: odd spellings stop being cached.
_BY_SPELLING = {}
_BY_SPELLING_MAX = 4096


def execute(client, argv, out: list) -> None:
    """Run one command for `client` and append its encoded reply to `out`."""
    cmd = _BY_SPELLING.get(argv[0])  # never holds containers: their subcommand decides
    if cmd is None:
        try:
            cmd = resolve(argv)
        except CommandError as exc:
            if client.multi is not None:
                client.multi_error = True
            out.append(encode_error(exc.message))
            return
        if not cmd.subcommands and "|" not in cmd.name and len(_BY_SPELLING) < _BY_SPELLING_MAX:
            _BY_SPELLING[argv[0]] = cmd
    else:
        n = len(argv)
        if n < cmd.min_args or n > cmd.max_args:
            if client.multi is not None:
                client.multi_error = True
            out.append(encode_error(errors.wrong_arity(cmd.name)))
            return
    if not client.authenticated and not cmd.no_auth:
        if client.multi is not None:
            client.multi_error = True
        out.append(_NOAUTH)
        return
    server = client.server
    if server.refuse_writes and (cmd.is_write or cmd.name == "ping"):
        if client.multi is not None:
            client.multi_error = True
        out.append(_MISCONF)
        return
    if client.multi is not None and not cmd.no_queue:
        if cmd.no_multi:
            client.multi_error = True
            out.append(_NOT_IN_MULTI)
            return
        client.multi.append((cmd, argv))
        out.append(b"+QUEUED\r\n")
        return
    server.stats.commands += 1
    client.last_command = cmd
    try:
        reply = cmd.handler(client, argv)
    except CommandError as exc:
        out.append(encode_error(exc.message))
        return
    kind = type(reply)
    if kind is Encoded:
        out.append(reply)
    elif kind is bytes:
        out.append(b"$%d\r\n%b\r\n" % (len(reply), reply))
    elif kind is int:
        out.append(b":%d\r\n" % reply)
    else:
        encode_reply(reply, out, client.proto)


def call(client, cmd, argv):
    """Invoke a handler for EXEC; a CommandError becomes an error reply."""
    client.server.stats.commands += 1
    client.last_command = cmd
    try:
        return cmd.handler(client, argv)
    except CommandError as exc:
        return ErrorReply(exc.message)


_NOAUTH = encode_error(errors.NOAUTH)
_MISCONF = encode_error(errors.MISCONF)
_NOT_IN_MULTI = encode_error(errors.COMMAND_NOT_ALLOWED_IN_MULTI)

