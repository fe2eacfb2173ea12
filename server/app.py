"""The server: listening sockets, the client registry, statistics and the periodic cron.

One event loop, no threads: a forked save child must inherit a single-threaded process. The cron
runs `hz` times a second (active expiry, instantaneous ops sampling, idle-client timeouts, output
buffer soft limits, and the persistence duties that `server.persistence` adds).
"""

import asyncio
import errno
import ipaddress
import os
import resource
import signal
import socket
import time

from protocol.reply import encode_error
from server import dispatch, errors, log, values
from server.acl import NOPASS, Acl, AclLog
from server.blocking import release_postponed
from server.client import Client, Stats, resize_reply_buffer  # Stats lives there to be compiled with Client
from server.config import NOTIFY_KEYEVENT, NOTIFY_KEYSPACE
from server.info import rss_bytes
from server.keyspace import Keyspace, wall_ms
from server.latency import LatencyMonitor
from server.pubsub import PubSub
from server.slowlog import SlowLog
from server.table import all_commands
from server.tracking import Tracking
from server.wiring import Persistence


class Server:
    def __init__(self, config, clock=wall_ms):
        self.config = config
        all_commands()
        self.keyspace = Keyspace(config["databases"], clock=clock)
        self.clients = {}  # id -> Client
        self.next_client_id = 1
        self.stats = Stats()
        self.start_time = time.time()
        self.start_monotonic = time.monotonic()
        self.lastsave = int(self.start_time)
        self._refuse_writes = False  # MISCONF: set by persistence after a failed background save
        self._oom = False  # used memory > maxmemory: DENYOOM commands refused (see memory_check)
        self.script_oom = False  # the running script's redis.call of a DENYOOM command is refused
        self.loop = None
        self.listeners = []
        self.run_id = os.urandom(20).hex()
        self.tcp_port = config["port"]
        self._cron_handle = None
        self._stopping = None
        self._tasks = set()  # background tasks (rebinding), held until done
        self.over_soft_limit = set()  # clients whose output buffer is over their soft limit
        self.pubsub = PubSub()  # channels, patterns and shard channels -> subscribers
        self.tracking = Tracking(self)  # CLIENT TRACKING's tables
        self.keyspace.tracking = self.tracking
        self.events_changed()
        self.policy_changed()
        self.monitors = {}  # MONITOR clients -> None, in the order they started
        self.scripting_engine = None  # EVAL's Lua engine (server/scripting.py), made on first use
        self.functions_registry = None  # FUNCTION's libraries (server/functions.py), the same
        self.error_counts = {}  # error code -> replies (INFO errorstats)
        self.slowlog = SlowLog(config["slowlog-max-len"])
        self.acl = Acl(config)  # ACL users (server/acl.py)
        self.acl_log = AclLog()  # ACL LOG: denied commands, keys, channels and authentications
        self.latency = LatencyMonitor()
        self.slowlog_threshold = -1
        self.slowlog_changed()
        self.paused = 0  # CLIENT PAUSE: 0, dispatch.PAUSE_WRITE or dispatch.PAUSE_ALL
        self.pause_end = 0.0  # loop time the pause ends at
        self._pause_timer = None
        self.postponed = []  # clients holding a command until the pause ends (blocking.py)
        self.blocked_clients = 0  # waiting on keys (server/blocking.py)
        self.active_expire_enabled = True  # DEBUG SET-ACTIVE-EXPIRE
        self.pause_cron = False  # DEBUG PAUSE-CRON: the cron does nothing while set
        self.script_disable_deny_script = False  # DEBUG SET-DISABLE-DENY-SCRIPTS: no-script commands allowed
        self.reply_buffer_peak_reset = 5000  # DEBUG REPLYBUFFER PEAK-RESET-TIME (ms; -1: never)
        self.reply_buffer_resizing = True  # DEBUG REPLYBUFFER RESIZING
        self.reply_buffer_shrinks = 0
        self.reply_buffer_expands = 0
        self._resize_next = 0  # where the last cron's round of reply buffer resizing stopped
        self.unblocked = []  # clients served since the last loop iteration: their rest runs next
        self._before_sleep_due = False
        self.exit_code = 0
        self.busy = None  # a script past busy-reply-threshold (server/busy.py)
        self.persistence = Persistence(self)  # SAVE, BGSAVE, save points, load at startup
        self.memory_check()

    @property
    def refuse_writes(self) -> bool:
        return self._refuse_writes

    @refuse_writes.setter
    def refuse_writes(self, value: bool) -> None:
        if value != self._refuse_writes:
            self._refuse_writes = value
            for client in self.clients.values():
                client.refresh_guard()

    @property
    def oom(self) -> bool:
        return self._oom

    @oom.setter
    def oom(self, value: bool) -> None:
        if value != self._oom:
            self._oom = value
            for client in self.clients.values():
                client.refresh_guard()  # off the C fast path while refusals are possible

    def memory_check(self) -> None:
        """Redis's performEvictions as its callers see it: with maxmemory set, is used memory (the
        RSS, as INFO's used_memory) over it? forkv evicts nothing, whatever the policy, so being
        over is EVICT_FAIL: DENYOOM commands are refused until memory is back under the limit or
        maxmemory is raised. Run by the cron and at once by CONFIG SET maxmemory; with maxmemory
        0 it costs one config lookup per cron tick and dispatch never checks anything."""
        maxmemory = self.config["maxmemory"]
        self.oom = bool(maxmemory) and rss_bytes() > maxmemory

    @property
    def requirepass(self) -> bool:
        """Whether the default user needs a password (requirepass or ACL rules): protected
        mode and the startup warning look at this, as Redis looks at the default user's nopass."""
        return not self.acl.default.flags & NOPASS

    # -- lifecycle -------------------------------------------------------------------------------

    async def serve(self) -> int:
        self.loop = asyncio.get_running_loop()
        if not adjust_open_files_limit(self.config):
            return 1
        self._stopping = self.loop.create_future()
        if not await self._listen():
            return 1
        for sig in (signal.SIGTERM, signal.SIGINT):
            self.loop.add_signal_handler(sig, self._on_signal, sig)
        self.persistence.started()
        log.notice("Ready to accept connections tcp")
        self._schedule_cron()
        values.DEFER = self.schedule_before_sleep  # pack the value ring after replies, not before
        try:
            code = await self._stopping
        finally:
            values.DEFER = None
        for listener in self.listeners:
            listener.close()
        for client in list(self.clients.values()):
            client.kill()
        return code

    def bind_sockets(self, port: int, bind: list) -> list:
        """Listening sockets for every bind address (an optional '-addr' that does not exist on
        this host is skipped). Raises OSError, closing what it opened, if one cannot be bound."""
        socks = []
        backlog = self.config["tcp-backlog"]
        try:
            for addr in bind if port else []:
                optional = addr.startswith("-")
                host = addr[1:] if optional else addr
                if host == "*":
                    host = "0.0.0.0"
                try:
                    socks.append(_listening_socket(host, port, backlog))
                except OSError as exc:
                    if optional and exc.errno in (97, 99, 22):  # no such address family / address
                        log.notice(f"Skipping optional bind address {host}: {exc.strerror}")
                        continue
                    log.warning(f"Warning: Could not create server TCP listening socket {host}:{port}: "
                                f"{exc.strerror}")
                    raise
        except OSError:
            for sock in socks:
                sock.close()
            raise
        return socks

    async def _serve_sockets(self, socks: list) -> None:
        backlog = self.config["tcp-backlog"]
        for sock in socks:
            srv = await self.loop.create_server(lambda: Client(self), sock=sock, backlog=backlog)
            for s in srv.sockets:
                s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            self.listeners.append(srv)

    async def _listen(self) -> bool:
        port = self.config["port"]
        try:
            await self._serve_sockets(self.bind_sockets(port, self.config["bind"]))
        except OSError:
            log.warning(f"Failed listening on port {port} (tcp), aborting.")
            return False
        if self._exposed() and not self.requirepass:
            log.warning("WARNING: forkv listens on a non-loopback address without a password "
                        "(requirepass). Anyone who can reach this port can read and change the data.")
        return True

    def rebind(self, port: int, bind: list) -> None:
        """CONFIG SET port/bind: listen on the new addresses, then stop listening on the old ones
        (connected clients stay). Raises OSError, leaving the old listeners, if binding fails."""
        socks = self.bind_sockets(port, bind)
        old, self.listeners = self.listeners, []
        for srv in old:
            srv.close()
        self.tcp_port = port
        task = self.loop.create_task(self._serve_sockets(socks))
        self._tasks.add(task)  # the loop keeps only a weak reference to a task
        task.add_done_callback(self._task_done)

    def _task_done(self, task) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            exc = task.exception()
            log.warning(f"Background task failed: {exc!r}")

    def maxclients_changed(self, old: int):
        """CONFIG SET maxclients, as Redis's updateMaxclients: a higher value needs the open files
        limit raised. Returns None, or (after restoring `old`) the reason CONFIG SET fails."""
        new = self.config["maxclients"]
        if new <= old:
            return None
        adjust_open_files_limit(self.config)
        got = self.config["maxclients"]
        if got == new:
            return None
        log.warning("Failed applying new configuration. Possibly related to new maxclients setting. "
                    "Restoring previous settings.")
        self.config.values["maxclients"] = old
        return f"The operating system is not able to handle the specified number of clients, try with {got}"

    def _exposed(self) -> bool:
        for addr in self.config["bind"]:
            host = addr.lstrip("-")
            if host in ("*", "0.0.0.0", "::"):
                return True
            try:
                if not ipaddress.ip_address(host).is_loopback:
                    return True
            except ValueError:
                return True
        return False

    def listening_sockets(self) -> list:
        return [sock for srv in self.listeners for sock in srv.sockets]

    def stop(self, code: int = 0) -> None:
        if self._stopping is not None and not self._stopping.done():
            self.exit_code = code
            self._stopping.set_result(code)

    def _on_signal(self, sig) -> None:
        name = "SIGTERM" if sig == signal.SIGTERM else "SIGINT"
        log.warning(f"Received {name} scheduling shutdown...")
        self.shutdown(save=None, from_signal=True)

    def shutdown(self, save=None, from_signal: bool = False) -> bool:
        """SHUTDOWN / SIGTERM: a final save when save points are set (or `save` is True).
        Returns False if the save failed and the server keeps running."""
        log.warning("User requested shutdown...")
        if not self.persistence.prepare_shutdown(save):
            log.warning("Errors trying to shut down the server. Check the logs for more information.")
            return False
        log.warning("forkv is now ready to exit, bye bye...")
        self.stop(0)
        return True

    # -- clients ---------------------------------------------------------------------------------

    def accept(self, client: Client) -> bool:
        """Redis's acceptCommonHandler and clientAcceptHandler: refuse past maxclients, then set
        the socket up, then refuse non-local clients in protected mode. Only a connection that is
        kept counts in total_connections_received."""
        if len(self.clients) >= self.config["maxclients"]:
            self.stats.rejected_connections += 1
            client.transport.write(MAX_CLIENTS_REACHED)
            client.kill()
            return False
        keepalive = self.config["tcp-keepalive"]
        if keepalive > 0:
            sock = client.transport.get_extra_info("socket")
            if sock is not None:
                set_keepalive(sock, keepalive)
        if self.config["protected-mode"] and not self.requirepass and not is_local(client.addr):
            self.stats.rejected_connections += 1
            client.transport.write(DENIED_PROTECTED_MODE)
            client.kill()
            return False
        self.stats.connections_received += 1
        client.id = self.next_client_id
        self.next_client_id += 1
        self.clients[client.id] = client
        return True

    def start_monitor(self, client) -> None:
        client.monitor = True
        self.monitors[client] = None
        self._guard_all()

    def stop_monitor(self, client) -> None:
        client.monitor = False
        if self.monitors.pop(client, 0) is None:
            self._guard_all()

    def _guard_all(self) -> None:
        """While anyone MONITORs, every client's commands take the checked path (which feeds
        the monitors); after the last one goes, the fast path is open again."""
        for client in self.clients.values():
            client.refresh_guard()

    def pause(self, mode: int, seconds: float) -> None:
        """CLIENT PAUSE: a later pause can extend the end and strengthen the mode, never shorten
        or weaken them (Redis's pauseClients)."""
        end = self.loop.time() + seconds
        if self.paused and end <= self.pause_end and mode <= self.paused:
            return
        self.pause_end = max(end, self.pause_end if self.paused else 0.0)
        self.paused = max(mode, self.paused)
        self.keyspace.paused = True  # expiry waits for the pause's end (Redis's expireIfNeeded)
        if self._pause_timer is not None:
            self._pause_timer.cancel()
        self._pause_timer = self.loop.call_at(self.pause_end, self.unpause)
        self._guard_all()

    def unpause(self) -> None:
        if self._pause_timer is not None:
            self._pause_timer.cancel()
            self._pause_timer = None
        if not self.paused:
            return
        self.paused = 0
        self.keyspace.paused = False
        self._guard_all()
        release_postponed(self)

    def slowlog_changed(self) -> None:
        """slowlog-log-slower-than, slowlog-max-len or latency-monitor-threshold was set (or the
        server starts). Commands at least `slowlog_threshold` µs long go to dispatch's
        slow_command, which feeds the slow log and the latency monitor by their own limits."""
        self.slowlog.max_len = self.config["slowlog-max-len"]
        self.slowlog.trim()
        self.latency.threshold = self.config["latency-monitor-threshold"]
        limits = [self.config["slowlog-log-slower-than"]]
        if self.latency.threshold:
            limits.append(self.latency.threshold * 1000)
        limits = [n for n in limits if n >= 0]
        self.slowlog_threshold = min(limits) if limits else -1
        dispatch.set_accounting(self.slowlog_threshold, self.config["latency-tracking"])

    def policy_changed(self) -> None:
        """maxmemory-policy, lfu-log-factor or lfu-decay-time was set (or the server starts):
        how the keyspace keeps and reads its per-key access fields."""
        config = self.config
        self.keyspace.set_policy("lfu" in config["maxmemory-policy"], config["lfu-log-factor"],
                                 config["lfu-decay-time"])

    def events_changed(self) -> None:
        """notify-keyspace-events was set: the keyspace emits only when some class is on and
        either channel kind (K, E) is, so that writes stay on the fast path otherwise."""
        flags = self.config["notify-keyspace-events"]
        ks = self.keyspace
        ks.events = flags if flags & (NOTIFY_KEYSPACE | NOTIFY_KEYEVENT) else 0
        pubsub = self.pubsub
        ks.emit = lambda index, event, key: pubsub.keyspace_event(flags, index, event, key)
        ks.observers_changed()

    # -- once per loop iteration (Redis's beforeSleep) -----------------------------------------

    def resume_later(self, client) -> None:
        """Run `client`'s pending commands in the next loop iteration (it was just unblocked)."""
        self.unblocked.append(client)
        self.schedule_before_sleep()

    def schedule_before_sleep(self) -> None:
        if not self._before_sleep_due and self.loop is not None:
            self._before_sleep_due = True
            self.loop.call_soon(self.before_sleep)

    def before_sleep(self) -> None:
        """Work done between loop iterations, not inside a client's command: the pending commands
        of clients unblocked meanwhile (Redis's processUnblockedClients), in the order they were
        served; later pub/sub and tracking output. Scheduled on demand with call_soon, so an idle
        server runs nothing."""
        self._before_sleep_due = False
        if len(values.RING) > values.RING_SIZE:
            values.trim()  # packed values (server/values.py), once the replies are written
        if self.tracking.bcast_keys:
            self.tracking.broadcast()
        while self.unblocked:
            clients, self.unblocked = self.unblocked, []
            for client in clients:
                client.resume()

    def forget(self, client: Client) -> None:
        self.over_soft_limit.discard(client)
        if self.clients.pop(client.id, None) is not None:
            client.unwatch()

    # -- cron ------------------------------------------------------------------------------------

    def hz(self) -> int:
        return max(1, min(500, self.config["hz"]))

    def _schedule_cron(self) -> None:
        self._cron_handle = self.loop.call_later(1.0 / self.hz(), self._cron)

    def _cron(self) -> None:
        try:
            self.cron()
        finally:
            if not self._stopping.done():
                self._schedule_cron()

    def cron(self) -> None:
        if self.pause_cron:
            return
        now_mono = time.monotonic()
        self.keyspace.tick()  # the cached LRU clock, as Redis's serverCron refreshes it
        self._sample_ops(now_mono)
        self.active_expire()
        if self.reply_buffer_resizing:
            self.resize_reply_buffers()
        timeout = self.config["timeout"]
        if timeout:
            self.close_idle_clients(now_mono, timeout)
        if self.over_soft_limit:
            # a client over its soft limit for long enough, with nothing new written to it
            for client in list(self.over_soft_limit):
                if not client.closing and client.output_limit_reached():
                    client.close_for_output_limit(from_cron=True)
        self.persistence.cron()
        if self._oom or self.config["maxmemory"]:
            self.memory_check()

    def close_idle_clients(self, now: float, timeout: int) -> None:
        """Redis 7.0's clientsCronHandleTimeout: close a client idle for more than `timeout`
        seconds, except pub/sub and blocked clients (and replicas and masters, which forkv does
        not have yet); a blocked client's own timeout is blocking.py's. A client inside MULTI is
        not spared, as in Redis."""
        for client in list(self.clients.values()):
            if client.client_class() == "pubsub" or client.blocked is not None:
                continue
            if now - client.last_interaction > timeout:
                log.verbose("Closing idle client")
                client.kill()

    def resize_reply_buffers(self) -> None:
        """Redis's clientsCron visits numclients/hz clients a tick (at least 5), each time
        resizing their reply buffers (client.resize_reply_buffer)."""
        clients = list(self.clients.values())
        n = len(clients)
        if not n:
            return
        now_ms = int(time.time() * 1000)
        start = self._resize_next % n
        count = min(n, max(5, n // self.hz()))
        for i in range(start, start + count):
            resized = resize_reply_buffer(clients[i % n], now_ms, self.reply_buffer_peak_reset)
            if resized == 1:
                self.reply_buffer_shrinks += 1
            elif resized == 2:
                self.reply_buffer_expands += 1
        self._resize_next = start + count

    def active_expire(self) -> None:
        """Redis's active expiry: spend up to 25% of a cron period deleting expired keys; keep
        going on a database while a good share of what was visited had expired.

        Paused while a save child runs: a sweep touches every key with a TTL (reference counts),
        which would copy those pages for the child. Lazy expiry still hides expired keys."""
        if (self.persistence.child is not None or self.persistence.merging or not self.active_expire_enabled
                or self.paused):
            return
        started = time.perf_counter()
        self._expire_cycle(started + 0.25 / self.hz())
        # the whole cycle is one "expire-cycle" latency sample, as Redis's activeExpireCycle
        self.latency.add("expire-cycle", int((time.perf_counter() - started) * 1000))

    def _expire_cycle(self, deadline: float) -> None:
        ks = self.keyspace
        now = ks.clock()
        for db in ks.dbs:
            if not db.expires:
                continue
            while True:
                before = ks.expired_keys
                visited = db.active_expire(200, now)
                if not visited or (ks.expired_keys - before) * 4 < visited:
                    break
                if time.perf_counter() > deadline:
                    return

    def _sample_ops(self, now: float) -> None:
        samples = self.stats.ops_samples
        samples.append((now, self.stats.commands, self.stats.net_input_bytes, self.stats.net_output_bytes))
        if len(samples) > 16:
            del samples[0]

    def instantaneous(self):
        """(ops/sec, input kbps, output kbps) over the last samples, as INFO reports them."""
        samples = self.stats.ops_samples
        if len(samples) < 2:
            return 0, 0.0, 0.0
        (t0, c0, i0, o0), (t1, c1, i1, o1) = samples[0], samples[-1]
        span = max(t1 - t0, 1e-6)
        return int((c1 - c0) / span), (i1 - i0) / span / 1024, (o1 - o0) / span / 1024


# File descriptors kept for the server's own use beyond one per client (Redis's
# CONFIG_MIN_RESERVED_FDS): listeners, the log, a save child's pipe, the RDB file.
RESERVED_FDS = 32


def adjust_open_files_limit(config, limits=resource) -> bool:
    """Redis's adjustOpenFilesLimit: make RLIMIT_NOFILE at least maxclients + 32, trying lower
    values 16 at a time down to the current limit if the system refuses; if it stays short, lower
    maxclients to fit and say so with Redis's warnings. False if not even the reserve fits."""
    maxclients = config["maxclients"]
    wanted = maxclients + RESERVED_FDS
    try:
        old, _hard = limits.getrlimit(limits.RLIMIT_NOFILE)
    except OSError as exc:
        log.warning(f"Unable to obtain the current NOFILE limit ({exc.strerror}), assuming 1024 "
                    "and setting the max clients configuration accordingly.")
        config.values["maxclients"] = 1024 - RESERVED_FDS
        return True
    if old == limits.RLIM_INFINITY or old >= wanted:
        return True
    best, error = wanted, 0
    while best > old:
        try:
            limits.setrlimit(limits.RLIMIT_NOFILE, (best, best))
            break
        except (OSError, ValueError) as exc:
            error = getattr(exc, "errno", None) or errno.EPERM
        if best < 16:
            best = old
            break
        best -= 16
    best = max(best, old)
    if best >= wanted:
        log.notice(f"Increased maximum number of open files to {wanted} (it was originally set to {old}).")
        return True
    if best <= RESERVED_FDS:
        log.warning(f"Your current 'ulimit -n' of {old} is not enough for the server to start. "
                    f"Please increase your open file limit to at least {wanted}. Exiting.")
        return False
    config.values["maxclients"] = best - RESERVED_FDS
    log.warning(f"You requested maxclients of {maxclients} requiring at least {wanted} max file descriptors.")
    log.warning(f"Server can't set maximum open files to {wanted} because of OS error: {os.strerror(error)}.")
    log.warning(f"Current maximum open files is {best}. maxclients has been reduced to "
                f"{best - RESERVED_FDS} to compensate for low ulimit. If you need higher maxclients "
                "increase 'ulimit -n'.")
    return True


def _listening_socket(host: str, port: int, backlog: int) -> socket.socket:
    """Bind by hand: a host name given to the loop would be resolved with getaddrinfo on libuv's
    thread pool, and the server process must stay single-threaded for fork."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        if family == socket.AF_INET6:
            sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
        sock.bind((host, port))
        sock.listen(backlog)
        sock.setblocking(False)
    except OSError:
        sock.close()
        raise
    return sock


def is_local(addr: str) -> bool:
    """Redis 7.0's islocalClient: the peer's address is exactly 127.0.0.1 or ::1 (another
    127.x address, or 127.0.0.1 mapped into IPv6, is not local to it)."""
    host = addr.rsplit(":", 1)[0] if addr else ""
    return host in ("127.0.0.1", "::1")


def set_keepalive(sock, interval: int) -> None:
    """Redis's anetKeepAlive: probes after `interval` idle seconds, then every interval/3
    seconds (at least 1), three unanswered probes close the connection."""
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_KEEPALIVE, 1)
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_KEEPIDLE, interval)
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_KEEPINTVL, max(1, interval // 3))
        sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_KEEPCNT, 3)
    except OSError as exc:
        log.verbose(f"Unable to set keepalive on a client socket: {exc.strerror}")


MAX_CLIENTS_REACHED = encode_error(errors.MAX_CLIENTS_REACHED)
DENIED_PROTECTED_MODE = encode_error(errors.denied_protected_mode())
