"""fieldcrm server: `create_app(config)` builds the Flask application."""
from __future__ import annotations

import logging
from pathlib import Path

from flask import Flask

MIGRATIONS_DIR = str(Path(__file__).resolve().parent / "migrations")


def create_app(config: dict | None = None) -> Flask:
    from server.config import load_config

    settings = load_config(config)
    app = Flask(__name__, instance_path=settings["INSTANCE_PATH"], static_folder=None)
    app.config.update(settings)
    Path(app.instance_path).mkdir(parents=True, exist_ok=True)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    logging.getLogger("alembic").setLevel(logging.WARNING)

    app.json.sort_keys = False
    _init_extensions(app)
    _register_blueprints(app)

    from server.common.errors import register_error_handlers
    register_error_handlers(app)

    from server.pwa import init_app as init_pwa
    init_pwa(app)

    proxies = int(app.config.get("PROXY_COUNT") or 0)
    if proxies:
        # Behind nginx: trust its X-Forwarded-* so per-IP limits see the phone, not nginx.
        from werkzeug.middleware.proxy_fix import ProxyFix
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=proxies, x_proto=proxies, x_host=proxies)
    return app


def _init_extensions(app: Flask) -> None:
    from server.common import transaction
    from server.common.auth import init_jwt
    from server.common.db import install_engine_hooks
    from server.extensions import api, db, jwt, limiter, migrate

    _import_models()
    db.init_app(app)
    with app.app_context():
        install_engine_hooks(db.engine)
    migrate.init_app(app, db, directory=MIGRATIONS_DIR, compare_type=True, render_as_batch=True)
    jwt.init_app(app)
    init_jwt()
    limiter.init_app(app)
    api.init_app(app)
    transaction.init_app(app)


def _import_models() -> None:
    """Every model module, so metadata (and Alembic autogenerate) knows every table."""
    import server.accounts.models  # noqa: F401
    import server.approvals.models  # noqa: F401
    import server.auth.models  # noqa: F401
    import server.common.audit  # noqa: F401
    import server.common.history  # noqa: F401
    import server.customers.models  # noqa: F401
    import server.followups.models  # noqa: F401
    import server.followups.tracking  # noqa: F401  (its flush listeners keep the R-P8 summary)
    import server.notifications.models  # noqa: F401
    import server.org.models  # noqa: F401
    import server.photos.models  # noqa: F401
    import server.pipeline.models  # noqa: F401
    import server.pools.models  # noqa: F401
    import server.reports.models  # noqa: F401
    import server.settings.models  # noqa: F401
    import server.sync_api.models  # noqa: F401
    import server.targets.models  # noqa: F401
    import server.daily_reports.models  # noqa: F401
    import server.visits.models  # noqa: F401


def _register_blueprints(app: Flask) -> None:
    from server.accounts.views import blp as accounts_blp
    from server.approvals.views import blp as approvals_blp
    from server.auth.views import blp as auth_blp
    from server.customers.views import blp as customers_blp
    from server.daily_reports.views import blp as daily_reports_blp
    from server.extensions import api
    from server.health.views import blp as health_blp
    from server.imports.views import blp as imports_blp
    from server.notifications.views import blp as notifications_blp
    from server.org.views import blp as admin_blp
    from server.photos.views import blp as photos_blp
    from server.pipeline.views import blp as pipeline_blp
    from server.pools.views import blp as pools_blp
    from server.reports.views import blp as reports_blp
    from server.visits.views import blp as visits_blp
    from server.settings.views import blp as settings_blp
    from server.sync_api.views import blp as sync_blp
    from server.targets.views import blp as targets_blp

    for blueprint in (auth_blp, admin_blp, settings_blp, customers_blp, sync_blp, photos_blp, pools_blp,
                      approvals_blp, notifications_blp, accounts_blp, visits_blp, pipeline_blp, reports_blp, health_blp,
                      targets_blp, daily_reports_blp, imports_blp):
        api.register_blueprint(blueprint)
