"""Client-side caching: CLIENT TRACKING's tables and invalidation messages (Redis's tracking.c).

Default mode: the keys a tracking client reads (the keys of every read-only command it runs, by
the command's key specs) go in one table, key -> the ids of the clients that may cache it; the
first write to such a key (the key-event bus, Keyspace.signal_modified) sends each of them an
invalidation and forgets the key. BCAST mode: a client registers prefixes instead; every key
written that starts with one of them is collected per prefix and sent, batched, from the
server's once-per-iteration hook. OPTIN/OPTOUT make the default mode track only after CLIENT
CACHING YES / unless CLIENT CACHING NO; NOLOOP leaves out the client's own writes.

An invalidation goes to the tracking client itself as a RESP3 push (`invalidate`, keys), or to
its REDIRECT client: as a push if that one speaks RESP3, as a `__redis__:invalidate` message if
it is a RESP2 client in subscribed mode; nothing can reach a RESP2 client without a redirect. A
client invalidated while it runs the very command that wrote the key gets the message after that
command's reply (Redis 7.0 defers it the same way). FLUSHDB and FLUSHALL send a null
invalidation to every tracking client.

It must not: decide which commands read or write (dispatch and the keyspace say so).
"""

from protocol.reply import Push, encode_reply
from server.table import Flag

INVALIDATE_CHANNEL = b"__redis__:invalidate"


class TrackingState:
    """One client's CLIENT TRACKING options."""

    __slots__ = ("redirect", "bcast", "optin", "optout", "noloop", "prefixes", "caching",
                 "broken", "pending", "script_read")

    def __init__(self):
        self.redirect = 0  # client id, 0 for none
        self.bcast = False
        self.optin = False
        self.optout = False
        self.noloop = False
        self.prefixes = []  # bytes, BCAST only
        self.caching = None  # CLIENT CACHING YES (True) / NO (False) for the next command only
        self.broken = False  # the redirect client went away
        self.pending = []  # invalidations for this client, sent after its current command
        self.script_read = False  # its running script called a read-only command


