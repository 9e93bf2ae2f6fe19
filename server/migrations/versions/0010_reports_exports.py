"""report indexes and the export log (issue 8)

Revision ID: 0010_reports_exports
Revises: 0009_targets_daily_reports
"""
from alembic import op
import sqlalchemy as sa
import server.common.db


# revision identifiers, used by Alembic.
revision = '0010_reports_exports'
down_revision = '0009_targets_daily_reports'
branch_labels = None
depends_on = None


def upgrade():
    pass


def downgrade():
    pass
