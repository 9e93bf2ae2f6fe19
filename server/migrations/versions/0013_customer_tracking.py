"""customer_tracking: the invalid-tracking summary (R-P8) kept on write (issue 8)

Revision ID: 0013_customer_tracking
Revises: 0012_report_speed
"""
from alembic import op
import sqlalchemy as sa

import server.common.db


# revision identifiers, used by Alembic.
revision = '0013_customer_tracking'
down_revision = '0012_report_speed'
branch_labels = None
depends_on = None

# Every existing customer's row, from its follow-ups since its current owner got it and its
# key contacts (what server/followups/tracking.py keeps up to date from now on).
BACKFILL = """
INSERT INTO customer_tracking (customer_id, invalid_count, last_valid_at, has_key_contact)
SELECT c.id,
       (SELECT count(*) FROM follow_ups f WHERE f.customer_id = c.id AND NOT f.valid
          AND f.created_at >= coalesce(c.assigned_at, c.created_at)),
       (SELECT max(f.created_at) FROM follow_ups f WHERE f.customer_id = c.id AND f.valid
          AND f.created_at >= coalesce(c.assigned_at, c.created_at)),
       EXISTS (SELECT 1 FROM contacts k WHERE k.customer_id = c.id AND k.key_person AND k.voided_at IS NULL)
FROM customers c
"""


def upgrade():
    op.create_table(
        'customer_tracking',
        sa.Column('customer_id', sa.Uuid(), nullable=False),
        sa.Column('invalid_count', sa.Integer(), nullable=False),
        sa.Column('last_valid_at', server.common.db.UTCDateTime(timezone=True), nullable=True),
        sa.Column('has_key_contact', sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(['customer_id'], ['customers.id'], name=op.f('fk_customer_tracking_customer_id_customers'),
                                ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('customer_id', name=op.f('pk_customer_tracking')),
    )
    op.execute(BACKFILL)


def downgrade():
    op.drop_table('customer_tracking')
