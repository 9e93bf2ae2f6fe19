"""Production harness: the real processes on free ports, each test run with its own folders.

- `fieldcrm run` (gunicorn, 2 workers) with its own instance folder, database (SQLite, or a
  fresh PostgreSQL database on the PostgreSQL leg: the same rule as the root conftest), photos
  in a separate folder standing for the shared volume, and rate limits in a Redis database index
  of its own (flushed afterwards — only that index);
- nginx (the Debian binary) in the foreground with `nginx/fieldcrm.conf` rendered by
  `nginx/render.py` for free high ports, a test certificate made by openssl and `pwa/dist`.

Every process runs in its own session and is stopped (then its whole process group killed) at
teardown, also when a test fails.
"""
from __future__ import annotations

import http.client
import json
import os
import shutil
import signal
import ssl
import subprocess
import sys
import time
import uuid
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from conftest import _database  # the root harness: a fresh database on the leg's backend
from e2e.conftest import FIELDCRM, ROOT, _free_port

sys.path.insert(0, str(ROOT / "nginx"))
import render  # noqa: E402  (nginx/render.py)

NGINX = shutil.which("nginx") or "/usr/sbin/nginx"
REDIS_URL = "redis://127.0.0.1:6379"
SECRET = "production-test-secret-key-long-enough-xx"


def pytest_configure(config):
    config.addinivalue_line("markers", "production: starts gunicorn / nginx processes on free ports")


# ---- processes --------------------------------------------------------------------------------


class Proc:
    """A child process in a session of its own, its output in a log file."""

    def __init__(self, args: list[str], env: dict, log_path: Path):
        self.log_path = log_path
        self._log = open(log_path, "wb")
        self.popen = subprocess.Popen(args, env=env, cwd=ROOT, stdout=self._log, stderr=subprocess.STDOUT,
                                      stdin=subprocess.DEVNULL, start_new_session=True)

    def log(self) -> str:
        return self.log_path.read_text(errors="replace")

    def alive(self) -> bool:
        return self.popen.poll() is None

    def stop(self) -> None:
        if self.alive():
            self.popen.send_signal(signal.SIGTERM)
            try:
                self.popen.wait(15)
            except subprocess.TimeoutExpired:
                pass
        try:  # whatever of the group is left (gunicorn or nginx workers)
            os.killpg(self.popen.pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
        if self.popen.poll() is None:
            self.popen.wait(5)
        self._log.close()


def wait_for(check, proc: Proc, what: str, timeout: float = 40.0):
    deadline = time.time() + timeout
    last = None
    while time.time() < deadline:
        if not proc.alive():
            pytest.fail(f"{what} exited early:\n{proc.log()[-3000:]}")
        try:
            result = check()
            if result:
                return result
        except Exception as exc:  # noqa: BLE001 — not up yet
            last = exc
        time.sleep(0.3)
    pytest.fail(f"{what} did not come up in {timeout:.0f} s ({last!r}):\n{proc.log()[-3000:]}")


# ---- HTTP(S) client ---------------------------------------------------------------------------


@dataclass
class Answer:
    status: int
    headers: dict
    body: bytes

    def json(self):
        return json.loads(self.body or b"null")

    def header(self, name: str) -> str | None:
        return self.headers.get(name.lower())


def fetch(port: int, method: str, path: str, *, body: bytes | dict | None = None, headers: dict | None = None,
          tls: ssl.SSLContext | None = None, source: str | None = None, host: str = "127.0.0.1",
          timeout: float = 60) -> Answer:
    """One request on a new connection (from `source`, a loopback address, when given)."""
    headers = dict(headers or {})
    if isinstance(body, dict):
        body = json.dumps(body).encode()
        headers.setdefault("Content-Type", "application/json")
    source_address = (source, 0) if source else None
    if tls is not None:
        conn = http.client.HTTPSConnection(host, port, context=tls, timeout=timeout, source_address=source_address)
    else:
        conn = http.client.HTTPConnection(host, port, timeout=timeout, source_address=source_address)
    try:
        conn.request(method, path, body=body, headers=headers)
        response = conn.getresponse()
        data = response.read()
        return Answer(response.status, {k.lower(): v for k, v in response.getheaders()}, data)
    finally:
        conn.close()


# ---- certificate, Redis -----------------------------------------------------------------------


def make_test_certificate(folder: Path) -> tuple[Path, Path]:
    folder.mkdir(parents=True, exist_ok=True)
    cert, key = folder / "fullchain.pem", folder / "privkey.pem"
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-sha256",
                    "-subj", "/CN=fieldcrm test", "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1",
                    "-keyout", str(key), "-out", str(cert)], check=True, capture_output=True)
    return cert, key


@contextmanager
def redis_database():
    """A Redis database index nobody uses (empty, claimed with a marker key); flushed afterwards."""
    import redis

    try:
        redis.Redis.from_url(REDIS_URL, socket_timeout=2).ping()
    except Exception as exc:  # noqa: BLE001
        if os.environ.get("CI") == "true":
            pytest.fail(f"Redis is not reachable at {REDIS_URL}: {exc}")
        pytest.skip(f"Redis is not reachable at {REDIS_URL}")
    token = uuid.uuid4().hex
    for index in range(15, 0, -1):
        client = redis.Redis.from_url(f"{REDIS_URL}/{index}")
        if client.dbsize() == 0 and client.set("fieldcrm-test-claim", token, nx=True, ex=1800):
            try:
                yield f"{REDIS_URL}/{index}", client
            finally:
                client.flushdb()
                client.close()
            return
    pytest.fail("no free Redis database index (1-15) for the test")


