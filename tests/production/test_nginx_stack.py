"""Smoke test of the production stack: nginx (nginx/fieldcrm.conf) over HTTPS in front of
`fieldcrm run` — what a phone and the operator would notice."""
from __future__ import annotations

import gzip
import hashlib
import io
import os
import random
import re
import socket
import ssl
import time

import pytest
from PIL import Image

from .conftest import NGINX, ROOT, Proc, _free_port, fetch, make_test_certificate, render, wait_for

pytestmark = pytest.mark.production

SECURITY = {
    "strict-transport-security": "max-age=31536000",
    "x-content-type-options": "nosniff",
    "x-frame-options": "DENY",
}


def _hashed_asset(stack, suffix=".js") -> str:
    html = (stack.dist / "index.html").read_text()
    found = re.findall(r'(/assets/[^"]+' + re.escape(suffix) + ')"', html)
    assert found, html
    return found[0]


def _assert_security_headers(answer, api=False):
    for name, value in SECURITY.items():
        assert answer.header(name) == value, (name, answer.headers)
    csp = answer.header("content-security-policy") or ""
    assert "frame-ancestors 'none'" in csp, csp
    if api:
        assert csp.startswith("default-src 'none'"), csp


def _login(stack, username, password, **kw):
    return stack.https("POST", "/api/v1/auth/login", body={"username": username, "password": password}, **kw)


def test_http_is_redirected_to_https_with_path_and_query(stack):
    answer = stack.http("GET", "/customers?q=%E4%B8%8A%E6%B5%B7&page=2")
    assert answer.status == 301
    assert answer.header("location") == f"https://127.0.0.1:{stack.https_port}/customers?q=%E4%B8%8A%E6%B5%B7&page=2"
    # The API too: a phone with an old http:// bookmark never talks to the API in clear text.
    assert stack.http("POST", "/api/v1/auth/login", body={"username": "x", "password": "y"}).status == 301


def test_tls_is_modern_and_offers_http2(stack):
    context = stack.tls
    context.set_alpn_protocols(["h2", "http/1.1"])
    with socket.create_connection(("127.0.0.1", stack.https_port), timeout=10) as raw:
        with context.wrap_socket(raw, server_hostname="localhost") as tls:
            assert tls.version() in ("TLSv1.2", "TLSv1.3")
            assert tls.selected_alpn_protocol() == "h2"


def test_security_headers_on_the_app_the_api_and_nginx_errors(stack):
    page = stack.https("GET", "/")
    assert page.status == 200 and b'<div id="app">' in page.body
    _assert_security_headers(page)
    csp = page.header("content-security-policy")
    # What the app needs: photo previews from blob:/data:, its service worker, nothing foreign.
    directives = dict(part.strip().split(" ", 1) for part in csp.split(";") if part.strip())
    assert directives["default-src"] == "'self'"
    assert directives["script-src"] == "'self'"
    assert set(directives["img-src"].split()) == {"'self'", "blob:", "data:"}
    assert directives["worker-src"] == "'self'"
    assert directives["connect-src"] == "'self'"
    assert directives["object-src"] == "'none'"
    assert "camera=(self)" in page.header("permissions-policy")
    assert "geolocation=(self)" in page.header("permissions-policy")
    assert page.header("server") == "nginx"  # no version number (server_tokens off)

    api = stack.https("GET", "/api/v1/me")
    assert api.status == 401 and api.json()["error"]["code"] == "unauthenticated"
    _assert_security_headers(api, api=True)

    missing = stack.https("GET", "/assets/no-such-chunk-1234.js")
    assert missing.status == 404
    _assert_security_headers(missing)


def test_caching_long_for_hashed_assets_and_never_for_the_shell_and_service_worker(stack):
    asset = _hashed_asset(stack)
    answer = stack.https("GET", asset)
    assert answer.status == 200
    assert answer.header("cache-control") == "public, max-age=31536000, immutable"
    assert answer.body == (stack.dist / asset.lstrip("/")).read_bytes()

    for path in ("/", "/index.html", "/customers/some-client-side-route", "/sw.js", "/manifest.webmanifest"):
        answer = stack.https("GET", path)
        assert answer.status == 200, path
        assert answer.header("cache-control") == "no-cache", (path, answer.headers)
    sw = stack.https("GET", "/sw.js")
    assert sw.header("content-type").startswith(("application/javascript", "text/javascript"))
    assert sw.body == (stack.dist / "sw.js").read_bytes()
    # no-cache means "revalidate": the browser asks with the ETag and gets a cheap 304.
    again = stack.https("GET", "/sw.js", headers={"If-None-Match": sw.header("etag")})
    assert again.status == 304
    assert stack.https("GET", "/manifest.webmanifest").header("content-type").startswith("application/manifest+json")

    # A missing chunk or service worker is a 404, never the app shell cached for a year.
    for path in ("/assets/index-gone0000.js", "/registerSW.js"):
        answer = stack.https("GET", path)
        assert answer.status == 404, path
        assert "immutable" not in (answer.header("cache-control") or "")


