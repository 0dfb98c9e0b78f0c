"""What a comment talks about: the themes of a taxonomy file whose phrases it contains.

A taxonomy (YAML, `sentiment/themes.yaml` by default, replaceable per organisation) lists themes,
each with an id, a name per language, an optional parent theme and phrases per language. A phrase
is one to four words, matched on whole words, case and accents ignored; a word ending in `*`
matches any word it begins (`deliver*`: delivery, delivered). The phrases of each language form a
tree of words that a comment is walked through once, the longest phrase winning, so "late
delivery" is delivery rather than punctuality.

A comment often names several themes and complains about one: "you lost my bag and the agent
could not help" is about the bag. For that a theme may also list `hints`, words that name it in
passing (the bag, the crew, the seat), and carry a `weight`; `Themes.primary` picks the theme said
with the most weight, a phrase counting the theme's weight and a hint a quarter of it. Pure: the
file is read by `load`, the matching is `Themes.find` and `Themes.primary`.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

DEFAULT_FILE = Path(__file__).resolve().parent / "themes.yaml"
LANGUAGES = ("en", "fr", "it")
_ID = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
_MIN_PREFIX = 4
# A hint counts a quarter of a phrase of its theme: words said in passing ("my bag") choose
# between themes only where the phrases ("lost my bag", "on hold") do not.
HINT_WEIGHT = 0.25


class TaxonomyError(ValueError):
    """A taxonomy that cannot be used; the message names the theme and the field."""


@dataclass(frozen=True, slots=True)
class Theme:
    id: str
    names: Mapping[str, str]
    parent: str | None
    phrases: Mapping[str, tuple[str, ...]]
    hints: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    weight: float = 1.0


def _fold_table() -> dict[int, str]:
    table: dict[int, str] = {}
    for code in range(0xC0, 0x250):
        char = chr(code)
        base = "".join(
            c for c in unicodedata.normalize("NFKD", char) if not unicodedata.combining(c)
        )
        if base != char and base.isascii():
            table[code] = base.lower()
    table |= {
        ord("œ"): "oe",
        ord("æ"): "ae",
        ord("ß"): "ss",
        ord("'"): " ",
        ord("\u2019"): " ",
        ord("-"): " ",
    }
    return table


_FOLD = _fold_table()


def fold(text: str) -> str:
    """Lower case, accents off, apostrophes and hyphens as spaces: "L'Équipe" reads "l equipe",
    "rendez-vous" reads "rendez vous"."""
    return text.lower().translate(_FOLD)


class _Node:
    """A step of the phrase tree: the words that may come next, exactly or by their start."""

    __slots__ = ("exact", "lengths", "prefix", "theme", "weight")

    def __init__(self) -> None:
        self.exact: dict[str, _Node] = {}
        self.prefix: dict[str, _Node] = {}
        self.lengths: tuple[int, ...] = ()
        self.theme: str | None = None
        self.weight = 0.0

    def add(self, words: list[str], theme: str, weight: float) -> None:
        node = self
        for word in words:
            if word.endswith("*"):
                node = node.prefix.setdefault(word[:-1], _Node())
            else:
                node = node.exact.setdefault(word, _Node())
        if node.theme is None:
            node.theme, node.weight = theme, weight

    def seal(self) -> None:
        self.lengths = tuple(sorted({len(p) for p in self.prefix}, reverse=True))
        for child in (*self.exact.values(), *self.prefix.values()):
            child.seal()

    def after(self, word: str) -> list[_Node]:
        """The nodes this word leads to: its exact entry, and each prefix it begins with."""
        found = [self.exact[word]] if word in self.exact else []
        for length in self.lengths:
            if length <= len(word) and (node := self.prefix.get(word[:length])) is not None:
                found.append(node)
        return found


# What separates words in a comment, besides spaces: any character that is not a letter or a
# digit, from the characters comments are written in (others stay in their word).
_BETWEEN_WORDS = {
    code: " "
    for code in range(0x250)
    if not chr(code).isalnum() and chr(code) != "_" and not chr(code).isspace()
} | {ord(c): " " for c in "\u2018\u2019\u201a\u201c\u201d\u201e\u2013\u2014\u2026\u2022"}
_WORDS = _FOLD | _BETWEEN_WORDS


def words(text: str) -> list[str]:
    """A comment's words, folded: what phrases are matched against (one translation and a
    split, a third of what a regular expression over the text costs)."""
    return text.lower().translate(_WORDS).split()


# Words seen at the root of the tree, with where they lead: most words of most comments are the
# same few thousand, so the root's prefix lookups are done once per word, not once per comment.
_CACHE_MAX = 100_000


class _Matcher:
    """The phrases of one language as a tree of words; a comment is walked once."""

    def __init__(self, phrases: Iterable[tuple[str, str, float]]) -> None:
        self._root = _Node()
        for theme, phrase, weight in phrases:
            self._root.add(fold(phrase).split(), theme, weight)
        self._root.seal()
        self._first: dict[str, list[_Node]] = {}

    def _start(self, word: str) -> list[_Node]:
        found = self._first.get(word)
        if found is None:
            if len(self._first) >= _CACHE_MAX:
                self._first.clear()
            found = self._first[word] = self._root.after(word)
        return found

    def walk(self, words: list[str]) -> Iterator[tuple[str, float, int]]:
        """Each phrase found, as (theme, weight, index of its first word), in order: at each
        word the longest phrase wins, and the words it covers are not read again."""
        first, start, count = self._first, self._start, len(words)
        i = 0
        while i < count:
            # Most words start no phrase: one lookup in the cache of first words, and on.
            frontier = first.get(words[i])
            if frontier is None:
                frontier = start(words[i])
            if not frontier:
                i += 1
                continue
            best, weight, span, depth = None, 0.0, 1, 1
            while frontier:
                for node in frontier:
                    if node.theme is not None:
                        best, weight, span = node.theme, node.weight, depth
                        break
                if i + depth >= count:
                    break
                word = words[i + depth]
                frontier = [n for node in frontier for n in node.after(word)]
                depth += 1
            if best is not None:
                yield best, weight, i
                i += span
            else:
                i += 1

    def weigh(self, words: list[str]) -> dict[str, float]:
        """Themes in order of first mention, each with the weights of its phrases summed."""
        themes: dict[str, float] = {}
        for theme, weight, _ in self.walk(words):
            themes[theme] = themes.get(theme, 0.0) + weight
        return themes


@dataclass(frozen=True)
class Themes:
    """A loaded taxonomy: its themes in file order and a matcher per language."""

    version: int
    themes: tuple[Theme, ...]
    _matchers: Mapping[str | None, _Matcher]

    def find(self, comment: str | None, language: str | None = None) -> tuple[str, ...]:
        """The ids of the themes a comment talks about, in order of first mention. A comment in
        a language the taxonomy has no phrases for is matched against every language's."""
        return tuple(self.weigh(comment, language))

    def weigh(self, comment: str | None, language: str | None = None) -> dict[str, float]:
        """The themes `find` gives, in the same order, each with the weight it is said with:
        the theme's weight per phrase, a quarter of it per hint."""
        if not comment:
            return {}
        matcher = self._matchers.get(language) or self._matchers[None]
        return matcher.weigh(words(comment))

    def locate(self, comment: str, language: str | None = None) -> list[tuple[str, int]]:
        """Each mention of a theme, as (theme, index of its first word among `words(comment)`),
        in order."""
        matcher = self._matchers.get(language) or self._matchers[None]
        return [(theme, at) for theme, _, at in matcher.walk(words(comment))]

    def primary(self, comment: str | None, language: str | None = None) -> str | None:
        """The one theme a comment is mostly about: the one said with the most weight, the first
        mentioned of equals; None when it names no theme."""
        weighed = self.weigh(comment, language)
        return max(weighed, key=weighed.__getitem__) if weighed else None

    def get(self, theme_id: str) -> Theme | None:
        return next((t for t in self.themes if t.id == theme_id), None)


