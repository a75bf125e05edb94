"""Index for one workflow's runs by time, whatever their status

Before, "one workflow, any status" was a UNION ALL of one index range per status, each
ordered, and its total five counts; this index gives one ordered range instead.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-26
"""

from __future__ import annotations

from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index(
        "ix_runs_workflow_id_started_at_id", "runs", ["workflow_id", "started_at", "id"]
    )


def downgrade() -> None:
    op.drop_index("ix_runs_workflow_id_started_at_id", "runs")