def test_text_is_gzipped_and_decompresses_to_the_file(stack):
    asset = _hashed_asset(stack)
    answer = stack.https("GET", asset, headers={"Accept-Encoding": "gzip"})
    assert answer.header("content-encoding") == "gzip"
    assert "Accept-Encoding" in (answer.header("vary") or "")
    original = (stack.dist / asset.lstrip("/")).read_bytes()
    assert gzip.decompress(answer.body) == original
    assert len(answer.body) < len(original) / 2
    css = stack.https("GET", _hashed_asset(stack, ".css"), headers={"Accept-Encoding": "gzip"})
    assert css.header("content-encoding") == "gzip"
    # API JSON too (the OpenAPI document is large).
    spec = stack.https("GET", "/api/v1/openapi.json", headers={"Accept-Encoding": "gzip"})
    assert spec.status == 200 and spec.header("content-encoding") == "gzip"
    assert b'"openapi"' in gzip.decompress(spec.body)
    # Photos are already compressed and are not gzipped again.
    assert "image/jpeg" not in (stack.prefix / "site.conf").read_text().split("gzip_types", 1)[1].split(";")[0]


def test_health_through_the_proxy(stack):
    answer = stack.https("GET", "/api/v1/health")
    assert answer.status == 200, answer.body
    body = answer.json()
    assert body["status"] == "ok" and body["database"]["ok"] is True
    assert body["database"]["backend"] == stack.app.database_url.split(":")[0].split("+")[0]
    assert body["schema"]["state"] == "current"
    assert body["rate_limits"] == {"ok": True, "storage": "redis"}
    assert answer.header("cache-control") == "no-store"


def test_login_through_the_proxy(stack):
    seed = stack.app.seed
    answer = _login(stack, "alice", seed["password"])
    assert answer.status == 200, answer.body
    token = answer.json()["access_token"]
    me = stack.https("GET", "/api/v1/me", headers={"Authorization": f"Bearer {token}"})
    assert me.status == 200 and me.json()["username"] == "alice"
    wrong = _login(stack, "alice", "not-the-password")
    assert wrong.status == 401 and wrong.json()["error"]["code"] == "invalid_credentials"


def _big_jpeg(target: int) -> bytes:
    """A real JPEG of about `target` bytes (noise compresses badly: ~2 bytes a pixel at quality 100)."""
    rng = random.Random(15)
    width = 3200
    height = max(16, int(target / 1.98 / width))
    for _ in range(4):
        image = Image.frombytes("RGB", (width, height), rng.randbytes(width * height * 3))
        out = io.BytesIO()
        image.save(out, "JPEG", quality=100)
        data = out.getvalue()
        if target * 0.93 <= len(data) <= target:
            return data
        height = max(16, int(height * target * 0.97 / len(data)))
    return data


def test_a_15_mb_photo_goes_through_and_lands_on_the_shared_photo_volume(stack):
    token = _login(stack, "alice", stack.app.seed["password"]).json()["access_token"]
    data = _big_jpeg(15 * 1024 * 1024 - 64 * 1024)
    assert 14 * 1024 * 1024 < len(data) < 15 * 1024 * 1024, len(data)
    sha = hashlib.sha256(data).hexdigest()
    started = time.perf_counter()
    answer = stack.https("PUT", f"/api/v1/photos/{sha}", body=data,
                         headers={"Authorization": f"Bearer {token}", "Content-Type": "image/jpeg"})
    print(f"{len(data) / 2**20:.1f} MB photo through nginx/TLS to the app: {time.perf_counter() - started:.2f} s")
    assert answer.status == 201, answer.body[:500]
    stored = stack.app.photo_dir / sha[:2] / sha[2:4] / sha
    assert stored.read_bytes() == data, "FIELDCRM_PHOTO_DIR is where the app keeps photos"
    assert not (stack.app.instance / "photos" / sha[:2]).exists()
    back = stack.https("GET", f"/api/v1/photos/{sha}", headers={"Authorization": f"Bearer {token}"})
    assert back.status == 200 and hashlib.sha256(back.body).hexdigest() == sha


