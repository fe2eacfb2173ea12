"""Redis 7.0's ACL (acl.c): users, their selectors (commands, key patterns with R/W flags,
channel patterns), the rules ACL SETUSER reads and ACL LIST writes back, the permission check
dispatch runs for a restricted client, the ACL file, and the ACL log of denials.

It must not: cost the default user anything per command. A client whose user may do everything
(`User.unrestricted`) is not guarded for ACLs at all; dispatch and the C fast paths step aside
only for the others (Client.refresh_guard)."""

import hashlib
import os
import time
from collections import deque

from server.glob import glob_match

# ACL CAT's reply with no category, in Redis 7.0's order (ACLCommandCategories)
CATEGORIES = ("keyspace", "read", "write", "set", "sortedset", "list", "hash", "string", "bitmap",
              "hyperloglog", "geo", "stream", "pubsub", "admin", "fast", "slow", "blocking", "dangerous",
              "connection", "transaction", "scripting")
DEFAULT_USER = b"default"
GROUPING_MS = 60000  # ACL_LOG_GROUPING_MAX_TIME_DELTA: a repeat within a minute updates its entry

# Check results, ordered as Redis's ACL_DENIED_* (the larger wins between selectors)
OK, DENIED_CMD, DENIED_KEY, DENIED_AUTH, DENIED_CHANNEL = 0, 1, 2, 3, 4
REASONS = {DENIED_CMD: "command", DENIED_KEY: "key", DENIED_CHANNEL: "channel", DENIED_AUTH: "auth"}

# User flags, in the order ACL LIST and GETUSER show them (ACLUserFlags)
ON, OFF, NOPASS, SKIP_SANITIZE, SANITIZE = 1, 2, 4, 8, 16
USER_FLAG_NAMES = ((ON, "on"), (OFF, "off"), (NOPASS, "nopass"), (SKIP_SANITIZE, "skip-sanitize-payload"),
                   (SANITIZE, "sanitize-payload"))

# Key pattern permissions
READ, WRITE = 1, 2
ALL_PERMS = READ | WRITE


class RuleError(Exception):
    """A rule ACL SETUSER refuses; `why` is Redis's ACLSetUserStringError text, `code` its errno
    (the ACL file tells unknown names, ENOENT, from the rest)."""

    def __init__(self, code: str):
        super().__init__(code)
        self.code = code
        self.why = _RULE_ERRORS.get(code, "Wrong format")


_RULE_ERRORS = {
    "ENOENT": "Unknown command or category name in ACL",
    "EINVAL": "Syntax error",
    "EEXIST": "Adding a pattern after the * pattern (or the 'allkeys' flag) is not valid and does not have "
              "any effect. Try 'resetkeys' to start with an empty list of patterns",
    "EISDIR": "Adding a pattern after the * pattern (or the 'allchannels' flag) is not valid and does not "
              "have any effect. Try 'resetchannels' to start with an empty list of channels",
    "ENODEV": "The password you are trying to remove from the user does not exist",
    "EBADMSG": "The password hash must be exactly 64 characters and contain only lowercase hexadecimal "
               "characters",
    "ECHILD": "Allowing first-arg of a subcommand is not supported",
}


def text(raw: bytes) -> str:
    """Bytes as Redis's "%s" prints them: cut at the first NUL."""
    nul = raw.find(b"\x00")
    return (raw if nul < 0 else raw[:nul]).decode("utf-8", "surrogateescape")


def has_spaces(raw: bytes) -> bool:
    """ACLStringHasSpaces: isspace() or NUL anywhere."""
    return any(c in b" \t\n\v\f\r\x00" for c in raw)


def hash_password(password: bytes) -> str:
    return hashlib.sha256(password).hexdigest()


def _rule_digest(op: bytes) -> str:
    """The SHA-256 hex digest a password rule names: hashed from `>pass` / `<pass`, taken as given
    from `#hash` / `!hash` (which must be 64 lowercase hex digits: EBADMSG otherwise)."""
    if op[:1] in (b">", b"<"):
        return hash_password(op[1:])
    if not _valid_hash(op[1:]):
        raise RuleError("EBADMSG")
    return op[1:].decode()


