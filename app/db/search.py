"""Full-text search over comments: the words of a query and the condition each database tests.

The indexes are made by migration 0013: on SQLite an FTS5 table, `responses_search`, whose
tokenizer folds case and accents; on PostgreSQL a GIN index on each comment's text search
vector, read in the configuration of the language the scorer read it as (English, French,
Italian, else `simple`), every configuration folding accents with `unaccent` before stemming.
A comment matches when it holds every word of the query: the same words on PostgreSQL (as
stems, and without stop words such as "the" or "le"), whole words on SQLite.
"""

from __future__ import annotations

import re
import unicodedata

import sqlalchemy as sa
from sqlmodel import SQLModel

from app.db.models import ResponseRow

MAX_QUERY_CHARS = 200
# Letters and digits; anything else separates words, as both databases' tokenizers do.
_WORD = re.compile(r"[^\W_]+")
_SQLITE_TABLE = "responses_search"
# A comment's words are stemmed in its own language; a query's language is unknown, so it is
# read in every configuration and a comment matches if one of them finds all its words there.
_POSTGRES_CONFIGURATIONS = ("voc_english", "voc_french", "voc_italian", "voc_simple")
_RESPONSES = SQLModel.metadata.tables[ResponseRow.__tablename__]
# What PostgreSQL indexes of each comment: the migration's index, and what a query compares.
_DOCUMENT = sa.func.to_tsvector(
    sa.func.voc_search_config(_RESPONSES.c.comment_language),
    sa.func.coalesce(_RESPONSES.c.comment, sa.literal_column("''")),
)
# Declared here, beside the queries that need it, so that the schema the migrations build and the
# tables' metadata agree (Alembic compares them); made by migration 0013, on PostgreSQL only.
sa.Index("ix_responses_comment_search", _DOCUMENT, postgresql_using="gin").ddl_if(
    dialect="postgresql"
)


def words(query: str) -> list[str]:
    """The words searched for; none when the query has no letter or digit."""
    return _WORD.findall(unicodedata.normalize("NFKC", query))


def matches(dialect: str, query: str) -> sa.ColumnElement[bool]:
    """Responses whose comment holds every word of `query` (none if it has no word)."""
    found = words(query)
    if not found:
        return sa.false()
    if dialect == "postgresql":
        return _postgres(found)
    return _sqlite(found)


def _postgres(found: list[str]) -> sa.ColumnElement[bool]:
    text = sa.literal(" ".join(found), sa.Text)
    queries = [
        sa.func.plainto_tsquery(sa.literal_column(f"'{name}'::regconfig"), text)
        for name in _POSTGRES_CONFIGURATIONS
    ]
    either: sa.ColumnElement[object] = queries[0]
    for query in queries[1:]:
        either = either.op("||")(query)
    # The very expression of the index, so the planner can use it.
    return _DOCUMENT.bool_op("@@")(either)


def _sqlite(found: list[str]) -> sa.ColumnElement[bool]:
    # Each word quoted: FTS5 reads a bare AND, OR, NOT or NEAR as an operator. Words hold only
    # letters and digits, so no quote needs escaping; words side by side must all be there.
    expression = " ".join(f'"{word}"' for word in found)
    table = sa.table(_SQLITE_TABLE, sa.column("rowid"))
    matching = (
        sa.select(table.c.rowid)
        .select_from(table)
        .where(sa.literal_column(_SQLITE_TABLE).op("MATCH")(expression))
    )
    return _RESPONSES.c.id.in_(matching)
