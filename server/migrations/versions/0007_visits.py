"""visits and verification

Revision ID: 0007_visits
Revises: 0006_accounts_followups
"""
from alembic import op
import sqlalchemy as sa
import server.common.db


# revision identifiers, used by Alembic.
revision = '0007_visits'
down_revision = '0006_accounts_followups'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('visits',
    sa.Column('id', sa.Uuid(), nullable=False),
    sa.Column('customer_id', sa.Uuid(), nullable=False),
    sa.Column('author_id', sa.Uuid(), nullable=False),
    sa.Column('contact_id', sa.Uuid(), nullable=True),
    sa.Column('purpose', sa.Text(), nullable=False),
    sa.Column('result', sa.Text(), nullable=True),
    sa.Column('next_step', sa.Text(), nullable=True),
    sa.Column('stage', sa.String(length=16), nullable=True),
    sa.Column('visited_at', server.common.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('client_time', server.common.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('received_at', server.common.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('photo_hashes', sa.JSON(), nullable=False),
    sa.Column('position', sa.JSON(), nullable=True),
    sa.Column('verification', sa.JSON(), nullable=False),
    sa.Column('verification_status', sa.String(length=16), nullable=False),
    sa.Column('verified_at', server.common.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('review_status', sa.String(length=16), nullable=False),
    sa.Column('reviewed_by_id', sa.Uuid(), nullable=True),
    sa.Column('review_comment', sa.Text(), nullable=True),
    sa.Column('reviewed_at', server.common.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('progress_at', server.common.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('progress_before', server.common.db.UTCDateTime(timezone=True), nullable=True),
    sa.Column('created_at', server.common.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('version', sa.BigInteger(), nullable=False),
    sa.ForeignKeyConstraint(['author_id'], ['users.id'], name=op.f('fk_visits_author_id_users')),
    sa.ForeignKeyConstraint(['contact_id'], ['contacts.id'], name=op.f('fk_visits_contact_id_contacts')),
    sa.ForeignKeyConstraint(['customer_id'], ['customers.id'], name=op.f('fk_visits_customer_id_customers')),
    sa.ForeignKeyConstraint(['reviewed_by_id'], ['users.id'], name=op.f('fk_visits_reviewed_by_id_users')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_visits'))
    )
    with op.batch_alter_table('visits', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_visits_author_id'), ['author_id'], unique=False)
        batch_op.create_index('ix_visits_customer_visited', ['customer_id', 'visited_at'], unique=False)
        batch_op.create_index('ix_visits_review_queue', ['verification_status', 'review_status', 'received_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_visits_verification_status'), ['verification_status'], unique=False)
        batch_op.create_index(batch_op.f('ix_visits_version'), ['version'], unique=False)

    op.create_table('visit_photos',
    sa.Column('visit_id', sa.Uuid(), nullable=False),
    sa.Column('sha256', sa.String(length=64), nullable=False),
    sa.Column('position', sa.Integer(), nullable=False),
    sa.Column('visited_at', server.common.db.UTCDateTime(timezone=True), nullable=False),
    sa.Column('received_at', server.common.db.UTCDateTime(timezone=True), nullable=False),
    sa.ForeignKeyConstraint(['visit_id'], ['visits.id'], name=op.f('fk_visit_photos_visit_id_visits')),
    sa.PrimaryKeyConstraint('visit_id', 'sha256', name=op.f('pk_visit_photos'))
    )
    with op.batch_alter_table('visit_photos', schema=None) as batch_op:
        batch_op.create_index('ix_visit_photos_received', ['received_at', 'visit_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_visit_photos_sha256'), ['sha256'], unique=False)
        batch_op.create_index(batch_op.f('ix_visit_photos_visited_at'), ['visited_at'], unique=False)


def downgrade():
    with op.batch_alter_table('visit_photos', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_visit_photos_visited_at'))
        batch_op.drop_index(batch_op.f('ix_visit_photos_sha256'))
        batch_op.drop_index('ix_visit_photos_received')

    op.drop_table('visit_photos')
    with op.batch_alter_table('visits', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_visits_version'))
        batch_op.drop_index(batch_op.f('ix_visits_verification_status'))
        batch_op.drop_index('ix_visits_review_queue')
        batch_op.drop_index('ix_visits_customer_visited')
        batch_op.drop_index(batch_op.f('ix_visits_author_id'))

    op.drop_table('visits')
