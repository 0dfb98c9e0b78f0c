"""Which language a comment is written in, told offline by CLD2 (compiled into `pycld2`)."""

from __future__ import annotations

import re

import pycld2

# CLD2 refuses C0/C1 control characters (the UCI files hold Windows-1252 dashes decoded as
# U+0096); they carry no language, so they become spaces rather than failing the comment.
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff]")
_UNKNOWN = {"un", "xx", "xxx"}
_WORDS = re.compile(r"[^\W\d_]+")
# Words frequent in one of the languages the scorer reads and absent from the others and from
# Spanish, Portuguese and German: "il", "che", "è" are Italian, "con", "una", "mi" are not
# (Spanish has them too), "le" and "ma" are not French (Italian has them), "per" is English too.
_FUNCTION_WORDS = {
    "en": frozenset(
        [
            "the",
            "and",
            "to",
            "of",
            "is",
            "was",
            "it",
            "i",
            "my",
            "for",
            "with",
            "this",
            "that",
            "you",
            "they",
            "we",
            "are",
            "be",
            "at",
            "have",
            "had",
            "were",
            "from",
            "just",
            "an",
            "or",
            "if",
            "been",
            "will",
            "would",
            "there",
            "their",
            "what",
            "your",
            "our",
            "not",
            "but",
            "because",
            "only",
            "so",
            "all",
            "can",
            "do",
            "did",
            "per",
        ]
    ),
    "fr": frozenset(
        [
            "les",
            "des",
            "du",
            "est",
            "et",
            "je",
            "pas",
            "avec",
            "pour",
            "dans",
            "sur",
            "mon",
            "mes",
            "cette",
            "très",
            "été",
            "une",
            "aux",
            "était",
            "mais",
            "rien",
            "jamais",
            "toujours",
        ]
    ),
    "it": frozenset(
        [
            "il",
            "che",
            "non",
            "è",
            "della",
            "dell",
            "gli",
            "sono",
            "ho",
            "hanno",
            "nel",
            "nella",
            "alla",
            "anche",
            "più",
            "perché",
            "questo",
            "questa",
            "molto",
            "stato",
            "stata",
            "ancora",
            "niente",
            "nessuno",
            "dopo",
            "tutto",
        ]
    ),
}
# One of the English function words as a whole word (between non-letters, as _WORDS splits).
_ENGLISH = re.compile(
    r"(?<![^\W\d_])(?:"
    + "|".join(sorted(_FUNCTION_WORDS["en"], key=len, reverse=True))
    + r")(?![^\W\d_])",
    re.IGNORECASE,
)
# With fewer function words of one language than this (and none of English) CLD2 keeps its answer.
_FUNCTION_WORDS_NEEDED = 1


def primary(tag: str | None) -> str | None:
    """'en' from 'en-GB', 'EN', ' fr_CA '; None for a blank tag."""
    if tag is None or not tag.strip():
        return None
    return re.split(r"[-_]", tag.strip().lower(), maxsplit=1)[0]


def _by_function_words(text: str) -> str | None:
    """The one non-English language whose function words the text holds, if it holds no
    English ones; None when the words do not settle it."""
    # Most comments are English and hold one of its words early: found by one search, before
    # splitting the text into words (which cost the scorer 14 % of its time on every comment).
    if _ENGLISH.search(text):
        return None
    words = set(_WORDS.findall(text.lower()))
    counts = sorted(
        ((len(words & found), code) for code, found in _FUNCTION_WORDS.items() if code != "en"),
        reverse=True,
    )
    (most, code), (second, _) = counts[0], counts[1]
    return code if most >= _FUNCTION_WORDS_NEEDED and most > second else None


def detect(text: str, declared: str | None = None) -> str | None:
    """The comment's language as an ISO 639-1 code, or None when it cannot be told.

    CLD2 is trusted when it says its answer is reliable, except for English: on short texts
    with little evidence CLD2 falls back to English, even "reliably" ("Chat rapida, risposta
    in due minuti"), so an English answer on a text without a single English function word
    and with French or Italian ones goes to that language. Short texts ("Great!", "Never
    again") are rarely reliable: then the language the integrator declared wins, then the
    function words, and failing those CLD2's best guess, which is right for most short
    English and French comments.
    """
    clean = _CONTROL.sub(" ", text)
    reliable, _, details = pycld2.detect(clean)
    code = details[0][1]
    if reliable and code not in _UNKNOWN:
        return (code == "en" and _by_function_words(clean)) or primary(code)
    if declared_code := primary(declared):
        return declared_code
    if by_words := _by_function_words(clean):
        return by_words
    reliable, _, details = pycld2.detect(clean, bestEffort=True)
    code = details[0][1]
    return primary(code) if reliable and code not in _UNKNOWN else None
