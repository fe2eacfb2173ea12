"""Keyspace notifications collected one way from forkv and from Debian's redis-server, for the
tests that compare them: a pattern subscriber on every key event while a script of commands runs."""

from tests.integration.test_pubsub import Raw


def keyspace_events(server, events: str, commands, then=None) -> list:
    """(channel, payload) of each notification `server` sends while `commands` run, in order, with
    notify-keyspace-events set to `events`; `then(conn)` runs after them on the same connection.
    The setting is cleared and the data flushed afterwards, even when a step fails."""
    sub, cmd = Raw(server.port), Raw(server.port)
    try:
        cmd.call("FLUSHALL")
        cmd.call("CONFIG", "SET", "notify-keyspace-events", events)
        sub.call("PSUBSCRIBE", "__key*__:*")
        sub.call("SUBSCRIBE", "done")
        for args in commands:
            cmd.call(*args)
        if then is not None:
            then(cmd)
        cmd.call("PUBLISH", "done", "end")  # the last message: every event is in before it
        got = []
        while (message := sub.read()[1][0])[0] != b"message":
            got.append(tuple(message[2:]))
        return got
    finally:
        try:
            cmd.call("CONFIG", "SET", "notify-keyspace-events", "")
            cmd.call("FLUSHALL")
        finally:
            sub.close()
            cmd.close()
