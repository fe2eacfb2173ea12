"""Sans-IO RESP: request bytes in -> commands (lists of bytes); reply values in -> bytes.

`parser` turns what a client sends into commands, enforcing Redis's limits and error texts;
`reply` encodes handler results for RESP2 or RESP3. Nothing here does I/O, and nothing here
imports `server` or `persistence`.

`_loader` is installed first: it decides, for every compiled forkv module, whether its compiled
form or its .py source runs (see there).
"""

from protocol import _loader

_loader.install()

from protocol.parser import NEED_DATA, ProtocolError, RequestParser  # noqa: E402  (after install)
from protocol.reply import (  # noqa: E402
    NO_REPLY,
    NULL_ARRAY,
    Encoded,
    ErrorReply,
    Map,
    Push,
    Status,
    Verbatim,
    encode_error,
    encode_reply,
    encoded,
    frozen,
)

__all__ = [
    "NEED_DATA",
    "NO_REPLY",
    "NULL_ARRAY",
    "Encoded",
    "ErrorReply",
    "Map",
    "ProtocolError",
    "Push",
    "RequestParser",
    "Status",
    "Verbatim",
    "encode_error",
    "encode_reply",
    "encoded",
    "frozen",
]
