"""The `fieldcrm` command (SPEC §14): a Flask CLI group around `create_app`."""
from __future__ import annotations

import click
from flask.cli import FlaskGroup, with_appcontext
from flask_migrate.cli import db as db_group

from server import create_app


def _create_app():
    return create_app()


@click.group(cls=FlaskGroup, create_app=_create_app, add_default_commands=False, add_version_option=False,
             load_dotenv=False)
def cli() -> None:
    """fieldcrm: the offline-first field CRM server."""


cli.add_command(db_group)


@cli.group()
def users() -> None:
    """Manage users."""


@users.command("create")
@click.option("--username", required=True)
@click.option("--password", required=True)
@click.option("--role", required=True, type=click.Choice(["rep", "manager", "ops", "admin"]))
@click.option("--department", "department_ref", default=None,
              help="Department id or name; a top-level 'Administration' department is made if omitted.")
@click.option("--display-name", default=None)
@with_appcontext
def users_create(username: str, password: str, role: str, department_ref: str | None,
                 display_name: str | None) -> None:
    from server.common.errors import AppError
    from server.extensions import db
    from server.org import service
    from server.org.models import BusinessLine, Role

    try:
        if department_ref:
            department = service.find_department(department_ref)
        else:
            department = service.find_or_create_root("Administration", BusinessLine.SMB)
        user = service.create_user(username, password, display_name or username, Role(role), department.id)
        db.session.commit()
    except AppError as exc:
        db.session.rollback()
        raise click.ClickException(f"{exc.code}: {exc.message} {exc.details or ''}".strip()) from exc
    click.echo(f"created {user.role.value} {user.username} ({user.id}) in {department.name}")


@cli.command("demo")
@click.option("--seed", default=2026, show_default=True)
@click.option("--customers", "customer_count", default=2000, show_default=True)
@with_appcontext
def demo(seed: int, customer_count: int) -> None:
    """Load the demo organisation once; print the demo logins every time."""
    from server.demo.loader import DEMO_PASSWORD, demo_logins, load_demo

    created = load_demo(seed=seed, customer_count=customer_count)
    click.echo("demo data loaded" if created else "demo data already present")
    click.echo(f"demo logins (password for all: {DEMO_PASSWORD}):")
    for username, role, display, department in demo_logins():
        click.echo(f"  {username:<12} {role:<8} {display} — {department}")


@cli.group()
def pools() -> None:
    """Customer pools."""


@pools.command("reclaim")
@click.option("--as-of", "as_of", default=None, help="ISO 8601 time to judge 'no progress' against (default: now)")
@click.option("--dry-run", is_flag=True, help="Report what would move; change nothing")
@with_appcontext
def pools_reclaim(as_of: str | None, dry_run: bool) -> None:
    """Return customers without progress to their origin pools (SPEC R-P5); warn owners first."""
    from server.jobs import reclaim_job

    report = reclaim_job(_parse_as_of(as_of), dry_run)
    if report.skipped_locked:
        click.echo("another host is running the reclaim job; nothing done")
        return
    verb = "would reclaim" if dry_run else "reclaimed"
    click.echo(f"{verb} {len(report.reclaimed)} customer(s); {len(report.warned)} warning(s) "
               f"as of {report.as_of.isoformat()}")
    for entry in report.reclaimed:
        click.echo(f"  {entry['code']} {entry['name']} -> {entry['pool']}")
    handover = getattr(report, "handover", [])
    if handover:
        click.echo(f"{'would return' if dry_run else 'returned'} {len(handover)} unhanded customer(s) of leavers")
        for entry in handover:
            click.echo(f"  {entry['code']} {entry['name']} -> {entry['pool']}")


def _parse_as_of(value: str | None):
    if value is None:
        return None
    from datetime import datetime, timezone

    try:
        parsed = datetime.fromisoformat(value)
    except ValueError as exc:
        raise click.BadParameter("use ISO 8601, e.g. 2026-11-23T09:00:00+08:00") from exc
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=timezone.utc)


@cli.command("run")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, show_default=True)
@click.option("--workers", default=2, show_default=True)
@click.option("--https", is_flag=True,
              help="Serve TLS with a self-signed certificate made once into the instance folder (LAN demo)")
@click.option("--jobs/--no-jobs", default=True, show_default=True,
              help="Run the daily jobs in the workers; --no-jobs when a systemd timer runs `fieldcrm jobs daily`")
def run(host: str, port: int, workers: int, https: bool, jobs: bool) -> None:
    """Serve the API and the built PWA with gunicorn."""
    from server.serve import serve

    serve(host=host, port=port, workers=workers, https=https, jobs=jobs)


@cli.group("jobs")
def jobs_group() -> None:
    """Scheduled jobs."""


@jobs_group.command("daily")
@with_appcontext
def jobs_daily() -> None:
    """Run the daily jobs once (reclaim, leavers' customers, regrade, reminders), as `fieldcrm run`
    does every day; for a systemd timer or cron next to `fieldcrm run --no-jobs`."""
    from flask import current_app

    from server.jobs import daily_jobs

    daily_jobs(current_app._get_current_object())
    click.echo("daily jobs done (see the log for each job's result)")


@cli.group()
def customers() -> None:
    """Customer maintenance."""


@customers.command("regrade")
@click.option("--as-of", "as_of", default=None,
              help="ISO 8601 date or time to judge grades and classes at (default: now); a date is that day")
@with_appcontext
def customers_regrade(as_of: str | None) -> None:
    """Recompute every customer's grade (R-C7) and class (R-C8); what `fieldcrm run` does daily."""
    from server.pipeline.grades import parse_as_of, regrade_job

    try:
        when = parse_as_of(as_of)
    except ValueError as exc:
        raise click.BadParameter("use ISO 8601, e.g. 2026-12-31 or 2026-12-31T20:00:00+08:00") from exc
    report = regrade_job(when)
    click.echo(f"regraded {report['checked']} customer(s) as of {report['as_of_date']}; "
               f"{len(report['changed'])} changed")
    for customer_id, diff in report["changed"].items():
        click.echo(f"  {customer_id}: " + ", ".join(f"{k} {v[0]} -> {v[1]}" for k, v in diff.items()))
    click.echo("grades: " + ", ".join(f"{k} {v}" for k, v in sorted(report["counts"]["grade"].items())))
    click.echo("classes: " + ", ".join(f"{k} {v}" for k, v in sorted(report["counts"]["customer_class"].items())))


@cli.command("backup")
@click.argument("path", type=click.Path(file_okay=False, path_type=str))
@with_appcontext
def backup(path: str) -> None:
    """Write a consistent copy of the database and the photo store into the new folder PATH,
    with manifest.json (versions, row counts, SHA-256 of every file); safe while the server runs."""
    from server.backup.service import BackupError, create_backup

    try:
        create_backup(path, echo=click.echo)
    except BackupError as exc:
        raise click.ClickException(str(exc)) from exc


@cli.command("restore")
@click.argument("path", type=click.Path(file_okay=False, path_type=str))
@click.option("--force", is_flag=True, help="Restore even though a server or another connection still uses the database.")
@with_appcontext
def restore(path: str, force: bool) -> None:
    """Check the backup in PATH completely (refusing a damaged one, changing nothing), then
    restore its photo store and database. Refused while a server (or, on PostgreSQL, any other
    connection) still uses the database: stop the servers and the daily jobs first."""
    from server.backup.service import BackupError, restore_backup

    try:
        restore_backup(path, echo=click.echo, force=force)
    except BackupError as exc:
        raise click.ClickException(str(exc)) from exc


def main() -> None:
    cli(prog_name="fieldcrm")
