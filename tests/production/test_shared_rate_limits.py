"""Rate limits shared by two gunicorn workers through the local Redis server (SPEC §14).

The same run — N + k failed logins against one account from one address, spread over both
workers of `fieldcrm run --workers 2` — is made twice: with `FIELDCRM_RATELIMIT_STORAGE` in
Redis exactly N get through, whichever worker answers; with `memory://` each worker counts on
its own and more get through (which is why several workers need Redis, and what shows this
test can fail). Each answer names its worker (a header set only under the test setting
FIELDCRM_TEST_WORKER_HEADER), checked against the pids gunicorn logs for its workers.
"""
from __future__ import annotations

import re
from collections import Counter
from concurrent.futures import ThreadPoolExecutor

import pytest
from conftest import _database

from .conftest import fetch, http_ok, prepare_instance, redis_database, start_app, wait_for

pytestmark = pytest.mark.production

LIMIT = 20  # LOGIN_RATE_LIMIT_PER_IP: "20 per minute"
EXTRA = 12
ATTEMPTS = LIMIT + EXTRA


@pytest.fixture(scope="module")
def instance(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("ratelimits")
    with _database(tmp, "ratelimits") as database_url:
        env, seed = prepare_instance(tmp, database_url)
        yield tmp, env, seed


def _attempts(port: int) -> list[tuple[int, str]]:
    """ATTEMPTS wrong-password logins for one account, 6 at a time, each on a new connection
    (so the kernel hands them to whichever worker is accepting)."""
    def attempt(_):
        answer = fetch(port, "POST", "/api/v1/auth/login", body={"username": "alice", "password": "wrong-guess"},
                       timeout=30)
        return answer.status, answer.header("x-fieldcrm-worker")

    with ThreadPoolExecutor(6) as pool:
        return list(pool.map(attempt, range(ATTEMPTS)))


def _run(instance, storage: str, name: str) -> tuple[list[tuple[int, str]], set[str]]:
    tmp, env, _seed = instance
    for _ in range(3):  # until both workers answered some of the attempts
        proc, port = start_app(tmp, env, workers=2, name=name,
                               extra_env={"FIELDCRM_RATELIMIT_STORAGE": storage, "FIELDCRM_TEST_WORKER_HEADER": "1"})
        try:
            wait_for(lambda: http_ok(port, "/api/v1/health"), proc, f"fieldcrm run ({name})")
            # Both workers booted and imported the app before the attempts start.
            wait_for(lambda: len(re.findall(r"Booting worker with pid: (\d+)", proc.log())) == 2, proc,
                     "two gunicorn workers")
            results = _attempts(port)
        finally:
            proc.stop()
        workers = set(re.findall(r"Booting worker with pid: (\d+)", proc.log()))
        if len({pid for _, pid in results}) == 2:
            return results, workers
        if storage.startswith("redis://"):
            from redis import Redis

            client = Redis.from_url(storage)
            stale = client.keys("LIMITS*")  # this run's counters: the next run starts from zero
            if stale:
                client.delete(*stale)
    pytest.fail(f"only one worker answered in three runs: {results}")


def _passed(results):
    """Attempts the limiter let through (the app then said 401 wrong password or 423 locked)."""
    return [(status, pid) for status, pid in results if status != 429]


def test_two_workers_share_the_login_limit_in_redis(instance):
    with redis_database() as (redis_url, client):
        results, workers = _run(instance, redis_url, "gunicorn-redis")
        assert {pid for _, pid in results} == workers and len(workers) == 2
        assert {status for status, _ in results} <= {401, 423, 429}, results
        passed = _passed(results)
        per_worker = Counter(pid for _, pid in passed)
        print(f"redis: {len(passed)} of {ATTEMPTS} through, per worker {dict(per_worker)}")
        # Exactly N in all, although each worker alone let fewer than N through.
        assert len(passed) == LIMIT, (per_worker, results)
        assert all(0 < count < LIMIT for count in per_worker.values()) and len(per_worker) == 2, per_worker
        assert Counter(status for status, _ in results)[429] == EXTRA
        # And the counter lives in this Redis database index.
        assert client.keys("LIMITS*"), "the limiter kept no counter in Redis"


def test_with_memory_storage_each_worker_counts_alone_and_more_get_through(instance):
    results, workers = _run(instance, "memory://", "gunicorn-memory")
    assert {pid for _, pid in results} == workers and len(workers) == 2
    passed = _passed(results)
    print(f"memory: {len(passed)} of {ATTEMPTS} through, per worker {dict(Counter(pid for _, pid in passed))}")
    assert len(passed) > LIMIT, (Counter(pid for _, pid in passed), results)
