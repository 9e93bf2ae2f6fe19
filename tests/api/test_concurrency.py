"""Racing requests through real threads and real commits (SPEC R-C1, R-C3, R-P3).

Each test gets a database of its own (`fresh_app`), and each thread its own test client, so the
requests run in separate transactions exactly as under gunicorn.
"""
from __future__ import annotations

import re
import threading
from concurrent.futures import ThreadPoolExecutor

from api_helpers import bearer, error_of
from conftest import Factory

CUSTOMERS = "/api/v1/customers"


def _race(app, jobs):
    """Run `jobs` (header, body) at once, one thread and one client each; the responses in order."""
    barrier = threading.Barrier(len(jobs))

    def run(job):
        headers, body = job
        client = app.test_client()
        barrier.wait(timeout=30)
        return client.post(CUSTOMERS, json=body, headers=headers)

    with ThreadPoolExecutor(max_workers=len(jobs)) as pool:
        return list(pool.map(run, jobs))


def _reps(app, count):
    factory = Factory(app)
    department = factory.department("并发测试部", line="KA")
    reps = [factory.user("rep", department=department) for _ in range(count)]
    return factory, reps, [bearer(factory.login(rep)["access_token"]) for rep in reps]


def _distinct_codes(responses):
    for r in responses:
        assert r.status_code == 201, r.get_json()
    codes = [r.get_json()["code"] for r in responses]
    assert all(re.fullmatch(r"C\d{4}\d{6}", code) for code in codes), codes
    assert len(set(codes)) == len(codes), codes
    return codes


def test_two_concurrent_creations_get_distinct_codes(fresh_app):
    app = fresh_app()
    factory, _, headers = _reps(app, 2)
    responses = _race(app, [(h, factory.customer_args()) for h in headers])
    _distinct_codes(responses)


def test_eight_concurrent_creations_get_distinct_consecutive_codes(fresh_app):
    app = fresh_app()
    factory, _, headers = _reps(app, 2)
    responses = _race(app, [(headers[i % 2], factory.customer_args()) for i in range(8)])
    codes = _distinct_codes(responses)
    numbers = sorted(int(code[-6:]) for code in codes)
    assert numbers == list(range(numbers[0], numbers[0] + 8))

    # Everything committed: each rep sees their four.
    client = app.test_client()
    for h in headers:
        assert len(client.get(CUSTOMERS, headers=h).get_json()["items"]) == 4


def test_same_name_created_concurrently_by_two_reps_one_wins(fresh_app):
    app = fresh_app()
    factory, reps, headers = _reps(app, 2)
    # Different spellings of one name, and different tax ids, so only the name collides.
    bodies = [factory.customer_args(name="福州闽江物流（集团）有限公司"),
              factory.customer_args(name="福州闽江物流(集团)有限公司")]
    responses = _race(app, list(zip(headers, bodies)))
    statuses = sorted(r.status_code for r in responses)
    assert statuses == [201, 409], [r.get_json() for r in responses]
    winner = next(r for r in responses if r.status_code == 201).get_json()
    loser = next(r for r in responses if r.status_code == 409)
    error = error_of(loser, 409, "duplicate_customer")
    assert error["details"]["id"] == winner["id"]
    assert error["details"]["owner_display_name"] == winner["owner"]["display_name"]


def test_same_tax_id_created_concurrently_one_wins(fresh_app):
    app = fresh_app()
    factory, _, headers = _reps(app, 2)
    bodies = [factory.customer_args(tax_id="91350100M000100Y43") for _ in headers]
    responses = _race(app, list(zip(headers, bodies)))
    assert sorted(r.status_code for r in responses) == [201, 409]
    error_of(next(r for r in responses if r.status_code == 409), 409, "duplicate_customer")


def test_two_creations_racing_for_the_last_quota_place_one_wins(fresh_app):
    app = fresh_app()
    factory, reps, headers = _reps(app, 1)
    admin = factory.user("admin")
    client = app.test_client()
    assert client.put("/api/v1/admin/settings", json={"quotas": {"KA": 3}},
                      headers=factory.headers(admin)).status_code == 200
    for _ in range(2):
        assert client.post(CUSTOMERS, json=factory.customer_args(), headers=headers[0]).status_code == 201
    responses = _race(app, [(headers[0], factory.customer_args()) for _ in range(2)])
    assert sorted(r.status_code for r in responses) == [201, 409], [r.get_json() for r in responses]
    error = error_of(next(r for r in responses if r.status_code == 409), 409, "quota_exceeded")
    assert (error["details"]["count"], error["details"]["limit"]) == (3, 3)
