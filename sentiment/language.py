"""Which language a comment is written in, told offline by CLD2 (compiled into `pycld2`)."""

from __future__ import annotations

import re

import pycld2

# CLD2 refuses C0/C1 control characters (the UCI files hold Windows-1252 dashes decoded as
# U+0096); they carry no language, so they become spaces rather than failing the comment.
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff]")
_UNKNOWN = {"un", "xx", "xxx"}


def primary(tag: str | None) -> str | None:
    """'en' from 'en-GB', 'EN', ' fr_CA '; None for a blank tag."""
    if tag is None or not tag.strip():
        return None
    return re.split(r"[-_]", tag.strip().lower(), maxsplit=1)[0]


def detect(text: str, declared: str | None = None) -> str | None:
    """The comment's language as an ISO 639-1 code, or None when it cannot be told.

    CLD2 is trusted when it says its answer is reliable. Short texts ("Great!", "Never again")
    rarely are: then the language the integrator declared wins, and failing that CLD2's best
    guess, which is right for most short English and French comments.
    """
    clean = _CONTROL.sub(" ", text)
    reliable, _, details = pycld2.detect(clean)
    code = details[0][1]
    if reliable and code not in _UNKNOWN:
        return primary(code)
    if declared_code := primary(declared):
        return declared_code
    reliable, _, details = pycld2.detect(clean, bestEffort=True)
    code = details[0][1]
    return primary(code) if reliable and code not in _UNKNOWN else None
