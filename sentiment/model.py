"""The linear text model: weights trained offline (bench/train_sentiment.py), shipped as JSON."""

from __future__ import annotations

import json
import math
from dataclasses import dataclass
from importlib import resources
from itertools import repeat

from sentiment.features import Features


@dataclass(frozen=True)
class LinearModel:
    """Logistic regression over sparse features: P(negative) = sigmoid(bias + sum(w * x))."""

    language: str
    bias: float
    weights: dict[str, float]

    def probability(self, features: Features) -> float:
        get = self.weights.get
        # Word and bigram features are counts: each occurrence adds its weight once.
        z = self.bias + sum(map(get, features.words, repeat(0.0)))
        z += sum(map(get, features.bigrams, repeat(0.0)))
        for name, value in features.lexicon.items():
            z += get(name, 0.0) * value
        # Split so that exp never overflows, whatever the sum.
        if z >= 0:
            return 1.0 / (1.0 + math.exp(-z))
        e = math.exp(z)
        return e / (1.0 + e)

    @classmethod
    def load(cls, language: str) -> LinearModel:
        """The model shipped for a language; FileNotFoundError if there is none."""
        text = resources.files("sentiment").joinpath(f"models/{language}.json").read_text("utf-8")
        data = json.loads(text)
        return cls(language=data["language"], bias=data["bias"], weights=data["weights"])

    def dumps(self, **about: object) -> str:
        """The shipped form: one JSON object, weights sorted so retraining diffs are readable."""
        weights = {name: round(w, 5) for name, w in sorted(self.weights.items())}
        data = {**about, "language": self.language, "bias": round(self.bias, 5), "weights": weights}
        return json.dumps(data, ensure_ascii=False, indent=0) + "\n"