# ---- the app server ---------------------------------------------------------------------------


@dataclass
class AppServer:
    port: int
    proc: Proc
    instance: Path
    photo_dir: Path
    database_url: str
    env: dict
    seed: dict = field(default_factory=dict)

    @property
    def password(self) -> str:
        return self.seed["password"]


def prepare_instance(tmp: Path, database_url: str, seed: bool = True) -> tuple[dict, dict]:
    """Environment for `fieldcrm` on this instance and database, migrated (and seeded)."""
    instance = tmp / "instance"
    photo_dir = tmp / "shared-volume" / "photos"
    env = {**os.environ, "FIELDCRM_INSTANCE": str(instance), "FIELDCRM_DATABASE_URL": database_url,
           "FIELDCRM_PHOTO_DIR": str(photo_dir), "FIELDCRM_SECRET_KEY": SECRET,
           "FIELDCRM_PWA_DIST": str(ROOT / "pwa" / "dist")}
    for name in ("FIELDCRM_RATELIMIT_STORAGE", "FIELDCRM_PROXY_COUNT", "FIELDCRM_TEST_WORKER_HEADER"):
        env.pop(name, None)
    subprocess.run([str(FIELDCRM), "db", "upgrade"], env=env, check=True, capture_output=True, cwd=ROOT)
    data: dict = {}
    if seed:
        seeded = subprocess.run([sys.executable, str(ROOT / "tests" / "e2e" / "seed.py")], env=env, check=True,
                                capture_output=True, cwd=ROOT, text=True)
        data = json.loads(seeded.stdout.strip().splitlines()[-1])
    return env, data


def start_app(tmp: Path, env: dict, *, workers: int = 2, extra_env: dict | None = None, name: str = "gunicorn",
              args: tuple[str, ...] = ()) -> tuple[Proc, int]:
    port = _free_port()
    proc = Proc([str(FIELDCRM), "run", "--host", "127.0.0.1", "--port", str(port), "--workers", str(workers),
                 "--no-jobs", *args], {**env, **(extra_env or {})}, tmp / f"{name}.log")
    return proc, port


def http_ok(port: int, path: str, tls: ssl.SSLContext | None = None) -> bool:
    return fetch(port, "GET", path, tls=tls, timeout=3).status == 200


@pytest.fixture(scope="session")
def app_server(tmp_path_factory):
    if not (ROOT / "pwa" / "dist" / "index.html").exists():
        pytest.fail("pwa/dist is not built: run `make pwa` first")
    tmp = tmp_path_factory.mktemp("production-app")
    with _database(tmp, "production") as database_url, redis_database() as (redis_url, _client):
        env, data = prepare_instance(tmp, database_url)
        # Behind one nginx: trust one hop of X-Forwarded-For; limits shared in Redis.
        proc, port = start_app(tmp, env, extra_env={"FIELDCRM_PROXY_COUNT": "1",
                                                    "FIELDCRM_RATELIMIT_STORAGE": redis_url})
        try:
            wait_for(lambda: http_ok(port, "/api/v1/health"), proc, "fieldcrm run")
            yield AppServer(port, proc, Path(env["FIELDCRM_INSTANCE"]), Path(env["FIELDCRM_PHOTO_DIR"]),
                            database_url, env, data)
        finally:
            proc.stop()


# ---- nginx in front ---------------------------------------------------------------------------


@dataclass
class Stack:
    app: AppServer
    nginx: Proc
    http_port: int
    https_port: int
    cert: Path
    prefix: Path
    dist: Path

    @property
    def tls(self) -> ssl.SSLContext:
        """A client that trusts only the test certificate (and checks the host name against it)."""
        context = ssl.create_default_context(cafile=str(self.cert))
        return context

    def https(self, method: str, path: str, **kw) -> Answer:
        return fetch(self.https_port, method, path, tls=self.tls, **kw)

    def http(self, method: str, path: str, **kw) -> Answer:
        return fetch(self.http_port, method, path, **kw)

    @property
    def base(self) -> str:
        return f"https://localhost:{self.https_port}"


@pytest.fixture(scope="session")
def stack(app_server, tmp_path_factory):
    if not os.path.exists(NGINX):
        if os.environ.get("CI") == "true":
            pytest.fail("nginx is not installed (.ci/run installs it)")
        pytest.skip("nginx is not installed")
    prefix = tmp_path_factory.mktemp("nginx")
    cert, key = make_test_certificate(prefix / "tls")
    http_port, https_port = _free_port(), _free_port()
    dist = ROOT / "pwa" / "dist"
    site = render.render((ROOT / "nginx" / "fieldcrm.conf").read_text(), http_port=http_port,
                         https_port=https_port, cert=str(cert), key=str(key), dist=str(dist),
                         upstream=f"127.0.0.1:{app_server.port}", log_dir=str(prefix / "logs"),
                         listen_host="127.0.0.1")
    conf = render.write_prefix(prefix, site, user="root" if os.geteuid() == 0 else None)
    # The exact configuration must pass nginx's own check first.
    checked = subprocess.run([NGINX, "-t", "-p", str(prefix), "-c", str(conf)], capture_output=True, text=True)
    assert checked.returncode == 0, checked.stderr
    proc = Proc([NGINX, "-p", str(prefix), "-c", str(conf)], dict(os.environ), prefix / "nginx.out")
    result = Stack(app_server, proc, http_port, https_port, cert, prefix, dist)
    try:
        wait_for(lambda: result.https("GET", "/index.html", timeout=3).status == 200, proc, "nginx")
        yield result
    finally:
        proc.stop()
