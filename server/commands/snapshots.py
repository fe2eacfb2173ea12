"""Persistence commands: SAVE, BGSAVE, DUMP, RESTORE, and MIGRATE (DUMP here, RESTORE there).
The work is in server/wiring.py (SAVE and BGSAVE bookkeeping) and persistence/rdb.py (the value
serializer DUMP and RESTORE share)."""

import socket
from typing import TYPE_CHECKING

import hiredis

from persistence import rdb
from protocol.reply import Map, Status, encoded
from server import errors, values
from server.args import LLONG_MAX, to_int
from server.config import NOTIFY_GENERIC
from server.docs import Documented, arg
from server.errors import CommandError
from server.table import KS, Argv, Flag, KeySpec, Reply, command

if TYPE_CHECKING:
    from server.client import Client

F = Flag
OK = encoded(Status("OK"))
BARE_ERR = "ERR"


@command("save", 1, F.ADMIN | F.NOSCRIPT | F.NO_ASYNC_LOADING | F.NO_MULTI,
         group="server", summary="Synchronously save the dataset to disk",
         complexity="O(N) where N is the total number of keys in all databases")
def save(client: "Client", argv: Argv) -> Reply:
    persistence = client.server.persistence
    if persistence.child is not None:
        raise CommandError(errors.BGSAVE_IN_PROGRESS)
    if not persistence.save_command():
        raise CommandError(BARE_ERR)
    return OK


@command("bgsave", -1, F.ADMIN | F.NOSCRIPT | F.NO_ASYNC_LOADING, group="server",
         summary="Asynchronously save the dataset to disk", complexity="O(1)",
         arguments=("[SCHEDULE]{since=3.2.2}",),
         history=(("3.2.2", "Added the `SCHEDULE` option."),))
def bgsave(client: "Client", argv: Argv) -> Reply:
    # SCHEDULE only matters when another kind of child runs (AOF rewrite); forkv forks nothing else.
    if len(argv) > 1 and (len(argv) != 2 or argv[1].lower() != b"schedule"):
        raise CommandError(errors.SYNTAX)
    persistence = client.server.persistence
    if persistence.child is not None:
        raise CommandError(errors.BGSAVE_IN_PROGRESS)
    if client.in_exec:
        persistence.bgsave_scheduled = True
        return Status("Background saving scheduled")
    if not persistence.bgsave():
        raise CommandError(BARE_ERR)
    return Status("Background saving started")


@command("dump", 2, F.READONLY, keys=(1, 1, 1), group="generic",
         summary="Return a serialized version of the value stored at the specified key.",
         since="2.6.0", complexity="O(1) to access the key and additional O(N*M) to serialize it, where N is "
                    "the number of Redis objects composing the value and M their average size. "
                    "For small string values the time complexity is thus O(1)+O(1*M) where M "
                    "is small, so simply O(1).",
         arguments=("key",),
         tips=("nondeterministic_output",))
def dump(client: "Client", argv: Argv) -> Reply:
    value = client.db.read(argv[1])
    if value is None:
        return None
    config = client.server.config
    return rdb.dump_payload(values.dump_form(value, config), compression=config["rdbcompression"],
                            layouts=values.LAYOUTS)


@command("restore", -4, F.WRITE | F.DENYOOM, keys=(1, 1, 1), group="generic", acl=("@dangerous",),
         summary="Create a key using the provided serialized value, previously obtained using DUMP.",
         since="2.6.0", complexity="O(1) to create the new key and additional O(N*M) to reconstruct the "
                    "serialized value, where N is the number of Redis objects composing the "
                    "value and M their average size. For small string values the time "
                    "complexity is thus O(1)+O(1*M) where M is small, so simply O(1). However "
                    "for sorted set values the complexity is O(N*M*log(N)) because inserting "
                    "values into sorted sets is O(log(N)).", arguments=("key",
                    "ttl",
                    "serialized-value",
                    "[REPLACE]{since=3.0.0}",
                    "[ABSTTL]{since=5.0.0}",
                    "[IDLETIME seconds]{since=5.0.0}",
                    "[FREQ frequency]{:integer since=5.0.0}"),
         key_specs=(KS("OW update", 1),),
         history=(("3.0.0", "Added the `REPLACE` modifier."),
                  ("5.0.0", "Added the `ABSTTL` modifier."),
                  ("5.0.0", "Added the `IDLETIME` and `FREQ` options.")))
