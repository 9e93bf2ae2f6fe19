"""The rep's phone, end to end, against a real server (SPEC §12, §15)."""
from __future__ import annotations

import os
import shutil
import sqlite3
import time

import pytest

from tests.e2e.conftest import (HERE, PHONE, ROOT, api, login, photo_at, start_fieldcrm, stop_fieldcrm, token,
                                wait_sw, wait_synced)

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
    # a real phone photo (not the one other e2e tests reuse: a reused photo is rightly "suspect")
    photo = photo_at(tmp_path, HERE["latitude"], HERE["longitude"], name="mobile_HMD_Nokia_8.3_5G.jpg")
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

    # the daily report, offline: the day's numbers are counted on the phone before any sync
    page.click("[data-testid=nav-daily]")
    page.wait_for_selector("[data-testid=auto-source][data-source=local]")
    assert int(page.get_attribute("[data-testid=auto-new-customers]", "data-n")) >= 1
    assert int(page.get_attribute("[data-testid=auto-visits]", "data-n")) >= 1
    assert "上海离线测试贸易有限公司" in page.inner_text("[data-testid=daily-auto]")
    page.fill("textarea[name=summary]", "拜访上海离线测试贸易，介绍节能方案，客户有意向")
    page.fill("textarea[name=plan]", "准备报价单，周三面谈")
    page.click("[data-testid=save-daily-report]")
    page.wait_for_selector("[data-testid=report-state][data-state=pending]")
    assert page.get_attribute("[data-testid=pending-count]", "data-count") == "4"
    page.go_back()
    page.wait_for_selector("[data-testid=customer-detail]")

    # reload while still offline: the shell comes from the service worker, the data from IndexedDB
    page.reload()
    page.wait_for_selector("[data-testid=customer-detail]")
    assert "上海离线测试贸易有限公司" in page.inner_text("[data-testid=customer-name]")
    page.wait_for_selector("[data-testid=timeline-visit]")
    page.wait_for_selector("[data-testid=timeline-follow-up]")
    assert "周明" in page.inner_text("[data-testid=contacts]")
    assert page.get_attribute("[data-testid=pending-count]", "data-count") == "4"

    ctx.set_offline(False)
    wait_synced(page, timeout=30000)
    page.wait_for_selector("[data-testid=timeline-visit][data-status=verified]", timeout=30000)
    assert "C20" in page.inner_text("[data-testid=customer-detail]")  # the server's code replaced "pending"

    # the report synced: the server's copy, with the server's count of the day
    page.click("[data-testid=nav-daily]")
    page.wait_for_selector("[data-testid=report-state][data-state=synced]", timeout=20000)
    page.wait_for_selector("[data-testid=auto-source][data-source=server]")
    assert page.input_value("textarea[name=summary]") == "拜访上海离线测试贸易，介绍节能方案，客户有意向"
    assert "上海离线测试贸易有限公司" in page.inner_text("[data-testid=daily-auto]")
    assert int(page.get_attribute("[data-testid=auto-visits]", "data-n")) >= 1
    status, body = api(server, "GET", "/api/v1/daily-reports?date=" + page.input_value("input[name=report_date]"),
                       token=token(server, "alice"))
    assert status == 200, body
    mine = [r for r in body["reports"] if r["user_id"] == server["users"]["alice"]]
    assert mine and mine[0]["plan"] == "准备报价单，周三面谈"


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


