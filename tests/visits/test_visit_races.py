"""A photo arriving while the visit naming it is being created (real threads and commits,
`fresh_app`): the visit never stays pending on a photo that is there."""
from __future__ import annotations

import threading
import time
import uuid

from conftest import Factory
from visit_helpers import NOKIA, SHOP, sha, shop_photo, visit_args

TIMEOUT = 120


def test_photo_upload_racing_visit_create_leaves_the_visit_verified(fresh_app, monkeypatch):
    """visit.create reads "photo not there" and, still in its transaction, the upload inserts
    the photo and looks for visits naming it. The upload waits for the sync version the visit
    holds, so it finds the visit once that commits and verifies it."""
    from server.extensions import db
    from server.visits import service
    from server.visits.models import Visit

    app = fresh_app()
    factory = Factory(app)
    rep = factory.user("rep")
    customer = factory.customer(rep, location=dict(SHOP))
    headers = factory.headers(rep)
    photo = shop_photo(NOKIA)
    args = visit_args(customer.id, [photo])

    judged_missing = threading.Event()
    original = service.build_evidence

    def slow_evidence(visit, customer, settings):
        evidence = original(visit, customer, settings)
        if not judged_missing.is_set() and not evidence["photos"][0]["present"]:
            judged_missing.set()
            time.sleep(0.8)  # the upload runs now, before this transaction commits
        return evidence

    monkeypatch.setattr(service, "build_evidence", slow_evidence)
    answers = {}

    def create():
        answers["push"] = app.test_client().post("/api/v1/sync/push", headers=headers, json={
            "client_id": str(uuid.uuid4()), "schema_version": 1,
            "mutations": [{"id": 1, "name": "visit.create", "args": args}]})

    def upload():
        assert judged_missing.wait(TIMEOUT)
        answers["put"] = app.test_client().put(f"/api/v1/photos/{sha(photo)}", data=photo, headers=headers)

    threads = [threading.Thread(target=create), threading.Thread(target=upload)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(TIMEOUT)
    assert not any(t.is_alive() for t in threads), "hung"
    assert answers["push"].get_json()["results"][0]["server"]["verification_status"] == "pending"
    assert answers["put"].status_code == 201, answers["put"].get_json()
    with app.app_context():
        visit = db.session.get(Visit, uuid.UUID(args["id"]))
        assert visit.verification_status == "verified", visit.verification
