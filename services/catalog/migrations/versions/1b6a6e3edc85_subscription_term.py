"""subscription term

Revision ID: 1b6a6e3edc85
Revises: 7c4e2a91b5d3
Create Date: 2026-11-29 22:16:31.432874

"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision: str = '1b6a6e3edc85'
down_revision: Union[str, Sequence[str], None] = '7c4e2a91b5d3'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    """Upgrade schema."""
    # a plain ADD COLUMN: a batch copy of products would drop its full-text triggers
    op.add_column('products', sa.Column('subscription_term', sa.String(length=10), nullable=True))


def downgrade() -> None:
    """Downgrade schema."""
    with op.batch_alter_table('products', schema=None) as batch_op:
        batch_op.drop_column('subscription_term')
