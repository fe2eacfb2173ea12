"""Connection commands: PING, ECHO, QUIT, SELECT, SWAPDB, HELLO, AUTH, RESET and CLIENT."""

from typing import TYPE_CHECKING

from protocol.reply import NO_REPLY, NULL_ARRAY, Map, SetReply, Status, Verbatim, encoded
from server import blocking, dispatch, errors
from server.acl import NOPASS, log_denied_auth
from server.args import help_reply, to_c_int, to_int
from server.config import REDIS_VERSION
from server.docs import Documented, arg
from server.errors import CommandError
from server.table import Argv, Flag, Reply, command, container
from server.tracking import TrackingState

if TYPE_CHECKING:
    from server.client import Client

OK = encoded(Status("OK"))
PONG = encoded(Status("PONG"))
RESET = encoded(Status("RESET"))

F = Flag


@command("ping", -1, F.FAST | F.SENTINEL, group="connection", summary="Ping the server",
         complexity="O(1)", arguments=("[message]",),
         tips=("request_policy:all_shards", "response_policy:all_succeeded"))
def ping(client: "Client", argv: Argv) -> Reply:
    if len(argv) > 2:
        raise CommandError(errors.wrong_arity("ping"))
    if client.subs is not None and client.proto == 2:  # RESP2's subscribed mode: as a message
        return [b"pong", b"" if len(argv) == 1 else argv[1]]
    return PONG if len(argv) == 1 else argv[1]


@command("echo", 2, F.LOADING | F.STALE | F.FAST, group="connection", summary="Echo the given string",
         complexity="O(1)", arguments=("message",))
def echo(client: "Client", argv: Argv) -> Reply:
    return argv[1]


@command("quit", -1, F.ALLOW_BUSY | F.NOSCRIPT | F.LOADING | F.STALE | F.FAST | F.NO_AUTH | F.NO_QUEUE,
         group="connection", summary="Close the connection", complexity="O(1)")
def quit_(client: "Client", argv: Argv) -> Reply:
    client.closing = True
    return OK


@command("select", 2, F.LOADING | F.STALE | F.FAST, group="connection",
         summary="Change the selected database for the current connection", complexity="O(1)",
         arguments=("index",))
def select(client: "Client", argv: Argv) -> Reply:
    index = to_c_int(argv[1])  # getIntFromObjectOrReply: a C int, else Redis's range error
    if not 0 <= index < len(client.server.keyspace):
        raise CommandError(errors.DB_OUT_OF_RANGE)
    client.select(index)
    return OK


@command("swapdb", 3, F.WRITE | F.FAST, group="server", acl=("@keyspace", "@dangerous"),
         summary="Swaps two Redis databases",
         since="4.0.0", complexity="O(N) where N is the count of clients watching or blocking on keys "
         "from both databases.", arguments=("index1", "index2"))
def swapdb(client: "Client", argv: Argv) -> Reply:
    first = to_c_int(argv[1], errors.INVALID_FIRST_DB)
    second = to_c_int(argv[2], errors.INVALID_SECOND_DB)
    n = len(client.server.keyspace)
    if not (0 <= first < n and 0 <= second < n):
        raise CommandError(errors.DB_OUT_OF_RANGE)
    if first != second:
        client.server.keyspace.swapdb(first, second)
    return OK


def _authenticate(client, argv, username: bytes, password: bytes) -> None:
    """ACLAuthenticateUser: the client becomes this user, or the attempt is logged and refused."""
    user = client.server.acl.users.get(bytes(username))
    if user is None or not user.check_password(bytes(password)):
        log_denied_auth(client, argv, bytes(argv[0]), bytes(username))
        raise CommandError(errors.WRONGPASS)
    client.user = user
    client.set_authenticated(True)


@command("auth", -2, F.NOSCRIPT | F.LOADING | F.STALE | F.FAST | F.NO_AUTH | F.SENTINEL | F.ALLOW_BUSY,
         group="connection", summary="Authenticate to the server", complexity="O(N) where N is the "
         "number of passwords defined for the user", arguments=("[username]{since=6.0.0}", "password"),
         history=(("6.0.0", "Added ACL style (username and password)."),))
