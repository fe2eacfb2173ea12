"""COMMAND DOCS: each command's arguments, from the short synopsis it is declared with.

A synopsis is written as Redis's documentation writes it: `key [key ...]`, `[EX seconds|PX
milliseconds|KEEPTTL]`, `[start end [BYTE|BIT]]`, `TOKEN value`, `[LIMIT offset count]` (a block
introduced by its token). It is parsed into Redis's argument model (type key/string/integer/
double/pure-token/oneof/block, `token`, flags optional/multiple/multiple_token), which is what
redis-cli turns back into its interactive hints. What the words cannot say is written after the
argument in braces, as Redis's JSON files have it: `[NX|XX]{condition since=6.2.0}` (the choice's
name, when the argument came), `value{:integer}` (its type), `source{key=1}` (its key spec),
`(a b)` a block or `(a|b)` a required choice inside another, `LEFT|RIGHT{wherefrom}` a named
choice on its own. A `Documented` part carries a whole argument tree where even that is not enough.
"""

import functools
import re

from protocol.reply import Map, SetReply, Status

_TOKENS = re.compile(r"\{[^}]*\}|\[|\]|\(|\)|\||\.\.\.|[^\s\[\]|(){}]+")
_ENDS = ("]", ")", "|", "...")
_KEY_NAMES = {"key", "source", "destination", "newkey", "destkey", "sourcekey"}
_INTEGER_NAMES = {"seconds", "milliseconds", "count", "index", "index1", "index2", "offset", "start",
                  "end", "increment", "decrement", "timeout", "numkeys", "db", "destination-db",
                  "bit", "client-id", "protover", "len", "min-match-len", "ttl", "maxage", "cursor",
                  "limit"}
_TIME_NAMES = {"unix-time-seconds", "unix-time-milliseconds"}
_DOUBLE_NAMES = {"longitude", "latitude", "radius", "width", "height", "score"}


def _is_token(word: str) -> bool:
    return word.isupper() or (word[:1].isupper() and "-" in word)


def _value(name: str) -> Map:
    kind = ("key" if name in _KEY_NAMES else "integer" if name in _INTEGER_NAMES
            else "unix-time" if name in _TIME_NAMES else "double" if name in _DOUBLE_NAMES
            else "pattern" if name == "pattern" else "string")
    doc = Map({"name": name, "type": kind})
    if kind == "key":
        doc["key_spec_index"] = 0
    return doc


def _flag(doc: Map, flag: str) -> Map:
    doc.setdefault("flags", [])
    if Status(flag) not in doc["flags"]:
        doc["flags"].append(Status(flag))
    return doc


def _group(items: list) -> Map:
    """One argument, or a block of several named as Redis names most: "key_value"."""
    if len(items) == 1:
        return items[0]
    return Map({"name": "_".join(item["name"] for item in items), "type": "block", "arguments": items})


def _sequence(tokens: list, i: int):
    items = []
    while i < len(tokens) and tokens[i] not in _ENDS:
        word = tokens[i]
        if word[0] == "{":  # an annotation of what precedes
            _annotate(items[-1], word)
            i += 1
            continue
        if word == "[":
            alternatives, repeated, i = _bracket(tokens, i + 1)
            names = [item["name"] for item in alternatives[0]]
            if repeated and len(alternatives) == 1 and [it["name"] for it in items[-len(names):]] == names:
                # "x [x ...]": what precedes may be repeated (its token too, if it has one)
                repeated_items = items[-len(names):]
                del items[-len(names):]
                doc = _flag(_group(repeated_items), "multiple")
                items.append(_flag(doc, "multiple_token") if "token" in doc else doc)
            else:
                # "[a|b ...]": optional, and the whole choice may be repeated
                doc = _flag(_alternatives(alternatives), "optional")
                items.append(_flag(doc, "multiple") if repeated else doc)
            continue
        if word == "(":
            doc, i = _explicit(tokens, i + 1)
            items.append(doc)
            continue
        i += 1
        if _is_token(word):
            if i < len(tokens) and tokens[i] == "(":  # "TOKEN (a b)": a group after a token
                doc, i = _explicit(tokens, i + 1)
                doc["token"] = word
            elif i < len(tokens) and tokens[i][0] not in "[{" and tokens[i] not in _ENDS and not _is_token(tokens[i]):
                values = []
                while i < len(tokens) and tokens[i] not in ("[", "(") + _ENDS and not _is_token(tokens[i]):
                    if tokens[i][0] == "{":
                        _annotate(values[-1], tokens[i])
                    else:
                        values.append(_value(tokens[i]))
                    i += 1
                if len(values) == 1:  # "TOKEN value"
                    doc = values[0]
                else:  # "TOKEN a b": a block introduced by the token
                    doc = _group(values)
                doc["token"] = word
            else:
                doc = Map({"name": word.lower(), "type": "pure-token", "token": word})
        else:
            doc = _value(word)
        items.append(doc)
    return items, i


