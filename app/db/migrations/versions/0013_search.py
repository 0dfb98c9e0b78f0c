"""full-text search over comments: an FTS5 index on SQLite, a GIN index on PostgreSQL

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-08

SQLite: an external-content FTS5 table over `responses.comment` (accents and case folded by the
`unicode61 remove_diacritics 2` tokenizer), kept by triggers. The batch insert is a raw
executemany (app/db/bulk.py): triggers index each row it inserts in the same statement, and
only the rows it does insert (`INSERT OR IGNORE` skips a stored one), whatever writes the table.
Dropping a table drops its triggers: a later migration that has batch mode recreate `responses`
on SQLite (dropping or altering a column; adding one does not) must create them again.

PostgreSQL: one text search configuration per language the scorer reads (English, French,
Italian, and `simple` for the rest), each folding accents with the `unaccent` extension before
stemming, and a GIN index on the expression `to_tsvector(<the comment's configuration>,
comment)`. An expression index rather than a stored column: no column to keep, nothing added
to the table's rows, and every writer indexed without code of its own (app/db/search.py declares
the index beside the queries that use its expression). Both index the rows already stored. The
downgrade leaves the `unaccent` extension, which a superuser may have created beforehand.
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0013"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# Names the queries in app/db/search.py use.
SQLITE_TABLE = "responses_search"
INDEX = "ix_responses_comment_search"
CONFIGURATIONS = {"english": "english_stem", "french": "french_stem", "italian": "italian_stem"}

SQLITE_UP = [
    f"""CREATE VIRTUAL TABLE {SQLITE_TABLE} USING fts5(
        comment, content='responses', content_rowid='id',
        tokenize='unicode61 remove_diacritics 2')""",
    # Rows without a comment are not indexed: the triggers and the backfill skip them alike, so
    # a delete always removes exactly what was indexed.
    f"""CREATE TRIGGER {SQLITE_TABLE}_insert AFTER INSERT ON responses
        WHEN new.comment IS NOT NULL BEGIN
        INSERT INTO {SQLITE_TABLE}(rowid, comment) VALUES (new.id, new.comment);
        END""",
    f"""CREATE TRIGGER {SQLITE_TABLE}_delete AFTER DELETE ON responses
        WHEN old.comment IS NOT NULL BEGIN
        INSERT INTO {SQLITE_TABLE}({SQLITE_TABLE}, rowid, comment)
        VALUES ('delete', old.id, old.comment);
        END""",
    f"""CREATE TRIGGER {SQLITE_TABLE}_update_old AFTER UPDATE OF comment ON responses
        WHEN old.comment IS NOT NULL BEGIN
        INSERT INTO {SQLITE_TABLE}({SQLITE_TABLE}, rowid, comment)
        VALUES ('delete', old.id, old.comment);
        END""",
    f"""CREATE TRIGGER {SQLITE_TABLE}_update_new AFTER UPDATE OF comment ON responses
        WHEN new.comment IS NOT NULL BEGIN
        INSERT INTO {SQLITE_TABLE}(rowid, comment) VALUES (new.id, new.comment);
        END""",
    f"""INSERT INTO {SQLITE_TABLE}(rowid, comment)
        SELECT id, comment FROM responses WHERE comment IS NOT NULL""",
]


def _postgres_up() -> list[str]:
    # unaccent is a trusted extension (PostgreSQL 13+): the database's owner may create it.
    statements = ["CREATE EXTENSION IF NOT EXISTS unaccent"]
    for language, stemmer in {**CONFIGURATIONS, "simple": "simple"}.items():
        statements += [
            f"CREATE TEXT SEARCH CONFIGURATION voc_{language} (COPY = {language})",
            f"ALTER TEXT SEARCH CONFIGURATION voc_{language} "
            f"ALTER MAPPING FOR hword, hword_part, word WITH unaccent, {stemmer}",
        ]
    statements += [
        """CREATE FUNCTION voc_search_config(language text) RETURNS regconfig
        LANGUAGE sql IMMUTABLE PARALLEL SAFE RETURN CASE language
            WHEN 'en' THEN 'voc_english'::regconfig
            WHEN 'fr' THEN 'voc_french'::regconfig
            WHEN 'it' THEN 'voc_italian'::regconfig
            ELSE 'voc_simple'::regconfig END""",
        f"""CREATE INDEX {INDEX} ON responses USING gin
        (to_tsvector(voc_search_config(comment_language), coalesce(comment, '')))""",
    ]
    return statements


def upgrade() -> None:
    postgres = op.get_bind().dialect.name == "postgresql"
    for statement in _postgres_up() if postgres else SQLITE_UP:
        op.execute(statement)


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        op.execute(f"DROP INDEX {INDEX}")
        op.execute("DROP FUNCTION voc_search_config(text)")
        for language in [*CONFIGURATIONS, "simple"]:
            op.execute(f"DROP TEXT SEARCH CONFIGURATION voc_{language}")
        return
    for suffix in ("insert", "delete", "update_old", "update_new"):
        op.execute(f"DROP TRIGGER IF EXISTS {SQLITE_TABLE}_{suffix}")
    op.execute(f"DROP TABLE {SQLITE_TABLE}")
