"""Pub/Sub commands (Redis's pubsub.c): (P|S)SUBSCRIBE, (P|S)UNSUBSCRIBE, PUBLISH, SPUBLISH, PUBSUB.

The registry and delivery are server/pubsub.py's. A (un)subscribe command answers one message
per channel (arrays in RESP2, pushes in RESP3), built here as one pre-encoded reply. RESP2's
subscribed mode, where only these commands, PING, QUIT and RESET run, is enforced by dispatch.
"""

from typing import TYPE_CHECKING

from protocol.reply import Encoded, Push, encode_reply
from server import errors
from server.args import help_reply
from server.errors import CommandError
from server.glob import glob_match
from server.table import KS, Argv, Flag, Reply, command, container

if TYPE_CHECKING:
    from server.client import Client

F = Flag
_SUB = F.PUBSUB | F.NOSCRIPT | F.LOADING | F.STALE


def _confirmations(client, messages: list) -> Encoded:
    out: list = []
    for message in messages:
        encode_reply(Push(message), out, client.proto)
    return Encoded(b"".join(out), [Push(m) for m in messages])  # see pubsub.is_push


def _subscribe(client, argv, kind: str, word: bytes) -> Reply:
    pubsub = client.server.pubsub
    messages = []
    for name in argv[1:]:
        pubsub.subscribe(client, kind, name)
        subs = client.subs
        count = len(subs.shard) if kind == "shard" else subs.count()
        messages.append([word, name, count])
    return _confirmations(client, messages)


def _unsubscribe(client, argv, kind: str, word: bytes) -> Reply:
    pubsub = client.server.pubsub
    subs = client.subs
    names = argv[1:] if len(argv) > 1 else list(getattr(subs, kind)) if subs is not None else []
    messages = []
    for name in names:
        pubsub.unsubscribe(client, kind, name)
        messages.append([word, name, _count(client, kind)])
    if not messages:  # nothing to leave: one message with a null name
        messages.append([word, None, _count(client, kind)])
    return _confirmations(client, messages)


def _count(client, kind: str) -> int:
    subs = client.subs
    if subs is None:
        return 0
    return len(subs.shard) if kind == "shard" else subs.count()


@command("subscribe", -2, _SUB, group="pubsub", summary="Listen for messages published to the given "
         "channels", since="2.0.0", complexity="O(N) where N is the number of channels to subscribe to.",
         arguments=("channel [channel ...]",))
def subscribe(client: "Client", argv: Argv) -> Reply:
    return _subscribe(client, argv, "channels", b"subscribe")


@command("unsubscribe", -1, _SUB, group="pubsub", summary="Stop listening for messages posted to the "
         "given channels", since="2.0.0", complexity="O(N) where N is the number of clients already "
         "subscribed to a channel.", arguments=("[channel [channel ...]]",))
def unsubscribe(client: "Client", argv: Argv) -> Reply:
    return _unsubscribe(client, argv, "channels", b"unsubscribe")


@command("psubscribe", -2, _SUB, group="pubsub", summary="Listen for messages published to channels "
         "matching the given patterns", since="2.0.0", complexity="O(N) where N is the number of "
         "patterns the client is already subscribed to.", arguments=("(pattern) [(pattern) ...]",))
def psubscribe(client: "Client", argv: Argv) -> Reply:
    return _subscribe(client, argv, "patterns", b"psubscribe")


@command("punsubscribe", -1, _SUB, group="pubsub", summary="Stop listening for messages posted to "
         "channels matching the given patterns", since="2.0.0", complexity="O(N+M) where N is the "
         "number of patterns the client is already subscribed and M is the number of total patterns "
         "subscribed in the system (by any client).", arguments=("[pattern [pattern ...]]",))
def punsubscribe(client: "Client", argv: Argv) -> Reply:
    return _unsubscribe(client, argv, "patterns", b"punsubscribe")


@command("ssubscribe", -2, _SUB, group="pubsub", summary="Listen for messages published to the given "
         "shard channels", since="7.0.0", complexity="O(N) where N is the number of shard channels to "
         "subscribe to.", arguments=("shardchannel [shardchannel ...]",), keys=(1, -1, 1),
         key_specs=(KS("not_key", 1, -1),))
def ssubscribe(client: "Client", argv: Argv) -> Reply:
    return _subscribe(client, argv, "shard", b"ssubscribe")


@command("sunsubscribe", -1, _SUB, group="pubsub", summary="Stop listening for messages posted to the "
         "given shard channels", since="7.0.0", complexity="O(N) where N is the number of clients "
         "already subscribed to a shard channel.", arguments=("[shardchannel [shardchannel ...]]",),
         keys=(1, -1, 1), key_specs=(KS("not_key", 1, -1),))
