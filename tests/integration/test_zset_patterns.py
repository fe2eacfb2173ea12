"""Sorted sets end to end, as applications use them, against a real forkv process (and the same
body against Debian's redis-server) with redis-py: a leaderboard (ZINCRBY with float scores,
ZREVRANGE WITHSCORES, ZREVRANK, ZSCORE) and a delayed-job scheduler (producers ZADD jobs with due
times; two pollers take what is due with ZRANGEBYSCORE ... LIMIT and move it to a list with ZREM +
RPUSH in MULTI/EXEC under WATCH: every due job is moved exactly once, jobs not yet due stay).

Nothing waits on time: the jobs are due in the past or far in the future, and the threads end on
conditions (producers done, nothing due left) under a deadline.
"""

import random
import threading
import time

import pytest
import redis

DEADLINE = 60.0


@pytest.fixture(params=["forkv", "redis"])
def server(request):
    return request.getfixturevalue(f"{request.param}_server")


def _client(server) -> redis.Redis:
    return redis.Redis(port=server.port)


def test_leaderboard(server):
    c = _client(server)
    c.flushall()
    rng = random.Random(12)
    players = [f"player:{i}" for i in range(40)]
    expected = {}
    for _ in range(600):
        who = rng.choice(players)
        points = rng.choice([1, 2.5, 0.1, 10, -3.25, 0.3])
        got = c.zincrby("board", points, who)
        expected[who] = expected.get(who, 0.0) + points  # the same double additions as the server
        assert got == expected[who]
    # Redis's order: score descending, equal scores by member descending
    ranking = sorted(expected.items(), key=lambda kv: (kv[1], kv[0].encode()), reverse=True)
    top = c.zrevrange("board", 0, 9, withscores=True)
    assert top == [(m.encode(), s) for m, s in ranking[:10]]
    for rank, (member, score) in enumerate(ranking):
        assert c.zrevrank("board", member) == rank
        assert c.zscore("board", member) == score
    assert c.zrevrank("board", "nobody") is None and c.zscore("board", "nobody") is None
    assert c.zcard("board") == len(expected)
    assert c.object("encoding", "board") == b"listpack"  # 40 members, short names
    # a bigger board converts to a skiplist and keeps the same answers
    for i in range(200):
        c.zincrby("board", i / 7, f"late:{i}")
        expected[f"late:{i}"] = i / 7
    assert c.object("encoding", "board") == b"skiplist"
    ranking = sorted(expected.items(), key=lambda kv: (kv[1], kv[0].encode()), reverse=True)
    assert c.zrevrange("board", 5, 14, withscores=True) == [(m.encode(), s) for m, s in ranking[5:15]]
    assert [c.zrevrank("board", m) for m, _ in ranking[::17]] == list(range(0, len(ranking), 17))
    c.close()


def _run_threads(threads):
    for t in threads:
        t.start()
    end = time.monotonic() + DEADLINE
    for t in threads:
        t.join(max(0.0, end - time.monotonic()))
    assert not any(t.is_alive() for t in threads), "threads did not finish before the deadline"


def test_delayed_job_scheduler(server):
    admin = _client(server)
    admin.flushall()
    producers, per_producer, batch = 2, 300, 25
    now = time.time()
    errors = []
    produced_due, produced_future = set(), set()
    lock = threading.Lock()
    done_producing = threading.Event()
    finished = [0]

    def produce(pid):
        c = _client(server)
        rng = random.Random(pid)
        try:
            for start in range(0, per_producer, batch):
                jobs = {}
                for i in range(start, start + batch):
                    job = f"job:{pid}:{i}"
                    future = rng.random() < 0.2
                    jobs[job] = now + 3600 + i if future else now - rng.random() * 100
                    with lock:
                        (produced_future if future else produced_due).add(job.encode())
                c.zadd("jobs", jobs)
        except Exception as e:  # reported by the main thread
            errors.append(e)
        finally:
            c.close()
            with lock:
                finished[0] += 1
                if finished[0] == producers:
                    done_producing.set()

    moved = {0: [], 1: []}
    retries = {0: 0, 1: 0}

    def poll(pid):
        c = _client(server)
        try:
            with c.pipeline() as pipe:
                while True:
                    # read what the producers finished before looking, so "nothing due" is final
                    producers_done = done_producing.is_set()
                    try:
                        pipe.watch("jobs")
                        due = pipe.zrangebyscore("jobs", "-inf", time.time(), start=0, num=10)
                        if not due:
                            pipe.unwatch()
                            if producers_done:
                                return
                            continue
                        pipe.multi()
                        pipe.zrem("jobs", *due)
                        pipe.rpush("ready", *due)
                        removed, _ = pipe.execute()
                    except redis.WatchError:
                        retries[pid] += 1
                        continue
                    assert removed == len(due)  # under WATCH nobody else took them
                    moved[pid].extend(due)
        except Exception as e:
            errors.append(e)
        finally:
            c.close()

    threads = [threading.Thread(target=produce, args=(p,)) for p in range(producers)]
    threads += [threading.Thread(target=poll, args=(p,)) for p in range(2)]
    _run_threads(threads)
    assert errors == []

    taken = moved[0] + moved[1]
    assert len(taken) == len(set(taken))  # nothing moved twice
    assert set(taken) == produced_due
    ready = admin.lrange("ready", 0, -1)
    assert sorted(ready) == sorted(taken) and len(ready) == len(produced_due)
    assert set(admin.zrange("jobs", 0, -1)) == produced_future  # not due: still scheduled
    assert admin.zcount("jobs", "-inf", now + 3599) == 0
    admin.close()
