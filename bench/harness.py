"""Shared plumbing for the benchmarks: timing statistics, child processes, HTTP with keep-alive,
throw-away PostgreSQL databases and the sections of BENCHMARKS.md.

Nothing here knows about fieldcrm's data; see sync_push.py for the sync benchmark itself.
"""
from __future__ import annotations

import http.client
import json
import os
import platform
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import time
import uuid
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterator
from urllib.parse import urlsplit, urlunsplit

REPO = Path(__file__).resolve().parent.parent
WORK = REPO / "bench" / ".work"  # git-ignored: npm installs, temp databases, logs
BENCHMARKS_MD = REPO / "BENCHMARKS.md"
PG_ADMIN_URL = (os.environ.get("FIELDCRM_BENCH_PG_ADMIN_URL") or os.environ.get("FIELDCRM_TEST_PG_ADMIN_URL")
                or "postgresql://postgres@127.0.0.1:5432/postgres")


def log(message: str) -> None:
    print(f"[bench {time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


# ---- statistics -------------------------------------------------------------------------------

@dataclass
class Samples:
    """Wall-clock durations (seconds) of one measured operation, one per round, and the CPU time
    the serving side spent on it (less sensitive to other work on a shared machine)."""

    label: str
    values: list[float] = field(default_factory=list)
    cpu: list[float] = field(default_factory=list)

    def add(self, seconds: float, cpu_seconds: float | None = None) -> None:
        self.values.append(seconds)
        if cpu_seconds is not None:
            self.cpu.append(cpu_seconds)

    @property
    def cpu_median_ms(self) -> float | None:
        return statistics.median(self.cpu) * 1000 if self.cpu else None

    @property
    def median_ms(self) -> float:
        return statistics.median(self.values) * 1000

    @property
    def min_ms(self) -> float:
        return min(self.values) * 1000

    @property
    def max_ms(self) -> float:
        return max(self.values) * 1000

    def __bool__(self) -> bool:
        return bool(self.values)


def fmt_ms(ms: float) -> str:
    return f"{ms:,.0f}" if ms >= 100 else f"{ms:,.1f}"


# ---- child processes --------------------------------------------------------------------------

_CLK_TCK = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


def process_tree(pid: int) -> list[int]:
    """pid and its descendants (Linux /proc), e.g. a gunicorn master and its worker."""
    out, todo = [], [pid]
    while todo:
        current = todo.pop()
        out.append(current)
        try:
            for task in Path(f"/proc/{current}/task").iterdir():
                children = (task / "children").read_text().split()
                todo.extend(int(c) for c in children)
        except OSError:
            pass
    return out


def cpu_seconds(pids: list[int]) -> float:
    """User + system CPU time of these processes so far (clock-tick resolution)."""
    total = 0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            total += int(fields[11]) + int(fields[12])  # utime, stime (fields 14 and 15 of stat)
        except (OSError, IndexError, ValueError):
            pass
    return total / _CLK_TCK


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_for_port(port: int, proc: subprocess.Popen, timeout: float = 60.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"the server exited with {proc.returncode} before listening on {port}")
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError(f"nothing listens on 127.0.0.1:{port} after {timeout:.0f}s")


def stop(proc: subprocess.Popen | None, timeout: float = 15.0) -> None:
    """Stop a process this script started (by its own handle, never by name)."""
    if proc is None or proc.poll() is not None:
        return
    proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(5)


def run_checked(cmd: list[str], env: dict | None = None, cwd: Path | None = None) -> str:
    done = subprocess.run(cmd, env=env, cwd=cwd, capture_output=True, text=True)
    if done.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd)} failed ({done.returncode}):\n{done.stdout}\n{done.stderr}")
    return done.stdout


def venv_bin(name: str) -> str:
    """A console script next to the running interpreter (the project's venv), else on PATH."""
    candidate = Path(sys.executable).parent / name
    if candidate.exists():
        return str(candidate)
    found = shutil.which(name)
    if not found:
        raise RuntimeError(f"{name} not found next to {sys.executable} nor on PATH")
    return found


# ---- HTTP ---------------------------------------------------------------------------------------