def auth(client: "Client", argv: Argv) -> Reply:
    if len(argv) > 3:
        raise CommandError(errors.SYNTAX)
    if len(argv) == 2:
        if client.server.acl.default.flags & NOPASS:
            raise CommandError(errors.AUTH_NOT_CONFIGURED)
        username, password = b"default", argv[1]
    else:
        username, password = argv[1], argv[2]
    _authenticate(client, argv, username, password)
    return OK


HELLO_NOAUTH = (
    "NOAUTH HELLO must be called with the client already authenticated, otherwise the HELLO "
    "AUTH <user> <pass> option can be used to authenticate the client and select the RESP protocol "
    "version at the same time")


@command("hello", -1, F.NOSCRIPT | F.LOADING | F.STALE | F.FAST | F.NO_AUTH | F.SENTINEL | F.ALLOW_BUSY,
         group="connection", summary="Handshake with Redis", since="6.0.0", complexity="O(1)",
         arguments=("[protover [AUTH username password] [SETNAME clientname]]{arguments}",),
         history=(("6.2.0", "`protover` made optional; when called without arguments the "
                             "command reports the current connection's context."),))
def hello(client: "Client", argv: Argv) -> Reply:
    proto = client.proto
    if len(argv) >= 2:
        try:
            proto = to_int(argv[1])
        except CommandError:
            raise CommandError(errors.PROTO_NOT_INTEGER) from None
        if proto not in (2, 3):
            raise CommandError(errors.NOPROTO)
    i = 2
    name = None
    while i < len(argv):
        opt = argv[i].lower()
        more = len(argv) - i - 1
        if opt == b"auth" and more >= 2:
            _authenticate(client, argv, argv[i + 1], argv[i + 2])
            i += 3
        elif opt == b"setname" and more >= 1:
            name = argv[i + 1]
            _check_client_name(name)
            i += 2
        else:
            raise CommandError(errors.hello_syntax(argv[i]))
    if not client.authenticated:
        raise CommandError(HELLO_NOAUTH)
    if name is not None:
        client.name = name
    client.proto = proto
    client.refresh_guard()
    return Map({
        "server": "redis",
        "version": REDIS_VERSION,
        "proto": proto,
        "id": client.id,
        "mode": "standalone",
        "role": "master",
        "modules": [],
    })


@command("reset", 1, F.NOSCRIPT | F.LOADING | F.STALE | F.FAST | F.NO_AUTH | F.ALLOW_BUSY | F.NO_QUEUE,
         group="connection", summary="Reset the connection", since="6.2.0", complexity="O(1)")
def reset(client: "Client", argv: Argv) -> Reply:
    client.set_multi(None)
    client.unwatch()
    server = client.server
    if client.monitor:
        server.stop_monitor(client)
    server.tracking.disable(client)
    server.pubsub.forget(client)
    client.reply_mode = dispatch.REPLY_ON
    client.select(0)
    client.proto = 2
    client.name = b""
    client.no_evict = client.no_touch = False
    client.user = client.server.acl.default  # Redis's clientSetDefaultAuth
    client.set_authenticated(client.server.acl.starts_authenticated())
    return RESET


# -- CLIENT -----------------------------------------------------------------------------------------

container("client", "connection", summary="A container for client connection commands", since="2.4.0",
          complexity="Depends on subcommand.")

CLIENT_HELP = help_reply("client", [
    "CACHING (YES|NO)",
    "    Enable/disable tracking of the keys for next command in OPTIN/OPTOUT modes.",
    "GETREDIR",
    "    Return the client ID we are redirecting to when tracking is enabled.",
    "GETNAME",
    "    Return the name of the current connection.",
    "ID",
    "    Return the ID of the current connection.",
    "INFO",
    "    Return information about the current client connection.",
    "KILL <ip:port>",
    "    Kill connection made from <ip:port>.",
    "KILL <option> <value> [<option> <value> [...]]",
    "    Kill connections. Options are:",
    "    * ADDR (<ip:port>|<unixsocket>:0)",
    "      Kill connections made from the specified address",
    "    * LADDR (<ip:port>|<unixsocket>:0)",
    "      Kill connections made to specified local address",
    "    * TYPE (NORMAL|MASTER|REPLICA|PUBSUB)",
    "      Kill connections by type.",
    "    * USER <username>",
    "      Kill connections authenticated by <username>.",
    "    * SKIPME (YES|NO)",
    "      Skip killing current connection (default: yes).",
    "LIST [options ...]",
    "    Return information about client connections. Options:",
    "    * TYPE (NORMAL|MASTER|REPLICA|PUBSUB)",
    "      Return clients of specified type.",
    "UNPAUSE",
    "    Stop the current client pause, resuming traffic.",
    "PAUSE <timeout> [WRITE|ALL]",
    "    Suspend all, or just write, clients for <timeout> milliseconds.",
    "REPLY (ON|OFF|SKIP)",
    "    Control the replies sent to the current connection.",
    "SETNAME <name>",
    "    Assign the name <name> to the current connection.",
    "UNBLOCK <clientid> [TIMEOUT|ERROR]",
    "    Unblock the specified blocked client.",
    "TRACKING (ON|OFF) [REDIRECT <id>] [BCAST] [PREFIX <prefix> [...]]",
    "         [OPTIN] [OPTOUT] [NOLOOP]",
    "    Control server assisted client side caching.",
    "TRACKINGINFO",
    "    Report tracking status for the current connection.",
    "NO-EVICT (ON|OFF)",
    "    Protect current client connection from eviction.",
])


