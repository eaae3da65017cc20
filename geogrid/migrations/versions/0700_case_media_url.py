"""cases: the media_url an Open311 client sends with a request (a link to its photo), stored and shown

Revision ID: 0700
Revises: 0200
"""

import sqlalchemy as sa
from alembic import op

revision = "0700"
down_revision = "0200"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column(
        "case_report",
        sa.Column("media_url", sa.Text(), nullable=True, comment="Open311 media_url: an http(s) link to a photo"),
    )
    op.create_check_constraint(
        "case_report_media_url",
        "case_report",
        "media_url IS NULL OR (media_url ~ '^https?://' AND length(media_url) <= 2000)",
    )


def downgrade() -> None:
    op.drop_column("case_report", "media_url")
