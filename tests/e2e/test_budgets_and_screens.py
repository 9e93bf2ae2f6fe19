"""Budgets (BENCHMARKS.md, bench:pwa) and the screenshots under docs/screens/.

Screens are written only when FIELDCRM_SCREENS=1 (e.g. `FIELDCRM_SCREENS=1 pytest tests/e2e -k screens`).
"""
from __future__ import annotations

import gzip
import os
import re
import time

import pytest

from tests.e2e.conftest import ROOT, login, wait_sw, wait_synced

pytestmark = pytest.mark.e2e
SCREENS = ROOT / "docs" / "screens"


def shell_js_gzip_kb() -> float:
    dist = ROOT / "pwa" / "dist"
    html = (dist / "index.html").read_text()
    total = 0
    for src in re.findall(r'src="/(assets/[^"]+\.js)"', html) + re.findall(r'href="/(assets/[^"]+\.js)"', html):
        total += len(gzip.compress((dist / src).read_bytes(), 9))
    return total / 1024


def test_shell_js_budget():
    kb = shell_js_gzip_kb()
    print(f"shell JS gzipped: {kb:.1f} KB")
    assert kb <= 120


def test_customer_list_opens_offline_with_cpu_throttling(server, phone):
    ctx = phone()
    page = ctx.new_page()
    login(page, "alice", server["password"])
    page.wait_for_selector("[data-testid=customer-item]")
    wait_sw(page)
    wait_synced(page)
    ctx.set_offline(True)
    cdp = ctx.new_cdp_session(page)
    cdp.send("Emulation.setCPUThrottlingRate", {"rate": 4})
    timings = []
    for _ in range(3):
        page.goto("about:blank")
        start = time.perf_counter()
        page.goto("/#/customers")
        page.wait_for_selector("[data-testid=customer-item]")
        timings.append((time.perf_counter() - start) * 1000)
    best, worst = min(timings), max(timings)
    # Timings are printed for BENCHMARKS.md (budget 1.5 s), not asserted: speed is measured,
    # not gated by tests. What is asserted is that the list comes up offline at all (above).
    print(f"cold start offline, 4x CPU: best {best:.0f} ms, worst {worst:.0f} ms")


def test_search_over_2000_local_customers_shows_the_matches(server, phone):
    ctx = phone()
    page = ctx.new_page()
    login(page, "alice", server["password"])
    # Rows on screen mean the first (reset) pull has been applied; injecting before it would be
    # wiped by that reset, as the app should.
    page.wait_for_selector("[data-testid=customer-item]")
    wait_synced(page)
    # put 2,000 customers in the local server state, as a pull would
    page.evaluate("""async () => {
      const open = indexedDB.open('fieldcrm');
      const idb = await new Promise((r) => { open.onsuccess = () => r(open.result); });
      const tx = idb.transaction('server', 'readwrite');
      const st = tx.objectStore('server');
      const words = ['春意', '浦江', '申城', '东方', '静安', '徐汇', '虹口', '长宁', '闵行', '杨浦'];
      const kinds = ['空调', '物流', '能源', '传媒', '金融', '机器人', '置业', '数据', '制造', '零售'];
      for (let i = 0; i < 2000; i++) {
        const id = `00000000-0000-4000-8000-${String(i).padStart(12, '0')}`;
        st.put({ entity: 'customer', id, version: 1, customer_id: id, data: { id, name: `上海${words[i % 10]}${kinds[(i / 10 | 0) % 10]}${i}号有限公司`,
          code: `C2026${String(100000 + i)}`, status: ['potential', 'intent', 'signed'][i % 3], industry: 'finance',
          owner: { id: 'x', display_name: '测试' }, days_to_reclaim: i % 90 } });
      }
      await new Promise((r) => { tx.oncomplete = r; });
    }""")
    # Offline, as a rep in the field: the reload reads the 2,000 rows back from IndexedDB and no
    # pull can replace the hand-made server state meanwhile.
    wait_sw(page)
    ctx.set_offline(True)
    page.reload()
    page.wait_for_selector("[data-testid=customer-item]")
    cdp = ctx.new_cdp_session(page)
    results = {}
    for rate in (1, 4):
        cdp.send("Emulation.setCPUThrottlingRate", {"rate": rate})
        timings = results[rate] = []
        for q in ["春意", "物流1", "C2026100", "静安金融"]:
            ms = page.evaluate("""async (q) => {
              const input = document.querySelector('[data-testid=customer-search]');
              const t0 = performance.now();
              input.value = q;
              input.dispatchEvent(new Event('input', { bubbles: true }));
              await new Promise((r) => requestAnimationFrame(() => setTimeout(r, 0)));
              return performance.now() - t0;
            }""", q)
            timings.append(ms)
    for rate, timings in results.items():
        print(f"filter 2,000 customers ({rate}x CPU, input to rendered list) ms:", [round(t) for t in timings])
    # The last query's rows are what the list shows (the timings above go to BENCHMARKS.md).
    page.wait_for_function("""() => {
      const items = [...document.querySelectorAll('[data-testid=customer-item]')];
      return items.length > 0 && items.every((el) => el.textContent.includes('静安金融'));
    }""", timeout=10_000)


