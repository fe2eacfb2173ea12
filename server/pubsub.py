"""Pub/Sub: who listens to which channel, pattern or shard channel, and delivery of messages.

The registry maps each channel (and each pattern, and each shard channel: a separate namespace,
as in a Redis that is not a cluster) to the clients subscribed, in subscription order; a client
keeps its own side in `client.subs` (a Subscriptions, None while it has none, so that an idle
connection carries nothing). A message is encoded once per protocol (RESP2 array, RESP3 push) and
written to each receiver with Client.send, which accounts output buffers against the receiver's
class limit (`client-output-buffer-limit pubsub`): a subscriber that stops reading is closed
instead of growing the server's memory. PUBLISH scans every pattern, as Redis does.

Keyspace notifications are published here too (`keyspace_event`, the keyspace's `emit`).

It must not: parse commands or know RESP2's subscribed-mode rule (dispatch applies it).
"""

from protocol.reply import Encoded, Push, encode_reply
from server.config import NOTIFY_KEYEVENT, NOTIFY_KEYSPACE
from server.glob import glob_match


def is_push(payload) -> bool:
    """Pub/Sub's own writes to a client (the (un)subscribe confirmations, messages: Encoded with
    a Push or a list of them as the value), which reach it even under CLIENT REPLY OFF / SKIP, in
    RESP2 too (Redis's CLIENT_PUSHING)."""
    if type(payload) is not Encoded:
        return False
    value = payload.value
    return type(value) is Push or (type(value) is list and len(value) > 0 and type(value[0]) is Push)


class Subscriptions:
    """One client's subscriptions, each kind in subscription order."""

    __slots__ = ("channels", "patterns", "shard")

    def __init__(self):
        self.channels = {}  # bytes -> None
        self.patterns = {}
        self.shard = {}

    def count(self) -> int:
        """Redis's clientSubscriptionsCount: channels and patterns (shard channels apart)."""
        return len(self.channels) + len(self.patterns)

    def empty(self) -> bool:
        return not (self.channels or self.patterns or self.shard)


class PubSub:
    __slots__ = ("channels", "patterns", "shard")

    def __init__(self):
        self.channels = {}  # channel -> {client: None}
        self.patterns = {}  # pattern -> {client: None}
        self.shard = {}  # shard channel -> {client: None}

    # -- subscribing ---------------------------------------------------------------------------

    def subscribe(self, client, kind: str, name: bytes) -> bool:
        """Add one subscription of `kind` ("channels", "patterns" or "shard"); False if the
        client already had it."""
        subs = client.subs
        if subs is None:
            subs = client.subs = Subscriptions()
            client.refresh_guard()
        mine = getattr(subs, kind)
        if name in mine:
            return False
        mine[name] = None
        getattr(self, kind).setdefault(name, {})[client] = None
        return True

    def unsubscribe(self, client, kind: str, name: bytes) -> bool:
        """Remove one subscription; False if the client did not have it."""
        subs = client.subs
        if subs is None:
            return False
        mine = getattr(subs, kind)
        if name not in mine:
            return False
        del mine[name]
        table = getattr(self, kind)
        listeners = table.get(name)
        if listeners is not None:
            listeners.pop(client, None)
            if not listeners:
                del table[name]
        if subs.empty():
            client.subs = None
            client.refresh_guard()
        return True

    def forget(self, client) -> None:
        """Drop every subscription of a client (disconnection, RESET)."""
        subs = client.subs
        if subs is None:
            return
        for kind in ("channels", "patterns", "shard"):
            for name in list(getattr(subs, kind)):
                self.unsubscribe(client, kind, name)

    # -- publishing -----------------------------------------------------------------------------

    def publish(self, channel: bytes, message: bytes) -> int:
        """Deliver to the channel's subscribers, then to every matching pattern's; returns the
        number of deliveries (Redis's receivers count: a client matching twice counts twice)."""
        receivers = 0
        listeners = self.channels.get(channel)
        if listeners:
            receivers += _deliver(listeners, Push([b"message", channel, message]))
        if self.patterns:
            for pattern, clients in list(self.patterns.items()):
                if glob_match(pattern, channel):
                    receivers += _deliver(clients, Push([b"pmessage", pattern, channel, message]))
        return receivers

    def keyspace_event(self, flags: int, index: int, event: bytes, key: bytes) -> None:
        """One keyspace notification (Redis's notifyKeyspaceEvent): the event on the key's
        `__keyspace@<db>__:<key>` channel (K) and the key on `__keyevent@<db>__:<event>` (E)."""
        if flags & NOTIFY_KEYSPACE:
            self.publish(b"__keyspace@%d__:%b" % (index, key), event)
        if flags & NOTIFY_KEYEVENT:
            self.publish(b"__keyevent@%d__:%b" % (index, event), key)

    def publish_shard(self, channel: bytes, message: bytes) -> int:
        listeners = self.shard.get(channel)
        if not listeners:
            return 0
        return _deliver(listeners, Push([b"smessage", channel, message]))


def _deliver(clients: dict, message: Push) -> int:
    wire = {}
    n = 0
    for client in list(clients):
        # A subscriber running a script (PUBLISH to itself from EVAL) speaks RESP2 to the script
        # only: the connection is RESP3, since RESP2's subscribed mode forbids EVAL.
        proto = 3 if client.in_script else client.proto
        payload = wire.get(proto)
        if payload is None:
            out: list = []
            encode_reply(message, out, proto)
            payload = wire[proto] = Encoded(b"".join(out), message)
        client.send(payload)
        n += 1
    return n
