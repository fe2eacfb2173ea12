"""One client connection: an asyncio.Protocol that feeds the parser, dispatches, writes.

`data_received` is the whole hot path: parse every complete command in the read, run them in
order, and write their replies with one transport call per 64 KB or so. Flow control is the small
`_Flow` object: when the transport's write buffer is over its high-water mark, both reading and
the rest of the already-received pipeline wait until it drains, so a client that pipelines
without reading cannot grow the server's memory. A client whose class has an output buffer limit
is served as Redis serves it instead, and closed past the limit.
"""

import time
from time import monotonic as _monotonic

from protocol.parser import RequestParser
from protocol.reply import encode_error, encode_reply
from server import blocking, dispatch, log
from server.log import sds_repr


class Stats:
    """The server's counters for INFO stats (Server.stats). Defined here, beside the client that
    bumps most of them on every read, so that the compiled build makes it an extension type
    (client.pxd): `stats.commands += n` is then a struct field, not a generic lookup."""

    __slots__ = ("connections_received", "commands", "net_input_bytes", "net_output_bytes",
                 "rejected_connections", "total_forks", "latest_fork_usec", "ops_samples",
                 "error_replies")

    def __init__(self):
        self.connections_received = 0
        self.commands = 0
        self.net_input_bytes = 0
        self.net_output_bytes = 0
        self.rejected_connections = 0
        self.total_forks = 0
        self.latest_fork_usec = 0
        self.ops_samples = []  # (monotonic time, commands) for instantaneous_ops_per_sec
        self.error_replies = 0  # total_error_replies

    def reset(self):
        self.__init__()


class _Flow:
    """Write pressure pauses reading; once the buffer has drained, the client's pending commands
    run first and reading resumes only if they did not fill the buffer again."""

    __slots__ = ("transport", "paused", "reading")

    def __init__(self, transport):
        self.transport = transport
        self.paused = False  # the transport's write buffer is over its high-water mark
        self.reading = True

    def pause(self):
        self.paused = True
        self.stop_reading()

    def stop_reading(self):
        if self.reading:
            self.reading = False
            try:
                self.transport.pause_reading()
            except RuntimeError:
                pass

    def start_reading(self):
        if not self.reading and not self.paused:
            self.reading = True
            try:
                self.transport.resume_reading()
            except RuntimeError:
                pass