# CLIENT LIST / KILL TYPE names -> Client.client_class()
_CLIENT_TYPES = {b"normal": "normal", b"master": "master", b"replica": "replica", b"slave": "replica",
                 b"pubsub": "pubsub"}


@command("client|help", 2, F.LOADING | F.STALE, group="connection", summary="Show helpful text about "
         "the different subcommands", since="5.0.0", complexity="O(1)")
def client_help(client: "Client", argv: Argv) -> Reply:
    return CLIENT_HELP


@command("client|id", 2, F.NOSCRIPT | F.LOADING | F.STALE, group="connection",
         summary="Returns the client ID for the current connection", since="5.0.0", complexity="O(1)")
def client_id(client: "Client", argv: Argv) -> Reply:
    return client.id


@command("client|unblock", -3, F.ADMIN | F.NOSCRIPT | F.LOADING | F.STALE, group="connection",
         acl=("@dangerous",), summary="Unblock a client blocked in a blocking command from a "
         "different connection", since="5.0.0", complexity="O(log N) where N is the number of client "
         "connections", arguments=("client-id", "[TIMEOUT|ERROR]{timeout_error}"))
def client_unblock(client: "Client", argv: Argv) -> Reply:
    error = False
    if len(argv) == 4:
        reason = argv[3].lower()
        if reason not in (b"timeout", b"error"):
            raise CommandError(errors.UNBLOCK_REASON)
        error = reason == b"error"
    elif len(argv) > 4:
        raise CommandError(errors.subcommand_syntax(argv[1], "client"))
    target_id = to_int(argv[2])
    target = client.server.clients.get(target_id)
    return int(target is not None and blocking.unblock_by_request(target, error))


@command("client|reply", 3, F.NOSCRIPT | F.LOADING | F.STALE, group="connection",
         summary="Instruct the server whether to reply to commands", since="3.2.0", complexity="O(1)",
         arguments=("ON|OFF|SKIP{on_off_skip}",))
def client_reply(client: "Client", argv: Argv) -> Reply:
    mode = argv[2].lower()
    if mode == b"on":
        client.reply_mode = dispatch.REPLY_ON
        client.refresh_guard()
        return OK
    if mode == b"off":
        client.reply_mode = dispatch.REPLY_OFF
    elif mode == b"skip":
        if client.reply_mode != dispatch.REPLY_OFF:
            client.reply_mode = dispatch.REPLY_SKIP_NEXT
    else:
        raise CommandError(errors.SYNTAX)
    client.refresh_guard()
    return NO_REPLY


@command("monitor", 1, F.ADMIN | F.NOSCRIPT | F.LOADING | F.STALE, group="server",
         summary="Listen for all requests received by the server in real time", since="1.0.0")
def monitor(client: "Client", argv: Argv) -> Reply:
    if client.in_exec or client.in_script:  # Redis's CLIENT_DENY_BLOCKING
        raise CommandError(errors.MONITOR_DENY_BLOCKING)
    if client.monitor:
        return NO_REPLY  # already monitoring: ignored, without a reply, as by Redis
    client.server.start_monitor(client)
    return OK