def _valid_hash(raw: bytes) -> bool:
    return len(raw) == 64 and all(c in b"0123456789abcdef" for c in raw)


# -- the command table as ACL sees it ------------------------------------------------------------

_UNIVERSE = None  # every command, container and subcommand, in table order
_MEMBERS = None  # category -> the commands in it


def _tables():
    global _UNIVERSE, _MEMBERS
    if _UNIVERSE is None:
        from server.table import all_commands

        universe = []
        for cmd in all_commands().values():
            universe.append(cmd)
            universe.extend(cmd.subcommands.values())
        members = {cat: [] for cat in CATEGORIES}
        for cmd in universe:
            for cat in cmd.acl_categories():
                members[cat[1:]].append(cmd)
        _UNIVERSE, _MEMBERS = universe, members
    return _UNIVERSE, _MEMBERS


def lookup(name: bytes):
    """ACLLookupCommand: "get" or "config|get", case-insensitively; None if unknown."""
    from server.table import all_commands

    parts = name.lower().split(b"|")
    if len(parts) > 2:
        return None
    cmd = all_commands().get(parts[0])
    if cmd is None or len(parts) == 1:
        return cmd
    return cmd.subcommands.get(parts[1]) if cmd.subcommands else None


# -- selectors -----------------------------------------------------------------------------------

