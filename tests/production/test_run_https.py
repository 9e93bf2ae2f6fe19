"""`fieldcrm run --https`: the LAN demo over TLS with a self-signed certificate made once."""
from __future__ import annotations

import http.client
import ssl
import subprocess

import pytest
from conftest import _database

from .conftest import fetch, prepare_instance, start_app, wait_for

pytestmark = pytest.mark.production


def _sans(cert) -> str:
    return subprocess.run(["openssl", "x509", "-in", str(cert), "-noout", "-ext", "subjectAltName"],
                          capture_output=True, text=True, check=True).stdout


def test_run_https_serves_tls_with_a_certificate_for_localhost_and_the_lan(tmp_path):
    from server.serve import certificate_ips, lan_addresses

    with _database(tmp_path, "https") as database_url:
        env, _ = prepare_instance(tmp_path, database_url, seed=False)
        proc, port = start_app(tmp_path, env, workers=1, name="gunicorn-https", args=("--https",))
        try:
            cert = tmp_path / "instance" / "tls" / "cert.pem"
            wait_for(lambda: cert.exists(), proc, "the demo certificate")
            # The client trusts exactly this certificate and checks the address against its SAN.
            trusting = ssl.create_default_context(cafile=str(cert))
            wait_for(lambda: fetch(port, "GET", "/api/v1/health", tls=trusting, timeout=3).status == 200, proc,
                     "fieldcrm run --https")
            assert fetch(port, "GET", "/api/v1/health", tls=trusting, host="localhost").status == 200
            page = fetch(port, "GET", "/", tls=trusting)
            assert page.status == 200 and b'<div id="app">' in page.body
            assert f"fieldcrm serving on https://127.0.0.1:{port}" in proc.log()
            # Nothing in clear text on that port.
            try:
                clear = fetch(port, "GET", "/api/v1/health", timeout=5).status
            except (http.client.HTTPException, OSError):
                clear = None
            assert clear in (None, 400), clear
        finally:
            proc.stop()
    sans = _sans(cert)
    assert "DNS:localhost" in sans and "IP Address:127.0.0.1" in sans
    assert set(lan_addresses()) | {"127.0.0.1", "::1"} <= set(certificate_ips(cert)), sans
    key = tmp_path / "instance" / "tls" / "key.pem"
    assert key.stat().st_mode & 0o077 == 0, "the private key is readable by others"


def test_the_certificate_is_made_once_and_again_only_for_a_new_lan_address(tmp_path, monkeypatch):
    from server import serve

    folder = tmp_path / "tls"
    cert, key = serve.ensure_demo_certificate(folder)
    first = cert.read_bytes()
    assert serve.ensure_demo_certificate(folder) == (cert, key)
    assert cert.read_bytes() == first, "a restart must keep the certificate the browsers accepted"

    # The machine moved to another network: the new address must be in the certificate.
    monkeypatch.setattr(serve, "lan_addresses", lambda: ["192.0.2.77"])
    serve.ensure_demo_certificate(folder)
    assert cert.read_bytes() != first
    assert "IP Address:192.0.2.77" in _sans(cert)
    assert key.stat().st_mode & 0o077 == 0
