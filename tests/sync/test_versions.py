"""The sync version moves only with what phones can pull (SPEC §12)."""
from __future__ import annotations

from sync_helpers import Device, customer_args

from server.common.db import SYNC_VERSION, current_value


def _version(app) -> int:
    from server.extensions import db

    with app.app_context():
        return current_value(db.session, SYNC_VERSION)


def test_a_rejected_mutation_takes_no_version_and_an_applied_one_takes_one(factory):
    rep = factory.user("rep")
    phone = Device(factory, rep)
    args = customer_args(factory, contacts=[{"name": "张宏", "mobile": "13800001234"}])
    before = _version(factory.app)
    assert phone.send("customer.create", args)["status"] == "applied"
    applied = _version(factory.app)
    assert applied == before + 1
    # a contact id already taken: rejected after the new customer's row was written
    again = customer_args(factory, contacts=[{"id": args["contacts"][0]["id"], "name": "李四"}])
    result = phone.send("customer.create", again)
    assert result["status"] == "rejected" and result["error"]["code"] == "id_conflict", result
    assert _version(factory.app) == applied
    # and the customer the phone pulls carries the version its mutation answered
    [put] = [op for page in phone.sync() for op in page["patch"] if op["id"] == args["id"]]
    assert put["version"] == applied
