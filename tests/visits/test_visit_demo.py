"""The demo's visits (server/demo/visits.py): real photos, real verification, a few suspect."""
from __future__ import annotations

import random
import time
from collections import Counter

from sqlalchemy import select

from visit_helpers import SHOP


def test_demo_visits_are_mostly_genuine_with_a_few_suspect(app, factory):
    from server.customers.models import Customer
    from server.demo.visits import load_demo_visits
    from server.extensions import db
    from server.photos.models import Photo
    from server.visits.models import Visit

    rep = factory.user("rep", line="SMB")  # no quota
    manager = factory.user("manager", department=rep.department)
    ids = [factory.customer(rep, industry="other", location={"lat": SHOP["lat"] + i * 0.01, "lng": SHOP["lng"]}).id for i in range(60)]
    with app.app_context():
        customers = list(db.session.scalars(select(Customer).where(Customer.id.in_(ids))))
        started = time.monotonic()
        made = load_demo_visits(random.Random(5), customers, count=60)
        took = time.monotonic() - started
        db.session.commit()
        visits = list(db.session.scalars(select(Visit)))
        statuses = Counter(v.verification_status for v in visits)
        assert sum(made.values()) == len(visits) == 60 and statuses == Counter(made)
        assert statuses["verified"] >= 40, statuses
        assert statuses["suspect"] >= 1, statuses
        for visit in visits:
            photo = db.session.get(Photo, visit.photo_hashes[0])
            if visit.verification_status == "verified":
                assert photo is not None and photo.exif["gps_time"] and photo.phash
                assert visit.verification["time_source"] == "gps"
            failed = {c["code"] for c in visit.verification["checks"] if c["passed"] is False}
            assert "photo_similar" not in failed  # every genuine photo is a picture of its own
            assert visit.visited_at <= visit.received_at
        assert took < 30
    del manager