@command("client|pause", -3, F.ADMIN | F.NOSCRIPT | F.LOADING | F.STALE, group="connection",
         summary="Stop processing commands from clients for some time", since="2.9.50",
         complexity="O(1)", arguments=("timeout", "[WRITE|ALL]{mode since=6.2.0}"),
         history=(("6.2.0", "`CLIENT PAUSE WRITE` mode added along with the `mode` option."),))
def client_pause(client: "Client", argv: Argv) -> Reply:
    ms = to_int(argv[2], errors.TIMEOUT_NOT_INTEGER)
    if ms < 0:
        raise CommandError(errors.TIMEOUT_NEGATIVE)
    mode = dispatch.PAUSE_ALL
    if len(argv) == 4:
        word = argv[3].lower()
        if word not in (b"write", b"all"):
            raise CommandError(errors.PAUSE_MODE)
        mode = dispatch.PAUSE_WRITE if word == b"write" else dispatch.PAUSE_ALL
    elif len(argv) > 4:
        raise CommandError(errors.subcommand_syntax(argv[1], "client"))
    client.server.pause(mode, ms / 1000.0)
    return OK


@command("client|unpause", 2, F.ADMIN | F.NOSCRIPT | F.LOADING | F.STALE, group="connection",
         summary="Resume processing of clients that were paused", since="6.2.0",
         complexity="O(N) Where N is the number of paused clients")
def client_unpause(client: "Client", argv: Argv) -> Reply:
    client.server.unpause()
    return OK


@command("client|tracking", -3, F.NOSCRIPT | F.LOADING | F.STALE, group="connection",
         summary="Enable or disable server assisted client side caching support", since="6.0.0",
         complexity="O(1). Some options may introduce additional complexity.",
         arguments=("ON|OFF{status}",
                    "[REDIRECT client-id]",
                    "[PREFIX prefix [PREFIX prefix ...]]",
                    "[BCAST]",
                    "[OPTIN]",
                    "[OPTOUT]",
                    "[NOLOOP]"))
def client_tracking(client: "Client", argv: Argv) -> Reply:
    state = TrackingState()
    bcast = optin = optout = False
    prefixes: list = []
    i, n = 3, len(argv)
    while i < n:
        opt = argv[i].lower()
        more = i + 1 < n
        if opt == b"redirect" and more:
            i += 1
            if state.redirect:
                raise CommandError(errors.TRACKING_ONE_REDIRECT)
            state.redirect = to_int(argv[i])
            if state.redirect not in client.server.clients:
                raise CommandError(errors.TRACKING_NO_REDIRECT)
        elif opt == b"bcast":
            bcast = True
        elif opt == b"optin":
            optin = True
        elif opt == b"optout":
            optout = True
        elif opt == b"noloop":
            state.noloop = True
        elif opt == b"prefix" and more:
            i += 1
            prefixes.append(argv[i])
        else:
            raise CommandError(errors.SYNTAX)
        i += 1
    tracking = client.server.tracking
    mode = argv[2].lower()
    if mode == b"off":
        tracking.disable(client)
        return OK
    if mode != b"on":
        raise CommandError(errors.SYNTAX)
    old = client.tracking
    if prefixes and not bcast:
        raise CommandError(errors.TRACKING_PREFIX_BCAST)
    if old is not None and old.bcast != bcast:
        raise CommandError(errors.TRACKING_SWITCH_BCAST)
    if bcast and (optin or optout):
        raise CommandError(errors.TRACKING_OPT_BCAST)
    if optin and optout:
        raise CommandError(errors.TRACKING_OPTIN_OPTOUT)
    if old is not None and ((optin and old.optout) or (optout and old.optin)):
        raise CommandError(errors.TRACKING_SWITCH_OPT)
    if bcast:
        held = [] if old is None else [p for p in old.prefixes if p]
        _check_prefixes(held, prefixes)
        state.prefixes = held + [p for p in prefixes if p not in held]
    state.bcast, state.optin, state.optout = bcast, optin, optout
    tracking.enable(client, state)
    return OK


def _check_prefixes(held: list, given: list) -> None:
    """Redis's checkPrefixCollisionsOrReply: no prefix of a client may start another."""
    for i, prefix in enumerate(given):
        for other in held:
            if prefix != other and (prefix.startswith(other) or other.startswith(prefix)):
                raise CommandError(errors.tracking_prefix_overlap(prefix, other, existing=True))
        for other in given[i + 1:]:
            if prefix.startswith(other) or other.startswith(prefix):
                raise CommandError(errors.tracking_prefix_overlap(prefix, other, existing=False))


