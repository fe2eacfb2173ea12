"""COMMAND INFO for every command forkv has is what Debian's redis-server 7.0 reports for it:
arity, flags (in order), key positions and ACL categories, subcommands included."""

from server.table import all_commands
from tests.servers import raw_call

FORKV_ONLY = {b"client|setinfo", b"client|no-touch"}  # Redis 7.2 subcommands, which redis-py sends


def _shape(entry):
    return entry[1], entry[2], entry[3:6], entry[6]


def test_command_info_matches_redis(forkv_server, redis_server):
    ours = raw_call(forkv_server.port, "COMMAND")
    assert len(ours) == raw_call(forkv_server.port, "COMMAND", "COUNT")
    mismatches = []
    for entry in ours:
        theirs = raw_call(redis_server.port, "COMMAND", "INFO", entry[0])[0]
        assert theirs is not None, entry[0]
        if _shape(entry) != _shape(theirs):
            mismatches.append((entry[0], _shape(entry), _shape(theirs)))
        their_subs = {sub[0]: sub for sub in theirs[9]}
        for sub in entry[9]:
            if sub[0] in FORKV_ONLY:
                continue
            if _shape(sub) != _shape(their_subs[sub[0]]):
                mismatches.append((sub[0], _shape(sub), _shape(their_subs[sub[0]])))
    assert mismatches == []


def _walk(entries):
    for entry in entries:
        yield entry
        yield from _walk(entry[9])


def test_command_tips_and_key_specs_match_redis(forkv_server, redis_server):
    """COMMAND's tips (entry 7) and key specifications (entry 8) for every command and
    subcommand forkv has, as Redis 7.0 reports them (RESP3: maps in Redis's field order)."""
    ours = raw_call(forkv_server.port, "COMMAND", proto=3)
    mismatches = []
    for entry in _walk(ours):
        if entry[0] in FORKV_ONLY:
            continue
        theirs = raw_call(redis_server.port, "COMMAND", "INFO", entry[0], proto=3)[0]
        for i in (7, 8):
            if entry[i] != theirs[i]:
                mismatches.append((entry[0], i, entry[i], theirs[i]))
    assert mismatches == []


GETKEYS = [
    ["SET", "k", "v"], ["MSET", "a", "1", "b", "2"], ["MSET", "a", "1", "b"], ["BITOP", "AND", "d", "s1", "s2"],
    ["RENAME", "a", "b"], ["OBJECT", "ENCODING", "k"], ["DEL", "a", "b", "c"], ["COPY", "a", "b", "DB", "1"],
    ["LCS", "a", "b"], ["GETEX", "k", "PERSIST"], ["WATCH", "x", "y"],
    ["NOSUCH", "k"], ["TIME", "x"], ["CONFIG"], ["CONFIG", "GET", "x"], ["CONFIG", "NOPE"],
    ["GET"], ["GET", "a", "b"], ["SET", "k"], ["OBJECT", "ENCODING"], ["PING"], ["MSET", "a"],
]


def test_command_getkeys_matches_redis(forkv_server, redis_server):
    def reply(port, line):
        value = raw_call(port, "COMMAND", "GETKEYS", *line)
        return repr(value) if isinstance(value, Exception) else value

    for line in GETKEYS:
        assert reply(forkv_server.port, line) == reply(redis_server.port, line), line


def test_command_getkeysandflags_matches_redis(forkv_server, redis_server):
    """The keys of each line with the flags of the key spec that found them (and the same
    errors), for every command of the table that has key specs, with a plausible line."""
    def reply(port, line):
        value = raw_call(port, "COMMAND", "GETKEYSANDFLAGS", *line)
        return repr(value) if isinstance(value, Exception) else value

    lines = list(GETKEYS) + [["SET", "k", "v", "GET"], ["BITFIELD", "k", "GET", "u8", "0"],
                             ["BITFIELD", "k", "SET", "u8", "0", "1"], ["SSUBSCRIBE", "c"]]
    for cmd in all_commands().values():
        for each in (cmd, *cmd.subcommands.values()):
            if each.key_specs and each.handler is not None:
                words = each.name.split("|")
                lines.append(words + ["k1", "k2", "3", "k4", "k5"][:max(abs(each.arity) - len(words), 1)])
    for line in lines:
        assert reply(forkv_server.port, line) == reply(redis_server.port, line), line
