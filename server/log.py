"""Logging in redis-server's format: `<pid>:<role> 26 Nov 2026 17:43:38.123 * message`.

Role M is the server, C a forked save child. Levels: debug '.', verbose '-', notice '*', warning '#'.
Lines go to stdout (or `logfile`), flushed at once so that supervisors and tests see them.
"""

import os
import sys
import time

LEVELS = {"debug": 0, "verbose": 1, "notice": 2, "warning": 3}
_MARKS = ".-*#"

_state = {"level": 2, "role": "M", "stream": None}


def configure(level: str = "notice", logfile: str = "") -> None:
    _state["level"] = LEVELS[level]
    _state["stream"] = open(logfile, "a", buffering=1, encoding="utf-8") if logfile else None


def set_level(level: str) -> None:
    _state["level"] = LEVELS[level]


def set_role(role: str) -> None:
    _state["role"] = role


def log(level: str, message: str) -> None:
    rank = LEVELS[level]
    if rank < _state["level"]:
        return
    now = time.time()
    stamp = time.strftime("%d %b %Y %H:%M:%S", time.localtime(now)) + ".%03d" % int(now % 1 * 1000)
    line = f"{os.getpid()}:{_state['role']} {stamp} {_MARKS[rank]} {message}\n"
    stream = _state["stream"] or sys.stdout
    try:
        stream.write(line)
        stream.flush()
    except (OSError, ValueError):
        pass


def debug(message: str) -> None:
    log("debug", message)


def verbose(message: str) -> None:
    log("verbose", message)


def notice(message: str) -> None:
    log("notice", message)


def warning(message: str) -> None:
    log("warning", message)


def sds_repr(data: bytes) -> str:
    """Bytes quoted as Redis's sdscatrepr quotes them in logs."""
    out = ['"']
    for byte in data:
        ch = chr(byte)
        if ch in '\\"':
            out.append("\\" + ch)
        elif ch in _SDS_ESCAPES:
            out.append(_SDS_ESCAPES[ch])
        elif 32 <= byte < 127:
            out.append(ch)
        else:
            out.append("\\x%02x" % byte)
    out.append('"')
    return "".join(out)


_SDS_ESCAPES = {"\n": "\\n", "\r": "\\r", "\t": "\\t", "\a": "\\a", "\b": "\\b"}
