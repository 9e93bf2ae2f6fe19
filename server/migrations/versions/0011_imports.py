"""customer imports (issue 8)

Revision ID: 0011_imports
Revises: 0010_reports_exports
"""
from alembic import op
import sqlalchemy as sa
import server.common.db


# revision identifiers, used by Alembic.
revision = '0011_imports'
down_revision = '0010_reports_exports'
branch_labels = None
depends_on = None


def upgrade():
    pass


def downgrade():
    pass
