"""Word polarities from the lexicons that ship inside TextBlob, textblob-fr and vaderSentiment.

Read once from the installed packages' data files (no import of their analyzers, no download).
The analyzers themselves are too slow for the hot path (TextBlob about 5,500 comments/s, VADER
22,000 on one core), so the scorer reads their lexicons in its own single pass over the words.
"""

from __future__ import annotations

import importlib.util
import xml.etree.ElementTree as ET
from collections import defaultdict
from functools import cache
from pathlib import Path


def _package_file(package: str, name: str) -> Path:
    # find_spec locates the package without importing it (textblob_fr's __init__ pulls NLTK).
    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError(f"the {package} package is not installed")
    return Path(next(iter(spec.submodule_search_locations))) / name


def _pattern(path: Path) -> dict[str, float]:
    """Pattern's sentiment XML: a word's polarity is the mean over its senses, as TextBlob does."""
    senses: defaultdict[str, list[float]] = defaultdict(list)
    for word in ET.parse(path).getroot().iter("word"):
        form = word.get("form", "").lower()
        if form and " " not in form:
            senses[form].append(float(word.get("polarity", "0")))
    return {form: sum(p) / len(p) for form, p in senses.items() if any(p)}


@cache
def textblob(language: str) -> dict[str, float]:
    """TextBlob's pattern lexicon: polarity in [-1, 1] per word, for 'en' and 'fr'; empty for
    Italian, which has no such lexicon among the installed packages."""
    if language == "en":
        return _pattern(_package_file("textblob", "en/en-sentiment.xml"))
    if language == "fr":
        return _pattern(_package_file("textblob_fr", "fr-sentiment.xml"))
    return {}


@cache
def vader(language: str) -> dict[str, float]:
    """VADER's valences in [-4, 4] per token (English only)."""
    if language != "en":
        return {}
    valences: dict[str, float] = {}
    with _package_file("vaderSentiment", "vader_lexicon.txt").open(encoding="utf-8") as lines:
        for line in lines:
            token, valence, *_ = line.rstrip("\n").split("\t")
            valences[token.lower()] = float(valence)
    return valences


def vader_boosters(language: str) -> dict[str, float]:
    """VADER's intensifiers ("very", "extremely") and dampeners ("kind of", "slightly")."""
    from vaderSentiment.vaderSentiment import BOOSTER_DICT

    return (
        {w: float(v) for w, v in BOOSTER_DICT.items() if " " not in w} if language == "en" else {}
    )


def vader_negators(language: str) -> frozenset[str]:
    from vaderSentiment.vaderSentiment import NEGATE

    return frozenset(NEGATE) if language == "en" else frozenset()
