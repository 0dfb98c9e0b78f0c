"""What the text side of the sentiment stage concluded about one comment."""

from __future__ import annotations

from typing import NamedTuple


class Reading(NamedTuple):
    """A comment as the scorer read it.

    `sentiment` is None when the comment was not assessed (blank, or a language the scorer does
    not read): not assessed is never neutral, so it stays out of every sentiment mean.
    """

    language: str | None
    sentiment: float | None
    negative_probability: float | None
    negative: bool
    phrases: tuple[str, ...] = ()

    @property
    def assessed(self) -> bool:
        return self.sentiment is not None
