"""push order of runs; per pull request state (sticky comment, review record, reaction polling)

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-01 02:55:00

"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0002'
down_revision: str | Sequence[str] | None = '0001'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('runs', schema=None) as batch_op:
        batch_op.add_column(sa.Column('pushed_at', sa.Float(), nullable=False, server_default='0'))
    op.create_table('pull_states',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('installation_id', sa.Integer(), nullable=False),
    sa.Column('repo', sa.String(length=255), nullable=False),
    sa.Column('pr', sa.Integer(), nullable=False),
    sa.Column('comment_id', sa.BigInteger(), nullable=True),
    sa.Column('reviewed_sha', sa.String(length=64), nullable=False),
    sa.Column('fingerprints', sa.Text(), nullable=False),
    sa.Column('updated_at', sa.Float(), nullable=False),
    sa.Column('polled_at', sa.Float(), nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_pull_states')),
    sa.UniqueConstraint('installation_id', 'repo', 'pr', name='uq_pull_states_key')
    )


def downgrade() -> None:
    op.drop_table('pull_states')
    with op.batch_alter_table('runs', schema=None) as batch_op:
        batch_op.drop_column('pushed_at')
