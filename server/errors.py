"""Every error text a command can reply with, in one place, spelled as Redis 7.0 spells them.

Handlers raise `CommandError(errors.SYNTAX)`; nobody formats `-ERR ...` by hand. The message starts
with its error code (ERR, WRONGTYPE, NOAUTH...), as it goes on the wire after the '-'. The
"Protocol error: ..." texts live with the parser in `protocol/`.
"""


class Counted(str):
    """An error text already counted in INFO errorstats (a script's error that a command it called
    raised): replying with it counts the caller's failed call but not the error again."""

    __slots__ = ()


class CommandError(Exception):
    """A command failed: reply with `message` and keep the connection."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


def _c_text(arg: bytes, limit: int) -> str:
    """`arg` as Redis's "%.*s" prints it: up to `limit` bytes, cut at the first NUL."""
    return arg[:limit].split(b"\x00", 1)[0].decode("utf-8", "surrogateescape")


def _text(template: str):
    """A text with one `%s` slot for something the server names itself (a command, an engine,
    a message): one sentence, one place, whoever raises it."""
    def fill(what) -> str:
        return template % (what,)
    return fill


def _arg_text(template: str):
    """A text with one `%s` slot for a client's argument, printed whole as Redis's "%s" prints it
    (cut at the first NUL)."""
    def fill(arg: bytes) -> str:
        return template % (_c_text(arg, len(arg)),)
    return fill


def out_of_range_between(low: int, high: int) -> str:
    return f"ERR value is out of range, value must between {low} and {high}"


WRONGTYPE = "WRONGTYPE Operation against a key holding the wrong kind of value"
SYNTAX = "ERR syntax error"
SORT_NOT_DOUBLE = "ERR One or more scores can't be converted into double"
SORT_BY_CLUSTER = "ERR BY option of SORT denied in Cluster mode."
SORT_GET_CLUSTER = "ERR GET option of SORT denied in Cluster mode."
NOT_INTEGER = "ERR value is not an integer or out of range"
NOT_FLOAT = "ERR value is not a valid float"
OVERFLOW = "ERR increment or decrement would overflow"
NAN_OR_INF = "ERR increment would produce NaN or Infinity"
NO_SUCH_KEY = "ERR no such key"
SAME_OBJECT = "ERR source and destination objects are the same"
DB_OUT_OF_RANGE = "ERR DB index is out of range"
INVALID_FIRST_DB = "ERR invalid first DB index"
INVALID_SECOND_DB = "ERR invalid second DB index"
INVALID_CURSOR = "ERR invalid cursor"
STRING_TOO_LONG = "ERR string exceeds maximum allowed size (proto-max-bulk-len)"
BIT_OFFSET = "ERR bit offset is not an integer or out of range"
BIT_VALUE = "ERR bit is not an integer or out of range"
BIT_ARGUMENT = "ERR The bit argument must be 1 or 0."
BITOP_NOT = "ERR BITOP NOT must be called with a single source key."
BITFIELD_TYPE = (
    "ERR Invalid bitfield type. Use something like i16 u8. Note that u64 is not supported but i64 is."
)
BITFIELD_OVERFLOW = "ERR Invalid OVERFLOW type specified"
BITFIELD_RO_WRITE = "ERR BITFIELD_RO only supports the GET subcommand"
LCS_NOT_STRING = "ERR The specified keys must contain string values"
LCS_IDX_AND_LEN = "ERR If you want both the length and indexes, please just use IDX."
LCS_TOO_LONG = "ERR String too long for LCS"
LCS_TOO_MUCH_MEMORY = (
    "ERR Insufficient memory, transient memory for LCS exceeds proto-max-bulk-len"
)
DECREMENT_OVERFLOW = "ERR decrement would overflow"
OFFSET_OUT_OF_RANGE = "ERR offset is out of range"
TIMEOUT_NEGATIVE = "ERR timeout is negative"
TIMEOUT_NOT_INTEGER = "ERR timeout is not an integer or out of range"
PAUSE_MODE = "ERR CLIENT PAUSE mode must be WRITE or ALL"
EXPIRE_NX_XX = "ERR NX and XX, GT or LT options at the same time are not compatible"
EXPIRE_GT_LT = "ERR GT and LT options at the same time are not compatible"
INT_OUT_OF_RANGE = out_of_range_between(-2147483648, 2147483647)
# lists (t_list.c) and their blocking forms (blocked.c / timeout.c)
INDEX_OUT_OF_RANGE = "ERR index out of range"
MUST_BE_POSITIVE = "ERR value is out of range, must be positive"
LPOS_RANK_ZERO = ("ERR RANK can't be zero: use 1 to start from the first match, 2 from the second "
                  "... or use negative to start from the end of the list")