def test_a_20_mb_contract_attachment_goes_through_where_a_photo_that_size_would_not(stack):
    token = _login(stack, "alice", stack.app.seed["password"]).json()["access_token"]
    rng = random.Random(20)
    pdf = b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n" + rng.randbytes(int(19.5 * 1024 * 1024)) + b"\n%%EOF\n"
    sha = hashlib.sha256(pdf).hexdigest()
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/pdf"}
    answer = stack.https("PUT", f"/api/v1/pipeline/attachments/{sha}", body=pdf, headers=headers)
    assert answer.status == 201, answer.body[:500]
    assert (stack.app.photo_dir / "attachments" / sha[:2] / sha[2:4] / sha).read_bytes() == pdf
    # The same size on the photo route is over its 16 MB limit at nginx already.
    photo = stack.https("PUT", f"/api/v1/photos/{sha}", body=pdf, headers=headers)
    assert photo.status == 413 and photo.json()["error"]["details"] == {"limit": 16 * 1024 * 1024}


@pytest.mark.parametrize("path, limit", [("/api/v1/photos/" + "ab" * 32, 16 * 1024 * 1024),
                                         ("/api/v1/pipeline/attachments/" + "cd" * 32, 21 * 1024 * 1024)])
def test_a_25_mb_body_is_refused_by_nginx_in_the_json_envelope(stack, path, limit):
    token = _login(stack, "alice", stack.app.seed["password"]).json()["access_token"]
    body = b"\xff" * (25 * 1024 * 1024)
    answer = stack.https("PUT", path, body=body, headers={"Authorization": f"Bearer {token}",
                                                           "Content-Type": "application/octet-stream"})
    assert answer.status == 413
    assert answer.header("content-type").startswith("application/json")
    error = answer.json()["error"]
    assert error["code"] == "payload_too_large" and error["details"] == {"limit": limit}
    assert error["message"]
    _assert_security_headers(answer)


def test_the_app_sees_the_phone_address_not_nginx(stack):
    """Per-IP login limits (20 a minute) count each phone separately behind nginx, and a phone
    cannot dodge its limit by sending its own X-Forwarded-For."""
    limited_phone, other_phone = "127.0.0.2", "127.0.0.3"
    statuses = [_login(stack, "nobody-here", "wrong", source=limited_phone).status for _ in range(20)]
    assert statuses == [401] * 20, statuses
    refused = _login(stack, "nobody-here", "wrong", source=limited_phone)
    assert refused.status == 429 and refused.json()["error"]["code"] == "rate_limited"
    spoofed = _login(stack, "nobody-here", "wrong", source=limited_phone, headers={"X-Forwarded-For": "10.1.2.3"})
    assert spoofed.status == 429
    # Another phone (and the server, which talks to gunicorn from 127.0.0.1) is not limited.
    assert _login(stack, "nobody-here", "wrong", source=other_phone).status == 401
    assert _login(stack, "alice", stack.app.seed["password"], source=other_phone).status == 200


def test_app_down_is_a_503_envelope_with_retry_after(tmp_path):
    """nginx in front of an app server that is not running: phones get the JSON envelope (and back
    off), not nginx's HTML error page."""
    cert, key = make_test_certificate(tmp_path / "tls")
    https_port = _free_port()
    dead = _free_port()  # nothing listens there
    site = render.render((ROOT / "nginx" / "fieldcrm.conf").read_text(), http_port=_free_port(),
                         https_port=https_port, cert=str(cert), key=str(key), dist=str(ROOT / "pwa" / "dist"),
                         upstream=f"127.0.0.1:{dead}", log_dir=str(tmp_path / "logs"), listen_host="127.0.0.1")
    conf = render.write_prefix(tmp_path, site, user="root" if os.geteuid() == 0 else None)
    proc = Proc([NGINX, "-p", str(tmp_path), "-c", str(conf)], dict(os.environ), tmp_path / "nginx.out")
    try:
        trusting = ssl.create_default_context(cafile=str(cert))
        wait_for(lambda: fetch(https_port, "GET", "/index.html", tls=trusting, timeout=3).status == 200, proc, "nginx")
        answer = fetch(https_port, "GET", "/api/v1/health", tls=trusting)
        assert answer.status == 503
        assert answer.header("content-type").startswith("application/json")
        assert answer.json()["error"]["code"] == "unavailable"
        assert answer.header("retry-after") == "30"
        _assert_security_headers(answer, api=True)
        # The app shell still loads (the phone then works offline on its own data).
        assert fetch(https_port, "GET", "/", tls=trusting).status == 200
    finally:
        proc.stop()
