"""Container health probe for forkv: one RESP PING, healthy only when the reply is PONG.

It finds the running server in /proc and loads that process's configuration with the server's own
loader (config file < FORKV_* environment < command line), so `--port 7000`, `-e FORKV_REQUIREPASS=...`
or a mounted config need no matching change to the HEALTHCHECK. Standard library and forkv only: the
image carries no Redis client. It sends AUTH and PING, nothing that changes the server's state.
"""

import os
import socket
import sys

TIMEOUT = 2.0
# A wildcard bind is probed on the matching loopback address.
LOOPBACK_FOR = {"*": "127.0.0.1", "0.0.0.0": "127.0.0.1", "::": "::1", "::*": "::1"}


def server_argv_from(cmdline):
    """The arguments after the program name if `cmdline` runs forkv, else None."""
    for i, arg in enumerate(cmdline):
        # `forkv-server ...` runs as `python /opt/forkv/bin/forkv-server ...`.
        if os.path.basename(arg) == "forkv-server":
            return cmdline[i + 1:]
        if arg == "-m" and cmdline[i + 1:i + 2] == ["server"]:
            return cmdline[i + 2:]
    return None


def find_server(proc="/proc"):
    """(argv, environ) of the first forkv server process found, or (None, None)."""
    for pid in sorted(filter(str.isdigit, os.listdir(proc)), key=int):
        if int(pid) == os.getpid():
            continue
        try:
            with open(f"{proc}/{pid}/cmdline", "rb") as f:
                cmdline = [a.decode("utf-8", "surrogateescape") for a in f.read().split(b"\0")[:-1]]
            argv = server_argv_from(cmdline)
            if argv is None:
                continue
            with open(f"{proc}/{pid}/environ", "rb") as f:
                pairs = [e.decode("utf-8", "surrogateescape").partition("=") for e in f.read().split(b"\0") if e]
        except OSError:  # gone, or not ours to read
            continue
        return argv, {key: value for key, _, value in pairs}
    return None, None


def probe_target(config):
    """(family, address, password) to probe, from a loaded server configuration."""
    password = config["requirepass"]
    if config["port"] == 0 and config["unixsocket"]:
        return socket.AF_UNIX, config["unixsocket"], password
    first = config["bind"][0].lstrip("-")
    host = LOOPBACK_FOR.get(first, first)
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    return family, (host, config["port"]), password


def command(*words):
    out = [b"*%d\r\n" % len(words)]
    for word in words:
        data = word.encode("utf-8", "surrogateescape")
        out.append(b"$%d\r\n%s\r\n" % (len(data), data))
    return b"".join(out)


def probe(family, address, password="", timeout=TIMEOUT):
    """Send [AUTH] + PING in one write; return (healthy, message)."""
    request = (command("AUTH", password) if password else b"") + command("PING")
    expected = ([b"+OK"] if password else []) + [b"+PONG"]
    where = address if isinstance(address, str) else "%s:%d" % address
    buf = b""
    try:
        with socket.socket(family, socket.SOCK_STREAM) as sock:
            sock.settimeout(timeout)
            sock.connect(address)
            sock.sendall(request)
            while buf.count(b"\r\n") < len(expected):
                chunk = sock.recv(4096)
                if not chunk:
                    break
                buf += chunk
    except OSError as exc:
        return False, f"unhealthy: {where}: {exc}"
    replies = buf.split(b"\r\n")[:len(expected)]
    if replies != expected:
        return False, f"unhealthy: {where} answered {buf[:200]!r}"
    return True, f"healthy: PONG from {where}"


def main():
    argv, environ = find_server()
    if argv is None:
        print("unhealthy: no forkv server process found")
        return 1
    from server.config import FatalConfigError, load

    try:
        config = load(argv, environ)
    except FatalConfigError as exc:
        print(f"unhealthy: the server's configuration does not load: {exc.text.strip()}")
        return 1
    healthy, message = probe(*probe_target(config))
    print(message)
    return 0 if healthy else 1


if __name__ == "__main__":
    sys.exit(main())