class Http:
    """A keep-alive HTTP/1.1 connection to 127.0.0.1:port that answers (status, JSON)."""

    def __init__(self, port: int):
        self.port = port
        self.conn: http.client.HTTPConnection | None = None

    def connect(self) -> None:
        """A fresh, already-open connection (call outside the timed part)."""
        self.close()
        self.conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=600)
        self.conn.connect()
        self.conn.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def close(self) -> None:
        if self.conn is not None:
            self.conn.close()
            self.conn = None

    def request(self, method: str, path: str, body: bytes | None = None,
                headers: dict | None = None) -> tuple[int, Any]:
        if self.conn is None:
            self.connect()
        all_headers = {"Accept": "application/json", **(headers or {})}
        if body is not None:
            all_headers["Content-Type"] = "application/json"
        self.conn.request(method, path, body=body, headers=all_headers)
        response = self.conn.getresponse()
        raw = response.read()
        if response.will_close:
            self.close()
        return response.status, (json.loads(raw) if raw else None)

    def json(self, method: str, path: str, payload: Any = None, headers: dict | None = None,
             expect: tuple[int, ...] = (200, 201)) -> Any:
        """An untimed set-up call: reconnects once on a closed idle connection, checks the status."""
        body = None if payload is None else json.dumps(payload).encode()
        try:
            status, data = self.request(method, path, body, headers)
        except (http.client.HTTPException, ConnectionError):
            self.connect()
            status, data = self.request(method, path, body, headers)
        if status not in expect:
            raise RuntimeError(f"{method} {path} answered {status}: {data}")
        return data


# ---- PostgreSQL -------------------------------------------------------------------------------

def pg_available() -> bool:
    try:
        import psycopg

        with psycopg.connect(PG_ADMIN_URL, connect_timeout=3):
            return True
    except Exception:  # noqa: BLE001 — any failure means "not available"
        return False


def pg_version() -> str:
    import psycopg

    with psycopg.connect(PG_ADMIN_URL) as conn:
        return conn.execute("SHOW server_version").fetchone()[0]


def pg_backend_pids(db_name: str) -> list[int]:
    """The server processes currently connected to a database (for their CPU time)."""
    import psycopg

    with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
        rows = conn.execute("SELECT pid FROM pg_stat_activity WHERE datname = %s AND pid <> pg_backend_pid()",
                            (db_name,)).fetchall()
    return [r[0] for r in rows]


@contextmanager
def pg_database(label: str) -> Iterator[str]:
    """A fresh, empty PostgreSQL database (SQLAlchemy URL); dropped afterwards."""
    import psycopg

    name = f"fieldcrm_bench_{label}_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    parts = urlsplit(PG_ADMIN_URL)
    url = urlunsplit(("postgresql+psycopg", parts.netloc, f"/{name}", parts.query, ""))
    try:
        yield url
    finally:
        with psycopg.connect(PG_ADMIN_URL, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


# ---- the machine ----------------------------------------------------------------------------

def machine_summary() -> str:
    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    memory = ""
    try:
        kb = int(re.search(r"MemTotal:\s+(\d+)", Path("/proc/meminfo").read_text()).group(1))
        memory = f", {kb / 1024 / 1024:.0f} GB RAM"
    except (OSError, AttributeError):
        pass
    return f"{os.cpu_count()} cores ({cpu}){memory}, {platform.system()} {platform.release()}"


# ---- BENCHMARKS.md ----------------------------------------------------------------------------

HEADER = """# Benchmarks

Numbers from `bench/` scripts, run by hand — not timed tests, nothing here gates CI.

- **Machine**: the project's development machine (2 cores; details in each section). Absolute
  numbers move with the machine; the ratios against the reference system are what to watch.
- **What is measured**: wall-clock time of whole operations, end to end, alternating the
  systems round by round in one run; each row reports the median (and min/max) over the rounds
  after one untimed warm-up round per system, and the median CPU time the serving side spent
  (steadier than wall-clock time when other work shares the machine).
- **Re-run**: `make bench` (prints the tables), or `.venv/bin/python bench/run.py sync --write`
  to refresh a section here (`--rounds N`, default 7). Needs Node 20 + npm (the PouchDB
  reference is npm-installed into the git-ignored `bench/.work/`) and, for the PostgreSQL
  rows, a local PostgreSQL (`FIELDCRM_BENCH_PG_ADMIN_URL`, default
  `postgresql://postgres@127.0.0.1:5432/postgres`).
"""


def update_section(name: str, body: str, path: Path = BENCHMARKS_MD) -> None:
    """Replace the text between `<!-- bench:NAME -->` and `<!-- /bench:NAME -->`, keeping the rest."""
    start, end = f"<!-- bench:{name} -->", f"<!-- /bench:{name} -->"
    block = f"{start}\n{body.strip()}\n{end}"
    text = path.read_text(encoding="utf-8") if path.exists() else HEADER
    pattern = re.compile(re.escape(start) + r".*?" + re.escape(end), re.DOTALL)
    if pattern.search(text):
        text = pattern.sub(lambda _m: block, text, count=1)
    else:
        text = text.rstrip("\n") + "\n\n" + block + "\n"
    path.write_text(text if text.endswith("\n") else text + "\n", encoding="utf-8")