LPOS_COUNT_NEGATIVE = "ERR COUNT can't be negative"
LPOS_MAXLEN_NEGATIVE = "ERR MAXLEN can't be negative"
NUMKEYS_POSITIVE = "ERR numkeys should be greater than 0"
COUNT_POSITIVE = "ERR count should be greater than 0"
TIMEOUT_NOT_FLOAT = "ERR timeout is not a float or out of range"
HASH_NOT_INTEGER = "ERR hash value is not an integer"
HASH_NOT_FLOAT = "ERR hash value is not a float"
VALUE_NAN_OR_INF = "ERR value is NaN or Infinity"
VALUE_OUT_OF_RANGE = "ERR value is out of range"
# Geospatial commands (geo.c).
GEO_UNIT = "ERR unsupported unit provided. please use M, KM, FT, MI"
GEO_RADIUS_NOT_FLOAT = "ERR need numeric radius"
GEO_WIDTH_NOT_FLOAT = "ERR need numeric width"
GEO_HEIGHT_NOT_FLOAT = "ERR need numeric height"
GEO_RADIUS_NEGATIVE = "ERR radius cannot be negative"
GEO_BOX_NEGATIVE = "ERR height or width cannot be negative"
GEO_NO_MEMBER = "ERR could not decode requested zset member"
GEO_COUNT_POSITIVE = "ERR COUNT must be > 0"
GEO_ANY_NEEDS_COUNT = "ERR the ANY argument requires COUNT argument"
GEO_STORE_WITH = "ERR STORE option in GEORADIUS is not compatible with WITHDIST, WITHHASH and WITHCOORD options"
GEOSEARCHSTORE_WITH = "ERR GEOSEARCHSTORE is not compatible with WITHDIST, WITHHASH and WITHCOORD options"


def geo_bad_pair(longitude: float, latitude: float) -> str:
    return "ERR invalid longitude,latitude pair %f,%f" % (longitude, latitude)


# `command` as the client spelled it (Redis prints argv[0]).
geo_need_from = _text("ERR exactly one of FROMMEMBER or FROMLONLAT can be specified for %s")
geo_need_by = _text("ERR exactly one of BYRADIUS and BYBOX can be specified for %s")
LONG_OUT_OF_RANGE = out_of_range_between(-9223372036854775807, 9223372036854775807)
# Sorted sets (t_zset.c).
ZADD_NX_XX = "ERR XX and NX options at the same time are not compatible"
ZADD_GT_LT_NX = "ERR GT, LT, and/or NX options at the same time are not compatible"
ZADD_INCR_PAIRS = "ERR INCR option supports a single increment-element pair"
SCORE_NAN = "ERR resulting score is not a number (NaN)"
MIN_MAX_NOT_FLOAT = "ERR min or max is not a float"
MIN_MAX_NOT_STRING_RANGE = "ERR min or max not valid string range item"
ZRANGE_LIMIT = "ERR syntax error, LIMIT is only supported in combination with either BYSCORE or BYLEX"
ZRANGE_BYLEX_WITHSCORES = "ERR syntax error, WITHSCORES not supported in combination with BYLEX"
WEIGHT_NOT_FLOAT = "ERR weight value is not a float"
LIMIT_NEGATIVE = "ERR LIMIT can't be negative"

no_input_keys = _text("ERR at least 1 input key is needed for '%s' command")

LFU_NOT_SELECTED = (
    "ERR An LFU maxmemory policy is not selected, access frequency not tracked. Please note that "
    "when switching between policies at runtime LRU and LFU data will take some time to adjust."
)
LFU_SELECTED = (
    "ERR An LFU maxmemory policy is selected, idle time not tracked. Please note that when "
    "switching between policies at runtime LRU and LFU data will take some time to adjust."
)

