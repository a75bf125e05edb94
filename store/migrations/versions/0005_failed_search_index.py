"""A second trigram index over the failed runs only (SQLite)

`/runs failed TEXT` is what on-call people type first. With one index over every run, its
total had to be found by checking the text's matches against the failed runs (or the failed
runs against the text): at 1M runs `failed "ref:Müller GmbH"` reads 28k matches of the text to
find its 2k failed runs. This index holds only the runs whose status is `failed` (about 7 % of
runs in the demo data), kept by triggers as runs enter and leave that status, so such a search
reads only failed runs' matches. Its values end as runs_search's do (0003), so short words are
answered from runs_search_terms the same way. PostgreSQL is unchanged: it combines the pg_trgm
indexes with the status index itself.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-02
"""

from __future__ import annotations

from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

TRIGGERS = ("runs_search_failed_insert", "runs_search_failed_update", "runs_search_failed_delete")
# What store/search.py expects after each indexed value (SEARCH_END), as in 0003.
END = "char(1, 1)"


def upgrade() -> None:
    if op.get_bind().dialect.name != "sqlite":
        return
    op.execute(
        "CREATE VIRTUAL TABLE runs_search_failed USING fts5("
        "reference, id, content='', tokenize='trigram', columnsize=0)"
    )
    new = f"new.seq, new.reference || {END}, new.id || {END}"
    old = f"old.seq, old.reference || {END}, old.id || {END}"
    op.execute(
        "CREATE TRIGGER runs_search_failed_insert AFTER INSERT ON runs "
        "WHEN new.status = 'failed' BEGIN "
        f"INSERT INTO runs_search_failed(rowid, reference, id) VALUES ({new}); END"
    )
    # One trigger for both steps, so that the old values always leave before the new come in.
    op.execute(
        "CREATE TRIGGER runs_search_failed_update AFTER UPDATE OF status, reference, id ON runs "
        "WHEN (old.status = 'failed' OR new.status = 'failed') AND NOT ("
        "old.status = new.status AND old.reference = new.reference AND old.id = new.id) BEGIN "
        "INSERT INTO runs_search_failed(runs_search_failed, rowid, reference, id) "
        f"SELECT 'delete', {old} WHERE old.status = 'failed'; "
        "INSERT INTO runs_search_failed(rowid, reference, id) "
        f"SELECT {new} WHERE new.status = 'failed'; END"
    )
    op.execute(
        "CREATE TRIGGER runs_search_failed_delete AFTER DELETE ON runs "
        "WHEN old.status = 'failed' BEGIN "
        "INSERT INTO runs_search_failed(runs_search_failed, rowid, reference, id) "
        f"VALUES ('delete', {old}); END"
    )
    op.execute(
        "INSERT INTO runs_search_failed(rowid, reference, id) "
        f"SELECT seq, reference || {END}, id || {END} FROM runs WHERE status = 'failed'"
    )


def downgrade() -> None:
    if op.get_bind().dialect.name != "sqlite":
        return
    for trigger in TRIGGERS:
        op.execute(f"DROP TRIGGER IF EXISTS {trigger}")
    op.execute("DROP TABLE IF EXISTS runs_search_failed")
