"""The value types: one module per Redis type, each owning its value's representation.

A type module holds its value class, its OBJECT ENCODING by Redis 7.0's thresholds (and the
one-way conversion Redis makes from the small encoding to the big one), how it is duplicated
(COPY), its memory estimate, and how a value loaded from RDB or RESTORE (persistence's plain
list / set / dict shapes) becomes one of its values. It registers itself in server/values.py;
the snapshot writers serialise it by the layout declared there (the C walker reads every
representation here without touching reference counts). The commands of a type live in
server/commands/<type>.py and stay thin over the helpers here.

Strings are the exception: they are plain `bytes` / `bytearray` / `int` (see keyspace.py and
server/values.py) because GET/SET are the hot path.

It must not: know about clients, replies or the command table.
"""
