"""report speed: covering and partial indexes for the slow statistics reports (issue 8)

Revision ID: 0012_report_speed
Revises: 0011_field_change_versions
"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0012_report_speed'
down_revision = '0011_field_change_versions'
branch_labels = None
depends_on = None

QUEUE = sa.text("verification_status IN ('suspect', 'unverified')")


def upgrade():
    # visits_this_year: count visits per customer and status by an index-only scan in customer order
    op.create_index('ix_visits_customer_visited_status', 'visits',
                    ['customer_id', 'visited_at', 'verification_status'], unique=False)
    # suspect_visits: the review queue newest first (its page, in the report's DESC NULLS LAST
    # order) and its count, from a small partial index; PostgreSQL only (SQLite has no NULLS LAST
    # in an index, and the model declares it with ddl_if(dialect="postgresql"))
    if op.get_bind().dialect.name == "postgresql":
        op.create_index('ix_visits_suspect_queue', 'visits',
                        [sa.text('visited_at DESC NULLS LAST'), 'customer_id', 'review_status', 'author_id'],
                        unique=False, postgresql_where=QUEUE)


def downgrade():
    if op.get_bind().dialect.name == "postgresql":
        op.drop_index('ix_visits_suspect_queue', table_name='visits')
    op.drop_index('ix_visits_customer_visited_status', table_name='visits')
