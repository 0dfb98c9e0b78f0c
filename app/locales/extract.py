"""Collects every message a person reads from the code into `messages.pot`, and adds the new ones
to each language's catalogue (`python -m app.locales.extract`, or `make i18n`).

Messages are found by name: `t("…")`, `tn("…", "…", n)` and `N_("…")` in Python and in the page's
scripts, `phrase("…")` and `phrase_n("…", "…", n)` in Python, and the text or listed attributes of
elements marked `data-i18n` in the page's HTML. A catalogue keeps its translations; a message the
code no longer uses is dropped, a new one is added untranslated, and the unit test
`test_catalogues` names it until someone translates it.
"""

from __future__ import annotations

import re
import sys
from collections.abc import Iterator
from html.parser import HTMLParser
from typing import IO, Any

from babel.messages.catalog import Catalog
from babel.messages.extract import extract, extract_from_dir
from babel.messages.pofile import read_po, write_po

from app.core.i18n import LOCALES, catalogue_path
from app.core.languages import SHIPPED

ROOT = LOCALES.parent.parent
TEMPLATE = LOCALES / "messages.pot"
# phrase()/phrase_n() build a message for another reader to word (app/core/i18n.py).
KEYWORDS: dict[str, Any] = {
    "t": None,
    "tn": (1, 2),
    "N_": None,
    "phrase": None,
    "phrase_n": (1, 2),
}
PYTHON = ("app", "alerts", "sentiment", "ingest")
PAGE = ROOT / "frontend"
# Text attributes an element lists in data-i18n-attrs="aria-label placeholder".
_SPACES = re.compile(r"\s+")


def messages() -> Iterator[tuple[str | tuple[str, ...], str]]:
    """Every message of the code with where it is (`path:line`)."""
    for folder in PYTHON:
        for path, line, message, _, _ in extract_from_dir(
            ROOT / folder, [("**.py", "python")], keywords=KEYWORDS
        ):
            yield message, f"{folder}/{path}:{line}"
    for script in sorted(PAGE.glob("*.js")):
        with script.open("rb") as source:
            for line, message, _, _ in extract(
                "javascript", source, KEYWORDS, options={"parse_template_string": True}
            ):
                yield message, f"frontend/{script.name}:{line}"
    for page in sorted(PAGE.glob("*.html")):
        for line, message in html_messages(page.read_text(encoding="utf-8")):
            yield message, f"frontend/{page.name}:{line}"


def template() -> Catalog:
    catalog = Catalog(project="voc-cockpit", fuzzy=False)
    for message, where in messages():
        path, _, line = where.rpartition(":")
        catalog.add(message, locations=[(path, int(line))])
    return catalog


def update() -> dict[str, list[str]]:
    """Writes the template and updates each catalogue; returns what each still lacks."""
    pot = template()
    with TEMPLATE.open("wb") as out:
        write_po(out, pot, width=100, omit_header=False)
    missing: dict[str, list[str]] = {}
    for language in SHIPPED:
        if language == "en":
            continue
        path = catalogue_path(language)
        if path.exists():
            with path.open("rb") as po:
                catalog = read_po(po, locale=language)
        else:
            catalog = Catalog(locale=language, project="voc-cockpit", fuzzy=False)
        catalog.update(pot, no_fuzzy_matching=True)
        catalog.obsolete.clear()
        with path.open("wb") as out:
            write_po(out, catalog, width=100, ignore_obsolete=True)
        missing[language] = untranslated(catalog)
    return missing


def untranslated(catalog: Catalog) -> list[str]:
    out = []
    for message in catalog:
        if not message.id:
            continue
        strings = message.string if isinstance(message.string, tuple) else (message.string,)
        if message.fuzzy or not all(strings):
            out.append(message.id if isinstance(message.id, str) else message.id[0])
    return out


class _Marked(HTMLParser):
    """The text of each data-i18n element (plain text, no child element) and each attribute
    named in an element's data-i18n-attrs."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.found: list[tuple[int, str]] = []
        self._open: tuple[str, int, list[str]] | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        given = dict(attrs)
        line = self.getpos()[0]
        for name in (given.get("data-i18n-attrs") or "").split():
            if given.get(name):
                self.found.append((line, _text(given[name] or "")))
        if "data-i18n" in given:
            self._open = (tag, line, [])

    def handle_endtag(self, tag: str) -> None:
        if self._open is not None and self._open[0] == tag:
            _, line, parts = self._open
            self.found.append((line, _text("".join(parts))))
            self._open = None

    def handle_data(self, data: str) -> None:
        if self._open is not None:
            self._open[2].append(data)


def _text(raw: str) -> str:
    return _SPACES.sub(" ", raw).strip()


def html_messages(html: str) -> list[tuple[int, str]]:
    parser = _Marked()
    parser.feed(html)
    return [(line, text) for line, text in parser.found if text]


def _write(out: IO[str], missing: dict[str, list[str]]) -> None:
    for language, lacking in missing.items():
        out.write(f"{language}: {len(lacking)} untranslated\n")
        for message in lacking:
            out.write(f"  {message}\n")


if __name__ == "__main__":
    _write(sys.stdout, update())
