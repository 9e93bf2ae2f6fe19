"""Fixtures of the pipeline tests (imported by each module: `from pipeline_fixtures import ...`):
a KA team and one of its customers with co-followers. Not a conftest.py: `conftest` is the
harness module other tests import by name."""
from __future__ import annotations

import pytest
from pipeline_helpers import Phone


@pytest.fixture
def team(factory):
    department = factory.department("华东KA销售组", line="KA")
    return {
        "owner": factory.user("rep", department=department, display_name="负责人"),
        "writer": factory.user("rep", department=department, display_name="写协同"),
        "reader": factory.user("rep", department=department, display_name="读协同"),
        "other": factory.user("rep", department=department, display_name="同组他人"),
        "manager": factory.user("manager", department=department, display_name="经理"),
        "outsider": factory.user("rep", line="KA", display_name="别组"),
    }


@pytest.fixture
def customer(factory, team):
    customer = factory.customer(team["owner"], name="上海春意空调有限公司")
    owner = Phone(factory, team["owner"])
    owner.applied("cofollower.add", {"customer_id": str(customer.id), "user_id": str(team["writer"].id),
                                     "permission": "write"})
    owner.applied("cofollower.add", {"customer_id": str(customer.id), "user_id": str(team["reader"].id),
                                     "permission": "read"})
    return customer


@pytest.fixture
def phones(factory, team):
    cache = {}

    def get(name: str) -> Phone:
        if name not in cache:
            cache[name] = Phone(factory, team[name])
        return cache[name]

    return get
