"""Scheduled jobs: run by `fieldcrm pools reclaim` and daily inside `fieldcrm run`."""
from __future__ import annotations

import logging
import threading
from datetime import datetime, timedelta, timezone

from server.common import context
from server.extensions import db

log = logging.getLogger("fieldcrm.jobs")


def reclaim_job(as_of: datetime | None = None, dry_run: bool = False):
    """One reclaim run in its own transaction (committed unless dry run), followed by the
    return of leavers' unhanded customers (R-U2) under the same lock: `report.handover`."""
    from server.handover.service import return_unhanded
    from server.pools.service import run_reclaim

    context.channel.set("job")
    context.write_intent.set(True)
    try:
        report = run_reclaim(as_of, dry_run)
        report.handover = [] if report.skipped_locked else return_unhanded(as_of, dry_run)
        if dry_run:
            db.session.rollback()
        else:
            db.session.commit()
        return report
    except Exception:
        db.session.rollback()
        raise


def daily_jobs(app) -> None:
    """All daily jobs; each is idempotent, so a restart that runs them twice does no harm."""
    with app.app_context():
        try:
            report = reclaim_job()
            log.info("reclaim: %d reclaimed, %d warned; %d leavers' customers returned", len(report.reclaimed),
                     len(report.warned), len(getattr(report, "handover", [])))
        except Exception:  # noqa: BLE001 — logged; tomorrow's run tries again
            log.exception("daily reclaim failed")
        __import__("server.pipeline.grades", fromlist=["daily_regrade"]).daily_regrade()  # R-C7/R-C8, logs its errors
        __import__("server.followups.service", fromlist=["daily_reminders"]).daily_reminders()  # R-A1 reminders, logs its errors
        __import__("server.followups.tracking", fromlist=["rebuild_job"]).rebuild_job()  # R-P8 summary, logs its errors


def start_scheduler(app, hour_utc: int = 18) -> threading.Thread:
    """Run the daily jobs once at start and then every day at `hour_utc` (02:00 in Shanghai).

    Several gunicorn workers or hosts may each run it: the jobs take a database lock and are
    idempotent."""
    stop = threading.Event()

    def loop() -> None:
        daily_jobs(app)
        while not stop.is_set():
            now = datetime.now(timezone.utc)
            next_run = now.replace(hour=hour_utc, minute=0, second=0, microsecond=0)
            if next_run <= now:
                next_run += timedelta(days=1)
            if stop.wait((next_run - now).total_seconds()):
                return
            daily_jobs(app)

    thread = threading.Thread(target=loop, name="fieldcrm-daily-jobs", daemon=True)
    thread.stop = stop  # type: ignore[attr-defined]
    thread.start()
    return thread