def restore(client: "Client", argv: Argv) -> Reply:
    # Redis's restoreCommand order: options, then BUSYKEY, then the TTL, then the payload.
    key, payload = argv[1], argv[3]
    replace = absttl = False
    idletime = freq = -1
    i = 4
    while i < len(argv):
        opt = argv[i].lower()
        more = i + 1 < len(argv)
        if opt == b"replace":
            replace = True
        elif opt == b"absttl":
            absttl = True
        elif opt == b"idletime" and more and freq < 0:  # IDLETIME and FREQ exclude each other
            i += 1
            idletime = to_int(argv[i])
            if idletime < 0:
                raise CommandError(errors.INVALID_IDLETIME)
        elif opt == b"freq" and more and idletime < 0:
            i += 1
            freq = to_int(argv[i])
            if not 0 <= freq <= 255:
                raise CommandError(errors.INVALID_FREQ)
        else:
            raise CommandError(errors.SYNTAX)
        i += 1
    db = client.db
    if not replace and db.get(key) is not None:
        raise CommandError(errors.BUSYKEY)
    ttl = to_int(argv[2])
    if ttl < 0:
        raise CommandError(errors.INVALID_TTL)
    try:
        value = values.adopt(rdb.load_payload(payload, packed=True), client.server.config.values)
    except rdb.RDBError as exc:
        raise CommandError(errors.DUMP_PAYLOAD if exc.kind == "payload" else errors.BAD_DATA_FORMAT) from None
    now = db.ks.clock()
    expire_at = None
    if ttl:
        expire_at = ttl if absttl else now + ttl
        # A relative TTL past the signed 64-bit range wraps negative in Redis: already expired.
        if expire_at <= now or expire_at > LLONG_MAX:  # like Redis, only the old key (REPLACE) goes
            if replace and db.delete(key):
                db.notify(NOTIFY_GENERIC, b"del", key)
            return OK
    # A new object in Redis (REPLACE deletes the old one first): a fresh access field, then
    # IDLETIME / FREQ as the policy reads them.
    ks = db.ks
    db.store(key, value, expire_at=expire_at, field=ks.loaded_field(idletime, freq))
    db.notify(NOTIFY_GENERIC, b"restore", key)
    return OK


# -- MIGRATE ---------------------------------------------------------------------------------------

_MIGRATE_SPECS = (KeySpec(("RW", "access", "delete"), ("index", 3), ("range", 0, 1, 0)),
                  KeySpec(("RW", "access", "delete", "incomplete"), ("keyword", "KEYS", -2), ("range", -1, 1, 0)))
_MIGRATE_SKIPS = {b"copy": 0, b"replace": 0, b"auth": 1, b"auth2": 2}


def migrate_keys(argv: Argv) -> list:
    """Redis's migrateGetKeys: argv[3], or what follows the KEYS option."""
    first, num = 3, 1
    i = 6
    while i < len(argv):
        word = argv[i].lower()
        if word == b"keys":
            first, num = i + 1, len(argv) - i - 1
            break
        i += _MIGRATE_SKIPS.get(word, 0) + 1
    return [(first + j, ("RW", "access", "delete")) for j in range(num)]


_MIGRATE_ARGS = ("host", "port{:integer}",
                 Documented("key|\"\"", arg("key_or_empty_string", "oneof", args=(
                     arg("key", "key", key=0), Map({"name": "empty_string", "type": "pure-token", "token": ""})))),
                 "destination-db", "timeout", "[COPY]{since=3.0.0}", "[REPLACE]{since=3.0.0}",
                 Documented("[AUTH password|AUTH2 username password]", arg(
                     "authentication", "oneof", flags="optional", args=(
                     arg("password", "string", token="AUTH", since="4.0.7", flags="optional"),
                     arg("username_password", "block", token="AUTH2", since="6.0.0", flags="optional", args=(
                         arg("username", "string"), arg("password", "string")))))),
                 Documented("[KEYS key [key ...]]", arg("key", "key", token="KEYS", since="3.0.6",
                                                        flags="optional multiple", key=1)))


