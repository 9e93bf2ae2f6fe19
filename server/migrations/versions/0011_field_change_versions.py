"""field_changes.version index (versions stamped at commit on PostgreSQL)

Revision ID: 0011_field_change_versions
Revises: 0010_reports_exports
"""
from alembic import op
import sqlalchemy as sa
import server.common.db


# revision identifiers, used by Alembic.
revision = '0011_field_change_versions'
down_revision = '0010_reports_exports'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('field_changes', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_field_changes_version'), ['version'], unique=False)


def downgrade():
    with op.batch_alter_table('field_changes', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_field_changes_version'))