@command("client|caching", 3, F.NOSCRIPT | F.LOADING | F.STALE, group="connection",
         summary="Instruct the server about tracking or not keys in the next request", since="6.0.0",
         complexity="O(1)", arguments=("YES|NO{mode}",))
def client_caching(client: "Client", argv: Argv) -> Reply:
    state = client.tracking
    if state is None:
        raise CommandError(errors.CACHING_NOT_TRACKING)
    opt = argv[2].lower()
    if opt == b"yes":
        if not state.optin:
            raise CommandError(errors.CACHING_YES)
        state.caching = True
    elif opt == b"no":
        if not state.optout:
            raise CommandError(errors.CACHING_NO)
        state.caching = False
    else:
        raise CommandError(errors.SYNTAX)
    return OK


@command("client|getredir", 2, F.NOSCRIPT | F.LOADING | F.STALE, group="connection",
         summary="Get tracking notifications redirection client ID if any", since="6.0.0",
         complexity="O(1)")
def client_getredir(client: "Client", argv: Argv) -> Reply:
    return -1 if client.tracking is None else client.tracking.redirect


@command("client|trackinginfo", 2, F.NOSCRIPT | F.LOADING | F.STALE, group="connection",
         summary="Return information about server assisted client side caching for the current "
         "connection", since="6.2.0", complexity="O(1)")
def client_trackinginfo(client: "Client", argv: Argv) -> Reply:
    state = client.tracking
    if state is None:
        return Map({"flags": SetReply(["off"]), "redirect": -1, "prefixes": []})
    flags = ["on"]
    if state.bcast:
        flags.append("bcast")
    if state.optin:
        flags.append("optin")
        if state.caching is True:
            flags.append("caching-yes")
    if state.optout:
        flags.append("optout")
        if state.caching is False:
            flags.append("caching-no")
    if state.noloop:
        flags.append("noloop")
    if state.broken:
        flags.append("broken_redirect")
    prefixes = sorted(state.prefixes) if state.prefixes or not state.bcast else [b""]
    return Map({"flags": SetReply(flags), "redirect": state.redirect, "prefixes": prefixes})


@command("client|getname", 2, F.NOSCRIPT | F.LOADING | F.STALE, group="connection",
         summary="Get the current connection name", since="2.6.9", complexity="O(1)")
def client_getname(client: "Client", argv: Argv) -> Reply:
    return client.name or None


def _check_client_name(name: bytes) -> None:
    if any(c < 0x21 or c > 0x7E for c in name):
        raise CommandError(errors.CLIENT_NAME_CHARS)


@command("client|setname", 3, F.NOSCRIPT | F.LOADING | F.STALE, group="connection",
         summary="Set the current connection name", since="2.6.9", complexity="O(1)",
         arguments=("connection-name",))
def client_setname(client: "Client", argv: Argv) -> Reply:
    _check_client_name(argv[2])
    client.name = argv[2]
    return OK


@command("client|setinfo", 4, F.NOSCRIPT | F.LOADING | F.STALE, group="connection",
         summary="Set client or connection specific info", since="7.2.0", complexity="O(1)",
         arguments=("LIB-NAME libname|LIB-VER libver",))
def client_setinfo(client: "Client", argv: Argv) -> Reply:
    attr = argv[2].lower()
    if attr not in (b"lib-name", b"lib-ver"):
        raise CommandError(errors.unrecognized_option(argv[2]))
    if any(c < 0x21 or c > 0x7E for c in argv[3]):
        raise CommandError(errors.LIB_INFO_CHARS)
    if attr == b"lib-name":
        client.lib_name = argv[3]
    else:
        client.lib_ver = argv[3]
    return OK


@command("client|info", 2, F.NOSCRIPT | F.LOADING | F.STALE, group="connection",
         summary="Returns information about the current client connection.", since="6.2.0",
         complexity="O(1)",
         tips=("nondeterministic_output",))
def client_info(client: "Client", argv: Argv) -> Reply:
    return Verbatim(client.info_line(argv) + "\n")


