"""accounts, follow-ups, invalid tracking

Revision ID: 0006_accounts_followups
Revises: 0005_approvals_transfers
"""
from alembic import op
import sqlalchemy as sa
import server.common.db


# revision identifiers, used by Alembic.
revision = '0006_accounts_followups'
down_revision = '0005_approvals_transfers'
branch_labels = None
depends_on = None


def upgrade():
    pass


def downgrade():
    pass