NOAUTH = "NOAUTH Authentication required."
WRONGPASS = "WRONGPASS invalid username-password pair or user is disabled."
AUTH_NOT_CONFIGURED = (
    "ERR AUTH <password> called without any password configured for the default user. "
    "Are you sure your configuration is correct?"
)
NOPROTO = "NOPROTO unsupported protocol version"
PROTO_NOT_INTEGER = "ERR Protocol version is not an integer or out of range"
CLIENT_NAME_CHARS = "ERR Client names cannot contain spaces, newlines or special characters."
NO_SUCH_CLIENT = "ERR No such client"
REPLICA_KEYSPACE = "ERR Replica can't interact with the keyspace"
MONITOR_DENY_BLOCKING = "ERR MONITOR isn't allowed for DENY BLOCKING client"
TRACKING_ONE_REDIRECT = "ERR A client can only redirect to a single other client"
TRACKING_NO_REDIRECT = "ERR The client ID you want redirect to does not exist"
TRACKING_PREFIX_BCAST = "ERR PREFIX option requires BCAST mode to be enabled"
TRACKING_SWITCH_BCAST = ("ERR You can't switch BCAST mode on/off before disabling tracking for this "
                         "client, and then re-enabling it with a different mode.")
TRACKING_OPT_BCAST = "ERR OPTIN and OPTOUT are not compatible with BCAST"
TRACKING_OPTIN_OPTOUT = "ERR You can't specify both OPTIN mode and OPTOUT mode"
TRACKING_SWITCH_OPT = ("ERR You can't switch OPTIN/OPTOUT mode before disabling tracking for this "
                       "client, and then re-enabling it with a different mode.")
CACHING_NOT_TRACKING = ("ERR CLIENT CACHING can be called only when the client is in tracking mode "
                        "with OPTIN or OPTOUT mode enabled")
CACHING_YES = "ERR CLIENT CACHING YES is only valid when tracking is enabled in OPTIN mode."
CACHING_NO = "ERR CLIENT CACHING NO is only valid when tracking is enabled in OPTOUT mode."
SLOWLOG_COUNT = "ERR count should be greater than or equal to -1"
DEBUG_RELOAD_OPTIONS = "ERR DEBUG RELOAD only supports the MERGE, NOFLUSH and NOSAVE options."
DEBUG_RELOAD_SAVE = "ERR Error trying to save the DB"
DEBUG_RELOAD_LOAD = "ERR Error trying to load the RDB dump, check server logs."
DEBUG_PACKED_THRESHOLD = "ERR argument must be a memory value bigger than 1 and smaller than 4gb"
DEBUG_NOT_ALLOWED = ('ERR DEBUG command not allowed. If the enable-debug-command option is set to "local", '
                     "you can run it from a local connection, otherwise you need to set this option in the "
                     "configuration file, and then restart the server.")
UNBLOCK_REASON = "ERR CLIENT UNBLOCK reason should be TIMEOUT or ERROR"
UNBLOCKED = "UNBLOCKED client unblocked via CLIENT UNBLOCK"
MAX_CLIENTS_REACHED = "ERR max number of clients reached"

MULTI_NESTED = "ERR MULTI calls can not be nested"
EXEC_WITHOUT_MULTI = "ERR EXEC without MULTI"
DISCARD_WITHOUT_MULTI = "ERR DISCARD without MULTI"
WATCH_IN_MULTI = "ERR WATCH inside MULTI is not allowed"
EXECABORT = "EXECABORT Transaction discarded because of previous errors."
COMMAND_NOT_ALLOWED_IN_MULTI = "ERR Command not allowed inside a transaction"

MISCONF = (
    "MISCONF Redis is configured to save RDB snapshots, but it's currently unable to persist to "
    "disk. Commands that may modify the data set are disabled, because this instance is configured "
    "to report errors during writes if RDB snapshotting fails (stop-writes-on-bgsave-error option). "
    "Please check the Redis logs for details about the RDB error."
)
BGSAVE_IN_PROGRESS = "ERR Background save already in progress"
SHUTDOWN_FAILED = "ERR Errors trying to SHUTDOWN. Check logs."
DUMP_PAYLOAD = "ERR DUMP payload version or checksum are wrong"
BAD_DATA_FORMAT = "ERR Bad data format"
BUSYKEY = "BUSYKEY Target key name already exists."
INVALID_TTL = "ERR Invalid TTL value, must be >= 0"
INVALID_IDLETIME = "ERR Invalid IDLETIME value, must be >= 0"
INVALID_FREQ = "ERR Invalid FREQ value, must be >= 0 and <= 255"
NO_SHUTDOWN_IN_PROGRESS = "ERR No shutdown in progress."
NO_CONFIG_FILE = "ERR The server is running without a config file"
GETKEYS_INVALID_COMMAND = "ERR Invalid command specified"
GETKEYS_NO_KEYS = "ERR The command has no key arguments"
GETKEYS_BAD_ARITY = "ERR Invalid number of arguments specified for command"
GETKEYS_BAD_ARGUMENTS = "ERR Invalid arguments specified for command"


