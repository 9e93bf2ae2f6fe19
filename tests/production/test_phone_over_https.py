"""One phone end to end through nginx over HTTPS, in the system Chromium: the secure context the
camera, the position and the service worker need, with the production CSP in force."""
from __future__ import annotations

import os

import pytest
from e2e.conftest import CHROME_ARGS, CHROMIUM, HERE, PHONE, login, wait_sw

pytestmark = [pytest.mark.production, pytest.mark.e2e]


@pytest.fixture
def chromium(playwright_driver):
    if not os.path.exists(CHROMIUM):
        pytest.skip(f"Chromium not found at {CHROMIUM}")
    # The test certificate is self-signed; real phones trust a CA instead (nginx/README.md).
    browser = playwright_driver.chromium.launch(executable_path=CHROMIUM, headless=True,
                                                args=[*CHROME_ARGS, "--ignore-certificate-errors"])
    try:
        yield browser
    finally:
        browser.close()


def test_a_phone_signs_in_over_https_gets_the_service_worker_and_its_customers(stack, chromium):
    seed = stack.app.seed
    context = chromium.new_context(**PHONE, locale="zh-CN", geolocation=HERE, permissions=["geolocation"],
                                   base_url=stack.base, timezone_id="Asia/Shanghai", ignore_https_errors=True)
    try:
        page = context.new_page()
        refused = []  # CSP violations show up as console errors "Refused to ..."
        page.on("console", lambda msg: refused.append(msg.text) if "Content Security Policy" in msg.text else None)

        # An old http:// address lands on the HTTPS app.
        page.goto(f"http://localhost:{stack.http_port}/")
        assert page.url.startswith(f"https://localhost:{stack.https_port}/")

        login(page, "alice", seed["password"])
        wait_sw(page)
        assert page.evaluate("window.isSecureContext") is True
        assert page.evaluate("location.protocol") == "https:"
        scope = page.evaluate("navigator.serviceWorker.getRegistration().then(r => r && r.scope)")
        assert scope == f"{stack.base}/"
        # The position API answers (it needs the secure context).
        position = page.evaluate("""() => new Promise((ok, fail) => navigator.geolocation.getCurrentPosition(
            p => ok([p.coords.latitude, p.coords.longitude]), e => fail(e.message), {timeout: 10000}))""")
        assert position == pytest.approx([HERE["latitude"], HERE["longitude"]])

        listing = page.locator("[data-testid=customer-list]")
        for customer in seed["owned"]["alice"]:
            listing.get_by_text(customer["name"]).first.wait_for(timeout=20000)
        text = listing.inner_text()
        for customer in seed["owned"]["bob"]:
            assert customer["name"] not in text, "another rep's customer on alice's phone"
        assert not refused, refused

        # The service worker serves the shell from its cache: the app opens with no network.
        context.set_offline(True)
        page.reload()
        page.locator("[data-testid=customer-list]").get_by_text(seed["owned"]["alice"][0]["name"]).first.wait_for(
            timeout=20000)
    finally:
        context.close()


def test_the_manager_desk_with_its_charts_breaks_no_csp_rule(stack, chromium):
    """The desk draws charts (echarts on canvas, inline styles set from script) under the
    production Content-Security-Policy."""
    from e2e.test_manager_desk import open_desk

    context = chromium.new_context(viewport={"width": 1366, "height": 900}, locale="zh-CN", base_url=stack.base,
                                   timezone_id="Asia/Shanghai", ignore_https_errors=True)
    try:
        page = context.new_page()
        refused = []
        page.on("console", lambda msg: refused.append(msg.text) if "Content Security Policy" in msg.text else None)
        page.on("pageerror", lambda exc: refused.append(f"page error: {exc}"))
        login(page, "manager1", stack.app.seed["password"])
        open_desk(page)
        # Reports are computed on first open; on a loaded 2-core CI machine that takes a while.
        page.wait_for_selector('.chart[data-ready="1"]', timeout=90000)
        page.wait_for_timeout(1000)  # the charts' first paint
        assert page.locator("canvas").count() >= 1
        assert not refused, refused
    finally:
        context.close()
