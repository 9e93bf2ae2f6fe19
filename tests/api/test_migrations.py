"""The models and the migrations describe the same schema."""
from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext


def test_models_and_migrations_agree(fresh_app):
    from server.extensions import db

    app = fresh_app()
    assert {"departments", "users", "customers", "contacts", "audit_entries", "settings"} <= set(db.metadata.tables)
    with app.app_context(), db.engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"compare_type": True})
        diff = compare_metadata(context, db.metadata)
    assert diff == [], "models differ from the migrated schema; write a migration:\n" + "\n".join(map(str, diff))


def test_migrated_database_is_at_the_single_head(fresh_app):
    from alembic.script import ScriptDirectory

    from server.extensions import db

    app = fresh_app()
    with app.app_context():
        config = app.extensions["migrate"].migrate.get_config()
        heads = ScriptDirectory.from_config(config).get_heads()
        assert len(heads) == 1, f"several migration heads: {heads}"
        with db.engine.connect() as connection:
            assert MigrationContext.configure(connection).get_current_heads() == tuple(heads)
