"""server/docs.py's synopsis parser: what each piece of synopsis syntax turns into in Redis's
argument model (the integration test compares whole commands with redis-server)."""

import pytest

from server.docs import Documented, arg, arguments


def _plain(docs):
    out = []
    for doc in docs:
        doc = dict(doc)
        if "flags" in doc:
            doc["flags"] = sorted(str(f) for f in doc["flags"])
        if "arguments" in doc:
            doc["arguments"] = _plain(doc["arguments"])
        out.append(doc)
    return out


def one(synopsis: str) -> dict:
    (doc,) = _plain(arguments((synopsis,)))
    return doc


def test_plain_words_and_tokens():
    assert one("key") == {"name": "key", "type": "key", "key_spec_index": 0}
    assert one("EX seconds") == {"name": "seconds", "type": "integer", "token": "EX"}
    assert one("[GET]") == {"name": "get", "type": "pure-token", "token": "GET", "flags": ["optional"]}
    assert one("score") == {"name": "score", "type": "double"}


def test_token_led_block():
    assert one("[LIMIT offset count]") == {
        "name": "offset_count", "type": "block", "token": "LIMIT", "flags": ["optional"],
        "arguments": [{"name": "offset", "type": "integer"}, {"name": "count", "type": "integer"}]}


def test_repeated_token_is_multiple_token():
    assert one("[GET pattern [GET pattern ...]]") == {
        "name": "pattern", "type": "pattern", "token": "GET",
        "flags": ["multiple", "multiple_token", "optional"]}


@pytest.mark.parametrize("synopsis, expected", [
    ("[NX|XX]{condition since=6.2.0}", {"name": "condition", "since": "6.2.0"}),
    ("value{:integer}", {"name": "value", "type": "integer"}),
    ("source{key=1}", {"key_spec_index": 1}),
    ("LEFT|RIGHT{wherefrom}", {"name": "wherefrom", "type": "oneof"}),
    ("[count]{since=6.2.0}", {"name": "count", "since": "6.2.0"}),
    ("ip:port{deprecated=2.8.12}", {"deprecated_since": "2.8.12"}),
])
def test_annotations(synopsis, expected):
    doc = one(synopsis)
    assert {k: doc[k] for k in expected} == expected


def test_annotation_on_a_type_drops_or_adds_the_key_index():
    assert "key_spec_index" not in one("key{:string}")
    assert one("name{:key}")["key_spec_index"] == 0


def test_explicit_groups():
    assert one("(FROMMEMBER member|FROMLONLAT (longitude latitude){longitude_latitude}){from}") == {
        "name": "from", "type": "oneof", "arguments": [
            {"name": "member", "type": "string", "token": "FROMMEMBER"},
            {"name": "longitude_latitude", "type": "block", "token": "FROMLONLAT", "arguments": [
                {"name": "longitude", "type": "double"}, {"name": "latitude", "type": "double"}]}]}
    assert one("(parameter [parameter ...])") == {
        "name": "parameter", "type": "block",
        "arguments": [{"name": "parameter", "type": "string", "flags": ["multiple"]}]}


def test_blocks_are_named_by_their_arguments_unless_annotated():
    assert one("field value [field value ...]")["name"] == "field_value"
    assert one("(field value) [(field value) ...]{data}")["name"] == "data"


def test_documented_part_is_taken_whole():
    tree = arg("by", "oneof", args=(arg("width", "double", token="BYBOX"), arg("height", "double")))
    docs = arguments(("key", Documented("BYBOX width height", tree), "[ASC|DESC]{order}"))
    assert [d["name"] for d in docs] == ["key", "by", "order"]
    assert docs[1] is tree
