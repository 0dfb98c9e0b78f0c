"""The sentiment stage: comment polarity and the dissatisfaction decision behind callbacks."""

from sentiment.decision import Decision, decide
from sentiment.polarity import comment_polarity
from sentiment.scorer import TextBlobScorer

__all__ = ["Decision", "TextBlobScorer", "comment_polarity", "decide"]
