"""Sans-IO RESP: request bytes in -> commands (lists of bytes); reply values in -> bytes.

`parser` turns what a client sends into commands, enforcing Redis's limits and error texts;
`reply` encodes handler results for RESP2 or RESP3. Nothing here does I/O, and nothing here
imports `server` or `persistence`.
"""

from protocol.parser import NEED_DATA, ProtocolError, RequestParser
from protocol.reply import (
    NULL_ARRAY,
    Encoded,
    ErrorReply,
    Map,
    Push,
    Status,
    Verbatim,
    encode_reply,
    encode_error,
)

__all__ = [
    "NEED_DATA",
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
]
