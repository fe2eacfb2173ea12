"""COMMAND DOCS: each command's arguments, from the short synopsis it is declared with.

A synopsis is written as Redis's documentation writes it: `key [key ...]`, `[EX seconds|PX
milliseconds|KEEPTTL]`, `[start end [BYTE|BIT]]`, `TOKEN value`. It is parsed into Redis's argument
model (type key/string/integer/pure-token/oneof/block, `token`, flags optional/multiple), which is
what redis-cli turns back into its interactive hints.
"""

import functools
import re

from protocol.reply import Map, SetReply, Status

_TOKENS = re.compile(r"\[|\]|\||\.\.\.|[^\s\[\]|]+")
_KEY_NAMES = {"key", "source", "destination", "newkey", "destkey", "sourcekey"}
_INTEGER_NAMES = {"seconds", "milliseconds", "count", "index", "index1", "index2", "offset", "start",
                  "end", "increment", "decrement", "timeout", "numkeys", "db", "destination-db",
                  "bit", "client-id", "protover", "len", "min-match-len", "ttl", "maxage", "cursor",
                  "limit"}
_TIME_NAMES = {"unix-time-seconds", "unix-time-milliseconds"}


def _is_token(word: str) -> bool:
    return word.isupper() or (word[:1].isupper() and "-" in word)


def _value(name: str) -> Map:
    kind = ("key" if name in _KEY_NAMES else "integer" if name in _INTEGER_NAMES
            else "unix-time" if name in _TIME_NAMES else "pattern" if name == "pattern" else "string")
    doc = Map({"name": name, "type": kind})
    if kind == "key":
        doc["key_spec_index"] = 0
    return doc


def _flag(doc: Map, flag: str) -> Map:
    doc.setdefault("flags", [])
    if Status(flag) not in doc["flags"]:
        doc["flags"].append(Status(flag))
    return doc


def _group(items: list, name: str) -> Map:
    if len(items) == 1:
        return items[0]
    return Map({"name": name, "type": "block", "arguments": items})


def _sequence(tokens: list, i: int):
    items = []
    while i < len(tokens) and tokens[i] not in ("]", "|", "..."):
        word = tokens[i]
        if word == "[":
            alternatives, repeated, i = _bracket(tokens, i + 1)
            names = [item["name"] for item in alternatives[0]]
            if repeated and len(alternatives) == 1 and [it["name"] for it in items[-len(names):]] == names:
                # "x [x ...]": what precedes may be repeated
                repeated_items = items[-len(names):]
                del items[-len(names):]
                items.append(_flag(_group(repeated_items, repeated_items[0]["name"]), "multiple"))
            else:
                # "[a|b ...]": optional, and the whole choice may be repeated
                doc = _flag(_alternatives(alternatives), "optional")
                items.append(_flag(doc, "multiple") if repeated else doc)
            continue
        i += 1
        if _is_token(word):
            if i < len(tokens) and tokens[i] not in ("[", "]", "|", "...") and not _is_token(tokens[i]):
                doc = _value(tokens[i])
                doc["token"] = word
                i += 1
            else:
                doc = Map({"name": word.lower(), "type": "pure-token", "token": word})
        else:
            doc = _value(word)
        items.append(doc)
    return items, i


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
        return _group(items, items[0]["name"] if items else "arg")
    options = [_group(items, items[0]["name"]) for items in alternatives]
    return Map({"name": options[0]["name"], "type": "oneof", "arguments": options})


@functools.cache
def _parsed(synopsis: tuple) -> tuple:
    out = []
    for part in synopsis:
        tokens = _TOKENS.findall(part)
        if tokens and tokens[0] != "[" and "|" in tokens and "[" not in tokens:
            out.append(_alternatives([_sequence(alt, 0)[0] for alt in _split_bars(tokens)]))
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
    """A synopsis part ("[BY pattern]") that carries its argument doc in Redis's model whole,
    for what a synopsis cannot say (SORT's patterns are keys of a spec of their own, GET is a
    repeated token). It reads as its synopsis everywhere else."""

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
    source and destination, RENAME's key and newkey...): one spec per key argument, in order, as
    Redis's tables have them. Copies: the parsed synopses are shared between commands."""
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
        if len(cmd.key_specs) > 1 and not any(isinstance(part, Documented) for part in cmd.arguments):
            args = _spec_indexes(args, len(cmd.key_specs))
        doc["arguments"] = _canonical(args)
    if cmd.subcommands:
        doc["subcommands"] = Map({sub.name: command_docs(sub) for sub in cmd.subcommands.values()})
    return doc