class Tracking:
    __slots__ = ("server", "table", "items", "prefixes", "bcast_keys", "clients", "expiring")

    def __init__(self, server):
        self.server = server
        self.table = {}  # key -> {client id: None}
        self.items = 0  # sum of the table's client sets (INFO tracking_total_items)
        self.prefixes = {}  # prefix -> {client: None} (BCAST)
        self.bcast_keys = {}  # prefix -> {key: writer client or None}, to send from before_sleep
        self.clients = 0  # clients with tracking on
        self.expiring = False  # the key being invalidated expired: no client wrote it

    # -- turning it on and off ----------------------------------------------------------------

    def enable(self, client, state: TrackingState) -> None:
        if client.tracking is None:
            self.clients += 1
            self.server.keyspace.observers_changed()
        else:
            self._drop_prefixes(client)
        client.tracking = state
        for prefix in state.prefixes if state.bcast else ():
            self.prefixes.setdefault(prefix, {})[client] = None
        if state.bcast and not state.prefixes:
            self.prefixes.setdefault(b"", {})[client] = None
        client.refresh_guard()

    def disable(self, client) -> None:
        """CLIENT TRACKING OFF, RESET, disconnection. Keys in the table that name this client are
        left to be dropped lazily, as Redis does."""
        if client.tracking is None:
            return
        self._drop_prefixes(client)
        client.tracking = None
        self.clients -= 1
        self.server.keyspace.observers_changed()
        client.refresh_guard()

    def _drop_prefixes(self, client) -> None:
        state = client.tracking
        if not state.bcast:
            return
        for prefix in state.prefixes or [b""]:
            listeners = self.prefixes.get(prefix)
            if listeners is not None:
                listeners.pop(client, None)
                if not listeners:
                    del self.prefixes[prefix]
                    self.bcast_keys.pop(prefix, None)

    # -- reads ------------------------------------------------------------------------------------

    def after_command(self, client, cmd, argv) -> None:
        """After any command of a tracking client: remember the keys of a read-only command (in
        default mode, unless OPTIN/OPTOUT say otherwise), forget CLIENT CACHING's one-command
        flag, and send what was deferred for this client."""
        state = client.tracking
        if client.in_script:
            # A script that reads tracks the keys it declared (Redis remembers the keys of the
            # caller's EVAL/FCALL), not those of the commands it calls: after it.
            if cmd.flags & _READONLY:
                state.script_read = True
            return
        # A read-only script is not a read itself: only the commands it calls count.
        if ((cmd.flags & _READONLY and cmd.name not in _RO_SCRIPTS) or state.script_read) and not state.bcast:
            if (not state.optin or state.caching is True) and (not state.optout or state.caching is not False):
                self.remember(client, [argv[i] for i in cmd.key_positions(argv)])
        state.script_read = False
        if cmd.name != "client|caching":
            state.caching = None

    def remember(self, client, keys) -> None:
        table = self.table
        cid = client.id
        for key in keys:
            ids = table.get(key)
            if ids is None:
                ids = table[key] = {}
            if cid not in ids:
                ids[cid] = None
                self.items += 1
        self.limit()

    def limit(self) -> None:
        """Keep the table within tracking-table-max-keys: evict the oldest keys, invalidating
        them (after a CONFIG SET lowers it, too)."""
        table = self.table
        limit = self.server.config["tracking-table-max-keys"]
        while limit and len(table) > limit:
            self.invalidate(next(iter(table)), evicting=True)

    # -- writes -----------------------------------------------------------------------------------

    def invalidate(self, key: bytes, evicting: bool = False) -> None:
        """`key` was written (or leaves the table): tell every client that may cache it."""
        ids = self.table.pop(key, None)
        if ids is not None:
            self.items -= len(ids)
            clients = self.server.clients
            for cid in ids:
                client = clients.get(cid)
                state = None if client is None else client.tracking
                if state is None or state.bcast:
                    continue
                if state.noloop and client.out is not None and not evicting:  # its own write
                    continue
                if client.out is not None and not evicting:  # running the writing command: after it
                    state.pending.append(key)
                    continue
                self.send(client, [key])
        if self.prefixes:
            for prefix, listeners in self.prefixes.items():
                if key.startswith(prefix):
                    writer = None if self.expiring else next((c for c in listeners if c.out is not None), None)
                    self.bcast_keys.setdefault(prefix, {})[key] = writer
            if self.bcast_keys:
                self.server.schedule_before_sleep()

    def flush_pending(self, client) -> None:
        """After the client's command: one message per key it invalidated for itself (None:
        a flush), as Redis's trackingHandlePendingKeyInvalidations."""
        state = client.tracking
        if state is not None and state.pending:
            pending, state.pending = state.pending, []
            for key in pending:
                self.send(client, None if key is None else [key])

    def flushed(self) -> None:
        """FLUSHDB / FLUSHALL: a null invalidation to every tracking client (the one flushing
        gets it after its reply)."""
        for client in list(self.server.clients.values()):
            state = client.tracking
            if state is not None:
                if client.out is not None:
                    state.pending.append(None)
                else:
                    self.send(client, None)

    def forget_all(self) -> None:
        """FLUSHALL also empties the table (Redis reclaims it)."""
        self.table.clear()
        self.items = 0

    def broadcast(self) -> None:
        """From before_sleep: each BCAST client gets, per prefix it registered, the keys written
        under it since the last iteration (its own left out with NOLOOP), sorted as Redis's rax."""
        pending, self.bcast_keys = self.bcast_keys, {}
        for prefix in sorted(pending):
            written = pending[prefix]
            for client in list(self.prefixes.get(prefix, ())):
                state = client.tracking
                keys = sorted(k for k, writer in written.items() if not (state.noloop and writer is client))
                if keys:
                    self.send(client, keys)

    def send(self, client, keys) -> None:
        """One invalidation (`keys`: a list, or None for everything) for `client`, delivered to
        it or to its redirect client as Redis's sendTrackingMessage does."""
        state = client.tracking
        target = client
        if state.redirect:
            target = self.server.clients.get(state.redirect)
            if target is None:  # told each time, as Redis does
                state.broken = True
                if client.proto == 3:
                    _push(client, Push([b"tracking-redir-broken", state.redirect]))
                return
        if target.proto == 3:
            _push(target, Push([b"invalidate", keys]))
        elif state.redirect and target.subs is not None:
            _push(target, Push([b"message", INVALIDATE_CHANNEL, keys]))


def _push(client, message) -> None:
    out: list = []
    encode_reply(message, out, client.proto)
    client.send(b"".join(out))


def info(tracking: Tracking) -> list:
    return [("tracking_total_keys", len(tracking.table)), ("tracking_total_items", tracking.items),
            ("tracking_total_prefixes", len(tracking.prefixes))]



_READONLY = Flag.READONLY
_RO_SCRIPTS = frozenset(("eval_ro", "evalsha_ro", "fcall_ro"))
