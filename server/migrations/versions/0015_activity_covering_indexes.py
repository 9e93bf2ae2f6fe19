"""visits, follow_ups: the period indexes cover what activity reports read (issue 8)

Revision ID: 0015_activity_covering_indexes
Revises: 0014_customer_report_index
"""
from alembic import op


# revision identifiers, used by Alembic.
revision = '0015_activity_covering_indexes'
down_revision = '0014_customer_report_index'
branch_labels = None
depends_on = None


# (index, table, column, what the activity reports read besides it)
COVERING = (
    ('ix_visits_visited_at', 'visits', 'visited_at', ['customer_id', 'author_id', 'verification_status']),
    ('ix_follow_ups_created_at', 'follow_ups', 'created_at', ['customer_id', 'author_id', 'valid']),
)


def upgrade():
    # The same indexes (same name and key), now carrying the columns a month's activity reads,
    # so that the month's visits and follow-ups come from an index-only scan instead of one heap
    # page per record (~15,000 + ~7,000 pages of wide rows a month). INCLUDE is PostgreSQL's;
    # SQLite gets the plain index it had.
    for name, table, column, include in COVERING:
        op.drop_index(name, table_name=table)
        op.create_index(name, table, [column], unique=False, postgresql_include=include)


def downgrade():
    for name, table, column, _include in COVERING:
        op.drop_index(name, table_name=table)
        op.create_index(name, table, [column], unique=False)
