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
    op.create_table('targets',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('user_id', sa.Uuid(), nullable=False),
    sa.Column('name', sa.String(length=100), nullable=False),
    sa.Column('start_date', sa.Date(), nullable=False),
    sa.Column('end_date', sa.Date(), nullable=False),
    sa.Column('new_customers', sa.Integer(), nullable=False),
    sa.Column('visits', sa.Integer(), nullable=False),
    sa.Column('deal_amount', sa.BigInteger(), nullable=False),
    sa.Column('payment_amount', sa.BigInteger(), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('set_by_id', sa.Uuid(), nullable=False),
    sa.Column('approved_by_id', sa.Uuid(), nullable=True),
    sa.Column('approval_id', sa.Uuid(), nullable=True),
    sa.Column('created_at', server.common.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', server.common.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('voided_at', server.common.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('version', sa.BigInteger(), nullable=False),
    sa.CheckConstraint('start_date <= end_date', name=op.f('ck_targets_period_ordered')),
    sa.CheckConstraint('new_customers >= 0 AND visits >= 0 AND deal_amount >= 0 AND payment_amount >= 0',
                       name=op.f('ck_targets_amounts_not_negative')),
    sa.ForeignKeyConstraint(['approval_id'], ['approvals.id'], name=op.f('fk_targets_approval_id_approvals')),
    sa.ForeignKeyConstraint(['approved_by_id'], ['users.id'], name=op.f('fk_targets_approved_by_id_users')),
    sa.ForeignKeyConstraint(['set_by_id'], ['users.id'], name=op.f('fk_targets_set_by_id_users')),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_targets_user_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_targets'))
    )

    with op.batch_alter_table('targets', schema=None) as batch_op:
        batch_op.create_index('ix_targets_user_period', ['user_id', 'start_date', 'end_date'], unique=False)
        batch_op.create_index(batch_op.f('ix_targets_version'), ['version'], unique=False)

    op.create_table('daily_reports',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('user_id', sa.Uuid(), nullable=False),
    sa.Column('report_date', sa.Date(), nullable=False),
    sa.Column('summary', sa.Text(), nullable=False),
    sa.Column('plan', sa.Text(), nullable=False),
    sa.Column('submitted_at', server.common.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('created_at', server.common.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', server.common.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('version', sa.BigInteger(), nullable=False),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_daily_reports_user_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_daily_reports')),
    sa.UniqueConstraint('user_id', 'report_date', name=op.f('uq_daily_reports_user_id'))
    )

    with op.batch_alter_table('daily_reports', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_daily_reports_report_date'), ['report_date'], unique=False)
        batch_op.create_index(batch_op.f('ix_daily_reports_user_id'), ['user_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_daily_reports_version'), ['version'], unique=False)


def downgrade():
    with op.batch_alter_table('daily_reports', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_daily_reports_version'))
        batch_op.drop_index(batch_op.f('ix_daily_reports_user_id'))
        batch_op.drop_index(batch_op.f('ix_daily_reports_report_date'))

    op.drop_table('daily_reports')
    with op.batch_alter_table('targets', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_targets_version'))
        batch_op.drop_index('ix_targets_user_period')

    op.drop_table('targets')