wrong_arity = _text("ERR wrong number of arguments for '%s' command")  # the command's full name


def unknown_command(argv) -> str:
    # As Redis: each argument quoted in at most 128 bytes of arguments in all.
    args = ""
    used = 0
    for arg in argv[1:]:
        if used >= 128:
            break
        piece = f"'{_c_text(arg, 128 - used)}' "
        args += piece
        used += len(piece.encode("utf-8", "surrogateescape"))
    return f"ERR unknown command '{_c_text(argv[0], 128)}', with args beginning with: {args}"


def _subcommand_text(template: str):
    """A text naming a subcommand (its first 128 bytes) and the container whose HELP to try."""
    def fill(sub: bytes, container: str) -> str:
        return template % (_c_text(sub, 128), container.upper())
    return fill


unknown_subcommand = _subcommand_text("ERR unknown subcommand '%s'. Try %s HELP.")
# Redis's addReplySubcommandSyntaxError.
subcommand_syntax = _subcommand_text(
    "ERR unknown subcommand or wrong number of arguments for '%s'. Try %s HELP.")


only_pubsub_allowed = _text(
    "ERR Can't execute '%s': only (P|S)SUBSCRIBE / (P|S)UNSUBSCRIBE / PING / QUIT / "
    "RESET are allowed in this context")


def tracking_prefix_overlap(prefix: bytes, other: bytes, existing: bool) -> str:
    which = "an existing prefix" if existing else "another provided prefix"
    return (f"ERR Prefix '{_c_text(prefix, 1 << 20)}' overlaps with {which} '{_c_text(other, 1 << 20)}'. "
            "Prefixes for a single client must not overlap.")


no_latency_samples = _text("ERR No samples available for event '%s'")
config_rewrite_failed = _text("ERR Rewriting config file: %s")


def config_set_failed(argument: str, why: str) -> str:
    return f"ERR CONFIG SET failed (possibly related to argument '{argument}') - {why}"


config_set_unknown = _text("ERR Unknown option or number of arguments for CONFIG SET - '%s'")


invalid_expire = _text("ERR invalid expire time in '%s' command")


LIB_INFO_CHARS = "ERR lib-name and lib-ver cannot contain spaces, newlines or special characters."
CLIENT_ID_NOT_POSITIVE = "ERR client-id should be greater than 0"
INVALID_CLIENT_ID = "ERR Invalid client ID"


unrecognized_option = _arg_text("ERR Unrecognized option '%s'")
unknown_client_type = _arg_text("ERR Unknown client type '%s'")
no_such_user = _arg_text("ERR No such user '%s'")
hello_syntax = _arg_text("ERR Syntax error in HELLO option '%s'")
unsupported_option = _arg_text("ERR Unsupported option %s")
internal_error = _text("ERR internal error running '%s' (see the server log)")


def denied_protected_mode() -> str:
    # "Setup a an" is Redis 7.0's own text, kept byte for byte.
    return (
        "DENIED Redis is running in protected mode because protected mode is enabled and no "
        "password is set for the default user. In this mode connections are only accepted from the "
        "loopback interface. If you want to connect from external computers to Redis you may adopt "
        "one of the following solutions: 1) Just disable protected mode sending the command 'CONFIG "
        "SET protected-mode no' from the loopback interface by connecting to Redis from the same "
        "host the server is running, however MAKE SURE Redis is not publicly accessible from "
        "internet if you do so. Use CONFIG REWRITE to make this change permanent. 2) Alternatively "
        "you can just disable the protected mode by editing the Redis configuration file, and "
        "setting the protected mode option to 'no', and then restarting the server. 3) If you "
        "started the server manually just for testing, restart it with the '--protected-mode no' "
        "option. 4) Setup a an authentication password for the default user. NOTE: You only need to "
        "do one of the above things in order for the server to start accepting connections from the "
        "outside."
    )