def sunsubscribe(client: "Client", argv: Argv) -> Reply:
    return _unsubscribe(client, argv, "shard", b"sunsubscribe")


@command("publish", 3, F.PUBSUB | F.LOADING | F.STALE | F.FAST, group="pubsub",
         summary="Post a message to a channel", since="2.0.0", complexity="O(N+M) where N is the "
         "number of clients subscribed to the receiving channel and M is the total number of "
         "subscribed patterns (by any client).", arguments=("channel", "message"))
def publish(client: "Client", argv: Argv) -> Reply:
    return client.server.pubsub.publish(argv[1], argv[2])


@command("spublish", 3, F.PUBSUB | F.LOADING | F.STALE | F.FAST, group="pubsub",
         summary="Post a message to a shard channel", since="7.0.0", complexity="O(N) where N is the "
         "number of clients subscribed to the receiving shard channel.",
         arguments=("shardchannel", "message"), keys=(1, 1, 1), key_specs=(KS("not_key", 1),))
def spublish(client: "Client", argv: Argv) -> Reply:
    return client.server.pubsub.publish_shard(argv[1], argv[2])


# -- PUBSUB -------------------------------------------------------------------------------------

container("pubsub", "pubsub", summary="A container for Pub/Sub commands", since="2.8.0",
          complexity="Depends on subcommand.")

PUBSUB_HELP = help_reply("pubsub", [
    "CHANNELS [<pattern>]",
    "    Return the currently active channels matching a <pattern> (default: '*').",
    "NUMPAT",
    "    Return number of subscriptions to patterns.",
    "NUMSUB [<channel> ...]",
    "    Return the number of subscribers for the specified channels, excluding",
    "    pattern subscriptions(default: no channels).",
    "SHARDCHANNELS [<pattern>]",
    "    Return the currently active shard level channels matching a <pattern> (default: '*').",
    "SHARDNUMSUB [<shardchannel> ...]",
    "    Return the number of subscribers for the specified shard level channel(s)",
])

_INFO = F.PUBSUB | F.LOADING | F.STALE


@command("pubsub|help", 2, F.LOADING | F.STALE, group="pubsub", summary="Show helpful text about the "
         "different subcommands", since="6.2.0", complexity="O(1)")
def pubsub_help(client: "Client", argv: Argv) -> Reply:
    return PUBSUB_HELP


def _names(table: dict, argv) -> list:
    if len(argv) > 3:
        raise CommandError(errors.subcommand_syntax(argv[1], "pubsub"))
    if len(argv) == 2:
        return list(table)
    return [name for name in table if glob_match(argv[2], name)]


@command("pubsub|channels", -2, _INFO, group="pubsub", summary="List active channels", since="2.8.0",
         complexity="O(N) where N is the number of active channels, and assuming constant time "
         "pattern matching (relatively short channels and patterns)", arguments=("[pattern]",))
def pubsub_channels(client: "Client", argv: Argv) -> Reply:
    return _names(client.server.pubsub.channels, argv)


@command("pubsub|shardchannels", -2, _INFO, group="pubsub", summary="List active shard channels",
         since="7.0.0", complexity="O(N) where N is the number of active shard channels, and assuming "
         "constant time pattern matching (relatively short shard channels).", arguments=("[pattern]",))
def pubsub_shardchannels(client: "Client", argv: Argv) -> Reply:
    return _names(client.server.pubsub.shard, argv)


@command("pubsub|numsub", -2, _INFO, group="pubsub", summary="Get the count of subscribers for "
         "channels", since="2.8.0", complexity="O(N) for the NUMSUB subcommand, where N is the number "
         "of requested channels", arguments=("[channel [channel ...]]",))
def pubsub_numsub(client: "Client", argv: Argv) -> Reply:
    table = client.server.pubsub.channels
    out: list = []
    for name in argv[2:]:
        out += [name, len(table.get(name, ()))]
    return out


@command("pubsub|shardnumsub", -2, _INFO, group="pubsub", summary="Get the count of subscribers for "
         "shard channels", since="7.0.0", complexity="O(N) for the SHARDNUMSUB subcommand, where N is "
         "the number of requested shard channels", arguments=("[shardchannel [shardchannel ...]]",))
def pubsub_shardnumsub(client: "Client", argv: Argv) -> Reply:
    table = client.server.pubsub.shard
    out: list = []
    for name in argv[2:]:
        out += [name, len(table.get(name, ()))]
    return out


@command("pubsub|numpat", 2, _INFO, group="pubsub", summary="Get the count of unique patterns pattern "
         "subscriptions", since="2.8.0", complexity="O(1)")
def pubsub_numpat(client: "Client", argv: Argv) -> Reply:
    return len(client.server.pubsub.patterns)
