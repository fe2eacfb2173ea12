"""Persistence commands: SAVE, BGSAVE, DUMP, RESTORE. The work is in server/wiring.py (SAVE and
BGSAVE bookkeeping) and persistence/rdb.py (the value serializer DUMP and RESTORE share)."""

from typing import TYPE_CHECKING

from persistence import rdb
from protocol.reply import Status, encoded
from server import errors, values
from server.args import LLONG_MAX, to_int
from server.config import NOTIFY_GENERIC
from server.errors import CommandError
from server.table import KS, Argv, Flag, Reply, command

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
