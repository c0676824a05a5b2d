"""The decisions table and the indexes of the list filters.

Revision ID: 0001
Revises: (none)

Written out rather than imported from gate.decisionlog.store: a revision is a snapshot of
the schema it creates, and must not change when the current schema does.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "decisions",
        sa.Column("id", sa.BigInteger().with_variant(sa.Integer, "sqlite"), primary_key=True),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("evaluated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("subject_reference", sa.Text),
        sa.Column("subject_digest", sa.Text),
        sa.Column("subject_registry", sa.Text),
        sa.Column("subject_repository", sa.Text),
        sa.Column("subject_tag", sa.Text),
        sa.Column("stage", sa.Text, nullable=False),
        sa.Column("decision", sa.String(4), nullable=False),
        sa.Column("advisory", sa.Boolean, nullable=False),
        sa.Column("policy_digest", sa.Text, nullable=False),
        sa.Column("input_sha256", sa.Text, nullable=False),
        sa.Column("engine_name", sa.Text, nullable=False),
        sa.Column("engine_version", sa.Text, nullable=False),
        sa.Column("gate_version", sa.Text, nullable=False),
        sa.Column("source", sa.String(16), nullable=False),
        sa.Column("counts", sa.JSON, nullable=False),
        sa.Column("violation_ids", sa.JSON, nullable=False),
        sa.Column("waivers_applied", sa.JSON, nullable=False),
        sa.Column("verdict_json", sa.Text, nullable=False),
        sqlite_autoincrement=True,
    )
    op.create_index("ix_decisions_recorded_at", "decisions", ["recorded_at"])
    op.create_index("ix_decisions_subject_digest", "decisions", ["subject_digest"])
    op.create_index(
        "ix_decisions_subject",
        "decisions",
        ["subject_registry", "subject_repository", "subject_tag"],
    )
    op.create_index(
        "ix_decisions_stage_decision", "decisions", ["stage", "decision", "recorded_at"]
    )


def downgrade() -> None:
    # gate never downgrades a log (an audit record); kept for alembic's tooling.
    op.drop_table("decisions")