@command("client|list", -2, F.ADMIN | F.NOSCRIPT | F.LOADING | F.STALE, group="connection",
         summary="Get the list of client connections", since="2.4.0",
         complexity="O(N) where N is the number of client connections",
         arguments=("[TYPE (NORMAL|MASTER|REPLICA|PUBSUB)]{normal_master_replica_pubsub since=5.0.0}",
                    "[ID (client-id [client-id ...])]{id since=6.2.0}"),
         tips=("nondeterministic_output",),
         history=(("2.8.12", "Added unique client `id` field."),
                  ("5.0.0", "Added optional `TYPE` filter."),
                  ("6.0.0", "Added `user` field."),
                  ("6.2.0", "Added `argv-mem`, `tot-mem`, `laddr` and `redir` fields and the "
                             "optional `ID` filter."),
                  ("7.0.0", "Added `resp`, `multi-mem`, `rbs` and `rbp` fields."),
                  ("7.0.3", "Added `ssub` field.")))
def client_list(client: "Client", argv: Argv) -> Reply:
    clients = list(client.server.clients.values())
    i = 2
    if len(argv) > 2 and argv[2].lower() not in (b"type", b"id"):
        raise CommandError(errors.SYNTAX)
    if len(argv) > 2 and argv[2].lower() == b"type" and len(argv) != 4:
        raise CommandError(errors.SYNTAX)  # one filter at a time, as Redis 7.0
    while i < len(argv):
        opt = argv[i].lower()
        if opt == b"type" and i + 1 < len(argv):
            kind = argv[i + 1].lower()
            if kind not in (b"normal", b"master", b"replica", b"slave", b"pubsub"):
                raise CommandError(errors.unknown_client_type(argv[i + 1]))
            wanted = _CLIENT_TYPES[kind]
            clients = [c for c in clients if c.client_class() == wanted]
            i += 2
        elif opt == b"id" and i + 1 < len(argv):
            ids = set()
            for raw in argv[i + 1:]:
                ids.add(to_int(raw, errors.INVALID_CLIENT_ID))
            clients = [c for c in clients if c.id in ids]
            i = len(argv)
        else:
            raise CommandError(errors.SYNTAX)
    return Verbatim("".join(c.info_line(argv if c is client else None) + "\n"
                            for c in sorted(clients, key=lambda c: c.id)))


@command("client|kill", -3, F.ADMIN | F.NOSCRIPT | F.LOADING | F.STALE, group="connection",
         summary="Kill the connection of a client", since="2.4.0",
         complexity="O(N) where N is the number of client connections",
         arguments=(Documented("ip:port|[ID client-id]|[TYPE "
                               "NORMAL|MASTER|SLAVE|REPLICA|PUBSUB]|[USER username]|[ADDR "
                               "ip:port]|[LADDR ip:port]|[SKIPME yes/no] [[ID client-id]|[TYPE "
                               "NORMAL|MASTER|SLAVE|REPLICA|PUBSUB]|[USER username]|[ADDR "
                               "ip:port]|[LADDR ip:port]|[SKIPME yes/no] ...]",
                               arg("filter", "oneof", args=(
                                   arg("ip:port", "string", deprecated="2.8.12"),
                                   arg("new-format", "oneof", flags="multiple", args=(
                                       arg("client-id", "integer", token="ID", flags="optional", since="2.8.12"),
                                       arg("normal_master_slave_pubsub", "oneof", token="TYPE",
                                           flags="optional", since="2.8.12", args=(
                                           arg("normal", "pure-token", token="NORMAL"),
                                           arg("master", "pure-token", token="MASTER", since="3.2.0"),
                                           arg("slave", "pure-token", token="SLAVE"),
                                           arg("replica", "pure-token", token="REPLICA", since="5.0.0"),
                                           arg("pubsub", "pure-token", token="PUBSUB"),
                                       )),
                                       arg("username", "string", token="USER", flags="optional"),
                                       arg("ip:port", "string", token="ADDR", flags="optional"),
                                       arg("ip:port", "string", token="LADDR", flags="optional", since="6.2.0"),
                                       arg("yes/no", "string", token="SKIPME", flags="optional"),
                                   )),
                               ))),),
         history=(("2.8.12", "Added new filter format."),
                  ("2.8.12", "`ID` option."),
                  ("3.2.0", "Added `master` type in for `TYPE` option."),
                  ("5.0.0", "Replaced `slave` `TYPE` with `replica`. `slave` still supported "
                             "for backward compatibility."),
                  ("6.2.0", "`LADDR` option.")))
