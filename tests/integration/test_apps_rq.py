"""RQ (issue 11) against forkv: a job queue kept in lists (the queue), hashes (jobs, workers), sets
(queue and worker indexes) and sorted sets (the started/finished/failed/deferred/scheduled
registries), with Lua and MULTI/EXEC; job results in streams. The test enqueues jobs, runs a real
`rq worker --burst` subprocess (which forks a work horse per job) and checks the jobs' states, the
registries and the results. The same body runs against Debian's redis-server.

RQ (since 1.12) keeps every job's results in a stream (`XADD rq:results:<id> MAXLEN ~ 10 * ...` in
the job's closing transaction, read back with XREVRANGE, or XREAD BLOCK when waiting). Against a
server without XADD the worker module here turns RQ's result writing off
(RQ_WITHOUT_RESULT_STREAMS), and test_job_results is an expected failure naming what is missing."""

import sys
from datetime import timedelta

import pytest
import redis

from tests.integration._apps import KINDS, AppProcess, refused_commands, start_server, url, write_module
from tests.servers import raw_call

rq = pytest.importorskip("rq", reason="rq is not installed (pip install 'forkv[test]')")
from rq.registry import (  # noqa: E402
    CanceledJobRegistry,
    DeferredJobRegistry,
    FailedJobRegistry,
    FinishedJobRegistry,
    ScheduledJobRegistry,
    StartedJobRegistry,
)

MODULE = "forkv_rq_jobs"
SOURCE = '''
    import os

    import rq


    def add(x, y):
        return x + y


    def fail(message):
        raise ValueError(message)


    class Worker(rq.Worker):
        """RQ's worker with a shorter poll for its pub/sub thread. RQ 3.0 starts that thread with
        sleep_time=60 and at exit stops it with redis-py's PubSubWorkerThread.stop(), which joins
        without a timeout: when the thread has already read the UNSUBSCRIBE reply it sits in a
        60-second wait for a subscription first, so `rq worker --burst` takes a minute to exit,
        against Debian's redis-server as well (a race, seen there in 3 runs out of 5)."""

        def subscribe(self):
            self.pubsub = self.connection.pubsub()
            self.pubsub.subscribe(**{self.pubsub_channel_name: self.handle_payload})
            self.pubsub_thread = self.pubsub.run_in_thread(
                sleep_time=0.1, daemon=True, exception_handler=self._pubsub_exception_handler)


    if os.environ.get("RQ_WITHOUT_RESULT_STREAMS"):
        from rq.results import Result

        for name in ("create", "create_failure", "create_retried", "create_max_retries_exceeded"):
            setattr(Result, name, classmethod(lambda cls, *args, **kwargs: None))
'''


def has_streams(server) -> bool:
    return raw_call(server.port, "COMMAND", "INFO", "XADD") != [None]


@pytest.fixture(scope="module", params=KINDS)
def server(request):
    server = start_server(request.param)
    try:
        yield server
    finally:
        server.cleanup()


@pytest.fixture
def conn(server):
    client = redis.Redis(port=server.port)
    client.flushall()
    yield client
    client.close()


@pytest.fixture
def jobs(tmp_path, monkeypatch):
    write_module(str(tmp_path), MODULE, SOURCE)
    monkeypatch.syspath_prepend(str(tmp_path))
    module = __import__(MODULE)
    yield module
    sys.modules.pop(MODULE, None)


def run_worker(server, directory, *queues, timeout=60):
    env = {} if has_streams(server) else {"RQ_WITHOUT_RESULT_STREAMS": "1"}
    worker = AppProcess(["rq.cli", "worker", "--burst", "--worker-class", f"{MODULE}.Worker",
                         "--url", url(server), *queues], cwd=directory, env=env)
    try:
        rc = worker.wait(timeout)
        log = worker.log()
    finally:
        worker.stop()
    assert rc == 0, log
    return log


def test_enqueue_and_registries(conn, jobs):
    # No worker: what RQ keeps for queued, deferred, scheduled and canceled jobs.
    queue = rq.Queue("default", connection=conn)
    first = queue.enqueue(jobs.add, 2, 3, job_id="first", meta={"who": "test"}, result_ttl=600)
    deferred = queue.enqueue(jobs.add, 1, 1, depends_on=first)
    scheduled = queue.enqueue_in(timedelta(minutes=10), jobs.add, 5, 5)
    assert queue.count == 1 and queue.job_ids == ["first"]
    assert rq.Queue.all(connection=conn) == [queue]
    fetched = rq.job.Job.fetch("first", connection=conn)
    assert (fetched.func_name, fetched.args, fetched.meta) == (f"{jobs.__name__}.add", (2, 3), {"who": "test"})
    assert fetched.get_status() == "queued"
    assert DeferredJobRegistry(queue=queue).get_job_ids() == [deferred.id]
    assert ScheduledJobRegistry(queue=queue).get_job_ids() == [scheduled.id]
    assert deferred.get_status() == "deferred" and scheduled.get_status() == "scheduled"
    assert conn.type(f"rq:job:{first.id}") == b"hash" and conn.type("rq:queue:default") == b"list"
    first.cancel()
    assert first.get_status() == "canceled" and queue.count == 0
    assert CanceledJobRegistry(queue=queue).get_job_ids() == ["first"]
    queue.empty()
    assert queue.count == 0


def test_worker_burst(server, conn, jobs, tmp_path):
    queue = rq.Queue("default", connection=conn)
    other = rq.Queue("low", connection=conn)
    ok = queue.enqueue(jobs.add, 2, 3, meta={"who": "test"})
    child = queue.enqueue(jobs.add, 1, 1, depends_on=ok)
    failing = queue.enqueue(jobs.fail, "boom", retry=rq.Retry(max=1))
    low = other.enqueue(jobs.add, 10, 20)
    log = run_worker(server, str(tmp_path), "default", "low")
    for job in (ok, child, failing, low):
        job.refresh()
    assert [ok.get_status(), child.get_status(), failing.get_status(), low.get_status()] == [
        "finished", "finished", "failed", "finished"], log
    assert ok.meta == {"who": "test"} and failing.retries_left == 0  # ran twice, then failed
    assert sorted(FinishedJobRegistry(queue=queue).get_job_ids()) == sorted([ok.id, child.id])
    assert FailedJobRegistry(queue=queue).get_job_ids() == [failing.id]
    assert StartedJobRegistry(queue=queue).get_job_ids() == [] and DeferredJobRegistry(queue=queue).count == 0
    assert queue.count == other.count == 0
    assert rq.Worker.all(connection=conn) == []  # the burst worker registered, then left
    # EVALSHA's NOSCRIPT is expected: RQ's scripts are tried by digest first, then loaded.
    assert refused_commands(server) <= {"evalsha"}


def test_job_results(server, conn, jobs, tmp_path):
    if not has_streams(server):
        pytest.xfail("no stream type: RQ keeps job results with XADD (MAXLEN ~), XREVRANGE and XREAD")
    queue = rq.Queue("default", connection=conn)
    ok = queue.enqueue(jobs.add, 2, 3)
    failing = queue.enqueue(jobs.fail, "boom")
    run_worker(server, str(tmp_path), "default")
    assert ok.return_value() == 5
    assert ok.latest_result().type == rq.results.Result.Type.SUCCESSFUL
    assert [r.return_value for r in ok.results()] == [5]
    assert "ValueError: boom" in failing.latest_result().exc_string
    assert conn.type(f"rq:results:{ok.id}") == b"stream"