# Scripting (EVAL & co.; the texts without a code are the `err` of Lua's error table, to which
# Redis adds "ERR ").
NOSCRIPT = "NOSCRIPT No matching script. Please use EVAL."
NUMKEYS_TOO_BIG = "ERR Number of keys can't be greater than number of args"
NUMKEYS_NEGATIVE = "ERR Number of keys can't be negative"
NOTBUSY = "NOTBUSY No scripts in execution right now."
# A script past busy-reply-threshold (server/busy.py): other clients' commands, SCRIPT KILL's refusals
BUSY_EVAL = "BUSY Redis is busy running a script. You can only call SCRIPT KILL or SHUTDOWN NOSAVE."
BUSY_FUNCTION = "BUSY Redis is busy running a script. You can only call FUNCTION KILL or SHUTDOWN NOSAVE."
UNKILLABLE = (
    "UNKILLABLE Sorry the script already executed write commands against the dataset. You can "
    "either wait the script termination or kill the server in a hard way using the SHUTDOWN NOSAVE "
    "command."
)
SCRIPT_KILLED = "ERR Script killed by user with SCRIPT KILL..."  # the script's own error
SCRIPT_FLUSH_MODE = "ERR SCRIPT FLUSH only support SYNC|ASYNC option"
SCRIPT_DEBUG_PIPELINE = "ERR SCRIPT DEBUG must be called outside a pipeline"
SCRIPT_DEBUG_MODE = "ERR Use SCRIPT DEBUG YES/SYNC/NO"
SCRIPT_DEBUG_UNSUPPORTED = "ERR SCRIPT DEBUG YES/SYNC is not supported by this server"  # forkv's own
SCRIPT_INVALID_SHEBANG = "ERR Invalid script shebang"
SCRIPT_WRITE_FLAG_RO = "ERR Can not execute a script with write flag using *_ro command."
# maxmemory reached (Redis's shared.oomerr), and a shebang script without allow-oom refused as it
# starts (scriptPrepareForRun).
OOM = "OOM command not allowed when used memory > 'maxmemory'."
SCRIPT_OOM = "OOM allow-oom flag is not set on the script, can not run it when used memory > 'maxmemory'"
SCRIPT_MISCONF = (
    "MISCONF Redis is configured to save RDB snapshots, but it's currently unable to persist to "
    "disk. Writable scripts are blocked. Use 'no-writes' flag for read only scripts."
)
SCRIPT_UNKNOWN_COMMAND = "Unknown Redis command called from script"
SCRIPT_WRONG_ARITY = "Wrong number of args calling Redis command from script"
SCRIPT_NOSCRIPT_COMMAND = "This Redis command is not allowed from script"
SCRIPT_READ_ONLY = "Write commands are not allowed from read-only scripts."
SCRIPT_CALL_NO_ARGUMENTS = "ERR Please specify at least one argument for this redis lib call"
SCRIPT_CALL_BAD_ARGUMENT = "ERR Lua redis lib command arguments must be strings or integers"
SCRIPT_STACK_LIMIT = "ERR reached lua stack limit"  # a returned table nested too deep
SCRIPT_UNKNOWN_ERROR = "ERR unknown error"  # an error table whose `err` is not a string


script_unexpected_engine = _text("ERR Unexpected engine in script shebang: %s")
script_unknown_option = _text("ERR Unknown lua shebang option: %s")
script_unexpected_flag = _text("ERR Unexpected flag in script shebang: %s")
script_compile_error = _text("ERR Error compiling script (new function): %s")

