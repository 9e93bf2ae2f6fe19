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

# (index, table, columns): what the report queries filter and group on
INDEXES = [
    ("ix_audit_entries_action_at", "audit_entries", ["action", "at"]),
    ("ix_visits_visited_at", "visits", ["visited_at"]),
    ("ix_visits_author_visited", "visits", ["author_id", "visited_at"]),
    ("ix_payments_received_date", "payments", ["received_date"]),
    ("ix_approvals_kind_created", "approvals", ["kind", "created_at"]),
    ("ix_customers_created_by_created", "customers", ["created_by_id", "created_at"]),
]


def upgrade():
    op.create_table(
        'export_log',
        sa.Column('id', sa.Uuid(), nullable=False),
        sa.Column('user_id', sa.Uuid(), nullable=False),
        sa.Column('report_key', sa.String(length=64), nullable=False),
        sa.Column('format', sa.String(length=8), nullable=False),
        sa.Column('filters', sa.JSON(), nullable=False),
        sa.Column('row_count', sa.Integer(), nullable=False),
        sa.Column('created_at', server.common.db.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_export_log_user_id_users')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_export_log')),
    )
    op.create_index('ix_export_log_user_at', 'export_log', ['user_id', 'created_at'], unique=False)
    op.create_index(op.f('ix_export_log_report_key'), 'export_log', ['report_key'], unique=False)
    for name, table, columns in INDEXES:
        op.create_index(name, table, columns, unique=False)


def downgrade():
    for name, table, _columns in reversed(INDEXES):
        op.drop_index(name, table_name=table)
    op.drop_index(op.f('ix_export_log_report_key'), table_name='export_log')
    op.drop_index('ix_export_log_user_at', table_name='export_log')
    op.drop_table('export_log')
