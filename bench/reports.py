"""Reports benchmark: the median time of every statistics report on a large PostgreSQL database
(100,000 customers, 1,000,000 activities; see gen_reports_data.py), for a line director (a
manager whose department subtree holds a fifth of the data) and for an admin (everything).

    .venv/bin/python bench/reports.py [--rounds 5] [--warmup 1] [--regenerate] [--write]
    .venv/bin/python bench/run.py reports --write        # the same, through the runner

Timed: the report service call `server.reports.core.run` in-process (the filters checked, the
access rule, the SQL aggregate with its total, the chart with its drill-downs, the rows
presented) — what GET /api/v1/reports/{key} does between authentication and JSON encoding.
Periods: reports of "this month" are asked for the last full month and "this year" ones keep
their default (the calendar year so far), so that each covers a typical month/year of data
rather than the first days of a new one. Target: ≤ 500 ms each.
"""
from __future__ import annotations

import argparse
import statistics
import sys
import time
from datetime import date, timedelta
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
if str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))

from bench import gen_reports_data, harness  # noqa: E402

DB = "fieldcrm_bench_reports"
TARGET_MS = 500


def _db_exists(name: str) -> bool:
    import psycopg

    with psycopg.connect(harness.PG_ADMIN_URL, autocommit=True) as conn:
        return conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone() is not None


def _ensure_targets(app) -> int:
    """One active target per rep for this month (the generator's data has none), via SQL."""
    import uuid

    from sqlalchemy import func, select

    from server.extensions import db
    from server.org.models import Role, User
    from server.pipeline.service import org_today
    from server.targets.models import Target

    with app.app_context():
        if db.session.scalar(select(func.count(Target.id))):
            return 0
        today = org_today()
        start = today.replace(day=1)
        end = (start + timedelta(days=32)).replace(day=1) - timedelta(days=1)
        admin = db.session.scalar(select(User.id).where(User.role == Role.admin))
        reps = list(db.session.scalars(select(User.id).where(User.role == Role.rep)))
        db.session.execute(Target.__table__.insert(), [
            {"id": uuid.uuid4(), "user_id": rep, "name": "月度指标", "start_date": start, "end_date": end,
             "new_customers": 20, "visits": 60, "deal_amount": 50_000_000, "payment_amount": 30_000_000,
             "status": "active", "set_by_id": admin, "version": 1} for rep in reps])
        db.session.commit()
        return len(reps)


def _ensure_opportunities(app) -> int:
    """Data generated before opportunities were part of it: add them (customers_by_stage)."""
    from sqlalchemy import func, select, text

    from server.extensions import db
    from server.pipeline.models import Opportunity

    with app.app_context():
        if db.session.scalar(select(func.count(Opportunity.id))):
            return 0
        db.session.execute(text(gen_reports_data.OPPORTUNITIES_SQL))
        db.session.commit()
        db.session.execute(text("ANALYZE opportunities"))
        db.session.commit()
        return 1


def _ensure_tracking(app) -> int:
    """The R-P8 summary of the COPY-loaded data (rows the app keeps on write; bulk-loaded data
    gets them as the migration's backfill and the daily job give them): `rebuild_all`."""
    from sqlalchemy import func, select, text

    from server.extensions import db
    from server.followups import tracking
    from server.followups.models import CustomerTracking

    with app.app_context():
        if db.session.scalar(select(func.count()).select_from(CustomerTracking)):
            return 0
        count = tracking.rebuild_all(db.session)
        db.session.commit()
        db.session.execute(text("ANALYZE customer_tracking"))
        db.session.commit()
        return count


def _args_for(report, today: date) -> dict:
    args: dict = {"page": 1, "per_page": 50}
    if report.period == "month" and report.key != "target_completion":  # targets: this month's
        first_this = today.replace(day=1)
        last_month_end = first_this - timedelta(days=1)
        args["from"], args["to"] = last_month_end.replace(day=1), last_month_end
    if report.key == "reclaim_forecast":
        args["days"] = 30
    return args