@pytest.mark.skipif(os.environ.get("FIELDCRM_SCREENS") != "1", reason="set FIELDCRM_SCREENS=1 to rewrite docs/screens/")
@pytest.mark.parametrize("locale,tag", [("zh-CN", "zh"), ("en-US", "en")])
def test_screens(server, phone, locale, tag):
    SCREENS.mkdir(parents=True, exist_ok=True)
    ctx = phone(locale=locale)
    page = ctx.new_page()
    page.goto("/")
    page.wait_for_selector("[data-testid=login-form]")
    page.screenshot(path=str(SCREENS / f"{tag}-login.png"))
    login(page, "alice", server["password"])
    wait_synced(page)
    shots = [("customers", "#/customers", "[data-testid=customer-item]"),
             ("today", "#/today", "[data-testid=today]"),
             ("pool", "#/pool", "[data-testid=pool-item]"),
             ("sync", "#/sync", "[data-testid=sync-screen]"),
             ("settings", "#/settings", "[data-testid=settings]"),
             ("new-customer", "#/new", "[data-testid=new-customer-form]")]
    for name, route, sel in shots:
        page.goto("/" + route)
        page.wait_for_selector(sel)
        page.wait_for_timeout(300)
        page.screenshot(path=str(SCREENS / f"{tag}-{name}.png"))
    page.goto("/#/new")
    page.fill("input[name=name]", "上海春意")
    page.wait_for_selector("[data-testid=dup-warning]")
    page.screenshot(path=str(SCREENS / f"{tag}-duplicate-warning.png"))
    cid = server["owned"]["alice"][0]["id"]
    page.goto(f"/#/customer/{cid}")
    page.wait_for_selector("[data-testid=customer-detail]")
    page.screenshot(path=str(SCREENS / f"{tag}-customer-detail.png"), full_page=True)
    page.goto(f"/#/visit/{cid}")
    page.wait_for_selector("[data-testid=visit-form]")
    page.wait_for_timeout(500)
    page.screenshot(path=str(SCREENS / f"{tag}-visit-check-in.png"))
    page.goto(f"/#/followup/{cid}")
    page.wait_for_selector("[data-testid=follow-up-form]")
    page.screenshot(path=str(SCREENS / f"{tag}-follow-up.png"))

    # the pipeline, daily report and targets screens (seeded by tests/e2e/seed.py); on these long
    # pages the tab bar is laid out at the end, as when scrolled there, not over the middle
    page.add_style_tag(content=".tabs { position: static; }")
    seeded = server["pipeline"]
    en = tag == "en"
    page.goto(f"/#/opportunity/{seeded['opportunity_id']}")
    page.wait_for_selector("[data-testid=gate-checklist]")
    page.click("[data-testid=stage-negotiation]")
    page.wait_for_selector("[data-testid=gate-item][data-item=prices][data-met='0']")
    page.screenshot(path=str(SCREENS / f"{tag}-opportunity-stage.png"), full_page=True)
    page.goto(f"/#/deal/{seeded['customer_id']}/{seeded['opportunity_id']}")
    page.wait_for_selector("[data-testid=deal-form]")
    page.fill("input[name=contract_no]", "HT-2026-0901")
    page.fill("input[name=deal_amount]", "360,000.00")
    page.screenshot(path=str(SCREENS / f"{tag}-deal-entry.png"), full_page=True)
    page.goto(f"/#/payment/{seeded['deal_id']}")
    page.wait_for_selector("[data-testid=payment-form]")
    page.fill("input[name=payment_amount]", "80,000")
    page.wait_for_selector("[data-testid=overpayment-precheck]")
    page.screenshot(path=str(SCREENS / f"{tag}-payment-entry.png"), full_page=True)
    page.goto(f"/#/customer/{seeded['customer_id']}")
    page.wait_for_selector("[data-testid=receivables]")
    page.locator("[data-testid=deals]").scroll_into_view_if_needed()
    page.screenshot(path=str(SCREENS / f"{tag}-deals-receivables.png"))
    page.goto("/#/daily")
    page.wait_for_selector("[data-testid=daily-auto]")
    page.fill("textarea[name=summary]", "Visited Chunyi Air: walked the buyer through the retrofit plan; signed HT-2026-0815."
              if en else "拜访春意空调，讲解二期节能改造方案；签订合同 HT-2026-0815，收到首付款。")
    page.fill("textarea[name=plan]", "Send the revised quote; call Pujiang Logistics." if en else "发送修改后的报价；电话回访浦江物流。")
    page.screenshot(path=str(SCREENS / f"{tag}-daily-report.png"), full_page=True)
    # targets are seeded for bob (alice's months are the manager desk test's)
    page = phone(locale=locale).new_page()
    login(page, seeded["targets_user"], server["password"])
    wait_synced(page)
    page.add_style_tag(content=".tabs { position: static; }")
    page.goto("/#/targets")
    page.wait_for_selector("[data-testid=target-status][data-status=pending]")
    page.wait_for_selector("[data-testid=target-status][data-status=active]")
    page.click("[data-testid=draft-target]")
    page.wait_for_selector("[data-testid=target-form]")
    page.wait_for_timeout(200)
    page.screenshot(path=str(SCREENS / f"{tag}-my-targets.png"), full_page=True)
