"""The organisation's taxonomy of themes: the latest one an admin stored, else the file's.

Stored whole, one row per version, so replacing it is one insert and a worker learns of it by
reading one number.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import sqlalchemy as sa
import yaml
from sqlmodel import SQLModel

from app.db.models import TaxonomyRow
from sentiment.themes import TaxonomyError, Themes, parse

_TAXONOMIES = SQLModel.metadata.tables[TaxonomyRow.__tablename__]


@dataclass(frozen=True)
class Taxonomy:
    themes: Themes
    # As written: what an admin reads back and edits.
    document: Mapping[str, Any]
    # "file" (VOC_THEMES_FILE or the shipped one) or "stored" (by an admin).
    source: str


def latest_version(connection: sa.Connection) -> int | None:
    return connection.execute(sa.select(sa.func.max(_TAXONOMIES.c.version))).scalar()


def save(engine: sa.Engine, document: Mapping[str, Any], *, after: Taxonomy, by: str) -> Taxonomy:
    """Store `document` as the organisation's taxonomy, its version one above `after`'s (and
    above any stored); TaxonomyError says what is wrong with it, and nothing is stored."""
    with engine.begin() as connection:
        stored = latest_version(connection) or 0
        version = max(stored, after.themes.version) + 1
        written = {**document, "version": version}
        themes = parse(written)
        connection.execute(
            sa.insert(_TAXONOMIES), {"version": version, "document": written, "saved_by": by}
        )
    return Taxonomy(themes, written, "stored")


class TaxonomyCache:
    """The taxonomy as this process last read it: the stored version is looked at again after
    `ttl_s`, and read whole only when it changed. Other instances' changes show up within
    `ttl_s`; this instance's own at once (`refresh`)."""

    def __init__(self, engine: sa.Engine, fallback: Taxonomy, ttl_s: float = 5.0) -> None:
        self._engine, self._fallback, self._ttl_s = engine, fallback, ttl_s
        self._current = fallback
        self._version: int | None = None
        self._read_at: float | None = None

    def get(self) -> Taxonomy:
        now = time.monotonic()
        if self._read_at is None or now - self._read_at > self._ttl_s:
            self._read_at = now
            self._read()
        return self._current

    def themes(self) -> Themes:
        return self.get().themes

    def refresh(self) -> Taxonomy:
        self._read_at = None
        return self.get()

    def _read(self) -> None:
        with self._engine.connect() as connection:
            version = latest_version(connection)
            if version == self._version:
                return
            if version is None:
                self._current = self._fallback
            else:
                document = connection.execute(
                    sa.select(_TAXONOMIES.c.document).where(_TAXONOMIES.c.version == version)
                ).scalar_one()
                self._current = Taxonomy(parse(document), document, "stored")
            self._version = version


def from_file(path: Path) -> Taxonomy:
    """The taxonomy of a YAML file; TaxonomyError names the file and the problem."""
    try:
        document = yaml.safe_load(path.read_text(encoding="utf-8"))
        return Taxonomy(parse(document), document, "file")
    except (OSError, yaml.YAMLError, TaxonomyError) as exc:
        raise TaxonomyError(f"{path}: {exc}") from exc