def parse(document: Any) -> Themes:
    """A taxonomy from its parsed YAML; TaxonomyError names what is wrong."""
    if not isinstance(document, Mapping) or not isinstance(document.get("themes"), list):
        raise TaxonomyError("themes: a list of themes is required")
    version = document.get("version", 1)
    if not isinstance(version, int) or isinstance(version, bool):
        raise TaxonomyError("version: an integer")
    themes = [_theme(i, entry) for i, entry in enumerate(document["themes"])]
    ids = [t.id for t in themes]
    for i, theme in enumerate(themes):
        if theme.id in ids[:i]:
            raise TaxonomyError(f"themes.{i}.id: {theme.id!r} is given twice")
        if theme.parent is not None and theme.parent not in ids:
            raise TaxonomyError(f"themes.{i}.parent: no theme {theme.parent!r}")
    matchers: dict[str | None, _Matcher] = {
        language: _Matcher(_weighted(themes, language)) for language in LANGUAGES
    }
    matchers[None] = _Matcher(_weighted(themes, None))
    return Themes(version, tuple(themes), matchers)


def _weighted(themes: list[Theme], language: str | None) -> Iterator[tuple[str, str, float]]:
    """(theme, phrase, weight) of one language, or of every language for None. Every theme's
    phrases come before any theme's hints: where both list the same words, the phrase stays."""
    for hints in (False, True):
        share = HINT_WEIGHT if hints else 1.0
        for theme in themes:
            for lang, phrases in (theme.hints if hints else theme.phrases).items():
                if language is None or lang == language:
                    for phrase in phrases:
                        yield theme.id, phrase, theme.weight * share