class Client:
    """An asyncio protocol (uvloop and asyncio only call its methods). Not a subclass of
    asyncio.Protocol, so that the compiled build can make it an extension type (client.pxd)."""

    __slots__ = ("server", "id", "transport", "flow", "parser", "db", "proto", "name", "lib_name",
                 "lib_ver", "authenticated", "multi", "multi_error", "in_exec", "watched",
                 "watch_dirty", "created", "last_interaction", "last_command", "addr", "laddr",
                 "closing", "fd", "no_evict", "no_touch", "guarded", "pending", "soft_since",
                 "blocked", "subs", "out", "monitor", "reply_mode", "in_script", "tracking",
                 "stats", "limited", "rb_size", "rb_peak", "rb_peak_reset", "user", "__weakref__")

    def __init__(self, server):
        self.server = server
        self.stats = server.stats  # the server's counters, one attribute load away per read
        self.id = 0
        self.transport = None
        self.flow = None
        self.parser = RequestParser(server.config["proto-max-bulk-len"])
        self.db = server.keyspace.dbs[0]
        self.proto = 2
        self.name = b""
        self.lib_name = b""
        self.lib_ver = b""
        self.user = server.acl.default  # an acl.User: the default until AUTH or HELLO AUTH
        self.authenticated = server.acl.starts_authenticated()
        self.multi = None  # list of queued (command, argv) inside MULTI: change with set_multi
        self.guarded = True  # dispatch must run its checks for this client (see refresh_guard)
        self.multi_error = False
        self.in_exec = False
        self.watched = set()  # (db index, key)
        self.watch_dirty = False
        self.created = time.monotonic()
        self.last_interaction = self.created
        self.last_command = None
        self.addr = "?"
        self.laddr = "?"
        self.closing = False
        self.fd = -1
        self.no_evict = False
        self.no_touch = False
        self.pending = None  # (commands, next index) left over while paused or blocked
        self.blocked = None  # a blocking.Blocked while the client waits on keys
        self.subs = None  # a pubsub.Subscriptions while subscribed to anything
        self.out = None  # the reply list of the batch being run, for send() to the client itself
        self.monitor = False  # MONITOR: sees every command, may not touch the keyspace
        self.reply_mode = 0  # CLIENT REPLY: dispatch.REPLY_ON / OFF / SKIP_NEXT / SKIP
        self.in_script = False  # running a Lua script (MONITOR shows its commands as "lua")
        self.tracking = None  # a tracking.TrackingState while CLIENT TRACKING is on
        self.soft_since = None  # when the output buffer went over its soft limit
        self.limited = False  # this client's class has an output buffer limit (refresh_limited)
        # Redis's static reply buffer as CLIENT LIST shows it (rbs, rbp): its size, resized by
        # the cron (resize_reply_buffer), and the most of it one batch of replies filled.
        self.rb_size = REPLY_CHUNK_BYTES
        self.rb_peak = REPLY_CHUNK_BYTES
        self.rb_peak_reset = 0  # unix ms; Redis starts it in seconds, so the first cron resets it
        self.refresh_limited()

    # -- asyncio.Protocol ------------------------------------------------------------------------

    def connection_made(self, transport):
        self.transport = transport
        self.flow = _Flow(transport)
        self.addr = _format_addr(transport.get_extra_info("peername"))
        self.laddr = _format_addr(transport.get_extra_info("sockname"))
        sock = transport.get_extra_info("socket")
        self.fd = sock.fileno() if sock is not None else -1
        if not self.server.accept(self):
            return
        self.parser.auth_required = not self.authenticated
        self.refresh_guard()

    def eof_received(self):
        return None  # asyncio.Protocol's default: the transport closes itself

    def data_received(self, data):
        # Compiled, Client is an extension type (client.pxd): `self.x` is a struct field, and so
        # are the fields of self.stats, self.parser and self.flow, which are typed there.
        # `self.parser` each time, not a local: compiled, the field is typed (client.pxd), so
        # take (cpdef) is a direct C call; a local would be an untyped object.
        self.stats.net_input_bytes += len(data)
        self.last_interaction = _monotonic()
        commands = self.parser.take(data)  # the usual read: complete requests, nothing left over
        if commands is None:
            commands = self.parser.feed_checked(data)
            limit = self.server.config.values["client-query-buffer-limit"]
            if self.parser.buffered(limit) > limit:
                self._query_buffer_overflow()
                return
        if self.pending is not None:  # still paused mid-pipeline: these wait their turn
            self.pending[0].extend(commands)
            return
        self._run(commands, 0)

    def _run(self, commands: list, start: int) -> None:
        """Run commands[start:], writing replies every BATCH_OUT_BYTES or so. Stops after a
        command that closes the connection (the rest are neither run nor counted, as in Redis)
        and, while the transport's buffer is over its high-water mark, keeps the rest pending."""
        n = len(commands)
        self.stats.commands += n - start  # dispatch takes back those it refuses
        run_batch = dispatch.run_batch
        transport = self.transport
        while True:
            out = self.out = []
            start = run_batch(self, commands, out, start)
            self.out = None
            if out:
                payload = b"".join(out)
                size = len(payload)
                self.stats.net_output_bytes += size
                if size > self.rb_peak:  # Redis fills its static buffer with up to its size
                    self.rb_peak = size if size < self.rb_size else self.rb_size
                transport.write(payload)
                # Without an output limit (the usual client) there is nothing to check: flow
                # control hears of a full buffer from pause_writing.
                if self.limited and (transport.get_write_buffer_size() or self.soft_since is not None):
                    if self.output_limit_reached():
                        self.close_for_output_limit()
                        self.stats.commands -= n - start
                        return
            if self.closing:
                break
            if self.blocked is not None:  # the rest wait until it is served (blocking.py)
                self.pending = (commands, start)
                self.stats.commands -= n - start  # counted again when they run
                return
            if start >= n:
                if self.parser.error is None:  # the usual end: every command run, no error
                    return
                break
            if self.flow.paused:
                self.pending = (commands, start)
                self.stats.commands -= n - start  # counted again when they run
                return
        if start < n:
            self.stats.commands -= n - start
        if self.parser.error is not None and not self.closing:
            reply = encode_error("ERR " + self.parser.error.message)
            self.stats.net_output_bytes += len(reply)
            self.transport.write(reply)
            self.closing = True
        if self.closing:
            self.transport.close()

    def _query_buffer_overflow(self) -> None:
        """Redis closes a client whose unparsed input passes client-query-buffer-limit, with no
        reply, and logs which client it was."""
        log.warning(f"Closing client that reached max query buffer length: {self.info_line()} "
                    f"(qbuf initial bytes: {sds_repr(self.parser.head())})")
        self.closing = True
        self.pending = None
        self.transport.close()

    def connection_lost(self, exc):
        self.closing = True
        self.pending = None
        if self.blocked is not None:
            blocking.unblock(self)
        if self.subs is not None:
            self.server.pubsub.forget(self)
        if self.monitor:
            self.server.stop_monitor(self)
        if self.tracking is not None:
            self.server.tracking.disable(self)
        self.server.forget(self)

    def pause_writing(self):
        # With an output limit the client keeps being served, as by Redis, until it passes the
        # limit and is closed; without one, its reading (and its pipeline) waits.
        hard, soft, _ = self.output_limits()
        if not hard and not soft:
            self.flow.pause()

    def resume_writing(self):
        # Replies drained: the client is reading them, which counts as activity for `timeout`
        # (Redis updates lastinteraction on writes too).
        self.last_interaction = time.monotonic()
        self.flow.paused = False
        self.resume()
        self.flow.start_reading()

    def resume(self) -> None:
        """Run the commands left pending, unless the client still waits (writes paused, or
        blocked on keys). Server.before_sleep calls this for a client just unblocked."""
        if self.pending is None or self.closing or self.blocked is not None or self.flow.paused:
            return
        pending, self.pending = self.pending, None
        self._run(pending[0], pending[1])

    # -- used by commands ------------------------------------------------------------------------

    def send(self, payload: bytes) -> None:
        """Write encoded replies to this client outside its own read (a blocked client served by
        another's command, later pub/sub messages and invalidations), with the same accounting
        and output-buffer limits as replies to its own commands."""
        if self.closing or self.transport is None or not payload:
            return
        if self.out is not None:  # the client is running a command (PUBLISH to itself, RESP3):
            self.out.append(payload)  # the message goes before that command's reply, in order
            return
        self.stats.net_output_bytes += len(payload)
        self.transport.write(payload)
        if self.limited and (self.transport.get_write_buffer_size() or self.soft_since is not None):
            if self.output_limit_reached():
                self.close_for_output_limit()

    def send_reply(self, value) -> None:
        """send() one reply value, encoded for this client's protocol."""
        out = []
        encode_reply(value, out, self.proto)
        self.send(b"".join(out))

    def select(self, index: int) -> None:
        self.db = self.server.keyspace.dbs[index]

    def set_authenticated(self, value: bool) -> None:
        self.authenticated = value
        self.parser.auth_required = not value
        self.refresh_guard()

    def set_multi(self, queue) -> None:
        """Enter (a list) or leave (None) MULTI."""
        self.multi = queue
        self.multi_error = False
        self.refresh_guard()

    def refresh_limited(self) -> None:
        """Whether this client's class has an output buffer limit: without one, a write need not
        ask the transport how much it holds. Called with refresh_guard (subscriptions change the
        class) and for every client when CONFIG SET changes client-output-buffer-limit."""
        hard, soft, _ = self.output_limits()
        self.limited = bool(hard or soft)

    def refresh_guard(self) -> None:
        """Dispatch skips its checks only for a client with nothing to check. Called whenever
        authentication, MULTI, subscriptions, the protocol or the server's MISCONF or OOM state change."""
        self.refresh_limited()
        self.guarded = (not self.authenticated or self.multi is not None or self.server.refuse_writes
                        or self.server.oom
                        or (self.subs is not None and self.proto == 2) or self.reply_mode != 0
                        or self.monitor or bool(self.server.monitors) or self.server.paused != 0
                        or self.tracking is not None or self.server.busy is not None
                        or not self.user.unrestricted)  # ACLs to check (server/acl.py)

    def unwatch(self) -> None:
        self.server.keyspace.unwatch(self)

    def kill(self) -> None:
        """Close this connection (CLIENT KILL, RESET of another client, shutdown)."""
        self.closing = True
        if self.transport is not None:
            self.transport.close()

    def output_limits(self) -> tuple:
        """(hard bytes, soft bytes, soft seconds) of this client's class; 0 is no limit."""
        return self.server.config.values["client-output-buffer-limit"][self.client_class()]

    def output_buffer_size(self) -> int:
        """Reply bytes written but not yet sent (the transport's buffer)."""
        try:
            return self.transport.get_write_buffer_size()
        except (AttributeError, RuntimeError):
            return 0

    def output_limit_reached(self) -> bool:
        """Redis's checkClientOutputBufferLimits: past the hard limit, or past the soft limit
        continuously for more than its seconds (whole seconds, as Redis counts them)."""
        hard, soft, seconds = self.output_limits()
        if not hard and not soft:
            return False
        used = self.output_buffer_size()
        if hard and used >= hard:
            return True
        if soft and used >= soft:
            now = int(time.time())
            if self.soft_since is None:
                self.soft_since = now
                self.server.over_soft_limit.add(self)  # the cron looks at these again
                return False
            return now - self.soft_since > seconds
        if self.soft_since is not None:
            self.soft_since = None
            self.server.over_soft_limit.discard(self)
        return False

    def close_for_output_limit(self, from_cron: bool = False) -> None:
        """Close now, dropping the replies not yet sent. Redis's log says "scheduled to be closed
        ASAP" when a reply crossed the limit and "closed" when its cron found it."""
        how = "closed" if from_cron else "scheduled to be closed ASAP"
        log.warning(f"Client {self.info_line()} {how} for overcoming of output buffer limits.")
        self.closing = True
        self.pending = None
        self.transport.abort()

    def client_class(self) -> str:
        """Redis's client class for output buffer limits and timeouts: normal, replica or pubsub.
        A subscribed client is pubsub (replicas do not exist yet)."""
        return "normal" if self.subs is None else "pubsub"

    def flags(self) -> str:
        text = ""  # in the order of Redis's getClientInfoString
        if self.monitor:
            text += "O"
        if self.subs is not None:
            text += "P"
        if self.multi is not None:
            text += "x"
        if self.blocked is not None:
            text += "b"
        if self.tracking is not None:
            text += "t"
            if self.tracking.broken:
                text += "R"
            if self.tracking.bcast:
                text += "B"
        if self.watch_dirty:
            text += "d"
        if self.closing:
            text += "c"
        if self.no_evict:
            text += "e"
        if self.no_touch:
            text += "T"
        return text or "N"

    def info_line(self, running=None) -> str:
        """This client as one line of CLIENT LIST / CLIENT INFO (Redis 7.0's fields). `running`:
        the argv of the command being run, for the client that asked (argv-mem)."""
        now = time.monotonic()
        cmd = self.last_command.name if self.last_command is not None else "NULL"
        multi = len(self.multi) if self.multi is not None else -1
        redir = -1 if self.tracking is None else self.tracking.redirect
        subs = self.subs
        sub = psub = ssub = 0
        if subs is not None:
            sub, psub, ssub = len(subs.channels), len(subs.patterns), len(subs.shard)
        # forkv has no fixed per-client reply buffer (a batch's replies go straight to the
        # transport), so obl is 0; omem is what the transport still holds, and oll the number of
        # Redis's 16 KB reply blocks that many bytes would fill. argv-mem and multi-mem count the
        # argument bytes as Redis does (multi-mem with its 24-byte multiCmd per queued command);
        # tot-mem adds them to the query and reply buffers and the ~3 KB a connection costs.
        omem = self.output_buffer_size() if self.transport is not None else 0
        oll = (omem + 16383) // 16384
        qbuf = self.parser.buffered(0)
        if running:  # Redis's query buffer still holds the command being run (qbuf=26 for CLIENT LIST)
            qbuf += len(str(len(running))) + 3 + sum(len(a) + len(str(len(a))) + 5 for a in running)
        argv_mem = sum(len(a) for a in running) if running else 0
        multi_mem = 0
        if self.multi:
            multi_mem = sum(sum(len(a) for a in queued) + 24 for _, queued in self.multi)
        user = self.user.name.decode("utf-8", "replace")
        events = ("r" if self.flow is None or self.flow.reading else "") + ("w" if omem else "")
        return (
            f"id={self.id} addr={self.addr} laddr={self.laddr} fd={self.fd} "
            f"name={self.name.decode('utf-8', 'replace')} age={int(now - self.created)} "
            f"idle={int(now - self.last_interaction)} flags={self.flags()} db={self.db.index} "
            f"sub={sub} psub={psub} ssub={ssub} multi={multi} qbuf={qbuf} qbuf-free=0 "
            f"argv-mem={argv_mem} multi-mem={multi_mem} "
            f"rbs={self.rb_size} rbp={self.rb_peak} obl=0 oll={oll} omem={omem} "
            f"tot-mem={3072 + qbuf + argv_mem + multi_mem + omem} "
            f"events={events} cmd={cmd} user={user} redir={redir} resp={self.proto}"
        )


