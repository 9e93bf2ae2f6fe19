"""gunicorn serving the app (`fieldcrm run`), optionally over HTTPS for a LAN demo."""
from __future__ import annotations

import ipaddress
import json
import os
import shutil
import socket
import subprocess
from pathlib import Path

from gunicorn.app.base import BaseApplication

# Test setting only: each answer names the gunicorn worker that produced it, so a test can show
# that two workers really answered (tests/production/test_shared_rate_limits.py).
WORKER_HEADER_ENV = "FIELDCRM_TEST_WORKER_HEADER"


class FieldcrmServer(BaseApplication):
    def __init__(self, options: dict, jobs: bool = True):
        self.options = options
        self.jobs = jobs
        super().__init__()

    def load_config(self) -> None:
        for key, value in self.options.items():
            self.cfg.set(key, value)

    def load(self):
        from server import create_app
        from server.jobs import start_scheduler

        app = create_app()
        if self.jobs:
            start_scheduler(app)
        if os.environ.get(WORKER_HEADER_ENV) == "1":
            @app.after_request
            def _name_the_worker(response):
                response.headers["X-Fieldcrm-Worker"] = str(os.getpid())
                return response
        return app


def serve(host: str, port: int, workers: int, https: bool = False, jobs: bool = True) -> None:
    options = {
        "bind": f"{host}:{port}",
        "workers": workers,
        "worker_class": "gthread",
        "threads": 4,
        "timeout": 60,
        "accesslog": "-",
    }
    if https:
        from server.config import load_config

        instance = Path(load_config()["INSTANCE_PATH"])
        cert, key = ensure_demo_certificate(instance / "tls")
        options.update(certfile=str(cert), keyfile=str(key))
        print(f"fieldcrm serving on https://{host}:{port} (self-signed certificate {cert})", flush=True)
        hosts = lan_addresses() if host in ("0.0.0.0", "::") else []
        for address in hosts:
            shown = f"[{address}]" if ":" in address else address
            print(f"  on the LAN: https://{shown}:{port}", flush=True)
        if host in ("127.0.0.1", "localhost"):
            print("  (only this machine can reach it; use --host 0.0.0.0 for phones on the LAN)", flush=True)
        print("  browsers warn about the self-signed certificate; a service worker needs it trusted "
              "(see nginx/README.md, 'Certificate for a LAN demo')", flush=True)
    else:
        print(f"fieldcrm serving on http://{host}:{port}", flush=True)
    from server.backup.service import hold_server_lock
    from server.config import load_config

    # Held until the server and all its workers have stopped: `fieldcrm restore` checks it.
    hold_server_lock(Path(load_config()["INSTANCE_PATH"]))
    FieldcrmServer(options, jobs=jobs).run()


# ---- The LAN demo certificate ----------------------------------------------------------------


def lan_addresses() -> list[str]:
    """This machine's non-loopback, non-link-local IP addresses (what phones on the LAN dial)."""
    found: list[str] = []

    def add(value: str) -> None:
        try:
            ip = ipaddress.ip_address(value.split("%")[0])
        except ValueError:
            return
        if ip.is_loopback or ip.is_link_local or ip.is_unspecified or ip.is_multicast:
            return
        if str(ip) not in found:
            found.append(str(ip))

    ip_tool = shutil.which("ip")
    if ip_tool:
        try:
            out = subprocess.run([ip_tool, "-j", "addr", "show"], capture_output=True, text=True, timeout=5,
                                 check=True).stdout
            for interface in json.loads(out or "[]"):
                for addr in interface.get("addr_info", []):
                    add(addr.get("local", ""))
        except (OSError, subprocess.SubprocessError, ValueError):
            pass
    # The address of the default route's interface (connecting a UDP socket sends nothing).
    for family, probe in ((socket.AF_INET, "192.0.2.1"), (socket.AF_INET6, "2001:db8::1")):
        try:
            with socket.socket(family, socket.SOCK_DGRAM) as s:
                s.connect((probe, 9))
                add(s.getsockname()[0])
        except OSError:
            pass
    try:
        for info in socket.getaddrinfo(socket.gethostname(), None):
            add(info[4][0])
    except OSError:
        pass
    return found


def ensure_demo_certificate(folder: Path) -> tuple[Path, Path]:
    """A self-signed certificate for localhost, 127.0.0.1, ::1, the host name and this machine's LAN
    addresses, made once into `folder` (kept across restarts so a browser's exception for it
    stays valid). Made again only when the LAN addresses are no longer all in it."""
    folder.mkdir(parents=True, exist_ok=True)
    cert, key = folder / "cert.pem", folder / "key.pem"
    hostname = socket.gethostname()
    dns = ["localhost"] + ([hostname] if hostname and hostname != "localhost" else [])
    ips = ["127.0.0.1", "::1"] + lan_addresses()
    if cert.exists() and key.exists() and set(ips) <= set(certificate_ips(cert)):
        return cert, key
    openssl = shutil.which("openssl")
    if not openssl:
        raise SystemExit("fieldcrm run --https needs the openssl command (apt-get install openssl)")
    san = ",".join([f"DNS:{name}" for name in dns] + [f"IP:{ip}" for ip in ips])
    tmp_key, tmp_cert = folder / "key.pem.new", folder / "cert.pem.new"
    old_umask = os.umask(0o077)  # the private key is never readable by others, not even briefly
    try:
        subprocess.run([openssl, "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-sha256", "-days", "825",
                        "-subj", "/CN=fieldcrm LAN demo", "-addext", f"subjectAltName={san}",
                        "-addext", "basicConstraints=critical,CA:FALSE",
                        "-addext", "keyUsage=critical,digitalSignature,keyEncipherment",
                        "-addext", "extendedKeyUsage=serverAuth",
                        "-keyout", str(tmp_key), "-out", str(tmp_cert)],
                       check=True, capture_output=True, timeout=60)
    except subprocess.CalledProcessError as exc:
        raise SystemExit(f"openssl could not make the demo certificate: {exc.stderr.decode(errors='replace')}")
    finally:
        os.umask(old_umask)
    tmp_key.replace(key)
    tmp_cert.replace(cert)
    cert.chmod(0o644)
    return cert, key


def certificate_ips(cert: Path) -> list[str]:
    """The IP addresses in a certificate's subjectAltName (via `openssl x509`)."""
    openssl = shutil.which("openssl")
    if not openssl:
        return []
    try:
        out = subprocess.run([openssl, "x509", "-in", str(cert), "-noout", "-ext", "subjectAltName"],
                             capture_output=True, text=True, timeout=10, check=True).stdout
    except (OSError, subprocess.SubprocessError):
        return []
    ips = []
    for part in out.replace("\n", ",").split(","):
        part = part.strip()
        if part.startswith("IP Address:"):
            value = part.split(":", 1)[1].strip()
            try:
                ips.append(str(ipaddress.ip_address(value)))
            except ValueError:
                pass
    return ips