class Selector:
    """One set of permissions: the root selector of a user, or one of its '(...)' selectors.
    `allowed` is Redis's command bitmap as a set of Commands; `future` its last bit, which only
    +@all sets (ACL LIST then starts from +@all)."""

    __slots__ = ("root", "allkeys", "allchannels", "allcommands", "allowed", "future", "firstargs",
                 "patterns", "channels")

    def __init__(self, root: bool = False, allchannels: bool = False):
        self.root = root
        self.allkeys = False
        self.allchannels = allchannels
        self.allcommands = False
        self.allowed = set()
        self.future = False
        self.firstargs = {}  # Command -> [first argument, ...] (a deprecated +cmd|arg)
        self.patterns = []  # [pattern, READ/WRITE flags]
        self.channels = []

    def copy(self) -> "Selector":
        new = Selector(self.root, self.allchannels)
        new.allkeys, new.allcommands, new.future = self.allkeys, self.allcommands, self.future
        new.allowed = set(self.allowed)
        new.firstargs = {k: list(v) for k, v in self.firstargs.items()}
        new.patterns = [list(p) for p in self.patterns]
        new.channels = list(self.channels)
        return new

    # -- changing it (ACLSetSelector) --

    def _set_bit(self, cmd, allow: bool) -> None:
        if allow:
            self.allowed.add(cmd)
        else:
            self.allowed.discard(cmd)
            self.allcommands = False

    def change(self, cmd, allow: bool) -> None:
        """ACLChangeSelectorPerm: the command and all its subcommands."""
        self._set_bit(cmd, allow)
        self.firstargs.pop(cmd, None)
        for sub in cmd.subcommands.values():
            self._set_bit(sub, allow)

    def set_category(self, category: str, allow: bool) -> None:
        for cmd in _tables()[1][category]:
            self.change(cmd, allow)

    def apply(self, op: bytes) -> None:
        """One rule; raises RuleError."""
        low = op.lower()
        if low in (b"allkeys", b"~*"):
            self.allkeys = True
            self.patterns = []
        elif low == b"resetkeys":
            self.allkeys = False
            self.patterns = []
        elif low in (b"allchannels", b"&*"):
            self.allchannels = True
            self.channels = []
        elif low == b"resetchannels":
            self.allchannels = False
            self.channels = []
        elif low in (b"allcommands", b"+@all"):
            self.allowed = set(_tables()[0])
            self.future = self.allcommands = True
            self.firstargs = {}
        elif low in (b"nocommands", b"-@all"):
            self.allowed = set()
            self.future = self.allcommands = False
            self.firstargs = {}
        elif op[:1] in (b"~", b"%"):
            self._add_pattern(op)
        elif op[:1] == b"&":
            if self.allchannels:
                raise RuleError("EISDIR")
            if has_spaces(op[1:]):
                raise RuleError("EINVAL")
            if op[1:] not in self.channels:
                self.channels.append(op[1:])
            self.allchannels = False
        elif op[:1] == b"+" and op[1:2] != b"@":
            self._allow(op[1:])
        elif op[:1] == b"-" and op[1:2] != b"@":
            cmd = lookup(op[1:])
            if cmd is None:
                raise RuleError("ENOENT")
            self.change(cmd, False)
        elif op[:1] in (b"+", b"-") and op[1:2] == b"@":
            name = text(op[2:]).lower()
            if name not in _tables()[1]:
                raise RuleError("ENOENT")
            self.set_category(name, op[:1] == b"+")
        else:
            raise RuleError("EINVAL")

    def _add_pattern(self, op: bytes) -> None:
        if self.allkeys:
            raise RuleError("EEXIST")
        flags = 0
        offset = 1
        if op[:1] == b"%":
            while offset < len(op):
                c = op[offset:offset + 1].upper()
                if c == b"R" and not flags & READ:
                    flags |= READ
                elif c == b"W" and not flags & WRITE:
                    flags |= WRITE
                elif c == b"~":
                    offset += 1
                    break
                else:
                    raise RuleError("EINVAL")
                offset += 1
        else:
            flags = ALL_PERMS
        pattern = op[offset:]
        if has_spaces(pattern):
            raise RuleError("EINVAL")
        for each in self.patterns:
            if each[0] == pattern:
                each[1] |= flags
                break
        else:
            self.patterns.append([pattern, flags])
        self.allkeys = False

    def _allow(self, name: bytes) -> None:
        if b"|" not in name:
            cmd = lookup(name)
            if cmd is None:
                raise RuleError("ENOENT")
            self.change(cmd, True)
            return
        base, sub = name.rsplit(b"|", 1)
        cmd = lookup(base)
        if cmd is None:
            raise RuleError("ENOENT")
        if "|" in cmd.name:
            raise RuleError("ECHILD")
        if not sub:
            raise RuleError("EINVAL")
        if cmd.subcommands:
            cmd = lookup(name)
            if cmd is None:
                raise RuleError("ENOENT")
            self.change(cmd, True)
            return
        args = self.firstargs.setdefault(cmd, [])  # a misuse Redis still accepts (and warns of)
        if not any(a.lower() == sub.lower() for a in args):
            args.append(sub)

    # -- describing it --

    def describe_keys(self) -> str:
        return " ".join(_pattern_text(p) for p in self.patterns)

    def describe_channels(self) -> str:
        return " ".join("&" + text(c) for c in self.channels)

    def describe_commands(self) -> str:
        """ACLDescribeSelectorCommandRules: +@all or -@all, then the categories that bring it
        closest (fewest exceptions first), then single commands."""
        fake = Selector()
        additive = not self.future
        rules = ["-@all" if additive else "+@all"]
        fake.apply(rules[0].encode())
        temp = Selector()
        temp.allowed = set(self.allowed)
        members = _tables()[1]
        applied = set()
        while True:
            best, mindiff, maxsame = None, 1 << 31, 0
            for cat in CATEGORIES:
                if cat in applied:
                    continue
                on = sum(1 for c in members[cat] if c in temp.allowed)
                off = len(members[cat]) - on
                diff, same = (off, on) if additive else (on, off)
                if same > diff and (diff < mindiff or (diff == mindiff and same > maxsame)):
                    best, mindiff, maxsame = cat, diff, same
            if best is None:
                break
            fake.set_category(best, additive)
            temp.set_category(best, not additive)
            rules.append(("+@" if additive else "-@") + best)
            applied.add(best)
        from server.table import all_commands

        self._describe_singles(fake, rules, all_commands().values())
        return " ".join(rules)

    def _describe_singles(self, fake, rules: list, commands) -> None:
        for cmd in commands:
            mine = cmd in self.allowed
            if mine != (cmd in fake.allowed):
                rules.append(("+" if mine else "-") + cmd.name)
                fake.change(cmd, mine)
            if cmd.subcommands:
                self._describe_singles(fake, rules, cmd.subcommands.values())
            if not mine and cmd in self.firstargs:
                rules.extend(f"+{cmd.name}|{text(a)}" for a in self.firstargs[cmd])

    def describe(self) -> str:
        parts = []
        if self.allkeys:
            parts.append("~*")
        else:
            parts.extend(_pattern_text(p) for p in self.patterns)
        if self.allchannels:
            parts.append("&*")
        else:
            parts.append("resetchannels")
            parts.extend("&" + text(c) for c in self.channels)
        parts.append(self.describe_commands())
        return " ".join(parts)

    def reply(self) -> dict:
        """aclAddReplySelectorDescription's fields."""
        return {"commands": self.describe_commands(),
                "keys": "~*" if self.allkeys else self.describe_keys(),
                "channels": "&*" if self.allchannels else self.describe_channels()}

    # -- checking a command (ACLSelectorCheckCmd) --

    def check(self, cmd, argv, refs: list):
        """(result, argument index) for this selector; `refs` caches the key references."""
        if not self.allcommands and not cmd.no_auth and cmd not in self.allowed:
            args = self.firstargs.get(cmd) if len(argv) >= 2 else None
            if not args:
                return DENIED_CMD, 0
            first = argv[2 if "|" in cmd.name else 1].lower()
            if not any(a.lower() == first for a in args):
                return DENIED_CMD, 0
        if not self.allkeys and _has_keys(cmd):
            if not refs:
                refs.append(key_refs(cmd, argv))
            for pos, need in refs[0]:
                if not self.key_allowed(argv[pos], need):
                    return DENIED_KEY, pos
        if not self.allchannels:
            spec = _CHANNELS.get(cmd.name)
            if spec is not None:
                pattern, last = spec
                for pos in range(1, len(argv) if last < 0 else min(last + 1, len(argv))):
                    if not _channel_allowed(self.channels, argv[pos], pattern):
                        return DENIED_CHANNEL, pos
        return OK, 0

    def key_allowed(self, key: bytes, need: int) -> bool:
        if self.allkeys:
            return True
        for pattern, flags in self.patterns:
            if flags & need == need and glob_match(pattern, key):
                return True
        return False


