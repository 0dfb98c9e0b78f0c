"""Train the shipped text models: sentiment/models/en.json, fr.json and it.json. A script.

    python bench/train_sentiment.py [--data ../shared/data]

Every set is split by a CRC-32 of the text (sentiment.evaluation.split): three texts in four
train, the fourth is held out and never read here. English learns from the training part of the
three UCI "Sentiment Labelled Sentences" sets (Kotzias et al., KDD 2015; CC BY 4.0, which allows
shipping derived weights, with attribution) and of bench/data/en_comments.tsv (survey comments
written by the team). French learns from the training part of bench/data/fr_comments.tsv (UCI
translations, CC BY 4.0, and team comments) and fr_team_comments.tsv; Italian likewise from
bench/data/it_comments.tsv and it_team_comments.tsv. The airline tweets
(CC BY-NC-SA) are never read. The regularisation strength is chosen by 5-fold cross-validation
inside the training part, which also prints the precision/recall curve: the test part tunes
nothing.
Needs scikit-learn (a dev dependency); the product reads the weights with the standard library.
"""

from __future__ import annotations

import argparse
import sys
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from sklearn.feature_extraction import DictVectorizer  # noqa: E402
from sklearn.linear_model import LogisticRegression  # noqa: E402
from sklearn.model_selection import StratifiedKFold, cross_val_predict  # noqa: E402

from sentiment.evaluation import (  # noqa: E402
    ENGLISH_FILES,
    FRENCH_FILES,
    ITALIAN_FILES,
    UCI_FILES,
    Labelled,
    measure,
    read_project,
    read_uci,
    split,
)
from sentiment.features import Language, extract  # noqa: E402
from sentiment.model import LinearModel  # noqa: E402

MODELS = ROOT / "sentiment" / "models"
# A word or bigram seen in fewer training comments than this is noise, and dead weight on disk.
MIN_COUNT = 2
STRENGTHS = (0.25, 0.5, 1.0, 2.0, 4.0)
THRESHOLDS = tuple(round(0.05 * i, 2) for i in range(2, 19))
SEED = 0


def features(rows: list[Labelled], language: str) -> list[dict[str, float]]:
    lang = Language.load(language)
    values = [extract(r.text, lang).values for r in rows]
    seen = Counter(name for v in values for name in v)
    # Lexicon features ($...) always stay; rare words go.
    return [
        {n: x for n, x in v.items() if n.startswith("$") or seen[n] >= MIN_COUNT} for v in values
    ]


def train(rows: list[Labelled], language: str, source: str) -> None:
    x_dicts = features(rows, language)
    y = [r.negative for r in rows]
    vectorizer = DictVectorizer()
    x = vectorizer.fit_transform(x_dicts)
    folds = StratifiedKFold(n_splits=5, shuffle=True, random_state=SEED)

    def out_of_fold(c: float) -> list[float]:
        model = LogisticRegression(C=c, max_iter=5000)
        return list(cross_val_predict(model, x, y, cv=folds, method="predict_proba")[:, 1])

    by_strength = {c: out_of_fold(c) for c in STRENGTHS}
    c, probabilities = max(
        by_strength.items(), key=lambda kv: measure([p >= 0.5 for p in kv[1]], y).f1
    )
    print(f"\n{language}: {len(rows)} training comments, {sum(y)} negative; C = {c} by 5-fold CV")
    print("threshold  precision  recall  F1   (negative class, out-of-fold)")
    best = (0.0, 0.5)
    for t in THRESHOLDS:
        m = measure([p >= t for p in probabilities], y)
        print(f"  {t:.2f}      {m.precision:.3f}     {m.recall:.3f}  {m.f1:.3f}")
        best = max(best, (round(m.f1, 3), t))
    print(f"best out-of-fold F1 {best[0]:.3f} at threshold {best[1]:.2f}")
    final = LogisticRegression(C=c, max_iter=5000).fit(x, y)
    names = vectorizer.get_feature_names_out()
    weights = {
        str(n): float(w) for n, w in zip(names, final.coef_[0], strict=True) if abs(w) > 1e-4
    }
    model = LinearModel(language=language, bias=float(final.intercept_[0]), weights=weights)
    path = MODELS / f"{language}.json"
    path.write_text(
        model.dumps(
            trained_on=source,
            training_comments=len(rows),
            regularisation_c=c,
            best_threshold_out_of_fold=best[1],
        ),
        encoding="utf-8",
    )
    print(f"wrote {path.relative_to(ROOT)}: {len(weights)} weights, {path.stat().st_size:,} bytes")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, default=ROOT.parent / "shared" / "data")
    args = parser.parse_args()
    MODELS.mkdir(exist_ok=True)
    english = [r for f in UCI_FILES.values() for r in split(read_uci(args.data / f))[0]]
    english += [r for path in ENGLISH_FILES for r in split(read_project(path))[0]]
    train(
        english,
        "en",
        "UCI Sentiment Labelled Sentences (Kotzias et al., KDD 2015, CC BY 4.0): amazon, yelp, "
        "imdb; bench/data/en_comments.tsv (team); the 3 in 4 not held out by CRC-32",
    )
    french = [r for path in FRENCH_FILES for r in split(read_project(path))[0]]
    train(
        french,
        "fr",
        "bench/data/fr_comments.tsv (UCI translations, CC BY 4.0, and team comments), "
        "bench/data/fr_team_comments.tsv (team); the 3 in 4 not held out by CRC-32",
    )
    italian = [r for path in ITALIAN_FILES for r in split(read_project(path))[0]]
    train(
        italian,
        "it",
        "bench/data/it_comments.tsv (UCI translations, CC BY 4.0, and team comments), "
        "bench/data/it_team_comments.tsv (team); the 3 in 4 not held out by CRC-32",
    )


if __name__ == "__main__":
    main()
