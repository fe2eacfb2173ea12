"""The server: listening sockets, the client registry, statistics and the periodic cron.

One event loop, no threads: a forked save child must inherit a single-threaded process. The cron
runs `hz` times a second (active expiry, instantaneous ops sampling, idle-client timeouts, and the
persistence duties that `server.persistence` adds).
"""

import asyncio
import ipaddress
import os
import signal
import socket
import time

from server import log
from server.client import Client
from server.keyspace import Keyspace, wall_ms
from server.table import all_commands
from server.wiring import Persistence


class Stats:
    __slots__ = ("connections_received", "commands", "net_input_bytes", "net_output_bytes",
                 "rejected_connections", "total_forks", "latest_fork_usec", "ops_samples")

    def __init__(self):
        self.connections_received = 0
        self.commands = 0
        self.net_input_bytes = 0
        self.net_output_bytes = 0
        self.rejected_connections = 0
        self.total_forks = 0
        self.latest_fork_usec = 0
        self.ops_samples = []  # (monotonic time, commands) for instantaneous_ops_per_sec

    def reset(self):
        self.__init__()


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
        self.loop = None
        self.listeners = []
        self.run_id = os.urandom(20).hex()
        self.tcp_port = config["port"]
        self._cron_handle = None
        self._stopping = None
        self._tasks = set()  # background tasks (rebinding), held until done
        self.exit_code = 0
        self.persistence = Persistence(self)  # SAVE, BGSAVE, save points, load at startup

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
    def requirepass(self) -> str:
        return self.config["requirepass"]

    # -- lifecycle -------------------------------------------------------------------------------

    async def serve(self) -> int:
        self.loop = asyncio.get_running_loop()
        self._stopping = self.loop.create_future()
        if not await self._listen():
            return 1
        for sig in (signal.SIGTERM, signal.SIGINT):
            self.loop.add_signal_handler(sig, self._on_signal, sig)
        self.persistence.started()
        log.notice("Ready to accept connections tcp")
        self._schedule_cron()
        code = await self._stopping
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
        self.stats.connections_received += 1
        if len(self.clients) >= self.config["maxclients"]:
            self.stats.rejected_connections += 1
            client.transport.write(b"-ERR max number of clients reached\r\n")
            client.kill()
            return False
        if self.config["protected-mode"] and not self.requirepass and not _is_loopback(client.addr):
            from server.errors import denied_protected_mode

            self.stats.rejected_connections += 1
            client.transport.write(b"-" + denied_protected_mode().encode() + b"\r\n")
            client.kill()
            return False
        client.id = self.next_client_id
        self.next_client_id += 1
        self.clients[client.id] = client
        return True

    def forget(self, client: Client) -> None:
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
        now_mono = time.monotonic()
        self._sample_ops(now_mono)
        self.active_expire()
        timeout = self.config["timeout"]
        if timeout:
            for client in list(self.clients.values()):
                if client.multi is None and now_mono - client.last_interaction > timeout:
                    client.kill()
        self.persistence.cron()

    def active_expire(self) -> None:
        """Redis's active expiry: spend up to 25% of a cron period deleting expired keys; keep
        going on a database while a good share of what was visited had expired.

        Paused while a save child runs: a sweep touches every key with a TTL (reference counts),
        which would copy those pages for the child. Lazy expiry still hides expired keys."""
        if self.persistence.child is not None or self.persistence.merging:
            return
        deadline = time.perf_counter() + 0.25 / self.hz()
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


def _is_loopback(addr: str) -> bool:
    host = addr.rsplit(":", 1)[0] if addr else ""
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return host.startswith("::ffff:127.") or host == "?"
