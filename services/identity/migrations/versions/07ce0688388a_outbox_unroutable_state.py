"""outbox rows no queue receives are marked unroutable; processed events pruned by age

Revision ID: 07ce0688388a
Revises: a9f0a5d909c0
Create Date: 2026-11-30 01:30:00.000000

"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision: str = '07ce0688388a'
down_revision: Union[str, Sequence[str], None] = 'a9f0a5d909c0'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    """Upgrade schema."""
    with op.batch_alter_table('outbox_events', schema=None) as batch_op:
        batch_op.add_column(sa.Column('unroutable_at', sa.DateTime(), nullable=True))
    with op.batch_alter_table('processed_events', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_processed_events_processed_at'), ['processed_at'],
                              unique=False)


def downgrade() -> None:
    """Downgrade schema."""
    with op.batch_alter_table('processed_events', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_processed_events_processed_at'))
    with op.batch_alter_table('outbox_events', schema=None) as batch_op:
        batch_op.drop_column('unroutable_at')