# Functions (FUNCTION & FCALL; the texts without a code are raised inside a library's load and
# become "ERR Error registering functions: ERR <text>").
FUNCTION_NOT_FOUND = "ERR Function not found"
FUNCTION_BAD_NUMKEYS = "ERR Bad number of keys provided"
FUNCTION_MISSING_METADATA = "ERR Missing library metadata"
FUNCTION_INVALID_METADATA = "ERR Invalid library metadata"
FUNCTION_NAME_TWICE = "ERR Invalid metadata value, name argument was given multiple times"
FUNCTION_NO_LIBRARY_NAME = "ERR Library name was not given"
FUNCTION_BAD_LIBRARY_NAME = (
    "ERR Library names can only contain letters, numbers, or underscores(_) and must be at least "
    "one character long"
)
FUNCTION_NONE_REGISTERED = "ERR No functions registered"
FUNCTION_LIBRARY_NOT_FOUND = "ERR Library not found"
FUNCTION_LIST_NO_NAME = "ERR library name argument was not given"
FUNCTION_FLUSH_MODE = "ERR FUNCTION FLUSH only supports SYNC|ASYNC option"
FUNCTION_RESTORE_POLICY = "ERR Wrong restore policy given, value should be either FLUSH, APPEND or REPLACE."
FUNCTION_PAYLOAD_TYPE = "ERR given type is not a function"
FUNCTION_PAYLOAD_BAD = "ERR can not read data type"
FUNCTION_LOAD_TIMEOUT = "FUNCTION LOAD timeout"
FUNCTION_NOT_IN_LOAD = "redis.register_function can only be called on FUNCTION LOAD command"


function_invalid_metadata = _text("ERR Invalid metadata value given: %s")
function_engine_not_found = _text("ERR Engine '%s' not found")


def function_library_exists(name: str, quoted: bool = True) -> str:
    """LOAD quotes the name; RESTORE's join does not (Redis's own two texts)."""
    return f"ERR Library '{name}' already exists" if quoted else f"ERR Library {name} already exists"


function_exists = _text("ERR Function %s already exists")
function_compile_error = _text("ERR Error compiling function: %s")
function_register_error = _text("ERR Error registering functions: %s")
function_unknown_argument = _text("ERR Unknown argument %s")
function_unknown_option = _text("ERR Unknown option given: %s")

# HyperLogLog (hyperloglog.c)
HLL_WRONGTYPE = "WRONGTYPE Key is not a valid HyperLogLog string value."
HLL_INVALID = "INVALIDOBJ Corrupted HLL object detected"
HLL_NO_KEY = "ERR The specified key does not exist"
HLL_NOT_SPARSE = "ERR HLL encoding is not sparse"


unknown_pfdebug = _arg_text("ERR Unknown PFDEBUG subcommand '%s'")
hll_selftest_failed = _text("ERR TESTFAILED %s")

# Commands of features forkv does not have, answered as Redis 7.0 answers them when the feature is
# off (module.c, cluster.c, replication.c)
MODULE_NOT_ALLOWED = ('ERR MODULE command not allowed. If the enable-module-command option is set to '
                      '"local", you can run it from a local connection, otherwise you need to set this '
                      'option in the configuration file, and then restart the server.')
MODULE_LOAD_FAILED = "ERR Error loading the extension. Please check the server logs."
MODULE_NO_SUCH = "ERR Error unloading module: no such module with that name"
CLUSTER_DISABLED = "ERR This instance has cluster support disabled"
INVALID_MASTER_PORT = "ERR Invalid master port"
NO_REPLICATION = "ERR forkv has no replication: only REPLICAOF NO ONE is supported"

# ACL (acl.c)
acl_unknown_category = _arg_text("ERR Unknown category '%s'")
acl_unknown_user = _arg_text("ERR User '%s' not found")
acl_unknown_command = _arg_text("ERR Command '%s' not found")
ACL_DEFAULT_UNDELETABLE = "ERR The 'default' user cannot be removed"
ACL_GENPASS_BITS = ("ERR ACL GENPASS argument must be the number of bits for the output password, a "
                    "positive number up to 4096")
ACL_NO_FILE = ("ERR This Redis instance is not configured to use an ACL file. You may want to specify "
               "users via the ACL SETUSER command and then issue a CONFIG REWRITE (assuming you have a "
               "Redis configuration file set) in order to store users in the Redis configuration.")
SORT_BY_ACL = "ERR BY option of SORT denied due to insufficient ACL permissions."
SORT_GET_ACL = "ERR GET option of SORT denied due to insufficient ACL permissions."
ACL_USERNAME_SPACES = "ERR Usernames can't contain spaces or null characters"
ACL_SAVE_FAILED = "ERR There was an error trying to save the ACLs. Please check the server logs for more information"
ACL_EXEC_DENIED = ("NOPERM ACLs rules changed between the moment the transaction was accumulated and the EXEC "
                   "call. This command is no longer allowed for the following reason: ")
