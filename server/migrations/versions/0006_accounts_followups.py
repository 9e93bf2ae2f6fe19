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
    op.create_table('accounts',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('customer_id', sa.Uuid(), nullable=False),
    sa.Column('owner_id', sa.Uuid(), nullable=True),
    sa.Column('account', sa.String(length=100), nullable=False),
    sa.Column('real_name', sa.Enum('personal', 'enterprise', name='real_name', native_enum=False, length=16), nullable=True),
    sa.Column('verified_at', server.common.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('filed_at', server.common.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('status', sa.Enum('unverified', 'verified', 'filed', name='account_status', native_enum=False, length=16), nullable=False),
    sa.Column('created_by_id', sa.Uuid(), nullable=True),
    sa.Column('created_at', server.common.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('updated_at', server.common.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('voided_at', server.common.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('version', sa.BigInteger(), nullable=False),
    sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_accounts_created_by_id_users')),
    sa.ForeignKeyConstraint(['customer_id'], ['customers.id'], name=op.f('fk_accounts_customer_id_customers')),
    sa.ForeignKeyConstraint(['owner_id'], ['users.id'], name=op.f('fk_accounts_owner_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_accounts')),
    sa.UniqueConstraint('account', name=op.f('uq_accounts_account'))
    )
    with op.batch_alter_table('accounts', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_accounts_customer_id'), ['customer_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_accounts_owner_id'), ['owner_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_accounts_version'), ['version'], unique=False)

    op.create_table('follow_ups',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('customer_id', sa.Uuid(), nullable=False),
    sa.Column('author_id', sa.Uuid(), nullable=False),
    sa.Column('kind', sa.Enum('visit', 'phone', 'email', 'wechat', 'other', name='follow_up_kind', native_enum=False, length=16), nullable=False),
    sa.Column('contact_id', sa.Uuid(), nullable=True),
    sa.Column('content', sa.Text(), nullable=False),
    sa.Column('next_contact_at', server.common.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('valid', sa.Boolean(), nullable=False),
    sa.Column('invalid_reasons', sa.JSON(), nullable=False),
    sa.Column('created_at', server.common.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('client_time', server.common.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('version', sa.BigInteger(), nullable=False),
    sa.ForeignKeyConstraint(['author_id'], ['users.id'], name=op.f('fk_follow_ups_author_id_users')),
    sa.ForeignKeyConstraint(['contact_id'], ['contacts.id'], name=op.f('fk_follow_ups_contact_id_contacts')),
    sa.ForeignKeyConstraint(['customer_id'], ['customers.id'], name=op.f('fk_follow_ups_customer_id_customers')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_follow_ups'))
    )
    with op.batch_alter_table('follow_ups', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_follow_ups_author_id'), ['author_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_follow_ups_created_at'), ['created_at'], unique=False)
        batch_op.create_index('ix_follow_ups_customer_valid', ['customer_id', 'valid', 'created_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_follow_ups_next_contact_at'), ['next_contact_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_follow_ups_version'), ['version'], unique=False)


def downgrade():
    with op.batch_alter_table('follow_ups', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_follow_ups_version'))
        batch_op.drop_index(batch_op.f('ix_follow_ups_next_contact_at'))
        batch_op.drop_index('ix_follow_ups_customer_valid')
        batch_op.drop_index(batch_op.f('ix_follow_ups_created_at'))
        batch_op.drop_index(batch_op.f('ix_follow_ups_author_id'))

    op.drop_table('follow_ups')
    with op.batch_alter_table('accounts', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_accounts_version'))
        batch_op.drop_index(batch_op.f('ix_accounts_owner_id'))
        batch_op.drop_index(batch_op.f('ix_accounts_customer_id'))

    op.drop_table('accounts')