@command("migrate", -6, F.WRITE, keys=(3, 3, 1), group="generic", acl=("@dangerous",),
         summary="Atomically transfer a key from a Redis instance to another one.", since="2.6.0",
         complexity="This command actually executes a DUMP+DEL in the source instance, and a RESTORE in "
                    "the target instance. See the pages of these commands for time complexity. Also an "
                    "O(N) data transfer between the two instances is performed.",
         arguments=_MIGRATE_ARGS, key_specs=_MIGRATE_SPECS, getkeys=migrate_keys,
         tips=("nondeterministic_output",),
         history=(("3.0.0", "Added the `COPY` and `REPLACE` options."), ("3.0.6", "Added the `KEYS` option."),
                  ("4.0.7", "Added the `AUTH` option."), ("6.0.0", "Added the `AUTH2` option.")))
def migrate(client: "Client", argv: Argv) -> Reply:
    """DUMP the keys, RESTORE them on the target over a blocking connection (the server waits,
    as Redis's MIGRATE does, up to `timeout` ms per step), then delete them here unless COPY."""
    copy = replace = False
    auth = None
    first, num = 3, 1
    i, argc = 6, len(argv)
    while i < argc:
        opt = argv[i].lower()
        more = argc - i - 1
        if opt == b"copy":
            copy = True
        elif opt == b"replace":
            replace = True
        elif opt == b"auth" and more:
            auth = [b"AUTH", argv[i + 1]]
            i += 1
        elif opt == b"auth2" and more >= 2:
            auth = [b"AUTH", argv[i + 1], argv[i + 2]]
            i += 2
        elif opt == b"keys":
            if argv[3]:
                raise CommandError(errors.MIGRATE_KEYS_NOT_EMPTY)
            first, num = i + 1, argc - i - 1
            break
        else:
            raise CommandError(errors.SYNTAX)
        i += 1
    timeout = to_int(argv[5])
    dbid = to_int(argv[4])
    if timeout <= 0:
        timeout = 1000
    db = client.db
    moving = []
    for key in argv[first:first + num]:
        value = db.read(key)
        if value is not None:
            ttl = db.ttl_ms(key)
            moving.append((key, value, 0 if ttl is None else max(1, ttl)))
    if not moving:
        return Status("NOKEY")
    compression = client.server.config["rdbcompression"]
    commands = [auth] if auth is not None else []
    commands.append([b"SELECT", b"%d" % dbid])
    for key, value, ttl in moving:
        restore = [b"RESTORE", key, b"%d" % ttl,
                   rdb.dump_payload(value, compression=compression, layouts=values.LAYOUTS)]
        if replace:
            restore.append(b"REPLACE")
        commands.append(restore)
    try:
        sock = socket.create_connection((argv[1].decode("utf-8", "replace"), int(argv[2])), timeout=timeout / 1000)
    except ConnectionRefusedError:  # Redis connects without blocking: the refusal shows on the write
        raise CommandError(errors.MIGRATE_WRITE) from None
    except (OSError, ValueError, OverflowError):
        raise CommandError(errors.MIGRATE_CONNECT) from None
    try:
        try:
            sock.sendall(b"".join(b"*%d\r\n" % len(c) + b"".join(b"$%d\r\n%b\r\n" % (len(a), a) for a in c)
                                  for c in commands))
        except OSError:
            raise CommandError(errors.MIGRATE_WRITE) from None
        reader = hiredis.Reader()
        replies = []
        try:
            while len(replies) < len(commands):
                reply = reader.gets()
                if reply is False:
                    chunk = sock.recv(65536)
                    if not chunk:
                        raise OSError("closed")
                    reader.feed(chunk)
                else:
                    replies.append(reply)
        except OSError:
            raise CommandError(errors.MIGRATE_READ) from None
    finally:
        sock.close()
    # As Redis: a refused AUTH or SELECT fails every key; the first error is the one reported.
    failure = None
    for reply in replies[:len(commands) - len(moving)]:
        if failure is None and isinstance(reply, hiredis.ReplyError):
            failure = str(reply)
    setup_failed = failure is not None
    for (key, _, _), reply in zip(moving, replies[len(commands) - len(moving):]):
        if setup_failed or isinstance(reply, hiredis.ReplyError):
            if failure is None:
                failure = str(reply)
        elif not copy and db.delete(key):
            db.notify(NOTIFY_GENERIC, b"del", key)
    if failure is not None:
        raise CommandError(errors.migrate_target_error(failure))
    return OK
