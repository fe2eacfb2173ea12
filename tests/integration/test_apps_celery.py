"""Celery 5 against forkv (issue 14): forkv is both the broker (kombu's Redis transport: lists
popped with BRPOP, the unacked hash and sorted set, binding sets, PUBLISH/PSUBSCRIBE fanout for
remote control, Lua scripts) and the result backend (SETEX'd results announced on pub/sub
channels; a chord's header results counted by Lua scripts run with EVALSHA). A real worker
subprocess (`celery worker --pool=solo`) runs the tasks the test sends. The same body runs against
Debian's redis-server; neither server may refuse a command Celery sends (but EVALSHA's NOSCRIPT,
on which the client loads its script)."""

import importlib.util
import sys

import pytest
import redis

from tests.integration._apps import KINDS, AppProcess, refused_commands, start_server, url, write_module
from tests.servers import wait_for

celery = pytest.importorskip("celery", reason="celery is not installed (pip install 'forkv[test]')")

MODULE = "forkv_celery_app_{}"  # one per server kind, so the two apps' task names never meet
SOURCE = '''
    import os
    from celery import Celery

    app = Celery(__name__, broker=os.environ["APP_REDIS_URL"], backend=os.environ["APP_REDIS_URL"])
    app.conf.update(broker_connection_retry_on_startup=False, task_serializer="json",
                    result_serializer="json", accept_content=["json"], result_expires=600)

    @app.task
    def add(x, y):
        return x + y

    @app.task
    def total(values):
        return sum(values)

    @app.task
    def fail(message):
        raise ValueError(message)

    @app.task(bind=True, max_retries=2, default_retry_delay=0)
    def flaky(self, key):
        # Fails twice, then succeeds: the attempts are counted in the broker's own database.
        counter = self.app.backend.client.incr(key)
        if counter < 3:
            raise self.retry()
        return counter
'''


