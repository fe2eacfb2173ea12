"""The `limits` rate-limiting library (issue 14) with its Redis storage against forkv: the
fixed-window strategy (INCRBY + EXPIRE in a Lua script), the moving window (a list of timestamps
read and trimmed by Lua: LINDEX, LPUSH, LTRIM), the sliding-window counter (PTTL, RENAME, SET PX in
Lua), windows ending by key expiry, and storage reset (a Lua script over KEYS). Each test body runs
against forkv and against Debian's redis-server (`any_server`) and must hit its limits at exactly
the same requests."""

import asyncio
import time

import pytest
import redis

from tests.servers import wait_for

limits = pytest.importorskip("limits", reason="limits is not installed (pip install 'forkv[test]')")
from limits import parse, strategies  # noqa: E402
from limits.storage import storage_from_string  # noqa: E402


@pytest.fixture
def storage(any_server):
    with redis.Redis(port=any_server.port) as r:
        r.flushall()
    store = storage_from_string(f"redis://127.0.0.1:{any_server.port}")
    assert store.check()
    yield store
    store.storage.close()


def hits(limiter, item, n, *ids, cost=1):
    return [limiter.hit(item, *ids, cost=cost) for _ in range(n)]


def exhausted(limiter, item, who):
    """Two hits more than `item` allows: the last two are refused, and the window says it is
    used up. Its stats."""
    assert hits(limiter, item, item.amount + 2, who) == [True] * item.amount + [False] * 2
    assert not limiter.test(item, who)
    stats = limiter.get_window_stats(item, who)
    assert stats.remaining == 0
    return stats


def test_fixed_window(storage):
    limiter = strategies.FixedWindowRateLimiter(storage)
    item = parse("3/minute")
    before = time.time()
    stats = exhausted(limiter, item, "alice")
    assert before + 58 <= stats.reset_time <= time.time() + 61
    assert hits(limiter, item, 3, "bob") == [True, True, True]  # identifiers are separate keys
    limiter.clear(item, "alice")
    assert limiter.test(item, "alice") and limiter.get_window_stats(item, "alice").remaining == 3
    assert hits(limiter, parse("5/hour"), 4, "carol", cost=2) == [True, True, False, False]
    # A refused fixed-window hit still counts (INCRBY first, compare after), as limits documents.
    assert limiter.get_window_stats(parse("5/hour"), "carol").remaining == 0


def test_moving_window(storage):
    limiter = strategies.MovingWindowRateLimiter(storage)
    item = parse("3/minute")
    before = time.time()
    stats = exhausted(limiter, item, "alice")
    # The oldest entry plus the window; the script returns it through Lua's tostring (14 digits).
    assert before + 59.99 <= stats.reset_time <= time.time() + 60.01
    assert not limiter.hit(parse("3/minute"), "dave", cost=4)  # more than the limit: refused whole
    assert hits(limiter, parse("5/minute"), 3, "dave", cost=2) == [True, True, False]
    assert limiter.get_window_stats(parse("5/minute"), "dave").remaining == 1
    limiter.clear(item, "alice")
    assert limiter.get_window_stats(item, "alice").remaining == 3
    assert hits(limiter, item, 4, "alice") == [True, True, True, False]


def test_sliding_window_counter(storage):
    limiter = strategies.SlidingWindowCounterRateLimiter(storage)
    item = parse("4/minute")
    exhausted(limiter, item, "alice")
    assert hits(limiter, item, 2, "bob", cost=3) == [True, False]
    limiter.clear(item, "alice")
    assert limiter.get_window_stats(item, "alice").remaining == 4


@pytest.mark.parametrize("strategy", [strategies.FixedWindowRateLimiter, strategies.MovingWindowRateLimiter,
                                      strategies.SlidingWindowCounterRateLimiter])
def test_window_ends(storage, strategy):
    # A one-second window: refused now, allowed again once the window has passed (the fixed
    # window's key expires; the moving window's oldest entry ages out). Waits on the condition.
    limiter = strategy(storage)
    item = parse("2/second")
    assert hits(limiter, item, 3, "eve") == [True, True, False]
    wait_for(lambda: limiter.test(item, "eve"), timeout=5, interval=0.05, what="the window to end")
    assert limiter.hit(item, "eve")


def test_storage_reset_and_expiry(storage, any_server):
    limiter = strategies.FixedWindowRateLimiter(storage)
    for who in ("a", "b", "c"):
        limiter.hit(parse("10/hour"), who)
    expiry = storage.get_expiry(parse("10/hour").key_for("a"))
    assert time.time() + 3590 <= expiry <= time.time() + 3601
    with redis.Redis(port=any_server.port) as r:
        r.set("not-a-limit", "1")
        assert storage.reset() == 3  # only keys under the storage's prefix
        assert r.keys("*") == [b"not-a-limit"]


def test_async_storage(any_server):
    pytest.importorskip("limits.aio.storage")
    from limits.aio import strategies as aio_strategies
    from limits.storage import storage_from_string as aio_storage_from_string

    async def body():
        store = aio_storage_from_string(f"async+redis://127.0.0.1:{any_server.port}/0", implementation="redispy")
        assert await store.check()
        await store.reset()
        fixed = aio_strategies.FixedWindowRateLimiter(store)
        moving = aio_strategies.MovingWindowRateLimiter(store)
        item = parse("2/minute")
        got = [await fixed.hit(item, "x") for _ in range(3)] + [await moving.hit(item, "y") for _ in range(3)]
        assert got == [True, True, False, True, True, False]
        assert (await moving.get_window_stats(item, "y")).remaining == 0

    asyncio.run(body())
