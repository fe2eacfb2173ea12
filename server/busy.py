"""Long-running scripts: busy-reply-threshold, BUSY replies, SCRIPT KILL and SHUTDOWN NOSAVE while a
script runs (Redis 7.0's script.c scriptInterrupt/scriptKill and networking.c
processEventsWhileBlocked).

A script runs inside one client's callback, so nothing else runs while it does (atomicity). The Lua
engine calls `interrupt` from a count hook every HOOK_INSTRUCTIONS instructions. Past the threshold
the server is busy: at each call it polls, itself and without waiting, the listening sockets and the
sockets of the clients it may serve, reads what they sent, and feeds it to the client's own
protocol (so the parser keeps the byte order); dispatch then refuses with BUSY what is not
ALLOW_BUSY, and runs the rest (SCRIPT KILL, SHUTDOWN NOSAVE, MULTI...). Replies go out through the
client's transport, which (uvloop) writes at once when nothing is queued before them. Connections
accepted meanwhile are served the same way and handed to the event loop when the script ends. No
threads: a forked save child must inherit a single-threaded process.

It must not run the event loop or block. A client that waits (blocked, paused by write pressure,
commands pending) is not read: its commands wait for the script. So is a connection the loop
accepted in the very iteration the script started in (its connection_made is still queued).
"""

import asyncio
import os
import select
import socket
import time

from server import errors, log
from server.errors import CommandError

# How often (in Lua VM instructions) the hook looks at the clock, as Redis's luaMaskCountHook.
HOOK_INSTRUCTIONS = 100000
_READ_SIZE = 65536
_ACCEPTS_PER_POLL = 64  # new connections taken per poll, so a flood cannot starve the rest


class ScriptRun:
    """One running script (Redis's scriptRunCtx): who runs it, since when, whether it wrote (then
    SCRIPT KILL cannot stop it), whether it was killed or went past the threshold. `eval_mode`:
    EVAL & co. (SCRIPT KILL) or a function (FUNCTION KILL). server/scripting.py's _Run sets these
    fields itself (one call less per script): a new field goes there too."""

    __slots__ = ("client", "started", "eval_mode", "name", "dirty", "killed", "timed_out")

    def __init__(self, client, eval_mode: bool = True, name: str = ""):
        self.client = client
        self.started = time.monotonic()
        self.eval_mode = eval_mode
        self.name = name
        self.dirty = False
        self.killed = False
        self.timed_out = False


def busy_error(run) -> str:
    """The BUSY text for the script `run`: SCRIPT KILL's for EVAL, FUNCTION KILL's for FCALL."""
    return errors.BUSY_EVAL if run.eval_mode else errors.BUSY_FUNCTION


def interrupt(run) -> bool:
    """Called by the engine's hook while `run` executes: past busy-reply-threshold, serve the other
    clients for a moment. Returns True when the script must stop (SCRIPT/FUNCTION KILL)."""
    if run.timed_out:
        _serve(run)
        if run.killed:
            log.warning("Lua script killed by user with SCRIPT KILL.")
        return run.killed
    server = run.client.server
    threshold = server.config["busy-reply-threshold"]
    if threshold <= 0:  # Redis installs no hook then: a script is never busy
        return False
    elapsed = int((time.monotonic() - run.started) * 1000)
    if elapsed < threshold:
        return False
    command = "SCRIPT KILL" if run.eval_mode else "FUNCTION KILL"
    log.warning(f"Slow script detected: still in execution after {elapsed} milliseconds. You can try "
                f"killing the script using the {command} command. Script name is: {run.name}.")
    run.timed_out = True
    server.busy = _Busy(server, run)
    return interrupt(run)


def ended(run) -> None:
    """The script `run` returned (or raised): if it went past the threshold, give the clients and
    the connections accepted meanwhile back to the event loop."""
    if not run.timed_out:
        return
    server = run.client.server
    state = server.busy
    server.busy = None
    if state is not None:
        state.finish()


