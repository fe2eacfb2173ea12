"""Argument parsing shared by command handlers, with Redis's strictness and error texts.

`to_int` accepts exactly what Redis's string2ll accepts (optional '-', digits, no leading zeros,
no spaces, no '+', within a signed 64-bit range); `to_float` what strtold accepts for scores and
increments (no NaN). Each raises CommandError with the message Redis gives. `help_reply` lays
out a container's HELP reply, the one text every container shares.
"""

import math
import re

from protocol.reply import Encoded, Status, encoded
from server import errors
from server.errors import CommandError

LLONG_MIN = -(2**63)
LLONG_MAX = 2**63 - 1
INT_MIN = -2**31
INT_MAX = 2**31 - 1
_INT_RE = re.compile(rb"-?[1-9][0-9]*|0")
_FLOAT_RE = re.compile(rb"[+-]?(inf|infinity|(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?)", re.IGNORECASE)


def is_int(arg) -> bool:
    return len(arg) <= 20 and _INT_RE.fullmatch(arg) is not None and LLONG_MIN <= int(arg) <= LLONG_MAX


def to_int(arg, message: str = errors.NOT_INTEGER) -> int:
    # The same language as _INT_RE, tested byte by byte: the regex costs a third of a
    # microsecond, and this runs for every TTL, count and offset argument.
    digits = arg[1:] if arg[:1] == b"-" else arg
    if digits.isdigit() and len(arg) <= 20 and (digits[0] != 0x30 or digits is arg and len(arg) == 1):
        value = int(arg)
        if LLONG_MIN <= value <= LLONG_MAX:
            return value
    raise CommandError(message)


def to_c_int(arg, message: str = "") -> int:
    """Redis's getIntFromObjectOrReply: a 64-bit integer that must also fit a C int; out of that
    range, `message` if given, else Redis's range error."""
    value = to_int(arg, message or errors.NOT_INTEGER)
    if not INT_MIN <= value <= INT_MAX:
        raise CommandError(message or errors.INT_OUT_OF_RANGE)
    return value


def to_float(arg, message: str = errors.NOT_FLOAT) -> float:
    if _FLOAT_RE.fullmatch(arg) is None:
        raise CommandError(message)
    value = float(arg)
    if math.isnan(value):
        raise CommandError(message)
    return value


def help_reply(container: str, lines) -> Encoded:
    """`container`'s HELP reply, encoded once, laid out as Redis's addReplyHelp lays it: a heading
    naming the container, the subcommands' `lines`, then HELP itself."""
    heading = f"{container.upper()} <subcommand> [<arg> [value] [opt] ...]. Subcommands are:"
    return encoded([Status(line) for line in (heading, *lines, "HELP", "    Prints this help.")])
