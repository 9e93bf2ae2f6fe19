"""approvals, transfers, change requests, disputes, leavers

Revision ID: 0005_approvals_transfers
Revises: 0004_ownership
"""
from alembic import op
import sqlalchemy as sa
import server.common.db


# revision identifiers, used by Alembic.
revision = '0005_approvals_transfers'
down_revision = '0004_ownership'
branch_labels = None
depends_on = None


def upgrade():
    pass


def downgrade():
    pass