def kill(server, eval_mode: bool) -> None:
    """SCRIPT KILL (eval_mode) / FUNCTION KILL, as Redis's scriptKill: raises CommandError unless
    a killable script of that kind is running; it then stops at its next hook."""
    state = server.busy
    if state is None:
        raise CommandError(errors.NOTBUSY)
    run = state.run
    if run.dirty:
        raise CommandError(errors.UNKILLABLE)
    if run.eval_mode != eval_mode:  # SCRIPT KILL of a function, FUNCTION KILL of an EVAL
        raise CommandError(busy_error(run))
    run.killed = True


def _serve(run) -> None:
    state = run.client.server.busy
    if state is not None:
        state.poll()


class _Busy:
    """The server while a script is past its threshold (Server.busy): the sockets it polls and
    what it must give back to the event loop afterwards."""

    def __init__(self, server, run):
        self.server = server
        self.run = run
        self.poller = select.poll()
        self.by_fd = {}  # fd -> a listening socket, or a Client
        self.accepted = []  # _Accepted of the connections opened meanwhile
        for srv in server.listeners:
            for sock in srv.sockets:
                try:
                    dup = socket.socket(fileno=os.dup(sock.fileno()))
                except OSError:
                    continue
                dup.setblocking(False)
                self.by_fd[dup.fileno()] = dup
                self.poller.register(dup.fileno(), select.POLLIN)
        for client in list(server.clients.values()):
            client.guarded = True  # every command goes through dispatch's checks (and BUSY)
            if client is not run.client and _may_read(client):
                self._watch(client)

    def _watch(self, client) -> None:
        self.by_fd[client.fd] = client
        self.poller.register(client.fd, select.POLLIN)

    def _unwatch(self, fd: int) -> None:
        self.by_fd.pop(fd, None)
        try:
            self.poller.unregister(fd)
        except (KeyError, ValueError):
            pass

    def poll(self) -> None:
        try:
            events = self.poller.poll(0)
        except InterruptedError:
            return
        for fd, _ in events:
            target = self.by_fd.get(fd)
            if target is None:
                continue
            if isinstance(target, socket.socket):
                self._accept(target)
            else:
                self._read(fd, target)
            self._exit_if_stopping()

    def _accept(self, listener) -> None:
        for _ in range(_ACCEPTS_PER_POLL):
            try:
                sock, _addr = listener.accept()
            except (BlockingIOError, InterruptedError):
                return
            except OSError as exc:
                log.warning(f"Accepting client connection: {exc.strerror}")
                return
            sock.setblocking(False)
            if sock.family in (socket.AF_INET, socket.AF_INET6):
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            from server.client import Client  # the client module imports dispatch, which imports us

            client = Client(self.server)
            transport = _Accepted(sock)
            client.connection_made(transport)
            if transport.closed:  # refused (maxclients, protected mode): its error was sent
                transport.abandon()
                continue
            client.guarded = True
            self.accepted.append((client, transport))
            self.by_fd[sock.fileno()] = client
            self.poller.register(sock.fileno(), select.POLLIN)

    def _read(self, fd: int, client) -> None:
        transport = client.transport
        if not isinstance(transport, _Accepted) and not _may_read(client):
            self._unwatch(fd)  # paused by write pressure, say: the rest waits for the script
            return
        try:
            data = os.read(fd, _READ_SIZE)
        except (BlockingIOError, InterruptedError):
            return
        except OSError:
            data = b""
        if data:
            client.guarded = True
            client.data_received(data)
        else:  # the peer closed: the event loop will see it too, after the script
            self._unwatch(fd)
            client.kill()
        if client.closing:
            self._unwatch(fd)
            if isinstance(transport, _Accepted):
                self._drop(client, transport)

    def _drop(self, client, transport) -> None:
        """A connection accepted while busy and closed before the script ended."""
        self.accepted = [pair for pair in self.accepted if pair[0] is not client]
        transport.abandon()
        client.connection_lost(None)

    def _exit_if_stopping(self) -> None:
        """SHUTDOWN NOSAVE ran: Redis exits at once, from inside the script (prepareForShutdown
        then exit(0)); the script never ends, so the event loop never gets to."""
        stopping = self.server._stopping
        if stopping is not None and stopping.done():
            os._exit(self.server.exit_code)

    def finish(self) -> None:
        for fd in list(self.by_fd):
            target = self.by_fd[fd]
            if isinstance(target, socket.socket):
                target.close()
        self.by_fd.clear()
        for client in list(self.server.clients.values()):
            client.refresh_guard()
        loop = self.server.loop
        for client, transport in self.accepted:
            if transport.closed or client.closing:
                self._drop(client, transport)
                continue
            task = loop.create_task(loop.connect_accepted_socket(lambda c=client, t=transport: _Adopt(c, t),
                                                                 transport.sock))
            self.server._tasks.add(task)
            task.add_done_callback(self.server._task_done)
        self.accepted = []


