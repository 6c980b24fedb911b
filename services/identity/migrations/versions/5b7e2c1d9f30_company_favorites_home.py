"""a company's home page can open on its favorites

Revision ID: 5b7e2c1d9f30
Revises: 07ce0688388a
Create Date: 2026-11-30 01:20:00.000000

"""
from typing import Sequence, Union

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision: str = '5b7e2c1d9f30'
down_revision: Union[str, Sequence[str], None] = '07ce0688388a'
branch_labels: Union[str, Sequence[str], None] = None
depends_on: Union[str, Sequence[str], None] = None


def upgrade() -> None:
    """Upgrade schema."""
    with op.batch_alter_table('companies', schema=None) as batch_op:
        batch_op.add_column(sa.Column('favorites_home', sa.Boolean(), nullable=False,
                                      server_default=sa.false()))


def downgrade() -> None:
    """Downgrade schema."""
    with op.batch_alter_table('companies', schema=None) as batch_op:
        batch_op.drop_column('favorites_home')
