"""Container health probe for forkv: one RESP PING over TCP, healthy only when the reply is PONG.

It finds the running server in /proc and works out its port, bind address and password the way the
server does (config file < FORKV_* environment < command line), so `--port 7000`, `-e
FORKV_REQUIREPASS=...` or a mounted config need no matching change to the HEALTHCHECK. Standard
library only: the image carries no Redis client. It must never change the server's state.
"""

import os
import shlex
import socket
import sys

DEFAULT_PORT = 6379
TIMEOUT = 2.0
LOOPBACK_FOR = {"": "127.0.0.1", "*": "127.0.0.1", "0.0.0.0": "127.0.0.1", "::": "::1", "::*": "::1"}


def find_server():
    """Return (argv after the program name, environ) of the forkv server, or (None, os.environ)."""
    for pid in filter(str.isdigit, os.listdir("/proc")):
        if int(pid) == os.getpid():
            continue
        try:
            with open(f"/proc/{pid}/cmdline", "rb") as f:
                argv = [a.decode(errors="replace") for a in f.read().split(b"\0")[:-1]]
            with open(f"/proc/{pid}/environ", "rb") as f:
                pairs = [e.decode(errors="replace").partition("=") for e in f.read().split(b"\0") if e]
        except OSError:  # gone, or not ours to read
            continue
        for i, arg in enumerate(argv):
            # `forkv-server ...` runs as `python /opt/forkv/bin/forkv-server ...`; or `python -m server ...`.
            if os.path.basename(arg) == "forkv-server":
                return argv[i + 1:], {k: v for k, _, v in pairs}
            if arg == "-m" and argv[i + 1:i + 2] == ["server"]:
                return argv[i + 2:], {k: v for k, _, v in pairs}
    return None, dict(os.environ)


def settings_from_args(args):
    """Split redis-server style arguments into (config file or None, {directive: [values]})."""
    conf = None
    if args and not args[0].startswith("--"):
        conf, args = args[0], args[1:]
    options, name = {}, None
    for arg in args:
        if arg.startswith("--"):
            name = arg[2:].lower()
            options[name] = []
        elif name is not None:
            options[name].extend(arg.split())
    return conf, options


def settings_from_file(path):
    options = {}
    try:
        with open(path, encoding="utf-8", errors="replace") as f:
            for line in f:
                words = shlex.split(line, comments=True)
                if words:
                    options[words[0].lower()] = words[1:]
    except (OSError, ValueError):
        pass  # the server reports a bad config itself; probe with what we have
    return options


def effective_settings():
    args, environ = find_server()
    conf, from_args = settings_from_args(args or [])
    settings = settings_from_file(conf) if conf else {}
    for name in ("port", "bind", "requirepass"):
        value = environ.get("FORKV_" + name.upper())
        if value is not None:
            settings[name] = value.split() if name == "bind" else [value]
    settings.update(from_args)
    return settings


def probe_address(settings):
    port = int((settings.get("port") or [DEFAULT_PORT])[0])
    binds = [b.lstrip("-") for b in settings.get("bind") or ["127.0.0.1"]]
    host = LOOPBACK_FOR.get(binds[0], binds[0])
    return host, port


def encode(*words):
    out = [b"*%d\r\n" % len(words)]
    for word in words:
        data = word.encode()
        out.append(b"$%d\r\n%s\r\n" % (len(data), data))
    return b"".join(out)


def read_lines(sock, count):
    buf = b""
    while buf.count(b"\r\n") < count:
        chunk = sock.recv(4096)
        if not chunk:
            break
        buf += chunk
    return buf.split(b"\r\n")[:count]


def main():
    settings = effective_settings()
    host, port = probe_address(settings)
    password = (settings.get("requirepass") or [""])[0]
    request = (encode("AUTH", password) if password else b"") + encode("PING")
    expected = ([b"+OK"] if password else []) + [b"+PONG"]
    try:
        with socket.create_connection((host, port), timeout=TIMEOUT) as sock:
            sock.sendall(request)
            replies = read_lines(sock, len(expected))
    except OSError as exc:
        print(f"unhealthy: {host}:{port}: {exc}")
        return 1
    if replies != expected:
        print(f"unhealthy: {host}:{port} answered {b' '.join(replies)[:200]!r}")
        return 1
    print(f"healthy: PONG from {host}:{port}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
