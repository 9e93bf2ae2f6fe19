"""End-to-end harness: a real `fieldcrm run` (gunicorn) on a free port with its own instance
folder, the built PWA from pwa/dist, and the system Chromium driven by Playwright."""
from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import urllib.request
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = "/usr/bin/chromium"
PHOTOS = ROOT.parent / "shared" / "fixtures" / "photos"
FIELDCRM = Path(sys.executable).parent / "fieldcrm"
CHROME_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
               "--disable-background-networking", "--disable-component-update", "--disable-sync"]
# People's Square, Shanghai: the seed's customers sit around it.
HERE = {"latitude": 31.2304, "longitude": 121.4737, "accuracy": 20}
PHONE = {"viewport": {"width": 390, "height": 844}, "device_scale_factor": 2, "is_mobile": True, "has_touch": True}


def pytest_collection_modifyitems(config, items):
    if not os.path.exists(CHROMIUM):
        skip = pytest.mark.skip(reason=f"Chromium not found at {CHROMIUM}: the PWA end-to-end tests need it")
        for item in items:
            if "e2e" in item.keywords:
                item.add_marker(skip)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="session")
def server(tmp_path_factory):
    if not os.path.exists(CHROMIUM):
        pytest.skip(f"Chromium not found at {CHROMIUM}")
    dist = ROOT / "pwa" / "dist" / "index.html"
    if not dist.exists():
        pytest.fail("pwa/dist is not built: run `make pwa` first")
    instance = tmp_path_factory.mktemp("e2e-instance")
    env = {**os.environ, "FIELDCRM_INSTANCE": str(instance), "FIELDCRM_SECRET_KEY": "e2e-secret-key-long-enough-for-hs256-xx"}
    env.pop("FIELDCRM_DATABASE_URL", None)
    subprocess.run([str(FIELDCRM), "db", "upgrade"], env=env, check=True, capture_output=True, cwd=ROOT)
    seeded = subprocess.run([sys.executable, str(ROOT / "tests" / "e2e" / "seed.py")], env=env, check=True,
                            capture_output=True, cwd=ROOT, text=True)
    data = json.loads(seeded.stdout.strip().splitlines()[-1])
    proc, base, log = start_fieldcrm(instance, env)
    data["base"] = base
    data["instance"] = instance
    yield data
    stop_fieldcrm(proc, log)


@pytest.fixture(scope="session")
def browser(playwright_driver):
    if not os.path.exists(CHROMIUM):
        pytest.skip(f"Chromium not found at {CHROMIUM}")
    b = playwright_driver.chromium.launch(executable_path=CHROMIUM, args=CHROME_ARGS, headless=True)
    yield b
    b.close()


@pytest.fixture
def phone(browser, server):
    """A factory of phone contexts (each its own storage = its own phone)."""
    made = []

    def make(locale="zh-CN", geolocation=None):
        ctx = browser.new_context(**PHONE, locale=locale, geolocation=geolocation or HERE,
                                  permissions=["geolocation"], base_url=server["base"],
                                  timezone_id="Asia/Shanghai")
        made.append(ctx)
        return ctx

    yield make
    for ctx in made:
        ctx.close()


def api(server, method, path, body=None, token=None):
    req = urllib.request.Request(server["base"] + path, method=method,
                                 data=json.dumps(body).encode() if body is not None else None,
                                 headers={"Content-Type": "application/json",
                                          **({"Authorization": f"Bearer {token}"} if token else {})})
    try:
        with urllib.request.urlopen(req) as r:
            return r.status, json.loads(r.read() or b"null")
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read() or b"null")


def token(server, username):
    status, body = api(server, "POST", "/api/v1/auth/login", {"username": username, "password": server["password"]})
    assert status == 200, body
    return body["access_token"]


def photo_at(tmp_path, lat: float, lng: float, name="Canon_40D.jpg") -> Path:
    """A real fixture photo with its EXIF rewritten to now and the given place (as a phone would take it)."""
    import piexif

    src = PHOTOS / name
    exif = piexif.load(str(src))
    now_utc = datetime.now(timezone.utc)
    local = now_utc.astimezone(timezone(timedelta(hours=8)))
    stamp = local.strftime("%Y:%m:%d %H:%M:%S").encode()
    exif["0th"][piexif.ImageIFD.DateTime] = stamp
    exif["0th"].pop(piexif.ImageIFD.Software, None)
    exif["Exif"][piexif.ExifIFD.DateTimeOriginal] = stamp
    exif["Exif"][piexif.ExifIFD.DateTimeDigitized] = stamp
    exif["Exif"][piexif.ExifIFD.OffsetTimeOriginal] = b"+08:00"
    exif["Exif"].pop(piexif.ExifIFD.MakerNote, None)

    def rational(v: float):
        d = int(v)
        m = int((v - d) * 60)
        s = round(((v - d) * 60 - m) * 60 * 1000)
        return ((d, 1), (m, 1), (s, 1000))

    exif["GPS"] = {
        piexif.GPSIFD.GPSLatitudeRef: b"N", piexif.GPSIFD.GPSLatitude: rational(lat),
        piexif.GPSIFD.GPSLongitudeRef: b"E", piexif.GPSIFD.GPSLongitude: rational(lng),
        piexif.GPSIFD.GPSDateStamp: now_utc.strftime("%Y:%m:%d").encode(),
        piexif.GPSIFD.GPSTimeStamp: ((now_utc.hour, 1), (now_utc.minute, 1), (now_utc.second, 1)),
    }
    exif.pop("thumbnail", None)
    exif["1st"] = {}
    out = tmp_path / f"visit-{now_utc.timestamp():.0f}-{name}"
    piexif.insert(piexif.dump(exif), src.read_bytes(), str(out)) if False else None
    data = src.read_bytes()
    out.write_bytes(data)
    piexif.insert(piexif.dump(exif), str(out))
    return out


