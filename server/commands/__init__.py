"""Command modules, one per Redis command group. Importing this package registers every command in
`server.table.COMMANDS`; each module declares its commands with `@command(...)` and nothing else
needs to know they exist."""

from server.commands import (  # noqa: F401
    bitmaps,
    connection,
    keys,
    memory,
    pubsub,
    server_admin,
    snapshots,
    strings,
    transactions,
    zsets,
)