SCRIPT_ACL_DENIED = {1: "The user executing the script can't run this command or subcommand",
                     2: "The user executing the script can't access at least one of the keys mentioned in "
                        "the command arguments",
                     4: "The user executing the script can't publish to the channel mentioned in the command"}


# MIGRATE
MIGRATE_KEYS_NOT_EMPTY = "ERR When using MIGRATE KEYS option, the key argument must be set to the empty string"
MIGRATE_CONNECT = "IOERR error or timeout connecting to the client"
MIGRATE_WRITE = "IOERR error or timeout writing to target instance"
MIGRATE_READ = "IOERR error or timeout reading to target instance"


def migrate_target_error(message: str) -> str:
    return f"ERR Target instance replied with error: {message}"

# DEBUG PROTOCOL
DEBUG_PROTOCOL_TYPE = ("ERR Wrong protocol type name. Please use one of the following: "
                       "string|integer|double|bignum|null|array|set|map|attrib|push|verbatim|true|false")
DEBUG_PROTOCOL_RESP2 = "ERR RESP2 is not supported by this command"

# -- streams (t_stream.c) -------------------------------------------------------------------------

INVALID_ID = "ERR Invalid stream ID specified as stream command argument"
XADD_ZERO_ID = "ERR The ID specified in XADD must be greater than 0-0"
XADD_EXHAUSTED = "ERR The stream has exhausted the last possible ID, unable to add more items"
XADD_SMALLER = "ERR The ID specified in XADD is equal or smaller than the target stream top item"
XADD_TOO_LARGE = "ERR Elements are too large to be stored"
TRIM_BOTH = "ERR syntax error, MAXLEN and MINID options at the same time are not compatible"
MAXLEN_NEGATIVE = "ERR The MAXLEN argument must be >= 0."
STREAM_LIMIT_NEGATIVE = "ERR The LIMIT argument must be >= 0."
LIMIT_NO_STRATEGY = "ERR syntax error, LIMIT cannot be used without specifying a trimming strategy"
XTRIM_NO_STRATEGY = "ERR syntax error, XTRIM must be called with a trimming strategy"
LIMIT_NOT_APPROX = "ERR syntax error, LIMIT cannot be used without the special ~ option"
BAD_START = "ERR invalid start ID for the interval"
BAD_END = "ERR invalid end ID for the interval"
ENTRIES_ADDED_NEGATIVE = "ERR entries_added must be positive"
XSETID_BELOW_MAXDEL = "ERR The ID specified in XSETID is smaller than the provided max_deleted_entry_id"
XSETID_SMALLER = "ERR The ID specified in XSETID is smaller than the target stream top item"
XSETID_ENTRIES_ADDED = "ERR The entries_added specified in XSETID is smaller than the target stream length"
UNBALANCED = ("ERR Unbalanced XREAD list of streams: for each stream key an ID or '$' must be "
              "specified.")
GROUP_IN_XREAD = "ERR The GROUP option is only supported by XREADGROUP. You called XREAD instead."
NOACK_IN_XREAD = "ERR The NOACK option is only supported by XREADGROUP. You called XREAD instead."
MISSING_GROUP = "ERR Missing GROUP option for XREADGROUP"
DOLLAR_IN_GROUP = ("ERR The $ ID is meaningless in the context of XREADGROUP: you want to read the "
                   "history of this consumer by specifying a proper ID, or use the > ID to get new "
                   "messages. The $ ID would just return an empty result set.")
GT_IN_XREAD = "ERR The > ID can be specified only when calling XREADGROUP using the GROUP <group> <consumer> option."
GROUP_GONE = "NOGROUP the consumer group this client was blocked on no longer exists"
KEY_GONE = "UNBLOCKED the stream key no longer exists"
XGROUP_NO_KEY = ("ERR The XGROUP subcommand requires the key to exist. Note that for CREATE you may want "
                 "to use the MKSTREAM option to create an empty stream automatically.")
ENTRIESREAD_NEGATIVE = "ERR value for ENTRIESREAD must be positive or -1"
BUSYGROUP = "BUSYGROUP Consumer Group name already exists"
