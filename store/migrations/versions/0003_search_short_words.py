"""Search index that also answers words of one or two characters (SQLite)

The trigram index of 0001 holds no trigram for a word shorter than three characters, so
such words were a `LIKE` over every row (0.5-0.9 s at 1M runs, and ASCII-only case folding).
Here each indexed value ends with two U+0001 characters: every occurrence of a one- or
two-character word then starts some trigram, so the runs holding it are those matching any
indexed trigram that starts with it, a short range of the index's terms (runs_search_terms).
The table is contentless (content=''): FTS5 never reads the values back, and its triggers
pass the same suffixed values to 'delete' as to insert. PostgreSQL is unchanged (pg_trgm).

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-26
"""

from __future__ import annotations

from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

TRIGGERS = ("runs_search_insert", "runs_search_update", "runs_search_delete")
# What store/queries.py expects after each indexed value: keep the two in step.
END = "char(1, 1)"


def _drop_sqlite_search() -> None:
    for trigger in TRIGGERS:
        op.execute(f"DROP TRIGGER IF EXISTS {trigger}")
    op.execute("DROP TABLE IF EXISTS runs_search_terms")
    op.execute("DROP TABLE IF EXISTS runs_search")


def upgrade() -> None:
    if op.get_bind().dialect.name != "sqlite":
        return
    _drop_sqlite_search()
    op.execute(
        "CREATE VIRTUAL TABLE runs_search USING fts5("
        "reference, id, content='', tokenize='trigram', columnsize=0)"
    )
    op.execute("CREATE VIRTUAL TABLE runs_search_terms USING fts5vocab(runs_search, 'row')")
    values = f"new.seq, new.reference || {END}, new.id || {END}"
    old_values = f"old.seq, old.reference || {END}, old.id || {END}"
    op.execute(
        "CREATE TRIGGER runs_search_insert AFTER INSERT ON runs BEGIN "
        f"INSERT INTO runs_search(rowid, reference, id) VALUES ({values}); END"
    )
    op.execute(
        "CREATE TRIGGER runs_search_update AFTER UPDATE OF reference, id ON runs BEGIN "
        f"INSERT INTO runs_search(runs_search, rowid, reference, id) VALUES ('delete', {old_values}); "
        f"INSERT INTO runs_search(rowid, reference, id) VALUES ({values}); END"
    )
    op.execute(
        "CREATE TRIGGER runs_search_delete AFTER DELETE ON runs BEGIN "
        f"INSERT INTO runs_search(runs_search, rowid, reference, id) VALUES ('delete', {old_values}); "
        "END"
    )
    op.execute(
        "INSERT INTO runs_search(rowid, reference, id) "
        f"SELECT seq, reference || {END}, id || {END} FROM runs"
    )


def downgrade() -> None:
    if op.get_bind().dialect.name != "sqlite":
        return
    _drop_sqlite_search()
    op.execute(
        "CREATE VIRTUAL TABLE runs_search USING fts5("
        "reference, id, content='runs', content_rowid='seq', tokenize='trigram', columnsize=0)"
    )
    op.execute(
        "CREATE TRIGGER runs_search_insert AFTER INSERT ON runs BEGIN "
        "INSERT INTO runs_search(rowid, reference, id) VALUES (new.seq, new.reference, new.id); "
        "END"
    )
    op.execute(
        "CREATE TRIGGER runs_search_update AFTER UPDATE OF reference, id ON runs BEGIN "
        "INSERT INTO runs_search(runs_search, rowid, reference, id) "
        "VALUES ('delete', old.seq, old.reference, old.id); "
        "INSERT INTO runs_search(rowid, reference, id) VALUES (new.seq, new.reference, new.id); "
        "END"
    )
    op.execute(
        "CREATE TRIGGER runs_search_delete AFTER DELETE ON runs BEGIN "
        "INSERT INTO runs_search(runs_search, rowid, reference, id) "
        "VALUES ('delete', old.seq, old.reference, old.id); "
        "END"
    )
    op.execute("INSERT INTO runs_search(runs_search) VALUES ('rebuild')")