REPLY_CHUNK_BYTES = 16384  # PROTO_REPLY_CHUNK_BYTES: a new client's reply buffer
REPLY_MIN_BYTES = 1024  # PROTO_REPLY_MIN_BYTES


def _usable(size: int) -> int:
    """jemalloc's usable size for an allocation of `size` bytes (its size classes: four per
    doubling), which is what Redis's reply buffer gets."""
    if size <= 16:
        return 16
    step = max(16, 1 << (size - 1).bit_length() - 3)
    return (size + step - 1) // step * step


def resize_reply_buffer(client, now_ms: int, reset_ms: int) -> int:
    """Redis's clientsCronResizeOutputBuffer: shrink a reply buffer whose peak stays under half
    its size, double one filled to the brim (up to 16 KB), and every `reset_ms` (-1: never) let
    the peak start again. Returns 1 for a shrink, 2 for an expansion, else 0."""
    size = client.rb_size
    peak = client.rb_peak
    resized = 0
    new = 0
    if size // 2 >= REPLY_MIN_BYTES and peak < size // 2:
        new = max(REPLY_MIN_BYTES, peak + 1)
        resized = 1
    elif size * 2 < REPLY_CHUNK_BYTES * 2 and peak == size:
        new = min(REPLY_CHUNK_BYTES, size * 2)
        resized = 2
    if reset_ms >= 0 and now_ms - client.rb_peak_reset >= reset_ms:
        client.rb_peak = 0  # the buffer's position: forkv writes each batch out at once
        client.rb_peak_reset = now_ms
    if new:
        client.rb_size = _usable(new)
    return resized


def _format_addr(addr) -> str:
    if not addr:
        return "?"
    if isinstance(addr, tuple):
        host, port = addr[0], addr[1]
        return f"{host}:{port}"
    return str(addr)


dispatch.install_fast_path(Client)
