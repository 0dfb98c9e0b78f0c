"""Comment polarity from TextBlob's pattern lexicon, which ships inside the package."""

from __future__ import annotations

from textblob.sentiments import PatternAnalyzer

# TextBlob's default analyzer, used directly: `TextBlob(text).polarity` gives the same number,
# and calling the analyzer keeps NLTK tokenizers and corpora (which would need a download) out of
# the path. Stateless apart from the lexicon it loads once.
_ANALYZER = PatternAnalyzer()


def comment_polarity(comment: str | None) -> float | None:
    """Polarity in [-1, 1] of an English comment; 0.0 when no lexicon word occurs; None if blank."""
    if comment is None or not comment.strip():
        return None
    return float(_ANALYZER.analyze(comment).polarity)