def _pattern_text(pattern) -> str:
    prefix = {ALL_PERMS: "~", READ: "%R~", WRITE: "%W~"}[pattern[1]]
    return prefix + text(pattern[0])


def _channel_allowed(channels: list, channel: bytes, is_pattern: bool) -> bool:
    """ACLCheckChannelAgainstList: a pattern subscription needs the very same pattern."""
    for allowed in channels:
        if (allowed == channel) if is_pattern else glob_match(allowed, channel):
            return True
    return False


# Commands with channels whose access ACLs check (db.c commands_with_channels): name ->
# (the channels are patterns, last channel index or -1 for all)
_CHANNELS = {"subscribe": (False, -1), "ssubscribe": (False, -1), "psubscribe": (True, -1),
             "publish": (False, 1), "spublish": (False, 1)}

_HAS_KEYS = {}


def _has_keys(cmd) -> bool:
    """doesCommandHaveKeys: a getkeys function, or a key spec that is not marked not_key."""
    known = _HAS_KEYS.get(cmd)
    if known is None:
        known = _HAS_KEYS[cmd] = cmd.getkeys is not None or any(
            "not_key" not in spec.flags for spec in cmd.key_specs)
    return known


def _need(flags) -> int:
    need = 0
    for flag in flags:
        flag = flag.lower()
        if flag == "access":
            need |= READ
        elif flag in ("insert", "delete", "update"):
            need |= WRITE
    return need


def key_refs(cmd, argv) -> list:
    """[(argument index, READ/WRITE needed)] for each key of the command line (Redis's
    getKeysFromCommandWithSpecs and the key flags ACLSelectorCheckKey looks at)."""
    if cmd.getkeys is not None:
        return [(i, _need(flags)) for i, flags in cmd.getkeys(argv)]
    from server.commands.server_admin import _actual_flags
    from server.table import spec_invalid

    specs = [s for s in cmd.key_specs if "not_key" not in s.flags]
    if any(spec_invalid(s, argv) for s in specs):
        return []  # Redis's invalid_spec: no keys at all, the command answers for itself
    return [(i, _need(_actual_flags(cmd, spec, argv))) for spec in specs for i in spec.positions(argv)]


# -- users ---------------------------------------------------------------------------------------

