"""Transactions: MULTI, EXEC, DISCARD, WATCH, UNWATCH.

Queueing itself happens in dispatch (commands flagged NO_QUEUE run at once); EXEC replays the queue
through the same `call` as any command, so a queued command behaves exactly as it would alone.
"""

from typing import TYPE_CHECKING

from protocol.reply import NULL_ARRAY, Encoded, Status, encode_reply, encoded, frozen
from server import errors
from server.dispatch import call
from server.errors import CommandError
from server.table import KS, Argv, Flag, Reply, command

if TYPE_CHECKING:
    from server.client import Client

OK = encoded(Status("OK"))
F = Flag
_TX = F.NOSCRIPT | F.LOADING | F.STALE | F.FAST | F.ALLOW_BUSY | F.NO_QUEUE


@command("multi", 1, _TX, group="transactions", summary="Mark the start of a transaction block",
         since="1.2.0", complexity="O(1)")
def multi(client: "Client", argv: Argv) -> Reply:
    if client.multi is not None:
        raise CommandError(errors.MULTI_NESTED)
    client.set_multi([])
    return OK


@command("discard", 1, _TX, group="transactions", summary="Discard all commands issued after MULTI",
         since="2.0.0", complexity="O(N), when N is the number of queued commands")
def discard(client: "Client", argv: Argv) -> Reply:
    if client.multi is None:
        raise CommandError(errors.DISCARD_WITHOUT_MULTI)
    client.set_multi(None)
    client.unwatch()
    return OK


@command("exec", 1, F.NOSCRIPT | F.LOADING | F.STALE | F.SKIP_SLOWLOG | F.NO_QUEUE,
         group="transactions", summary="Execute all commands issued after MULTI", since="1.2.0",
         complexity="Depends on commands in the transaction")
def exec_(client: "Client", argv: Argv) -> Reply:
    if client.multi is None:
        raise CommandError(errors.EXEC_WITHOUT_MULTI)
    queued, failed, dirty = client.multi, client.multi_error, client.watch_dirty
    if not dirty and client.watched:
        dirty = client.server.keyspace.watch_expired(client)
    client.set_multi(None)
    client.unwatch()
    if failed:
        raise CommandError(errors.EXECABORT)
    if dirty:
        return NULL_ARRAY
    # Each reply is frozen as soon as its command ran: a later command in the transaction may
    # change a value (a bytearray) that an earlier reply refers to.
    replies = []
    out = client.out
    pushed = None  # {reply index: pushes written to the client itself before that reply}
    client.in_exec = True
    # Keys expire as of EXEC's start while its commands run (Redis's call() caches the time for
    # nested calls: keyIsExpired reads server.mstime), so a key cannot vanish in the middle of a
    # transaction, even after a DEBUG SLEEP in it.
    ks = client.server.keyspace
    clock = ks.clock
    started = clock()
    ks.clock = started.__index__ if type(started) is int else (lambda: started)
    try:
        for cmd, args in queued:
            mark = len(out) if out is not None else 0
            replies.append(frozen(call(client, cmd, args)))
            if out is not None and len(out) > mark:  # PUBLISH to itself (RESP3)
                if pushed is None:
                    pushed = {}
                pushed[len(replies) - 1] = out[mark:]
                del out[mark:]
    finally:
        ks.clock = clock
        client.in_exec = False
    if pushed is None:
        return replies
    # Redis 7.0 writes the array header first and each push as it happens: the pushes land
    # inside the array, before the reply of the command that caused them.
    wire = [b"*%d\r\n" % len(replies)]
    for i, reply in enumerate(replies):
        wire.extend(pushed.get(i, ()))
        encode_reply(reply, wire, client.proto)
    return Encoded(b"".join(wire), replies)


@command("watch", -2, F.NOSCRIPT | F.LOADING | F.STALE | F.FAST | F.ALLOW_BUSY | F.NO_QUEUE,
         keys=(1, -1, 1), group="transactions",
         summary="Watch the given keys to determine execution of the MULTI/EXEC block",
         since="2.2.0", complexity="O(1) for every key.",
         key_specs=(KS("RO", 1, lastkey=-1),),
         arguments=("key [key ...]",))
def watch(client: "Client", argv: Argv) -> Reply:
    if client.multi is not None:
        raise CommandError(errors.WATCH_IN_MULTI)
    keyspace, index = client.server.keyspace, client.db.index
    for key in argv[1:]:
        keyspace.watch(client, index, key)
    return OK


@command("unwatch", 1, F.NOSCRIPT | F.LOADING | F.STALE | F.FAST | F.ALLOW_BUSY, group="transactions",
         summary="Forget about all watched keys", since="2.2.0", complexity="O(1)")
def unwatch(client: "Client", argv: Argv) -> Reply:
    client.unwatch()
    return OK
