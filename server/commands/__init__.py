"""Command modules, one per Redis command group. Importing this package registers every command in
`server.table.COMMANDS`; each module declares its commands with `@command(...)` and nothing else
needs to know they exist."""

from server.commands import (  # noqa: F401
    bitmaps,
    cluster,
    connection,
    debug,
    functions,
    geo,
    hashes,
    hyperloglog,
    keys,
    lists,
    memory,
    pubsub,
    scripting,
    server_admin,
    sets,
    snapshots,
    sort,
    streams,
    strings,
    transactions,
    zsets,
)