class User:
    __slots__ = ("name", "flags", "passwords", "selectors", "unrestricted", "_described")

    def __init__(self, name: bytes, allchannels: bool = False):
        self.name = name
        self.flags = OFF
        self.passwords = []  # SHA-256 hex digests
        self.selectors = [Selector(root=True, allchannels=allchannels)]
        self.unrestricted = False
        self._described = None

    @property
    def root(self) -> Selector:
        return self.selectors[0]

    def copy(self) -> "User":
        new = User(self.name)
        new.take(self)
        return new

    def take(self, other: "User") -> None:
        """ACLCopyUser: this user's rules become `other`'s."""
        self.flags = other.flags
        self.passwords = list(other.passwords)
        self.selectors = [s.copy() for s in other.selectors]
        self._changed()

    def _changed(self) -> None:
        self._described = None
        root = self.selectors[0]
        self.unrestricted = root.allcommands and root.allkeys and root.allchannels

    def apply(self, op: bytes, pubsub_all: bool) -> None:
        """ACLSetUser: one rule; raises RuleError."""
        try:
            self._apply(op, pubsub_all)
        finally:
            self._changed()

    def _apply(self, op: bytes, pubsub_all: bool) -> None:
        if not op:
            return
        low = op.lower()
        if low == b"on":
            self.flags = (self.flags | ON) & ~OFF
        elif low == b"off":
            self.flags = (self.flags | OFF) & ~ON
        elif low == b"skip-sanitize-payload":
            self.flags = (self.flags | SKIP_SANITIZE) & ~SANITIZE
        elif low == b"sanitize-payload":
            self.flags = (self.flags | SANITIZE) & ~SKIP_SANITIZE
        elif low == b"nopass":
            self.flags |= NOPASS
            self.passwords = []
        elif low == b"resetpass":
            self.flags &= ~NOPASS
            self.passwords = []
        elif op[:1] in (b">", b"#"):
            digest = _rule_digest(op)
            if digest not in self.passwords:
                self.passwords.append(digest)
            self.flags &= ~NOPASS
        elif op[:1] in (b"<", b"!"):
            digest = _rule_digest(op)
            if digest not in self.passwords:
                raise RuleError("ENODEV")
            self.passwords.remove(digest)
        elif op[:1] == b"(" and op[-1:] == b")":
            self.selectors.append(_selector_from(op, pubsub_all))
        elif low == b"clearselectors":
            del self.selectors[1:]
        elif low == b"reset":
            for rule in (b"resetpass", b"resetkeys", b"resetchannels"):
                self._apply(rule, pubsub_all)
            if pubsub_all:
                self._apply(b"allchannels", pubsub_all)
            for rule in (b"off", b"sanitize-payload", b"clearselectors", b"-@all"):
                self._apply(rule, pubsub_all)
        else:
            self.selectors[0].apply(op)

    def check_password(self, password: bytes) -> bool:
        if self.flags & OFF:
            return False
        return bool(self.flags & NOPASS) or hash_password(password) in self.passwords

    def describe(self) -> str:
        """ACLDescribeUser: the rules that rebuild this user, as ACL LIST and the ACL file have them."""
        if self._described is None:
            parts = [name for flag, name in USER_FLAG_NAMES if self.flags & flag]
            parts += ["#" + p for p in self.passwords]
            text_ = " ".join(parts + [self.selectors[0].describe()])
            for selector in self.selectors[1:]:
                text_ += f" ({selector.describe()})"
            self._described = text_
        return self._described

    def check(self, cmd, argv):
        """ACLCheckAllUserCommandPerm: (OK, 0) or the most relevant denial of all the selectors and
        the argument it is about."""
        refs = []
        relevant, last = DENIED_CMD, 0
        for selector in self.selectors:
            result, pos = selector.check(cmd, argv, refs)
            if result == OK:
                return OK, 0
            if result > relevant or (result == relevant and pos > last):
                relevant, last = result, pos
        return relevant, last

    def channel_allowed(self, channel: bytes, is_pattern: bool) -> bool:
        return any(s.allchannels or _channel_allowed(s.channels, channel, is_pattern) for s in self.selectors)


