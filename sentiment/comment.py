"""Reading one comment: its language, then the language's features and model."""

from __future__ import annotations

from sentiment.features import LANGUAGES, Language, extract
from sentiment.language import detect
from sentiment.model import LinearModel
from sentiment.reading import Reading


class CommentReader:
    """Pure and thread-safe once built: the lexicons and weights load in the constructor."""

    def __init__(self, negative_from: float) -> None:
        """`negative_from`: VOC_SENTIMENT_NEGATIVE_FROM, the probability from which a comment is
        negative."""
        if not 0.0 < negative_from < 1.0:
            raise ValueError(f"negative_from must be between 0 and 1, got {negative_from}")
        self.negative_from = negative_from
        self._readers = {code: (Language.load(code), LinearModel.load(code)) for code in LANGUAGES}

    @property
    def languages(self) -> frozenset[str]:
        return frozenset(self._readers)

    def read(self, comment: str | None, declared_language: str | None = None) -> Reading | None:
        """None for a blank comment; sentiment None for a language without a model."""
        if comment is None or not comment.strip():
            return None
        language = detect(comment, declared_language)
        reader = self._readers.get(language or "")
        if reader is None:
            return Reading(language, sentiment=None, negative_probability=None, negative=False)
        lang, model = reader
        features = extract(comment, lang)
        p = model.probability(features)
        return Reading(
            language=language,
            sentiment=round(1.0 - 2.0 * p, 4),
            negative_probability=round(p, 4),
            negative=p >= self.negative_from,
            phrases=features.phrases,
        )

    def negative_probability(self, text: str, language: str) -> float | None:
        """The model's P(negative) for a piece of a comment already read as `language`; None
        for a language without a model."""
        reader = self._readers.get(language)
        if reader is None:
            return None
        lang, model = reader
        return model.probability(extract(text, lang))