def test_stage_gate_then_deal_and_payment_with_receivables(server, phone, tmp_path):
    """R-S1…R-S5 on the phone: a stage change refused for what is missing (shown with the missing
    items), accepted once they are filled; a signed deal with its contract PDF uploaded through
    the attachment channel; a payment pre-checked against overpayment; receivables shown."""
    customer = server["owned"]["alice"][1]
    ctx = phone()
    page = ctx.new_page()
    login(page, "alice", server["password"])
    wait_sw(page)
    wait_synced(page)
    page.goto(f"/#/customer/{customer['id']}")
    page.click("[data-testid=new-opportunity]")
    page.fill("input[name=opp_name]", "中央空调改造项目")
    page.fill("input[name=amount]", "48,000")
    page.fill("textarea[name=need]", "办公楼中央空调节能改造")
    page.fill("textarea[name=budget]", "五万元以内")
    page.fill("textarea[name=timeline]", "年底前完成")
    page.wait_for_selector("[data-testid=gate-item][data-item=timeline][data-met='1']")
    page.click("[data-testid=save-opportunity]")
    page.wait_for_selector("[data-testid=opportunity-screen]")
    wait_synced(page)
    page.wait_for_selector("[data-testid=stage-now][data-stage=qualify]")
    assert "¥9,600.00" in page.inner_text("[data-testid=opportunity-weighted]")  # 48,000 × 20 %

    # solution needs product lines with quantities: the checklist says so; the server decides
    page.click("[data-testid=stage-solution]")
    assert page.get_attribute("[data-testid=gate-item][data-item=products]", "data-met") == "0"
    page.click("[data-testid=move-stage]")
    rejection = page.locator("[data-testid=opportunity-rejection][data-code=stage_requirements_unmet]")
    rejection.wait_for(timeout=20000)
    assert "产品明细" in rejection.inner_text()
    page.wait_for_selector("[data-testid=stage-now][data-stage=qualify]")

    page.click("[data-testid=add-line]")
    page.fill("input[name=product-0]", "磁悬浮冷水机组")
    page.fill("input[name=quantity-0]", "2")
    page.fill("input[name=price-0]", "24000")
    page.wait_for_selector("[data-testid=gate-item][data-item=quantities][data-met='1']")
    page.click("[data-testid=move-stage]")
    wait_synced(page)
    page.wait_for_selector("[data-testid=stage-now][data-stage=solution]", timeout=20000)
    # the refusal has been answered: it leaves the inbox
    page.wait_for_selector("[data-testid=opportunity-rejection]", state="detached", timeout=20000)
    opp_id = page.url.rsplit("/", 1)[1]

    # the deal, signed, with its contract document
    pdf = tmp_path / "contract.pdf"
    pdf.write_bytes(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj<< /Type /Catalog >>endobj\ntrailer<< /Root 1 0 R >>\n%%EOF\n")
    page.goto(f"/#/customer/{customer['id']}")
    page.click("[data-testid=new-deal]")
    page.select_option("select[name=opportunity_id]", opp_id)
    page.fill("input[name=contract_no]", "HT-E2E-0001")
    page.fill("input[name=deal_amount]", "48,000.00")
    page.set_input_files("[data-testid=deal-attachment-input]", str(pdf))
    page.wait_for_selector("[data-testid=deal-attachment-input-name]")
    page.click("[data-testid=save-deal]")
    page.wait_for_selector("[data-testid=deal-item][data-status=signed]")
    wait_synced(page)
    # (the push is acknowledged before the pull brings the server's copy: wait for that copy)
    page.wait_for_function("document.querySelector('[data-testid=receivables-amount]').textContent.includes('48,000.00')",
                           timeout=20000)
    page.wait_for_selector(f"[data-testid=opportunity-item][data-id='{opp_id}'][data-stage=won]", timeout=20000)

    # a payment: more than the contract allows is stopped on the phone; a fitting one goes
    page.click("[data-testid=new-payment]")
    page.fill("input[name=payment_amount]", "50000")
    page.wait_for_selector("[data-testid=overpayment-precheck]")
    assert page.is_disabled("[data-testid=save-payment]")
    page.fill("input[name=payment_amount]", "20,000.50")
    page.wait_for_selector("[data-testid=overpayment-precheck]", state="detached")
    page.click("[data-testid=save-payment]")
    page.wait_for_selector("[data-testid=customer-detail]")
    assert "¥27,999.50" in page.inner_text("[data-testid=receivables-amount]")  # before sync, from the phone
    wait_synced(page)
    page.wait_for_function("document.querySelector('[data-testid=receivables-amount]').textContent.includes('27,999.50')",
                           timeout=20000)
    assert page.locator("[data-testid=deal-item][data-status=signed]").count() == 1
    assert page.get_attribute("[data-testid=nav-sync]", "class") is not None
    assert page.locator("[data-testid=nav-sync] .badge").count() == 0  # nothing was rejected

    alice = token(server, "alice")
    status, deals = api(server, "GET", f"/api/v1/pipeline/deals?customer_id={customer['id']}", token=alice)
    assert status == 200, deals
    deal = next(d for d in deals if d["contract_no"] == "HT-E2E-0001")
    assert (deal["status"], deal["amount"], deal["paid_total"], deal["outstanding"]) == ("signed", 4800000, 2000050, 2799950)
    assert deal["attachment_uploaded"] is True, deal  # the PDF went up before the mutation that names it
    assert deal["opportunity_id"] == opp_id


@pytest.fixture
def own_dist_server(server, tmp_path):
    """A second `fieldcrm run` on the same database serving its own copy of pwa/dist, so a test
    can publish a "new version" (a changed sw.js) without touching the shared build."""
    dist = tmp_path / "dist"
    shutil.copytree(ROOT / "pwa" / "dist", dist)
    env = {**os.environ, "FIELDCRM_INSTANCE": str(server["instance"]), "FIELDCRM_PWA_DIST": str(dist),
           "FIELDCRM_SECRET_KEY": "e2e-secret-key-long-enough-for-hs256-xx"}
    env.pop("FIELDCRM_DATABASE_URL", None)
    proc, base, log = start_fieldcrm(server["instance"], env, tmp_path / "server2.log", ("--no-jobs",))
    yield {"base": base, "dist": dist}
    stop_fieldcrm(proc, log)


@pytest.mark.parametrize("locale,tag", [("zh-CN", "zh"), ("en-US", "en")])
def test_update_waits_and_keeps_the_outbox(server, browser, own_dist_server, locale, tag):
    """A new version waiting: the banner offers the reload; queued work survives it (the outbox
    is in IndexedDB) and is sent by the new version."""
    ctx = browser.new_context(**PHONE, locale=locale, geolocation=HERE, permissions=["geolocation"],
                              base_url=own_dist_server["base"], timezone_id="Asia/Shanghai")
    try:
        page = ctx.new_page()
        login(page, "alice", server["password"])
        wait_sw(page)
        wait_synced(page)
        # publish a new version: same app, a changed service worker script
        sw = own_dist_server["dist"] / "sw.js"
        sw.write_text(sw.read_text() + f"\n// build {time.time_ns()}\n")
        page.evaluate("navigator.serviceWorker.getRegistration().then((r) => r.update())")
        page.wait_for_selector("[data-testid=update-banner]", timeout=20000)
        assert page.evaluate("navigator.serviceWorker.getRegistration().then((r) => !!r.waiting)")

        # queue work offline, then take the update while it is still queued
        ctx.set_offline(True)
        page.wait_for_selector("[data-testid=offline]")
        customer = server["owned"]["alice"][0]
        page.goto(f"/#/customer/{customer['id']}")
        page.click("[data-testid=write-follow-up]")
        note = "更新前写的跟进，离线排队" if tag == "zh" else "Written before the update, queued offline"
        page.fill("textarea[name=content]", note)
        page.click("[data-testid=save-follow-up]")
        page.wait_for_selector("[data-testid=pending-count][data-count='1']")
        page.wait_for_selector("[data-testid=update-banner]")
        if os.environ.get("FIELDCRM_SCREENS") == "1":
            from tests.e2e.test_budgets_and_screens import SCREENS

            page.screenshot(path=str(SCREENS / f"{tag}-update-banner.png"))
        with page.expect_event("load", timeout=20000):
            page.click("[data-testid=update-reload]")
        page.wait_for_selector("[data-testid=customer-detail]")
        assert page.evaluate("navigator.serviceWorker.getRegistration().then((r) => !r.waiting)")
        assert page.locator("[data-testid=update-banner]").count() == 0
        assert page.get_attribute("[data-testid=pending-count]", "data-count") == "1"
        assert note in page.inner_text("[data-testid=timeline]")

        ctx.set_offline(False)
        wait_synced(page, timeout=30000)
        # the server has it (follow-ups have no HTTP list; read the e2e instance's database)
        with sqlite3.connect(server["instance"] / "fieldcrm.db") as con:
            assert con.execute("select count(*) from follow_ups where content = ?", (note,)).fetchone()[0] == 1
    finally:
        ctx.close()