def full_key_access(user: User, cmd, argv) -> bool:
    """ACLUserCheckCmdWithUnrestrictedKeyAccess for read access: a selector that allows this
    command line and may read every key (allkeys, or a `*` pattern with R)."""
    refs = []
    for selector in user.selectors:
        if selector.check(cmd, argv, refs)[0] == OK and (
                selector.allkeys or any(p == b"*" and f & READ for p, f in selector.patterns)):
            return True
    return False


def _selector_from(op: bytes, pubsub_all: bool) -> Selector:
    """aclCreateSelectorFromOpSet: "(rule rule ...)", split as sdssplitargs splits."""
    from protocol.parser import ProtocolError, split_inline

    selector = Selector(allchannels=pubsub_all)
    try:
        rules = split_inline(op[1:-1])
    except ProtocolError:
        rules = []  # sdssplitargs gives up: an empty selector, as Redis makes it
    for rule in rules:
        selector.apply(rule)
    return selector


def merge_selectors(args: list):
    """ACLMergeSelectorArguments: '(' ... ')' spread over several arguments become one rule.
    Returns (rules, None) or (None, index of the unmatched opening argument)."""
    out = []
    opened = -1
    current = b""
    for i, op in enumerate(args):
        if op[:1] == b"(" and op[-1:] != b")":
            current, opened = op, i
            continue
        if opened != -1:
            current += b" " + op
            if op[-1:] == b")":
                opened = -1
                out.append(current)
            continue
        out.append(op)
    if opened != -1:
        return None, opened
    return out, None


