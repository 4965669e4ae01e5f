"""A Celery worker (solo pool) with ``redis://`` as broker and result backend, on snakedis.

The worker runs as a subprocess against a private snakedis; tasks are sent from the test and
their results awaited with a deadline.  kombu's Redis transport exercises lists (LPUSH/BRPOP),
MULTI/EXEC pipelines, sets, sorted sets and hashes (unacked bookkeeping), and pub/sub (result
backend, remote control); the test stops the worker itself and never outlives its deadline.
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

pytest.importorskip("celery")

from rawclient import RawClient  # noqa: E402
from servers import ServerProcess  # noqa: E402

DEADLINE = 45.0
NEEDED = [("LPUSH", "celery-probe", "x"), ("BRPOP", "celery-probe", "0.01"), ("MULTI",), ("DISCARD",),
          ("SADD", "celery-probe-s", "x"), ("ZADD", "celery-probe-z", "1", "x"), ("HSET", "celery-probe-h", "f", "v"),
          ("EVAL", "return 1", "0"), ("SCRIPT", "LOAD", "return 1")]

TASKS = textwrap.dedent(
    """
    import os
    from celery import Celery

    url = os.environ["SNAKEDIS_URL"]
    app = Celery("e2e_tasks", broker=url, backend=url)
    app.conf.update(
        broker_connection_retry_on_startup=True,
        worker_hijack_root_logger=False,
        result_expires=60,
        task_acks_late=True,
        broker_transport_options={"visibility_timeout": 60},
    )

    @app.task
    def add(x, y):
        return x + y

    @app.task
    def echo_upper(text):
        return text.upper()

    @app.task
    def fail():
        raise ValueError("boom")
    """
)


@pytest.fixture
def server() -> Iterator[ServerProcess]:
    srv = ServerProcess("snakedis").start()
    with RawClient(srv.port) as c:
        for args in NEEDED:
            reply = c.cmd(*args)
            if reply.startswith(b"-ERR unknown command"):
                srv.stop()
                pytest.skip(f"{args[0]} not implemented in snakedis yet (kombu needs it)")
    yield srv
    srv.stop()


@pytest.fixture
def worker(server: ServerProcess, tmp_path: Path) -> Iterator[dict[str, str]]:
    (tmp_path / "e2e_tasks.py").write_text(TASKS)
    env = dict(os.environ)
    env["SNAKEDIS_URL"] = f"redis://127.0.0.1:{server.port}/0"
    env["PYTHONPATH"] = str(tmp_path) + os.pathsep + env.get("PYTHONPATH", "")
    log = open(tmp_path / "worker.log", "wb")
    proc = subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "e2e_tasks", "worker", "--pool=solo", "--loglevel=INFO",
         "--without-gossip", "--without-mingle", "--without-heartbeat", "-n", "e2e@localhost"],
        cwd=tmp_path, env=env, stdout=log, stderr=subprocess.STDOUT,
    )
    try:
        yield env
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(5)
        log.close()
        if proc.returncode not in (0, -15):
            print((tmp_path / "worker.log").read_text(errors="replace")[-4000:])


def test_celery_worker_runs_tasks(worker: dict[str, str], tmp_path: Path) -> None:
    code = textwrap.dedent(
        """
        import sys
        from e2e_tasks import add, echo_upper, fail
        results = [add.delay(i, i) for i in range(20)]
        assert [r.get(timeout=TIMEOUT) for r in results] == [2 * i for i in range(20)]
        assert echo_upper.delay("snakedis").get(timeout=TIMEOUT) == "SNAKEDIS"
        r = fail.delay()
        try:
            r.get(timeout=TIMEOUT)
        except ValueError as e:
            assert "boom" in str(e)
        else:
            sys.exit("the failing task did not fail")
        assert r.state == "FAILURE"
        print("OK")
        """
    ).replace("TIMEOUT", str(DEADLINE))
    start = time.monotonic()
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=tmp_path, env=worker, capture_output=True, timeout=DEADLINE + 15
    )
    log = (tmp_path / "worker.log").read_text(errors="replace")
    assert out.returncode == 0 and out.stdout.strip() == b"OK", (
        out.stdout.decode(errors="replace") + out.stderr.decode(errors="replace")[-3000:] + "\nworker:\n" + log[-3000:]
    )
    assert time.monotonic() - start < DEADLINE + 15
    assert "succeeded" in log