def load_app(directory: str, name: str):
    spec = importlib.util.spec_from_file_location(name, f"{directory}/{name}.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module  # celery names tasks after their module
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module", params=KINDS)
def celery_app(request, tmp_path_factory, monkeypatch_module):
    server = start_server(request.param)
    worker = None
    module = None
    try:
        directory = str(tmp_path_factory.mktemp(f"celery-{request.param}"))
        name = MODULE.format(request.param)
        write_module(directory, name, SOURCE)
        monkeypatch_module.setenv("APP_REDIS_URL", url(server))
        module = load_app(directory, name)
        worker = AppProcess(["celery", "-A", name, "worker", "--pool=solo", "--concurrency=1",
                             "-l", "warning"], cwd=directory)
        module.worker = worker
        module.server = server
        yield module
    finally:
        try:
            if worker is not None:
                worker.stop()
            if module is not None:
                module.app.close()
            sys.modules.pop(MODULE.format(request.param), None)
        finally:
            server.cleanup()


@pytest.fixture(scope="module")
def monkeypatch_module():
    with pytest.MonkeyPatch.context() as mp:
        yield mp


TIMEOUT = 30  # a deadline for a result, not a pause: .get() returns as soon as it arrives


def get(result, timeout=TIMEOUT, **kw):
    try:
        return result.get(timeout=timeout, **kw)
    except celery.exceptions.TimeoutError:
        raise AssertionError(f"no result in {timeout}s; worker log:\n{celery_log(result)}") from None


def celery_log(result):
    module = sys.modules.get(result.app.main)  # the app is named after its module
    return module.worker.log() if module else ""


def test_task_result(celery_app):
    assert get(celery_app.add.delay(2, 3)) == 5
    result = celery_app.add.apply_async((20, 22), countdown=0.2)  # an ETA task, held by the worker
    assert get(result) == 42
    assert result.state == "SUCCESS"


def test_task_failure_and_retry(celery_app):
    with pytest.raises(ValueError, match="boom"):
        get(celery_app.fail.delay("boom"))
    result = celery_app.flaky.delay("celery-test:attempts")
    assert get(result) == 3


def test_group(celery_app):
    result = celery.group(celery_app.add.s(i, i) for i in range(10))()
    assert get(result) == [2 * i for i in range(10)]
    assert result.successful()


def test_chord(celery_app):
    # The Redis backend counts finished header tasks in a Lua script and runs the body at the last one.
    result = celery.chord((celery_app.add.s(i, i) for i in range(10)), celery_app.total.s())()
    assert get(result) == 90
    chained = (celery_app.add.s(1, 2) | celery_app.add.s(10))()
    assert get(chained) == 13


def test_chord_with_a_failing_header(celery_app):
    # The header error reaches the chord's result (the body never runs).
    header = [celery_app.add.s(1, 1), celery_app.fail.s("in the header"), celery_app.add.s(2, 2)]
    result = celery.chord(header, celery_app.total.s())()
    with pytest.raises(ValueError, match="in the header"):
        get(result)


def test_result_lifecycle(celery_app):
    unknown = celery_app.app.AsyncResult("no-such-task-id")
    assert unknown.state == "PENDING" and not unknown.ready()
    result = celery_app.add.delay(4, 4)
    assert get(result) == 8 and result.ready()
    result.forget()  # DEL of the stored result
    assert celery_app.app.AsyncResult(result.id).state == "PENDING"
    assert get(celery_app.add.starmap([(1, 2), (3, 4)]).delay()) == [3, 7]


def test_remote_control(celery_app):
    # Broadcast over the fanout exchange (PUBLISH/PSUBSCRIBE), replies on a reply queue.
    replies = celery_app.app.control.ping(timeout=TIMEOUT, limit=1)
    assert len(replies) == 1 and list(replies[0].values()) == [{"ok": "pong"}]


def test_no_error_replies(celery_app):
    # Last in the module: whatever the previous tests made Celery send, no command was refused.
    assert get(celery_app.add.delay(1, 1)) == 2
    # EVALSHA's NOSCRIPT is expected: the client tries the digest first and loads the script on that
    # error (kombu's binding and unacked scripts, the backend's chord scripts).
    assert refused_commands(celery_app.server) <= {"evalsha"}


REDELIVERY = '''
    import os
    from celery import Celery

    app = Celery(__name__, broker=os.environ["APP_REDIS_URL"], backend=os.environ["APP_REDIS_URL"])
    app.conf.update(broker_connection_retry_on_startup=False, task_acks_late=True,
                    broker_transport_options={"visibility_timeout": 1, "unacked_restore_interval": 0.2,
                                              "unacked_restore_throttle": 1})

    @app.task
    def gated(name):
        # Counts its runs, then waits (BLPOP) for the test to open the gate.
        client = app.backend.client
        runs = client.incr("runs:" + name)
        client.blpop(["gate:" + name], timeout=30)
        return runs
'''


# Two worker starts and a visibility timeout make this the slowest test here, so it runs against
# forkv only; the same body passes against redis-server (parametrize with KINDS to see it).
@pytest.mark.parametrize("kind", ["forkv"])
def test_task_of_a_killed_worker_is_redelivered(kind, tmp_path, monkeypatch):
    # acks_late: the message stays in kombu's unacked hash and sorted set while the task runs. The
    # worker is killed mid-task (its BLPOP connection dropped while blocked); the next worker
    # restores the message once the visibility timeout has passed and runs it again. The element
    # pushed to the gate must reach the second run, not the dead client.
    server = start_server(kind)
    workers = []
    name = f"forkv_celery_redelivery_{kind}"
    r = redis.Redis(port=server.port)
    module = None

    def gate_waiters():
        return [c for c in r.client_list() if c["cmd"] == "blpop"]

    try:
        write_module(str(tmp_path), name, REDELIVERY)
        monkeypatch.setenv("APP_REDIS_URL", url(server))
        module = load_app(str(tmp_path), name)
        argv = ["celery", "-A", name, "worker", "--pool=solo", "--concurrency=1", "-l", "warning",
                "--without-mingle", "--without-gossip"]  # no neighbours to wait for
        workers.append(AppProcess(argv, cwd=str(tmp_path)))
        result = module.gated.delay("job")
        wait_for(lambda: r.get("runs:job") == b"1" and gate_waiters(), timeout=TIMEOUT,
                 what="the first run to block on its gate")
        assert r.hlen("unacked") == 1
        workers[0].kill()
        wait_for(lambda: not gate_waiters(), timeout=10, what="the killed worker's blocked connection to close")
        r.rpush("gate:job", "open")
        workers.append(AppProcess(argv, cwd=str(tmp_path)))
        assert result.get(timeout=TIMEOUT) == 2
        assert r.llen("gate:job") == 0
        # acks_late acknowledges after the result is stored: wait for the ack itself.
        wait_for(lambda: r.hlen("unacked") == 0, timeout=10, what="the second run's ack")
    finally:
        try:
            for worker in workers:
                worker.stop()
            if module is not None:
                module.app.close()
            r.close()
            sys.modules.pop(name, None)
        finally:
            server.cleanup()