class Acl:
    """The server's users (sorted by name for ACL LIST, USERS and the file) and its ACL log."""

    def __init__(self, config):
        self.config = config
        self.users = {}
        self.default = self._new_default()
        self.users[DEFAULT_USER] = self.default
        self.set_requirepass(config["requirepass"])

    def load_at_startup(self) -> bool:
        """ACLLoadUsersAtStartup: the config file's `user` lines, or the ACL file (not both)."""
        from server import log

        lines = getattr(self.config, "users", [])
        if lines and self.config["aclfile"]:
            log.warning("Configuring Redis with users defined in redis.conf and at the same setting an ACL "
                        "file path is invalid. This setup is very likely to lead to configuration errors and "
                        "security holes, please define either an ACL file or declare users directly in your "
                        "redis.conf, but not both.")
            return False
        seen = set()
        for args in lines:
            name = args[0].encode("utf-8", "surrogateescape")
            rules = [a.encode("utf-8", "surrogateescape") for a in args[1:]]
            if has_spaces(name):
                log.warning("Spaces not allowed in ACL usernames")
                return False
            if name in seen:
                log.warning(f"Error in user declaration '{args[0]}': Duplicate user found. A user can only be "
                            "defined once in config files")
                return False
            seen.add(name)
            user = self.users.get(name)
            if user is None:
                user = self.users[name] = User(name, self.pubsub_all)
            else:
                user.apply(b"reset", self.pubsub_all)
            merged, _ = merge_selectors(rules)
            for rule in merged or []:
                try:
                    user.apply(rule, self.pubsub_all)
                except RuleError as exc:
                    log.warning(f"Error loading ACL rule '{text(rule)}' for the user named '{args[0]}': {exc.why}")
                    return False
        if self.config["aclfile"]:
            error, _ = self.load_file(self.config["aclfile"])
            if error is not None:
                log.warning(f"Aborting Redis startup because of ACL errors: {error}")
                return False
        return True

    @property
    def pubsub_all(self) -> bool:
        return self.config["acl-pubsub-default"] == "allchannels"

    def _new_default(self) -> User:
        user = User(DEFAULT_USER)
        for rule in (b"+@all", b"~*", b"&*", b"on", b"nopass"):
            user.apply(rule, False)
        return user

    def set_requirepass(self, password: str) -> None:
        """ACLUpdateDefaultUserPassword: requirepass is the default user's one password."""
        self.default.apply(b"resetpass", False)
        if password:
            self.default.apply(b">" + password.encode("utf-8", "surrogateescape"), False)
        else:
            self.default.apply(b"nopass", False)

    @property
    def auth_required(self) -> bool:
        """Whether a client that has not authenticated must (Redis's authRequired)."""
        flags = self.default.flags
        return not flags & NOPASS or bool(flags & OFF)

    def starts_authenticated(self) -> bool:
        flags = self.default.flags
        return bool(flags & NOPASS) and not flags & OFF

    def sorted_users(self) -> list:
        return [self.users[name] for name in sorted(self.users)]

    def set_user(self, name: bytes, rules: list):
        """ACLStringSetUser: all the rules or none. Returns None or the error text; the user
        is created when it does not exist. Returns (old copy or None, user) through `changed`."""
        merged, unmatched = merge_selectors(rules)
        if merged is None:
            return f"Unmatched parenthesis in acl selector starting at '{text(rules[unmatched])}'.", None
        existing = self.users.get(name)
        temp = existing.copy() if existing is not None else User(name, self.pubsub_all)
        pubsub_all = self.pubsub_all
        for rule in merged:
            try:
                temp.apply(rule, pubsub_all)
            except RuleError as exc:
                return f"Error in ACL SETUSER modifier '{text(rule)}': {exc.why}", None
        if existing is None:
            self.users[name] = existing = User(name)
        existing.take(temp)
        return None, existing

    def file_lines(self) -> str:
        return "".join(f"user {text(u.name)} {u.describe()}\n" for u in self.sorted_users())

    def load_file(self, path: str):
        """ACLLoadFromFile: the new users, or the error text (nothing changed then). The default
        user is kept as an object (its clients stay) and takes the file's rules."""
        try:
            with open(path, "rb") as f:
                data = f.read()
        except OSError as exc:
            return f"Error loading ACLs, opening file '{path}': {exc.strerror}", None
        users = {}
        errors = ""
        name_of_file = self.config["aclfile"]
        pubsub_all = self.pubsub_all
        for number, line in enumerate(data.split(b"\n"), 1):
            line = line.strip(b" \t\r\n")
            if not line:
                continue
            argv = [a for a in line.split(b" ") if a]
            if not argv:
                continue
            if argv[0] != b"user" or len(argv) < 2:
                errors += f"{name_of_file}:{number} should start with user keyword followed by the username. "
                continue
            if has_spaces(argv[1]):
                errors += f"'{name_of_file}:{number}: username '{text(argv[1])}' contains invalid characters. "
                continue
            if argv[1] in users:
                errors += f"WARNING: Duplicate user '{text(argv[1])}' found on line {number}. "
                continue
            user = users[argv[1]] = User(argv[1], pubsub_all)
            merged, _ = merge_selectors(argv[2:])
            if merged is None:
                errors += f"{name_of_file}:{number}: Unmatched parenthesis in selector definition."
                merged = []
            syntax_error = False
            for rule in merged:
                rule = rule.strip(b"\t\r\n")
                try:
                    user.apply(rule, pubsub_all)
                except RuleError as exc:
                    if exc.code == "ENOENT":
                        errors += (f"{name_of_file}:{number}: Error in applying operation '{text(rule)}': "
                                   f"{exc.why}. ")
                    elif not syntax_error:
                        errors += f"{name_of_file}:{number}: {exc.why}. "
                        syntax_error = True
        if errors:
            return errors + "WARNING: ACL errors detected, no change to the previously active ACL rules " \
                            "was performed", None
        new_default = users.get(DEFAULT_USER) or self._new_default()
        self.default.take(new_default)
        users[DEFAULT_USER] = self.default
        old = self.users
        self.users = users
        return None, [u for name, u in old.items() if name != DEFAULT_USER]

    def save_file(self, path: str) -> bool:
        """ACLSaveToFile, atomically: a temp file, fsynced, renamed over the old one."""
        tmp = f"{path}.tmp-{os.getpid()}-{int(time.time() * 1000)}"
        try:
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o644)
            try:
                os.write(fd, self.file_lines().encode("utf-8", "surrogateescape"))
                os.fsync(fd)
            finally:
                os.close(fd)
            os.replace(tmp, path)
            dirfd = os.open(os.path.dirname(os.path.abspath(path)), os.O_RDONLY)
            try:
                os.fsync(dirfd)
            finally:
                os.close(dirfd)
        except OSError as exc:
            from server import log

            log.warning(f"Writing ACL file for ACL SAVE: {exc.strerror}")
            try:
                os.unlink(tmp)
            except OSError:
                pass
            return False
        return True


