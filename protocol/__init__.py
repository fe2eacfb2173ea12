"""Sans-IO RESP: request bytes in -> commands (lists of bytes); reply values in -> bytes.

`parser` turns what a client sends into commands, enforcing Redis's limits and error texts;
`reply` encodes handler results for RESP2 or RESP3. Nothing here does I/O, and nothing here
imports `server` or `persistence`.

`_loader` is installed first: it decides, for every compiled forkv module, whether its compiled
form or its .py source runs (see there).
"""

from protocol import _loader

_loader.install()

from protocol.parser import NEED_DATA, ProtocolError, RequestParser
from protocol.reply import (
    NO_REPLY,
    NULL_ARRAY,
    Encoded,
    ErrorReply,
    Map,
    Push,
    Status,
    Verbatim,
    encode_reply,
    encode_error,
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
