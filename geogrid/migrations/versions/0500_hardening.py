"""hardening: key lifecycle (expiry, rotation grace, last use) and an operator-approved public case summary

Revision ID: 0500
Revises: 0200
"""

import sqlalchemy as sa
from alembic import op

revision = "0500"
down_revision = "0200"
branch_labels = None
depends_on = None


def _ts(name: str, comment: str) -> sa.Column:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=True, comment=comment)


def upgrade() -> None:
    op.add_column("account", _ts("expires_at", "the key stops working at this time (NULL: never)"))
    op.add_column("account", _ts("last_used_at", "last request with this key (written in batches, ~1 min late)"))
    op.add_column(
        "account",
        sa.Column("previous_key_hash", sa.String(64), nullable=True, comment="SHA-256 of the key before a rotation"),
    )
    op.add_column("account", _ts("previous_key_expires_at", "the previous key works until this time"))
    op.create_index("ix_account_previous_key_hash", "account", ["previous_key_hash"])
    op.add_column(
        "case_report",
        sa.Column(
            "public_summary",
            sa.Text(),
            nullable=True,
            comment="operator-approved text shown to the public instead of the reporter's free text",
        ),
    )


def downgrade() -> None:
    op.drop_column("case_report", "public_summary")
    op.drop_index("ix_account_previous_key_hash", table_name="account")
    for name in ("previous_key_expires_at", "previous_key_hash", "last_used_at", "expires_at"):
        op.drop_column("account", name)
