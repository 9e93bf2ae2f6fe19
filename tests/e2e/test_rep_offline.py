"""The rep's phone, end to end, against a real server (SPEC §12, §15)."""
from __future__ import annotations

import pytest

from tests.e2e.conftest import HERE, api, login, photo_at, token, wait_sw, wait_synced

pytestmark = pytest.mark.e2e


def test_offline_customer_visit_follow_up_then_sync(server, phone, tmp_path):
    ctx = phone()
    page = ctx.new_page()
    login(page, "alice", server["password"])
    page.wait_for_selector("[data-testid=customer-item]")
    wait_sw(page)
    wait_synced(page)

    ctx.set_offline(True)
    page.wait_for_selector("[data-testid=offline]")
    page.click("[data-testid=new-customer]")
    page.fill("input[name=name]", "上海离线测试贸易有限公司")
    page.wait_for_selector("[data-testid=offline-dup-note]")
    page.select_option("select[name=industry]", "finance")
    page.fill("input[name=region]", "上海市黄浦区")
    page.fill("input[name=address]", "人民大道200号")
    page.click("[data-testid=use-position]")
    page.wait_for_selector("[data-testid=customer-location]")
    page.fill("input[name=contact_name]", "周明")
    page.fill("input[name=contact_title]", "总经理")
    page.fill("input[name=contact_mobile]", "13900001111")
    page.click("[data-testid=save-customer]")
    page.wait_for_selector("[data-testid=customer-detail]")
    assert "周明" in page.inner_text("[data-testid=contacts]")

    # visit check-in with a real photo taken "now" at the customer's place
    page.click("[data-testid=check-in]")
    photo = photo_at(tmp_path, HERE["latitude"], HERE["longitude"])
    page.set_input_files("[data-testid=photo-input]", str(photo))
    page.wait_for_selector("[data-testid=photo-count][data-count='1']")
    page.wait_for_function("document.querySelector('[data-testid=position]').textContent.includes('31.23')")
    page.fill("textarea[name=purpose]", "介绍新款空调节能方案")
    page.fill("textarea[name=result]", "客户有意向，约下周报价")
    page.fill("textarea[name=next_step]", "准备报价单")
    page.click("[data-testid=save-visit]")
    page.wait_for_selector("[data-testid=timeline-visit]")

    page.click("[data-testid=write-follow-up]")
    page.fill("textarea[name=content]", "电话沟通了报价细节，周总同意下周三面谈签约事宜")
    page.click("[data-testid=save-follow-up]")
    page.wait_for_selector("[data-testid=timeline-follow-up]")
    assert page.get_attribute("[data-testid=pending-count]", "data-count") == "3"

    # reload while still offline: the shell comes from the service worker, the data from IndexedDB
    page.reload()
    page.wait_for_selector("[data-testid=customer-detail]")
    assert "上海离线测试贸易有限公司" in page.inner_text("[data-testid=customer-name]")
    page.wait_for_selector("[data-testid=timeline-visit]")
    page.wait_for_selector("[data-testid=timeline-follow-up]")
    assert "周明" in page.inner_text("[data-testid=contacts]")
    assert page.get_attribute("[data-testid=pending-count]", "data-count") == "3"

    ctx.set_offline(False)
    wait_synced(page, timeout=30000)
    page.wait_for_selector("[data-testid=timeline-visit][data-status=verified]", timeout=30000)
    assert "C20" in page.inner_text("[data-testid=customer-detail]")  # the server's code replaced "pending"


def _claim_offline(page, name):
    page.click("[data-testid=nav-pool]")
    page.wait_for_selector(f"[data-testid=pool-item]:has-text('{name}')")


def test_two_reps_claim_the_same_pool_customer(server, phone):
    target = server["pool"][0]
    pages = []
    for who in ("alice", "bob"):
        ctx = phone()
        page = ctx.new_page()
        login(page, who, server["password"])
        wait_sw(page)
        wait_synced(page)
        page.click("[data-testid=nav-pool]")
        item = page.locator(f"[data-testid=pool-item][data-id='{target['id']}']")
        item.wait_for()
        ctx.set_offline(True)
        page.wait_for_selector("[data-testid=offline]")
        item.locator("[data-testid=claim]").click()
        page.wait_for_selector("[data-testid=pending-count][data-count='1']")
        pages.append((ctx, page))
    # both see it in their list while offline
    for ctx, page in pages:
        page.click("[data-testid=nav-customers]")
        page.wait_for_selector(f"[data-testid=customer-item][data-id='{target['id']}']")
    # alice syncs first, then bob
    for ctx, page in pages:
        ctx.set_offline(False)
        wait_synced(page, timeout=30000)
    winner, loser = pages[0][1], pages[1][1]
    winner.wait_for_selector(f"[data-testid=customer-item][data-id='{target['id']}']")
    loser.wait_for_selector(f"[data-testid=customer-item][data-id='{target['id']}']", state="detached", timeout=15000)
    loser.click("[data-testid=nav-sync]")
    loser.wait_for_selector("[data-testid=rejection]")
    reason = loser.inner_text("[data-testid=rejection-reason]")
    assert "公海" in reason or "申领" in reason, reason
    # discard resolves it on the server too
    loser.click("[data-testid=discard]")
    loser.wait_for_selector("[data-testid=rejection]", state="detached")


def test_transferred_customer_disappears_from_old_phone(server, phone):
    moved = server["owned"]["bob"][0]
    ctx = phone()
    page = ctx.new_page()
    login(page, "bob", server["password"])
    page.wait_for_selector(f"[data-testid=customer-item][data-id='{moved['id']}']")
    status, body = api(server, "POST", "/api/v1/customers/transfer",
                       {"customer_ids": [moved["id"]], "to_user_id": server["users"]["alice"], "reason": "区域调整"},
                       token(server, "manager1"))
    assert status == 200, body
    page.click("[data-testid=sync-now]")
    page.wait_for_selector(f"[data-testid=customer-item][data-id='{moved['id']}']", state="detached", timeout=20000)


def test_logout_with_pending_work_warns(server, phone):
    ctx = phone(locale="en-US")
    page = ctx.new_page()
    login(page, "alice", server["password"])
    wait_sw(page)
    wait_synced(page)
    ctx.set_offline(True)
    page.wait_for_selector("[data-testid=offline]")
    page.locator("[data-testid=customer-item] a").first.click()
    page.click("[data-testid=write-follow-up]")
    page.fill("textarea[name=content]", "Called the buyer about the renewal schedule and pricing.")
    page.click("[data-testid=save-follow-up]")
    page.wait_for_selector("[data-testid=pending-count][data-count='1']")
    page.click("[data-testid=nav-settings]")
    page.click("[data-testid=logout]")
    warning = page.locator("[data-testid=logout-warning]")
    warning.wait_for()
    assert warning.get_attribute("data-pending") == "1"
    assert "not synced" in warning.inner_text()
    page.click("[data-testid=logout-cancel]")
    assert page.get_attribute("[data-testid=pending-count]", "data-count") == "1"