def client_kill(client: "Client", argv: Argv) -> Reply:
    clients = client.server.clients
    if len(argv) == 3:  # the old form: CLIENT KILL addr:port
        addr = argv[2].decode("utf-8", "surrogateescape")
        for other in list(clients.values()):
            if other.addr == addr:
                _kill(client, other)
                return OK
        raise CommandError(errors.NO_SUCH_CLIENT)
    if (len(argv) - 2) % 2:
        raise CommandError(errors.SYNTAX)
    filters = []
    skipme = True
    for i in range(2, len(argv), 2):
        opt, raw = argv[i].lower(), argv[i + 1]
        value = raw.decode("utf-8", "surrogateescape")
        if opt == b"id":
            wanted = to_int(raw, errors.CLIENT_ID_NOT_POSITIVE)
            if wanted <= 0:
                raise CommandError(errors.CLIENT_ID_NOT_POSITIVE)
            filters.append(lambda c, w=wanted: c.id == w)
        elif opt == b"type":
            kind = raw.lower()
            if kind not in (b"normal", b"master", b"replica", b"slave", b"pubsub"):
                raise CommandError(errors.unknown_client_type(raw))
            filters.append(lambda c, k=_CLIENT_TYPES[kind]: c.client_class() == k)
        elif opt == b"addr":
            filters.append(lambda c, a=value: c.addr == a)
        elif opt == b"laddr":
            filters.append(lambda c, a=value: c.laddr == a)
        elif opt == b"user":
            user = client.server.acl.users.get(bytes(raw))
            if user is None:
                raise CommandError(errors.no_such_user(raw))
            filters.append(lambda c, u=user: c.user is u)
        elif opt == b"skipme":
            if raw.lower() not in (b"yes", b"no"):
                raise CommandError(errors.SYNTAX)
            skipme = raw.lower() == b"yes"
        else:
            raise CommandError(errors.SYNTAX)
    killed = 0
    for other in list(clients.values()):
        if skipme and other is client:
            continue
        if all(f(other) for f in filters):
            _kill(client, other)
            killed += 1
    return killed


def _kill(me, other) -> None:
    if other is me:
        me.closing = True  # reply first, then close (Redis's CLIENT_CLOSE_AFTER_REPLY)
    else:
        other.kill()


def _on_off(client, argv, attr):
    value = argv[2].lower()
    if value not in (b"on", b"off"):
        raise CommandError(errors.SYNTAX)
    setattr(client, attr, value == b"on")
    return OK


@command("client|no-evict", 3, F.ADMIN | F.NOSCRIPT | F.LOADING | F.STALE, group="connection",
         summary="Set client eviction mode for the current connection", since="7.0.0",
         complexity="O(1)", arguments=("ON|OFF{enabled}",))
def client_no_evict(client: "Client", argv: Argv) -> Reply:
    return _on_off(client, argv, "no_evict")


@command("client|no-touch", 3, F.NOSCRIPT | F.LOADING | F.STALE, group="connection",
         summary="Controls whether commands sent by the client will alter the LRU/LFU of the keys "
         "they access.", since="7.2.0", complexity="O(1)", arguments=("ON|OFF",))
def client_no_touch(client: "Client", argv: Argv) -> Reply:
    return _on_off(client, argv, "no_touch")


__all__ = ["OK", "NULL_ARRAY"]


# -- Cluster connection commands: forkv is never a cluster node, as Redis with cluster-enabled no -----

def _cluster_disabled(client: "Client", argv: Argv) -> Reply:
    raise CommandError(errors.CLUSTER_DISABLED)


command("readonly", 1, F.LOADING | F.STALE | F.FAST, group="cluster", acl=("@connection",),
        summary="Enables read queries for a connection to a cluster replica node", since="3.0.0",
        complexity="O(1)")(_cluster_disabled)
command("readwrite", 1, F.LOADING | F.STALE | F.FAST, group="cluster", acl=("@connection",),
        summary="Disables read queries for a connection to a cluster replica node", since="3.0.0",
        complexity="O(1)")(_cluster_disabled)
command("asking", 1, F.FAST, group="cluster", acl=("@connection",),
        summary="Sent by cluster clients after an -ASK redirect", since="3.0.0",
        complexity="O(1)")(_cluster_disabled)
