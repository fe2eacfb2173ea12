"""Every container's HELP reply, byte for byte as Debian's redis-server sends it, in RESP2 and RESP3:
one layout (server/args.py `help_reply`, Redis's addReplyHelp) for all of them. DEBUG HELP lists
only what forkv implements, so there only the heading and the closing HELP lines are compared."""

import pytest

from tests.integration.test_pubsub import Raw

CONTAINERS = ["CLIENT", "COMMAND", "CONFIG", "FUNCTION", "LATENCY", "MEMORY", "OBJECT", "PUBSUB",
              "SCRIPT", "SLOWLOG"]


def _help(server, name: str, proto: int) -> bytes:
    c = Raw(server.port, proto)
    try:
        return c.call(name, "HELP")
    finally:
        c.close()


@pytest.mark.parametrize("proto", [2, 3])
def test_help_replies_match_redis(forkv_server, redis_server, proto):
    for name in CONTAINERS:
        assert _help(forkv_server, name, proto) == _help(redis_server, name, proto), name


def test_debug_help_has_the_shared_layout(spawn):
    reply = _help(spawn("forkv", "--enable-debug-command", "yes"), "DEBUG", 2)
    lines = reply.split(b"\r\n")
    assert lines[1] == b"+DEBUG <subcommand> [<arg> [value] [opt] ...]. Subcommands are:"
    assert lines[-3:] == [b"+HELP", b"+    Prints this help.", b""]