def _explicit(tokens: list, i: int):
    """Inside (...): a required choice "(a|b)", or a block "(a b)" even of one argument."""
    alternatives = []
    while True:
        items, i = _sequence(tokens, i)
        alternatives.append(items)
        if i >= len(tokens) or tokens[i] == ")":
            break
        i += 1  # "|"
    if len(alternatives) > 1:
        return _alternatives(alternatives), i + 1
    items = alternatives[0]
    return Map({"name": "_".join(item["name"] for item in items), "type": "block", "arguments": items}), i + 1


def _annotate(doc: Map, annotation: str) -> None:
    """Apply "{name :type since=7.0.0 deprecated=6.2.0 key=1}" to the argument before it: what
    Redis's model says that the synopsis alone cannot (a oneof's name, a double, a version)."""
    for item in annotation[1:-1].split():
        if item[0] == ":":
            doc["type"] = item[1:]
            if item[1:] == "key":
                doc.setdefault("key_spec_index", 0)
            else:
                doc.pop("key_spec_index", None)
        elif item.startswith("since="):
            doc["since"] = item[6:]
        elif item.startswith("deprecated="):
            doc["deprecated_since"] = item[11:]
        elif item.startswith("key="):
            doc["key_spec_index"] = int(item[4:])
        elif item[0] == "-":  # "-multiple_token": a flag the synopsis implies but Redis lacks
            doc["flags"] = [f for f in doc.get("flags", ()) if f != item[1:]]
            if not doc["flags"]:
                del doc["flags"]
        else:
            doc["name"] = item


def _bracket(tokens: list, i: int):
    """Inside [...]: alternatives separated by |; `[x ...]` marks a repetition of what precedes."""
    alternatives = []
    repeated = False
    while True:
        items, i = _sequence(tokens, i)
        alternatives.append(items)
        if i < len(tokens) and tokens[i] == "...":
            repeated = True
            i += 1
        if i >= len(tokens) or tokens[i] == "]":
            return alternatives, repeated, i + 1
        i += 1  # "|"


def _alternatives(alternatives: list) -> Map:
    if len(alternatives) == 1:
        items = alternatives[0]
        return _group(items)
    options = [_group(items) for items in alternatives]
    return Map({"name": options[0]["name"], "type": "oneof", "arguments": options})


@functools.cache
def _parsed(synopsis: tuple) -> tuple:
    out = []
    for part in synopsis:
        tokens = _TOKENS.findall(part)
        if tokens and tokens[0] != "[" and "|" in tokens and "[" not in tokens and "(" not in tokens:
            # "LEFT|RIGHT{wherefrom}": a required choice; a last annotation is the choice's
            annotation = tokens.pop() if tokens[-1][0] == "{" else ""
            doc = _alternatives([_sequence(alt, 0)[0] for alt in _split_bars(tokens)])
            if annotation:
                _annotate(doc, annotation)
            out.append(doc)
            continue
        items, _ = _sequence(tokens, 0)
        out.extend(items)
    return tuple(out)


def _split_bars(tokens: list) -> list:
    groups, current = [], []
    for token in tokens:
        if token == "|":
            groups.append(current)
            current = []
        else:
            current.append(token)
    groups.append(current)
    return groups


