"""Django's built-in Redis cache (django.core.cache.backends.redis.RedisCache, issue 11) against
forkv: the whole cache API (set/get/add/delete/incr/decr/get_many/set_many/delete_many/touch/
clear/has_key/get_or_set/incr_version), pickled values beside the plain integers INCR works on,
timeouts (SET EX, EXPIRE, PERSIST, MSET + EXPIRE in a pipeline, timeout 0 deleting), and Django's
cache-backed sessions on top. Settings are configured once in this process with one cache alias
per server; every test body runs against forkv and Debian's redis-server with the same
expectations."""

import pytest
import redis

from tests.servers import wait_for

django = pytest.importorskip("django", reason="django is not installed (pip install 'forkv[test]')")
from django.conf import settings  # noqa: E402

BACKEND = "django.core.cache.backends.redis.RedisCache"


@pytest.fixture(scope="module")
def configured(forkv_server, redis_server):
    if settings.configured:
        pytest.skip("Django settings were configured elsewhere in this process")
    settings.configure(
        CACHES={
            "default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"},
            **{kind: {"BACKEND": BACKEND, "LOCATION": f"redis://127.0.0.1:{server.port}/3",
                      "KEY_PREFIX": "site", "TIMEOUT": 300}
               for kind, server in (("forkv", forkv_server), ("redis", redis_server))},
        },
        INSTALLED_APPS=["django.contrib.sessions"],
        SESSION_ENGINE="django.contrib.sessions.backends.cache",
        USE_TZ=True,
    )
    django.setup()


@pytest.fixture(params=["forkv", "redis"])
def kind(request, configured):
    return request.param


@pytest.fixture
def raw(kind, request):
    """A plain client on the cache's database (emptied first), to look at what Django stored."""
    server = request.getfixturevalue(f"{kind}_server")
    client = redis.Redis(port=server.port, db=3)
    client.flushdb()
    yield client
    client.close()


@pytest.fixture
def cache(kind, raw):
    from django.core.cache import caches

    backend = caches[kind]
    yield backend
    backend.close()


def test_set_get_add_delete(cache, raw):
    assert cache.get("missing") is None and cache.get("missing", "dflt") == "dflt"
    value = {"list": [1, 2, 3], "text": "héllo", "bytes": b"\x00\xff", "big": "x" * 100_000}
    cache.set("doc", value)
    assert cache.get("doc") == value
    assert cache.has_key("doc") and not cache.has_key("missing")
    assert not cache.add("doc", "other") and cache.get("doc") == value  # SET NX
    assert cache.add("fresh", 1)
    assert cache.delete("doc") and not cache.delete("doc")
    assert cache.get_or_set("lazy", lambda: [4, 5]) == [4, 5] and cache.get("lazy") == [4, 5]
    assert sorted(raw.keys("*")) == [b"site:1:fresh", b"site:1:lazy"]  # prefix:version:key


def test_incr_decr_and_versions(cache, raw):
    cache.set("n", 10)
    assert raw.get("site:1:n") == b"10"  # plain integers are stored as text so INCRBY works on them
    assert cache.incr("n") == 11 and cache.incr("n", 5) == 16 and cache.decr("n", 20) == -4
    with pytest.raises(ValueError):
        cache.incr("nothing")
    cache.set("v", "one", version=1)
    assert cache.incr_version("v") == 2
    assert cache.get("v") is None and cache.get("v", version=2) == "one"


def test_many(cache, raw):
    data = {f"k{i}": {"i": i} for i in range(50)}
    assert cache.set_many(data, timeout=600) == []
    assert cache.get_many([*data, "absent"]) == data
    ttls = {raw.ttl(f"site:1:{k}") for k in data}
    assert ttls <= set(range(595, 601))  # MSET, then EXPIRE per key in the same pipeline
    cache.delete_many([f"k{i}" for i in range(0, 50, 2)])
    assert sorted(cache.get_many(list(data))) == sorted(f"k{i}" for i in range(1, 50, 2))
    cache.set_many({"forever": 1}, timeout=None)
    assert raw.ttl("site:1:forever") == -1
    assert cache.clear() and raw.dbsize() == 0  # FLUSHDB


def test_timeouts(cache, raw):
    cache.set("default", 1)
    assert 295 <= raw.ttl("site:1:default") <= 300
    cache.set("persistent", 1, timeout=None)
    assert raw.ttl("site:1:persistent") == -1
    cache.set("now", 1, timeout=0)  # 0 (and negative) means expire at once: nothing stored
    cache.set("past", 1, timeout=-5)
    assert not cache.has_key("now") and not cache.has_key("past")
    assert cache.add("zero", 1, timeout=0) and not cache.has_key("zero")
    assert cache.touch("persistent", 100) and 95 <= raw.ttl("site:1:persistent") <= 100
    assert cache.touch("persistent", None) and raw.ttl("site:1:persistent") == -1
    assert not cache.touch("missing", 10)
    cache.set("short", "x", timeout=1)
    cache.set("touched", "y")
    assert cache.touch("touched", 1)
    assert cache.get_many(["short", "touched"]) == {"short": "x", "touched": "y"}
    wait_for(lambda: cache.get_many(["short", "touched"]) == {}, timeout=5, interval=0.05,
             what="the one-second keys to expire")


def test_cached_sessions(kind, raw):
    from django.contrib.sessions.backends.cache import SessionStore
    from django.test.utils import override_settings

    with override_settings(SESSION_CACHE_ALIAS=kind):
        session = SessionStore()
        session["user"] = 42
        session["cart"] = ["apple", "pear"]
        session.save()
        key = session.session_key
        assert raw.ttl(f"site:1:django.contrib.sessions.cache{key}") > 0
        loaded = SessionStore(session_key=key)
        assert loaded["user"] == 42 and loaded["cart"] == ["apple", "pear"]
        loaded.cycle_key()  # a new key, the old one deleted
        assert loaded.session_key != key and not SessionStore().exists(key)
        assert SessionStore(session_key=loaded.session_key)["user"] == 42
        loaded.flush()
        assert raw.keys("*") == []
