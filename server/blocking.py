"""Clients blocked on keys (BLPOP & co. now; BZPOPMIN, BZMPOP and XREAD BLOCK reuse it).

A blocking command that finds nothing to serve calls `block(client, keys, deadline, retry)` and
returns NO_REPLY. The client is then `blocked`: both dispatch loops stop after that command and
keep the rest of its pipeline pending (as Redis stops processing a blocked client's query buffer).
The keyspace keeps `blocking`: (db index, key) -> the clients waiting on it, first come first
served. A write to such a key (the key-event bus, Keyspace.signal_modified) puts it on
`Keyspace.ready`; `serve_ready` then offers each ready key to its waiting clients in order, by
calling their `retry(client, key)`: a reply serves and unblocks the client, None leaves it
waiting (the key is empty or of another type: Redis 7.0 leaves such a client blocked). It runs
right after the command that made the keys ready (Redis's processCommand does so after call()), so
a pipeline such as `LPUSH k a` + `LLEN k` sees the element already taken; EXEC and scripts count as
one command. A deadline (unix ms, None for ever) answers the command's timeout reply (a null array
for lists, sorted sets and streams, as Redis's replyToBlockedClientTimedOut).

An unblocked client's pending commands run from the server's once-per-iteration hook
(Server.before_sleep, Redis's processUnblockedClients in beforeSleep), never inside another
client's command.

It must not: know what a command does with a key (the retry callback does), or write to a
transport except through Client.send.
"""

from protocol.reply import NULL_ARRAY, ErrorReply
from server import errors
from server.errors import CommandError


class Blocked:
    """Why and until when a client waits."""

    __slots__ = ("index", "keys", "retry", "timeout_reply", "timer", "postponed", "slow")

    def __init__(self, index: int, keys: list, retry, timeout_reply):
        self.index = index  # the database the keys are in
        self.keys = keys  # bytes keys, in the command's order, without repeats
        self.retry = retry  # (client, key) -> reply, or None to go on waiting
        self.timeout_reply = timeout_reply
        self.timer = None  # the loop's TimerHandle for the deadline, or None
        self.postponed = None  # CLIENT PAUSE: the command to run again once unpaused
        self.slow = None  # (arguments, µs): the slow log entry due when the client is answered


def may_block(client) -> bool:
    """Inside EXEC or a script a blocking command answers at once as if it timed out."""
    return not (client.in_exec or client.in_script)


def block(client, keys, deadline_ms, retry, timeout_reply=NULL_ARRAY) -> None:
    """Block `client` on `keys` (bytes) of its current database until `retry` serves it or
    `deadline_ms` (unix ms; None: no deadline) passes."""
    ks = client.server.keyspace
    index = client.db.index
    unique = list(dict.fromkeys(keys))
    state = Blocked(index, unique, retry, timeout_reply)
    for key in unique:
        waiting = ks.blocking.get((index, key))
        if waiting is None:
            waiting = ks.blocking[(index, key)] = {}
        waiting[client] = None  # a dict keeps arrival order and removes in O(1)
    client.blocked = state
    client.server.blocked_clients += 1
    ks.observers_changed()
    if deadline_ms is not None:
        loop = client.server.loop
        delay = max(0.0, (deadline_ms - ks.clock()) / 1000.0)
        state.timer = loop.call_at(loop.time() + delay, _timed_out, client, state)


def unblock(client, reply=None) -> None:
    """Stop waiting: forget the client's keys, cancel its deadline, send `reply` (a reply value,
    or None for nothing, when the connection is gone) and let its pending commands run."""
    state = client.blocked
    if state is None:
        return
    server = client.server
    ks = server.keyspace
    for key in state.keys:
        waiting = ks.blocking.get((state.index, key))
        if waiting is not None:
            waiting.pop(client, None)
            if not waiting:
                del ks.blocking[(state.index, key)]
    if state.timer is not None:
        state.timer.cancel()
    client.blocked = None
    server.blocked_clients -= 1  # postponed ones included, as Redis counts them
    ks.observers_changed()
    if reply is not None:
        if state.slow is not None:
            server.slowlog.add(client, *state.slow)
        client.send_reply(reply)
    server.resume_later(client)


def _timed_out(client, state) -> None:
    if client.blocked is state and not client.closing:
        unblock(client, state.timeout_reply)


def unblock_by_request(client, error: bool) -> bool:
    """CLIENT UNBLOCK: end the wait as a timeout would, or with Redis's UNBLOCKED error."""
    state = client.blocked
    if state is None or state.postponed is not None:  # a paused client is not Redis's to unblock
        return False
    unblock(client, ErrorReply(errors.UNBLOCKED) if error else state.timeout_reply)
    return True


def postpone(client, argv) -> None:
    """CLIENT PAUSE: hold `argv` (not run) and the rest of the client's pipeline until the
    pause ends (Redis's blockPostponeClient)."""
    state = Blocked(client.db.index, [], None, None)
    state.postponed = argv
    client.blocked = state
    client.server.blocked_clients += 1
    client.server.postponed.append(client)


def release_postponed(server) -> None:
    """The pause ended: each postponed client runs its held command first, then its pipeline,
    in the order they were postponed (from before_sleep)."""
    clients, server.postponed = server.postponed, []
    for client in clients:
        state = client.blocked
        if state is None or state.postponed is None:
            continue
        client.blocked = None
        server.blocked_clients -= 1
        if client.closing:
            continue
        rest = [] if client.pending is None else client.pending[0][client.pending[1]:]
        client.pending = ([state.postponed] + rest, 0)
        server.resume_later(client)


def serve_ready(ks) -> None:
    """Offer every ready key to the clients waiting on it, in the order they blocked. Serving
    one may make more keys ready (BLMOVE pushes to its destination): go on until none is."""
    while ks.ready:
        ready = ks.ready
        ks.ready = []
        ks.ready_set.clear()
        for slot in ready:
            waiting = ks.blocking.get(slot)
            if not waiting:
                continue
            key = slot[1]
            for client in list(waiting):
                state = client.blocked
                if state is None or client.closing or client not in waiting:
                    continue
                # The client runs its command again: as for any command it runs, what it causes
                # for itself (a tracking invalidation of BLMOVE's destination) follows its reply.
                client.out = []
                try:
                    reply = state.retry(client, key)
                except CommandError as exc:
                    reply = ErrorReply(exc.message)
                finally:
                    pushed, client.out = client.out, None
                for payload in pushed:
                    client.send(payload)
                if type(reply) is ErrorReply:  # XREADGROUP's group or key went: INFO errorstats
                    from server.dispatch import count_error  # dispatch imports this module
                    count_error(client.server, reply.message)
                if reply is not None:
                    unblock(client, reply)
                if client.tracking is not None:
                    client.server.tracking.flush_pending(client)
