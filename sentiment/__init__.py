"""The sentiment stage: reads a comment (language, model, phrases) and decides on a callback."""

from sentiment.comment import CommentReader
from sentiment.decision import Decision, decide
from sentiment.scorer import CommentScorer

__all__ = ["CommentReader", "CommentScorer", "Decision", "decide"]
