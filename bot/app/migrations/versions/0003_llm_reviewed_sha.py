"""pull_states.llm_reviewed_sha: the head of the last LLM review (the incremental review record)

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-01 04:05:00

"""
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = '0003'
down_revision: str | Sequence[str] | None = '0002'
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table('pull_states', schema=None) as batch_op:
        batch_op.add_column(sa.Column('llm_reviewed_sha', sa.String(length=64), nullable=False, server_default=''))


def downgrade() -> None:
    with op.batch_alter_table('pull_states', schema=None) as batch_op:
        batch_op.drop_column('llm_reviewed_sha')
