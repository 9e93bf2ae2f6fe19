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


# Nothing to change: the `approvals` table of 0004 already keeps requester, stages, decisions
# (approver, decision, comment, time), result and times for every kind (transfer, change_request,
# subsidiary_line, dispute, pool_claim); void/restore use customers.voided_at/void_reason; the
# leavers' hand-over list is computed from users.active/deactivated_at. The revision stays so
# the chain 0004 -> 0005 -> 0006 is unchanged.


def upgrade():
    pass


def downgrade():
    pass
