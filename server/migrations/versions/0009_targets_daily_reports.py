"""targets and daily reports (issue 8)

Revision ID: 0009_targets_daily_reports
Revises: 0008_pipeline
"""
from alembic import op
import sqlalchemy as sa
import server.common.db


# revision identifiers, used by Alembic.
revision = '0009_targets_daily_reports'
down_revision = '0008_pipeline'
branch_labels = None
depends_on = None


def upgrade():
    pass


def downgrade():
    pass
