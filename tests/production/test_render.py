"""nginx/render.py: the committed site is the production one; renderings are checked by nginx."""
from __future__ import annotations

import os
import subprocess

import pytest

from .conftest import NGINX, ROOT, make_test_certificate, render

SITE = (ROOT / "nginx" / "fieldcrm.conf").read_text()
PRODUCTION = dict(http_port=80, https_port=443, cert="/etc/fieldcrm/tls/fullchain.pem",
                  key="/etc/fieldcrm/tls/privkey.pem", dist="/opt/fieldcrm/pwa/dist", upstream="127.0.0.1:8000",
                  log_dir="/var/log/nginx", ipv6=True)


def test_rendering_with_the_production_values_gives_the_committed_file_back():
    assert render.render(SITE, **PRODUCTION) == SITE


def test_an_unknown_edit_of_the_site_breaks_the_rendering_loudly():
    edited = SITE.replace("listen 443 ssl http2;", "listen 443 ssl;")
    with pytest.raises(SystemExit, match="listen 443 ssl http2"):
        render.render(edited, **PRODUCTION)


def test_a_test_rendering_moves_ports_paths_and_the_redirect():
    text = render.render(SITE, **{**PRODUCTION, "http_port": 18080, "https_port": 18443, "ipv6": False,
                                  "dist": "/srv/dist", "upstream": "127.0.0.1:19000", "log_dir": "/tmp/logs",
                                  "cert": "/tmp/t/cert.pem", "key": "/tmp/t/key.pem"})
    assert "listen 18080;" in text and "listen 18443 ssl http2;" in text and "[::]" not in text
    assert "return 301 https://$host:18443$request_uri;" in text
    assert "root /srv/dist;" in text and "server 127.0.0.1:19000 " in text
    directives = "\n".join(line.split("#", 1)[0] for line in text.splitlines())
    for production_path in ("/etc/fieldcrm", "/var/log/nginx", "/opt/fieldcrm"):
        assert production_path not in directives


def test_the_production_site_passes_nginx_t(tmp_path):
    """Production ports and IPv6 listeners; only the certificate and logs point at test files."""
    if not os.path.exists(NGINX):
        pytest.skip("nginx is not installed")
    cert, key = make_test_certificate(tmp_path / "tls")
    text = render.render(SITE, **{**PRODUCTION, "cert": str(cert), "key": str(key), "log_dir": str(tmp_path)})
    conf = render.write_prefix(tmp_path, text)
    checked = subprocess.run([NGINX, "-t", "-p", str(tmp_path), "-c", str(conf)], capture_output=True, text=True)
    assert checked.returncode == 0, checked.stderr
    assert "test is successful" in checked.stderr