class Documented(str):
    """A synopsis part that carries its argument doc in Redis's model whole (built with `arg`),
    for what even an annotated synopsis cannot say: GEOSEARCH's BYBOX is its width's token, not
    a block's; CLIENT KILL's old and new forms. It reads as its synopsis everywhere else."""

    def __new__(cls, synopsis: str, doc: Map):
        self = super().__new__(cls, synopsis)
        self.doc = doc
        return self


def arg(name: str, kind: str, token: str = "", flags: str = "", since: str = "", key: int = -1,
        args=(), deprecated: str = "") -> Map:
    """One argument in Redis's model, for a `Documented` part: `kind` is Redis's type ("string",
    "integer", "double", "key", "pattern", "unix-time", "pure-token", "oneof", "block"), `flags`
    its flags space-separated ("optional multiple multiple_token"), `key` its key spec's index,
    `args` the arguments of a oneof or block, `deprecated` the version that deprecated it."""
    doc = Map({"name": name, "type": kind})
    if key >= 0:
        doc["key_spec_index"] = key
    if token:
        doc["token"] = token
    if since:
        doc["since"] = since
    if deprecated:
        doc["deprecated_since"] = deprecated
    if flags:
        doc["flags"] = [Status(flag) for flag in flags.split()]
    if args:
        doc["arguments"] = list(args)
    return doc


def arguments(synopsis) -> list:
    """Redis's argument docs for a command declared with `arguments=synopsis`."""
    if any(isinstance(part, Documented) for part in synopsis):
        out = []
        for part in synopsis:
            out.extend([part.doc] if isinstance(part, Documented) else _parsed((part,)))
        return out
    return list(_parsed(tuple(synopsis)))


# The order of an argument's fields and flags in Redis's reply (addReplyCommandArgList).
_ARG_FIELDS = ("name", "type", "key_spec_index", "token", "summary", "since", "deprecated_since",
               "flags", "arguments")
_ARG_FLAGS = ("optional", "multiple", "multiple_token")


def _canonical(args: list) -> list:
    out = []
    for doc in args:
        doc = Map((name, doc[name]) for name in _ARG_FIELDS if name in doc)
        if "flags" in doc:
            doc["flags"] = SetReply(Status(flag) for flag in _ARG_FLAGS if flag in doc["flags"])
        if "arguments" in doc:
            doc["arguments"] = _canonical(doc["arguments"])
        out.append(doc)
    return out


def _spec_indexes(args: list, specs: int) -> list:
    """Key arguments numbered by their key spec, for a command with several specs (SMOVE's
    source and destination, RENAME's key and newkey...) whose synopsis gives no `{key=N}`: one
    spec per key argument, in order, as Redis's tables have them. Copies: the parsed synopses
    are shared between commands."""
    out = []
    counter = 0
    for arg in args:
        arg = Map(arg)
        if arg.get("type") == "key":
            arg["key_spec_index"] = min(counter, specs - 1)
            counter += 1
        out.append(arg)
    return out


def command_docs(cmd) -> Map:
    doc = Map({
        "summary": cmd.summary,
        "since": cmd.since,
        "group": cmd.group,
    })
    if cmd.complexity:
        doc["complexity"] = cmd.complexity
    if cmd.doc_flags:
        doc["doc_flags"] = SetReply(Status(flag) for flag in cmd.doc_flags)
    if cmd.deprecated_since:
        doc["deprecated_since"] = cmd.deprecated_since
    if cmd.replaced_by:
        doc["replaced_by"] = cmd.replaced_by
    if cmd.history:
        doc["history"] = SetReply(list(entry) for entry in cmd.history)  # a RESP3 set, as Redis's
    if cmd.arguments:
        args = arguments(cmd.arguments)
        if len(cmd.key_specs) > 1 and not any(isinstance(part, Documented) or "key=" in part
                                              for part in cmd.arguments):  # indexes not given
            args = _spec_indexes(args, len(cmd.key_specs))
        doc["arguments"] = _canonical(args)
    if cmd.subcommands:
        doc["subcommands"] = Map({sub.name: command_docs(sub) for sub in cmd.subcommands.values()})
    return doc