def run(rounds: int = 5, warmup: int = 1, regenerate: bool = False, command: str = "",
        only: list[str] | None = None) -> str:
    from server import create_app
    from server.extensions import db
    from server.org.models import User
    from server.reports import core

    if not harness.pg_available():
        raise SystemExit("needs a local PostgreSQL (FIELDCRM_BENCH_PG_ADMIN_URL)")
    generated = None
    if regenerate or not _db_exists(DB):
        harness.log("generating 100,000 customers and 1,000,000 activities …")
        generated = gen_reports_data.build(DB)
    url = gen_reports_data.pg_url(DB).replace("postgresql://", "postgresql+psycopg://", 1)
    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "INSTANCE_PATH": str(harness.WORK / "reports-instance"),
                      "SECRET_KEY": "bench-secret-key-that-is-long-enough-for-hs256"})
    with app.app_context():  # data generated under an older schema: migrate it first
        __import__("flask_migrate").upgrade()
    _ensure_targets(app)
    _ensure_opportunities(app)
    _ensure_tracking(app)
    results = []
    with app.test_request_context():
        from sqlalchemy import func, select

        from server.customers.models import Customer
        from server.followups.models import FollowUp
        from server.pipeline.models import Deal, Payment
        from server.visits.models import Visit

        from sqlalchemy import text

        backend = db.session.scalar(text("SELECT pg_backend_pid()"))
        sizes = {name: db.session.scalar(select(func.count()).select_from(model))
                 for name, model in (("customers", Customer), ("visits", Visit), ("follow_ups", FollowUp),
                                     ("deals", Deal), ("payments", Payment))}
        viewers = {"manager": db.session.scalar(select(User).where(User.username == "director_ka")),
                   "admin": db.session.scalar(select(User).where(User.username == "admin"))}
        # "my_*" reports are about the caller's own activity, which managers and admins have none
        # of here: they are also timed for a rep (500 customers, ~4,500 visits of their own)
        rep = db.session.scalar(select(User).where(User.username == "rep_ka_0_0"))
        from server.pipeline.service import org_today

        today = org_today()
        reports = [r for r in core.all_reports() if r.kind == "statistics"]
        if only:
            unknown = sorted(set(only) - {r.key for r in reports})
            if unknown:
                raise SystemExit(f"not statistics reports: {', '.join(unknown)}")
            reports = [r for r in reports if r.key in only]
        for report in reports:
            args = _args_for(report, today)
            row = {"key": report.key, "title": report.zh, "args": args}
            for who, user in {**viewers, **({"rep": rep} if report.key.startswith("my_") else {})}.items():
                samples, cpu = [], []
                answer = None
                for i in range(warmup + rounds):
                    db.session.rollback()  # a fresh transaction each time, as a request has
                    c0 = harness.cpu_seconds([backend]) + time.process_time()
                    t0 = time.perf_counter()
                    answer = core.run(user, report.key, dict(args), "zh")
                    elapsed = time.perf_counter() - t0
                    if i >= warmup:
                        samples.append(elapsed)
                        cpu.append(harness.cpu_seconds([backend]) + time.process_time() - c0)
                row[who] = statistics.median(samples) * 1000
                row[f"{who}_cpu"] = statistics.median(cpu) * 1000
                row[f"{who}_max"] = max(samples) * 1000
                row[f"{who}_total"] = answer["total"]
            harness.log(f"{report.key}: manager {row['manager']:.0f} ms, admin {row['admin']:.0f} ms")
            results.append(row)
        db.session.rollback()
    with app.app_context():
        db.engine.dispose()
    return markdown(results, sizes, rounds, warmup, command, generated)


def _pg_memory() -> str:
    import psycopg

    with psycopg.connect(harness.PG_ADMIN_URL) as conn:
        shown = [f"`{name} = {conn.execute(f'SHOW {name}').fetchone()[0]}`"
                 for name in ("shared_buffers", "effective_cache_size")]
    return " and ".join(shown)