def _may_read(client) -> bool:
    """Whether the client's next bytes may be read and answered now: it is not waiting (blocked,
    paused, commands pending) and its transport is open."""
    if client.closing or client.pending is not None or client.blocked is not None or client.fd < 0:
        return False
    if client.flow is None or not client.flow.reading or client.transport is None:
        return False
    return not client.transport.is_closing()


class _Accepted:
    """The transport of a connection accepted while busy, until the event loop adopts it: writes
    go straight to the socket, what it does not take is kept for the loop's transport."""

    def __init__(self, sock):
        self.sock = sock
        self.pending = []  # bytes the socket did not take
        self.closed = False

    def write(self, data) -> None:
        if self.closed:
            return
        if not self.pending:
            try:
                sent = self.sock.send(data)
            except (BlockingIOError, InterruptedError):
                sent = 0
            except OSError:
                self.closed = True
                return
            if sent == len(data):
                return
            data = data[sent:]
        self.pending.append(bytes(data))

    def get_write_buffer_size(self) -> int:
        return sum(len(piece) for piece in self.pending)

    def get_extra_info(self, name, default=None):
        try:
            if name == "peername":
                return self.sock.getpeername()
            if name == "sockname":
                return self.sock.getsockname()
        except OSError:
            return default
        if name == "socket":
            return self.sock
        return default

    def is_closing(self) -> bool:
        return self.closed

    def close(self) -> None:
        self.closed = True

    abort = close

    def pause_reading(self) -> None:
        pass

    def resume_reading(self) -> None:
        pass

    def abandon(self) -> None:
        """Closed while busy: send what is left if the socket takes it, and close."""
        if self.pending:
            try:
                self.sock.send(b"".join(self.pending))
            except OSError:
                pass
            self.pending = []
        self.closed = True
        self.sock.close()


class _Adopt(asyncio.Protocol):
    """Hands a connection accepted while busy to its Client once the event loop has a transport
    for it (the Client was already set up and registered while busy)."""

    def __init__(self, client, accepted: _Accepted):
        self.client = client
        self.accepted = accepted

    def connection_made(self, transport):
        from server.client import _Flow

        client = self.client
        client.transport = transport
        client.flow = _Flow(transport)
        transport.set_protocol(client)
        if self.accepted.pending:
            transport.write(b"".join(self.accepted.pending))
            self.accepted.pending = []
        if self.accepted.closed or client.closing:
            client.kill()

    # Forwarded in case the loop delivers anything before set_protocol takes effect.
    def data_received(self, data):
        self.client.data_received(data)

    def eof_received(self):
        return self.client.eof_received()

    def connection_lost(self, exc):
        self.client.connection_lost(exc)

    def pause_writing(self):
        self.client.pause_writing()

    def resume_writing(self):
        self.client.resume_writing()