def _theme(index: int, entry: Any) -> Theme:
    where = f"themes.{index}"
    if not isinstance(entry, Mapping):
        raise TaxonomyError(f"{where}: a mapping with id, name and phrases")
    theme_id = entry.get("id")
    if not isinstance(theme_id, str) or not _ID.match(theme_id):
        raise TaxonomyError(f"{where}.id: lowercase letters, digits and hyphens, e.g. 'delivery'")
    names = entry.get("name")
    if not isinstance(names, Mapping) or not isinstance(names.get("en"), str):
        raise TaxonomyError(f"{where}.name: a name per language, at least 'en'")
    parent = entry.get("parent")
    if parent is not None and not isinstance(parent, str):
        raise TaxonomyError(f"{where}.parent: a theme id")
    given = entry.get("phrases")
    if not isinstance(given, Mapping) or not given:
        raise TaxonomyError(f"{where}.phrases: phrases per language, e.g. en: [delivery]")
    hints = entry.get("hints", {})
    if not isinstance(hints, Mapping):
        raise TaxonomyError(f"{where}.hints: phrases per language, e.g. en: [parcel]")
    weight = entry.get("weight", 1)
    if isinstance(weight, bool) or not isinstance(weight, int | float) or not 0 < weight <= 100:
        raise TaxonomyError(f"{where}.weight: a number above 0 and at most 100")
    return Theme(
        theme_id,
        {str(k): str(v) for k, v in names.items()},
        parent,
        _phrases(f"{where}.phrases", given),
        _phrases(f"{where}.hints", hints),
        float(weight),
    )


def _phrases(where: str, given: Mapping[Any, Any]) -> dict[str, tuple[str, ...]]:
    phrases: dict[str, tuple[str, ...]] = {}
    for language, listed in given.items():
        if not isinstance(listed, list) or not all(isinstance(p, str) for p in listed):
            raise TaxonomyError(f"{where}.{language}: a list of phrases")
        for phrase in listed:
            _check(f"{where}.{language}", phrase)
        phrases[str(language)] = tuple(listed)
    return phrases


def _check(where: str, phrase: str) -> None:
    words = fold(phrase).split()
    if not 1 <= len(words) <= 4:
        raise TaxonomyError(f"{where}: {phrase!r} is not one to four words")
    for word in words:
        if word.endswith("*") and len(word) - 1 < _MIN_PREFIX:
            raise TaxonomyError(f"{where}: {phrase!r}: at least {_MIN_PREFIX} letters before a '*'")
        if not re.fullmatch(r"\w+\*?", word):
            raise TaxonomyError(f"{where}: {phrase!r}: words only, '*' at a word's end")


def load(path: Path = DEFAULT_FILE) -> Themes:
    """Reads a taxonomy file; TaxonomyError names the file and the problem."""
    try:
        document = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise TaxonomyError(f"{path}: {exc}") from exc
    try:
        return parse(document)
    except TaxonomyError as exc:
        raise TaxonomyError(f"{path}: {exc}") from exc
