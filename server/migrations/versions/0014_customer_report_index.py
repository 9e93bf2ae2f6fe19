"""customers: a covering partial index for per-customer reports (issue 8)

Revision ID: 0014_customer_report_index
Revises: 0013_customer_tracking
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0014_customer_report_index'
down_revision = '0013_customer_tracking'
branch_labels = None
depends_on = None


OWNED = 'owner_id IS NOT NULL AND voided_at IS NULL'


def upgrade():
    # Per-customer report aggregates merge-join it by an index-only scan in id order (the
    # INCLUDE columns are PostgreSQL's; SQLite gets a plain partial index).
    op.create_index('ix_customers_owned_names', 'customers', ['id'], unique=False,
                    postgresql_include=['code', 'name', 'region', 'owner_id'],
                    postgresql_where=sa.text(OWNED), sqlite_where=sa.text(OWNED))


def downgrade():
    op.drop_index('ix_customers_owned_names', table_name='customers')
