"""opportunities, deals, payments, attachments

Revision ID: 0008_pipeline
Revises: 0007_visits
"""
from alembic import op
import sqlalchemy as sa
import server.common.db


# revision identifiers, used by Alembic.
revision = '0008_pipeline'
down_revision = '0007_visits'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('attachments',
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('uploader_id', sa.Uuid(), nullable=False),
    sa.Column('size', sa.Integer(), nullable=False),
    sa.Column('mime', sa.String(length=32), nullable=False),
    sa.Column('created_at', server.common.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['uploader_id'], ['users.id'], name=op.f('fk_attachments_uploader_id_users')),
    sa.PrimaryKeyConstraint('sha256', name=op.f('pk_attachments'))
    )

    with op.batch_alter_table('attachments', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_attachments_uploader_id'), ['uploader_id'], unique=False)

    op.create_table('attachment_links',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('entity', sa.String(length=32), nullable=False),
    sa.Column('entity_id', sa.String(length=64), nullable=False),
    sa.Column('customer_id', sa.Uuid(), nullable=False),
    sa.Column('created_at', server.common.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['customer_id'], ['customers.id'], name=op.f('fk_attachment_links_customer_id_customers')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_attachment_links')),
    sa.UniqueConstraint('sha256', 'entity', 'entity_id', name=op.f('uq_attachment_links_sha256'))
    )

    with op.batch_alter_table('attachment_links', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_attachment_links_customer_id'), ['customer_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_attachment_links_sha256'), ['sha256'], unique=False)

    op.create_table('attachment_uploads',
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('user_id', sa.Uuid(), nullable=False),
    sa.Column('created_at', server.common.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['sha256'], ['attachments.sha256'], name=op.f('fk_attachment_uploads_sha256_attachments')),
    sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_attachment_uploads_user_id_users')),
    sa.PrimaryKeyConstraint('sha256', 'user_id', name=op.f('pk_attachment_uploads'))
    )

    op.create_table('opportunities',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('customer_id', sa.Uuid(), nullable=False),
    sa.Column('owner_id', sa.Uuid(), nullable=False),
    sa.Column('name', sa.String(length=200), nullable=False),
    sa.Column('amount', sa.BigInteger(), nullable=False),
    sa.Column('expected_close_date', sa.Date(), nullable=True),
    sa.Column('products', sa.JSON(), nullable=False),
    sa.Column('budget', sa.Text(), nullable=True),
    sa.Column('authority', sa.Text(), nullable=True),
    sa.Column('need', sa.Text(), nullable=True),
    sa.Column('timeline', sa.Text(), nullable=True),
    sa.Column('competition', sa.Text(), nullable=True),
    sa.Column('champion', sa.Text(), nullable=True),
    sa.Column('contract_forecast', sa.BigInteger(), nullable=True),
    sa.Column('contract_forecast_date', sa.Date(), nullable=True),
    sa.Column('payment_forecast', sa.BigInteger(), nullable=True),
    sa.Column('payment_forecast_date', sa.Date(), nullable=True),
    sa.Column('revenue_forecast', sa.BigInteger(), nullable=True),
    sa.Column('revenue_forecast_date', sa.Date(), nullable=True),
    sa.Column('stage', sa.Enum('qualify', 'solution', 'negotiation', 'contracting', 'won', 'lost', name='opportunity_stage', native_enum=False, length=16), nullable=False),
    sa.Column('stage_changed_at', server.common.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('contract_draft', sa.String(length=64), nullable=True),
    sa.Column('loss_reason', sa.String(length=500), nullable=True),
    sa.Column('created_by_id', sa.Uuid(), nullable=True),
    sa.Column('created_at', server.common.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', server.common.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('voided_at', server.common.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('version', sa.BigInteger(), nullable=False),
    sa.CheckConstraint('amount >= 0', name=op.f('ck_opportunities_amount_not_negative')),
    sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_opportunities_created_by_id_users')),
    sa.ForeignKeyConstraint(['customer_id'], ['customers.id'], name=op.f('fk_opportunities_customer_id_customers')),
    sa.ForeignKeyConstraint(['owner_id'], ['users.id'], name=op.f('fk_opportunities_owner_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_opportunities'))
    )

    with op.batch_alter_table('opportunities', schema=None) as batch_op:
        batch_op.create_index('ix_opportunities_customer_stage', ['customer_id', 'stage'], unique=False)
        batch_op.create_index(batch_op.f('ix_opportunities_owner_id'), ['owner_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_opportunities_version'), ['version'], unique=False)

    op.create_table('deals',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('customer_id', sa.Uuid(), nullable=False),
    sa.Column('opportunity_id', sa.Uuid(), nullable=True),
    sa.Column('contract_no', sa.String(length=64), nullable=False),
    sa.Column('contract_no_key', sa.String(length=64), nullable=False),
    sa.Column('amount', sa.BigInteger(), nullable=False),
    sa.Column('signed_date', sa.Date(), nullable=True),
    sa.Column('attachment', sa.String(length=64), nullable=True),
    sa.Column('status', sa.Enum('draft', 'signed', name='deal_status', native_enum=False, length=16), nullable=False),
    sa.Column('signed_at', server.common.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('signed_by_id', sa.Uuid(), nullable=True),
    sa.Column('paid_total', sa.BigInteger(), nullable=False),
    sa.Column('created_by_id', sa.Uuid(), nullable=True),
    sa.Column('created_at', server.common.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', server.common.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('version', sa.BigInteger(), nullable=False),
    sa.CheckConstraint('amount > 0', name=op.f('ck_deals_amount_positive')),
    sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_deals_created_by_id_users')),
    sa.ForeignKeyConstraint(['customer_id'], ['customers.id'], name=op.f('fk_deals_customer_id_customers')),
    sa.ForeignKeyConstraint(['opportunity_id'], ['opportunities.id'], name=op.f('fk_deals_opportunity_id_opportunities')),
    sa.ForeignKeyConstraint(['signed_by_id'], ['users.id'], name=op.f('fk_deals_signed_by_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_deals')),
    sa.UniqueConstraint('contract_no_key', name=op.f('uq_deals_contract_no_key'))
    )

    with op.batch_alter_table('deals', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_deals_customer_id'), ['customer_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_deals_opportunity_id'), ['opportunity_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_deals_signed_date'), ['signed_date'], unique=False)
        batch_op.create_index(batch_op.f('ix_deals_version'), ['version'], unique=False)

    op.create_table('payments',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('deal_id', sa.Uuid(), nullable=False),
    sa.Column('customer_id', sa.Uuid(), nullable=False),
    sa.Column('amount', sa.BigInteger(), nullable=False),
    sa.Column('received_date', sa.Date(), nullable=False),
    sa.Column('proof', sa.String(length=64), nullable=True),
    sa.Column('created_by_id', sa.Uuid(), nullable=True),
    sa.Column('created_at', server.common.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('version', sa.BigInteger(), nullable=False),
    sa.CheckConstraint('amount > 0', name=op.f('ck_payments_amount_positive')),
    sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_payments_created_by_id_users')),
    sa.ForeignKeyConstraint(['customer_id'], ['customers.id'], name=op.f('fk_payments_customer_id_customers')),
    sa.ForeignKeyConstraint(['deal_id'], ['deals.id'], name=op.f('fk_payments_deal_id_deals')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_payments'))
    )

    with op.batch_alter_table('payments', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_payments_customer_id'), ['customer_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_payments_deal_id'), ['deal_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_payments_version'), ['version'], unique=False)


def downgrade():
    with op.batch_alter_table('payments', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_payments_version'))
        batch_op.drop_index(batch_op.f('ix_payments_deal_id'))
        batch_op.drop_index(batch_op.f('ix_payments_customer_id'))

    op.drop_table('payments')

    with op.batch_alter_table('deals', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_deals_version'))
        batch_op.drop_index(batch_op.f('ix_deals_signed_date'))
        batch_op.drop_index(batch_op.f('ix_deals_opportunity_id'))
        batch_op.drop_index(batch_op.f('ix_deals_customer_id'))

    op.drop_table('deals')

    with op.batch_alter_table('opportunities', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_opportunities_version'))
        batch_op.drop_index(batch_op.f('ix_opportunities_owner_id'))
        batch_op.drop_index('ix_opportunities_customer_stage')

    op.drop_table('opportunities')

    op.drop_table('attachment_uploads')

    with op.batch_alter_table('attachment_links', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_attachment_links_sha256'))
        batch_op.drop_index(batch_op.f('ix_attachment_links_customer_id'))

    op.drop_table('attachment_links')

    with op.batch_alter_table('attachments', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_attachments_uploader_id'))

    op.drop_table('attachments')
