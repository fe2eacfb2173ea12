"""COMMAND INFO for every command forkv has is what Debian's redis-server 7.0 reports for it:
arity, flags (in order), key positions and ACL categories, subcommands included."""

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
