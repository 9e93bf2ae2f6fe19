"""The systemd units in docs/systemd/ parse, and the commands they run exist and work."""
from __future__ import annotations

import re
import shutil
import subprocess

import pytest
from conftest import _database

from .conftest import FIELDCRM, ROOT, prepare_instance

UNITS = ROOT / "docs" / "systemd"
INSTALLED = "/opt/fieldcrm/venv/bin/fieldcrm"


def test_units_pass_systemd_analyze_verify(tmp_path):
    analyze = shutil.which("systemd-analyze")
    if not analyze:
        pytest.skip("systemd-analyze is not installed")
    names = sorted(p.name for p in UNITS.iterdir() if p.suffix in (".service", ".timer"))
    assert {"fieldcrm.service", "fieldcrm-daily.service", "fieldcrm-daily.timer", "fieldcrm-backup.service",
            "fieldcrm-backup.timer"} <= set(names)
    for name in names:  # the installed path of the command is this checkout's
        (tmp_path / name).write_text((UNITS / name).read_text().replace(INSTALLED, str(FIELDCRM)))
    result = subprocess.run([analyze, "verify", "--man=no", *(str(tmp_path / n) for n in names)],
                            capture_output=True, text=True)
    problems = [line for line in (result.stdout + result.stderr).splitlines() if line.strip()]
    assert result.returncode == 0 and not problems, problems
    for timer in ("fieldcrm-daily.timer", "fieldcrm-backup.timer"):
        spec = re.search(r"^OnCalendar=(.+)$", (UNITS / timer).read_text(), re.M).group(1)
        calendar = subprocess.run([analyze, "calendar", spec], capture_output=True, text=True)
        assert calendar.returncode == 0 and "Asia/Shanghai" in calendar.stdout, calendar.stdout + calendar.stderr


def test_the_commands_the_units_run_exist(tmp_path):
    with _database(tmp_path, "units") as database_url:
        env, _ = prepare_instance(tmp_path, database_url, seed=False)
        help_text = subprocess.run([str(FIELDCRM), "run", "--help"], env=env, capture_output=True, text=True,
                                   check=True).stdout
        assert "--no-jobs" in help_text and "--https" in help_text
        daily = subprocess.run([str(FIELDCRM), "jobs", "daily"], env=env, capture_output=True, text=True, cwd=ROOT)
        assert daily.returncode == 0, daily.stderr[-2000:]
        assert "daily jobs done" in daily.stdout
        assert "reclaim: 0 reclaimed" in daily.stderr  # the log line of the reclaim job