def login(page, username, password):
    page.goto("/")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", password)
    page.click("button[type=submit]")
    page.wait_for_selector("[data-testid=customer-list]")


def wait_synced(page, timeout=20000):
    page.wait_for_selector("[data-testid=pending-count][data-count='0']", timeout=timeout)


def wait_sw(page):
    page.wait_for_function("navigator.serviceWorker && navigator.serviceWorker.controller !== null", timeout=15000)


# ---- the demo organisation (manager desk tests and screenshots) ---------------------------------
DESKTOP = {"viewport": {"width": 1366, "height": 900}, "device_scale_factor": 1}


def start_fieldcrm(instance: Path, env: dict, log_path: Path | None = None, extra_args: tuple[str, ...] = ()):
    """`fieldcrm run` on a free port for an instance folder, once it answers; returns
    (process, base URL, log file). Stop it with `stop_fieldcrm`."""
    port = _free_port()
    log_path = log_path or instance / "server.log"
    log = open(log_path, "wb")
    proc = subprocess.Popen([str(FIELDCRM), "run", "--host", "127.0.0.1", "--port", str(port), *extra_args], env=env,
                            stdout=log, stderr=subprocess.STDOUT, cwd=ROOT)
    base = f"http://127.0.0.1:{port}"
    deadline = time.time() + 30
    while True:
        try:
            urllib.request.urlopen(base + "/api/v1/openapi.json", timeout=2)
            return proc, base, log
        except Exception:  # noqa: BLE001
            if time.time() > deadline or proc.poll() is not None:
                proc.terminate()
                log.close()
                pytest.fail("fieldcrm run did not start: " + log_path.read_text(errors="replace")[-2000:])
            time.sleep(0.3)


def stop_fieldcrm(proc, log) -> None:
    proc.terminate()
    try:
        proc.wait(10)
    except subprocess.TimeoutExpired:
        proc.kill()
    log.close()



@pytest.fixture(scope="session")
def demo_server(tmp_path_factory):
    """A second server whose instance holds `fieldcrm demo` (a year of activity for every report),
    kept apart from `server` so the seed-based tests stay fast. Yields base, password and the
    demo logins by role: {"manager": [...], "rep": [...], ...} as (username, display, department)."""
    if not os.path.exists(CHROMIUM):
        pytest.skip(f"Chromium not found at {CHROMIUM}")
    if not (ROOT / "pwa" / "dist" / "index.html").exists():
        pytest.fail("pwa/dist is not built: run `make pwa` first")
    instance = tmp_path_factory.mktemp("e2e-demo-instance")
    env = {**os.environ, "FIELDCRM_INSTANCE": str(instance), "FIELDCRM_SECRET_KEY": "e2e-secret-key-long-enough-for-hs256-xx"}
    env.pop("FIELDCRM_DATABASE_URL", None)
    subprocess.run([str(FIELDCRM), "db", "upgrade"], env=env, check=True, capture_output=True, cwd=ROOT)
    size = os.environ.get("FIELDCRM_E2E_DEMO_CUSTOMERS")  # default: the demo's own size (~30 s)
    out = subprocess.run([str(FIELDCRM), "demo", *(["--customers", size] if size else [])],
                         env=env, check=True, capture_output=True, cwd=ROOT, text=True).stdout
    password = out.split("password for all:", 1)[1].split(")", 1)[0].strip()
    logins: dict[str, list[tuple[str, str, str]]] = {}
    for line in out.splitlines():
        parts = line.split()
        if line.startswith("  ") and len(parts) >= 3 and parts[1] in ("admin", "ops", "manager", "rep"):
            display, _, department = " ".join(parts[2:]).partition(" — ")
            logins.setdefault(parts[1], []).append((parts[0], display, department))
    proc, base, log = start_fieldcrm(instance, env)
    yield {"base": base, "password": password, "logins": logins, "instance": instance}
    stop_fieldcrm(proc, log)


@pytest.fixture
def desktop(browser):
    """A factory of desktop browser contexts (managers use desktop browsers, SPEC §15)."""
    made = []

    def make(base: str, locale="zh-CN", **extra):
        ctx = browser.new_context(**{**DESKTOP, **extra}, locale=locale, base_url=base, timezone_id="Asia/Shanghai",
                                  geolocation=HERE, permissions=["geolocation"], accept_downloads=True)
        made.append(ctx)
        return ctx

    yield make
    for ctx in made:
        ctx.close()