def markdown(results, sizes, rounds, warmup, command, generated) -> str:
    missed = [r for r in results if max(r["manager"], r["admin"], r.get("rep", 0)) > TARGET_MS]
    missed_cpu = [r for r in results if max(r["manager_cpu"], r["admin_cpu"], r.get("rep_cpu", 0)) > TARGET_MS]
    lines = [
        "## Reports: statistics on 100,000 customers and 1,000,000 activities (issue 8)",
        "",
        f"- **Run**: `{command or '.venv/bin/python bench/reports.py --write'}` on {date.today().isoformat()}, "
        f"{rounds} timed rounds after {warmup} warm-up round(s) per report and viewer; median (max) ms.",
        f"- **Machine**: {harness.machine_summary()}; PostgreSQL {harness.pg_version()} with "
        f"{_pg_memory()} (docs/operations.md: `shared_buffers` ≈ 25 % of RAM, `effective_cache_size` "
        "50–75 %; the 128 MB default cannot hold these tables, and this machine's page cache is reclaimed "
        "eagerly, so with it reports time disk reads, 455 ms for one scan of the visits table).",
        "- **Data** (`bench/gen_reports_data.py`, COPY into a fresh database, then VACUUM ANALYZE): "
        + ", ".join(f"{n:,} {name}" for name, n in sizes.items())
        + "; 5 lines × 4 groups × 10 reps; activities spread over the last 365 days."
        + (f" Generated in {generated['seconds']:.0f} s." if generated else ""),
        "- **Viewers**: *manager* = the KA line director (subtree: 4 groups, 40 reps, a fifth of the data) — "
        "the access rule's OR of ownership, co-following, shares and the subtree is in every query; "
        "*admin* = everything.",
        "- **Timed**: `server.reports.core.run` in-process: filters, access rule, the SQL aggregate with "
        "`count(*) OVER ()` for the total, chart and drill-downs, page of 50 rows presented. \"This month\" "
        "reports are asked for the last full month, \"this year\" ones for the year so far.",
        "",
        "- **CPU ms**: user + system CPU of this process and of its PostgreSQL backend during the call "
        "(/proc, 10 ms ticks; parallel query is off for reports, so the backend does all the database work) — "
        "steadier than wall-clock time when other work shares the 2 cores.",
        f"- **Load average** (1 min) at the end of the run: {_load()} on 2 cores.",
        "",
        "| Report | Manager ms (max) | Manager CPU ms | Admin ms (max) | Admin CPU ms | Rows (manager / admin) | ≤ 500 ms | Rep ms / CPU ms / rows (`my_*`) |",
        "|---|---:|---:|---:|---:|---:|:---:|---:|",
    ]
    for r in results:
        ok = "yes" if max(r["manager"], r["admin"], r.get("rep", 0)) <= TARGET_MS else "**no**"
        lines.append(f"| `{r['key']}` {r['title']} | {harness.fmt_ms(r['manager'])} ({harness.fmt_ms(r['manager_max'])}) "
                     f"| {harness.fmt_ms(r['manager_cpu'])} "
                     f"| {harness.fmt_ms(r['admin'])} ({harness.fmt_ms(r['admin_max'])}) | {harness.fmt_ms(r['admin_cpu'])} "
                     f"| {r['manager_total']:,} / {r['admin_total']:,} | {ok} "
                     + (f"| {harness.fmt_ms(r['rep'])} / {harness.fmt_ms(r['rep_cpu'])} / {r['rep_total']:,} |"
                        if "rep" in r else "| |"))
    lines.append("")
    if missed:
        lines.append("**Misses the 500 ms target (wall clock, median)**: " + ", ".join(
            f"`{r['key']}` ({harness.fmt_ms(max(r['manager'], r['admin']))} ms)" for r in missed) + ".")
    else:
        lines.append("Every statistics report answers within 500 ms (wall clock, median) for both viewers.")
    if missed_cpu:
        lines.append("**Over 500 ms of CPU**: " + ", ".join(
            f"`{r['key']}` ({harness.fmt_ms(max(r['manager_cpu'], r['admin_cpu']))} ms)" for r in missed_cpu) + ".")
    else:
        lines.append("By CPU time every statistics report stays within 500 ms for both viewers.")
    lines += [
        "",
        "What costs the time, and what was done about it:",
        "- When other work shares the 2 cores, wall-clock times run 2–4× the CPU times (an earlier run at load "
        "9–17 measured them so); in this run (see the load average) they are close. The CPU column is what a "
        "report costs.",
        "- `visits_this_year` (admin: ~415,000 visits of the year grouped into ~98,000 customers) must "
        "aggregate every visit of the period to rank the first page. Migration 0014 and the report "
        "transaction's `random_page_cost = 1.1` (its working set is in memory on a server set up as the "
        "operations guide says; the default 4 assumes disk seeks): the visits are counted per customer by an "
        "index-only scan of their covering index in customer order, and merge-joined to the new covering "
        "partial index `customers (id) INCLUDE (code, name, region, owner_id) WHERE owner_id IS NOT NULL AND "
        "voided_at IS NULL` — no hash table of 100,000 customers (admin, same machine: 785 → 328 ms).",
        "- `deal_amount_by_user_month` groups the year's ~94,000 signed deals by month and user id before the "
        "users and departments are joined by name (the grouping was by four keys, two of them text), "
        "`invalid_tracking` reads the R-P8 summary kept on write (`customer_tracking`, migration 0013) "
        "instead of aggregating 350,000 follow-ups.",
        "- Report speed (migration 0012), found with EXPLAIN (ANALYZE, BUFFERS) on this database; before: "
        "`visits_this_year` 546 / 625 ms, `invalid_tracking` 627 / 1,012 ms, `suspect_visits` 654 / 481 ms "
        "(manager / admin, median wall clock). `visits_this_year`: the per-customer aggregate read the wide "
        "visit rows into a hash table of ~98,000 groups (~300 ms of a ~70 ms scan); counted with `count(*)` over "
        "the new covering index `visits (customer_id, visited_at, verification_status)` it is an index-only scan "
        "in customer order feeding a streaming GroupAggregate (~135 ms). `suspect_visits`: the page joined and "
        "sorted all 13,500 / 67,800 queued visits (wide rows with their verification JSON) to keep 50; the "
        "partial index `visits (visited_at DESC NULLS LAST, customer_id, review_status, author_id) WHERE "
        "verification_status IN ('suspect', 'unverified')` (PostgreSQL only: SQLite cannot declare NULLS LAST "
        "in an index) gives the report's own order, so the page stops after 50 rows, and its count is an "
        "index-only scan. `invalid_tracking`: the customers table was joined a second time by id to name the "
        "flagged customers (a 100,000-row hash join for the admin); the row now takes its columns from the flag "
        "query's own customers row. What is left of it is the R-P8 pass itself — joining 350,000 follow-ups to "
        "their customers (each counted only since its current owner got it) and grouping them — which no index "
        "shortened here (merge join via `follow_ups (customer_id, valid, created_at)`, LATERAL per customer and "
        "FILTER aggregates were tried: no faster); an incrementally maintained flag table is the next step.",
        "- Every report transaction on PostgreSQL runs with `jit = off` (JIT compilation of these aggregates "
        "cost 100–7,000 ms, more than it saved), `work_mem = 64MB` (no sorts spilling to disk), "
        "`random_page_cost = 1.1` (above) and no parallel "
        "workers (each worker repeated the whole hash aggregate; on 2 shared cores they only add contention). "
        "Record lists (`suspect_visits`, `reclaim_forecast`, every query report) count their rows with a "
        "narrow COUNT beside a LIMITed page query; aggregates take their total from `count(*) OVER ()`.",
        "- Indexes added for reports (migration 0010): `visits (visited_at)`, `visits (author_id, visited_at)`, "
        "`payments (received_date)`, `customers (created_by_id, created_at)`, `audit_entries (action, at)`, "
        "`approvals (kind, created_at)`.",
    ]
    return "\n".join(lines)


def _load() -> str:
    try:
        return Path("/proc/loadavg").read_text().split()[0]
    except OSError:
        return "?"


def main(argv: list[str] | None = None) -> int:
    import shlex

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--warmup", type=int, default=1)
    parser.add_argument("--regenerate", action="store_true", help="drop and generate the data again")
    parser.add_argument("--write", action="store_true", help="update the reports section of BENCHMARKS.md")
    parser.add_argument("--only", action="append", metavar="KEY",
                        help="time only this report (repeatable; a partial run, so not with --write)")
    args = parser.parse_args(argv)
    if args.only and args.write:
        parser.error("--write needs every report: leave out --only")
    command = ".venv/bin/python " + " ".join(shlex.quote(a) for a in ["bench/reports.py", *(argv or sys.argv[1:])])
    section = run(args.rounds, args.warmup, args.regenerate, command, args.only)
    print(section)
    if args.write:
        harness.update_section("reports", section)
    return 0


if __name__ == "__main__":
    sys.exit(main())
