"""End to end: RQ (a job queue built on MULTI/WATCH, pipelines and Lua) against snakedis.

Jobs are stdlib functions referenced by import path, so the worker (which forks a work
horse per job) can import them without any helper module.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

rq = pytest.importorskip("rq")
redis = pytest.importorskip("redis")


@pytest.fixture
def conn(fresh_snakedis: Any) -> Iterator[Any]:
    r = redis.Redis(port=fresh_snakedis.port)
    yield r
    r.close()


def test_enqueue_and_burst_worker(conn: Any) -> None:
    q = rq.Queue("default", connection=conn)
    ok_jobs = [q.enqueue("operator.add", i, 10) for i in range(5)]
    bad = q.enqueue("math.sqrt", -1)
    assert q.count == 6
    worker = rq.Worker([q], connection=conn)
    assert worker.work(burst=True) is True
    for i, job in enumerate(ok_jobs):
        job.refresh()
        assert job.get_status() == "finished"
        assert job.return_value() == i + 10
    bad.refresh()
    assert bad.get_status() == "failed"
    assert "ValueError" in (bad.latest_result().exc_string or "")
    assert q.count == 0
    assert bad.id in q.failed_job_registry.get_job_ids()
    assert set(q.finished_job_registry.get_job_ids()) == {j.id for j in ok_jobs}


def test_simple_worker_dependencies_and_results(conn: Any) -> None:
    q = rq.Queue("deps", connection=conn)
    first = q.enqueue("operator.mul", 6, 7)
    second = q.enqueue("operator.neg", 5, depends_on=first)
    assert second.get_status() == "deferred"
    worker = rq.SimpleWorker([q], connection=conn)
    worker.work(burst=True)
    first.refresh()
    second.refresh()
    assert first.return_value() == 42
    assert second.return_value() == -5
    assert rq.Worker.all(connection=conn) == [] or all(w.name for w in rq.Worker.all(connection=conn))


def test_lock_and_script_helpers(conn: Any) -> None:
    script = conn.register_script("return redis.call('incrby', KEYS[1], ARGV[1])")
    assert script(keys=["counter"], args=[3]) == 3
    conn.script_flush()
    assert script(keys=["counter"], args=[4]) == 7
    lock = conn.lock("res", timeout=10, blocking_timeout=0.1)
    assert lock.acquire()
    other = conn.lock("res", timeout=10, blocking_timeout=0.1)
    assert not other.acquire()
    assert lock.owned()
    lock.extend(5)
    lock.release()
    assert other.acquire()
    other.release()
    # a transaction with WATCH through redis-py's pipeline
    with conn.pipeline() as pipe:
        pipe.watch("balance")
        pipe.multi()
        pipe.set("balance", 100)
        pipe.incrby("balance", 5)
        assert pipe.execute() == [True, 105]