# -- what happens to clients ---------------------------------------------------------------------

def refresh_clients(server) -> None:
    """A user's rules changed: each client's guard follows its user's (un)restriction."""
    for client in list(server.clients.values()):
        client.refresh_guard()


def drop_clients_of(server, users, current) -> None:
    """ACLFreeUserAndKillClients: the clients of deleted users are closed (the current one after
    its reply), back on the default user and unauthenticated meanwhile."""
    gone = {id(u) for u in users}
    for client in list(server.clients.values()):
        if id(client.user) in gone:
            client.user = server.acl.default
            client.set_authenticated(False)
            if client is current:
                client.closing = True
            else:
                client.kill()


def kill_pubsub_clients(server, new: User, original: User, current) -> None:
    """ACLKillPubsubClientsIfNeeded: a user's channel permissions shrank (`new` holds its rules
    now, `original` a copy of those before), so its subscribers holding a channel or pattern the
    new rules refuse are closed."""
    if any(s.allchannels for s in new.selectors):
        return
    upcoming = [c for s in new.selectors for c in s.channels]
    if not any(s.allchannels for s in original.selectors) and all(
            c in upcoming for s in original.selectors for c in s.channels):
        return
    for client in list(server.clients.values()):
        if client.user is not new or client.subs is None:
            continue
        subs = client.subs
        kill = any(not _channel_allowed(upcoming, p, True) for p in subs.patterns) or any(
            not _channel_allowed(upcoming, c, False) for c in list(subs.channels) + list(subs.shard))
        if kill:
            if client is current:
                client.closing = True
            else:
                client.kill()


# -- the log -------------------------------------------------------------------------------------

class AclLog:
    """The newest denial first: [count, reason, context, object, username, created ms, client info]."""

    __slots__ = ("entries",)

    def __init__(self):
        self.entries = deque()

    def add(self, client, argv, reason: str, obj: bytes, username: bytes, max_len: int,
            context: str = "") -> None:
        now = int(time.time() * 1000)
        context = context or ("multi" if client.multi is not None else "toplevel")
        info = client.info_line(argv)
        for i, entry in enumerate(self.entries):
            if i >= 10:  # Redis looks at the ten newest only
                break
            if (entry[1] == reason and entry[2] == context and abs(now - entry[5]) <= GROUPING_MS
                    and entry[3] == obj and entry[4] == username):
                del self.entries[i]
                entry[0] += 1
                entry[5] = now
                entry[6] = info
                self.entries.appendleft(entry)
                return
        self.entries.appendleft([1, reason, context, obj, username, now, info])
        while len(self.entries) > max_len:
            self.entries.pop()

    def reset(self) -> None:
        self.entries.clear()


def log_denied_auth(client, argv, obj: bytes, username: bytes) -> None:
    """A failed AUTH or HELLO AUTH, in the server's ACL log; its object is the command as the client
    spelled it, as Redis logs it."""
    server = client.server
    server.acl_log.add(client, argv, "auth", obj, username, server.config["acllog-max-len"])


def log_denied(client, cmd, argv, result: int, pos: int, context: str = "") -> None:
    """addACLLogEntry for a denied command, key or channel."""
    obj = cmd.name.encode() if result == DENIED_CMD else bytes(argv[pos])
    server = client.server
    server.acl_log.add(client, argv, REASONS[result], obj, client.user.name,
                       server.config["acllog-max-len"], context)


def denied_message(cmd, result: int) -> str:
    """processCommand's NOPERM error for a denial."""
    if result == DENIED_CMD:
        return f"NOPERM this user has no permissions to run the '{cmd.name}' command"
    if result == DENIED_KEY:
        return "NOPERM this user has no permissions to access one of the keys used as arguments"
    return "NOPERM this user has no permissions to access one of the channels used as arguments"


def check_client(client, cmd, argv, context: str = ""):
    """None if the client's user may run this command line, else the denial logged and its
    (result, argument index)."""
    result, pos = client.user.check(cmd, argv)
    if result == OK:
        return None
    log_denied(client, cmd, argv, result, pos, context)
    return result, pos
