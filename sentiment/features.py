"""One pass over a comment's words: the features the linear model weighs.

Word features are unigrams and bigrams, with the words in a negation's scope marked ("not good"
gives `not`, `!good`, `not !good`), so the model can learn that "not bad" is not "bad".
Lexicon features read TextBlob's and VADER's lexicons with their own rules, simplified: a negated
word counts against its polarity, and around a contrast ("good product but the delivery was a
disaster") the clause before weighs half and the clause after one and a half, as VADER does.
This runs for every comment on the ingest path, so the loop is written for speed: one dict
lookup per word for everything the word means.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from dataclasses import dataclass
from itertools import pairwise

from sentiment import lexicons
from sentiment.complaints import PHRASES

# A word-like token, or a punctuation mark that ends a negation's scope.
_TOKENS = {
    "en": re.compile(r"[a-z0-9]+(?:'[a-z]+)?|[.,;:!?]"),
    # French elides ("n'est", "l'attente", "j'ai"): the apostrophe separates two words.
    "fr": re.compile(r"[^\W_]+|[.,;:!?]"),
    # Italian elides the same way ("l'ho", "c'è", "dell'operatore").
    "it": re.compile(r"[^\W_]+|[.,;:!?]"),
}
_APOSTROPHES = str.maketrans({"\u2019": "'", "\u2018": "'", "`": "'"})
_SCOPE_ENDS = frozenset(".,;:!?")
# Italian inflects by its final vowel ("deluso", "delusa", "delusi") and derives by suffix
# ("rimborso", "rimborsato", "rimborsare"): its word features drop the final vowel and keep the
# first six letters, so that a comment set of this size teaches one weight per word family
# rather than one per form (better out of fold than dropping the vowel alone).
_FOLDED = frozenset(["it"])
_FINAL_VOWELS = frozenset("aeiouàèéìòù")
_STEM_LETTERS = 6

_NEGATORS = {
    "en": frozenset(
        [
            "not",
            "no",
            "never",
            "nothing",
            "nobody",
            "none",
            "neither",
            "nor",
            "cannot",
            "without",
            "hardly",
            "barely",
            "dont",
            "didnt",
            "doesnt",
            "isnt",
            "wasnt",
            "wont",
            "cant",
            "couldnt",
            "wouldnt",
            "shouldnt",
            "aint",
        ]
    ),
    "fr": frozenset(
        ["ne", "n", "pas", "jamais", "rien", "aucun", "aucune", "sans", "ni", "personne", "guère"]
    ),
    "it": frozenset(
        [
            "non",
            "mai",
            "nessuno",
            "nessuna",
            "nessun",
            "niente",
            "nulla",
            "nemmeno",
            "neanche",
            "neppure",
            "né",
            "senza",
        ]
    ),
}
CONTRASTS = {
    "en": frozenset(["but", "however", "though", "yet"]),
    "fr": frozenset(["mais", "cependant", "pourtant", "toutefois", "néanmoins"]),
    "it": frozenset(["ma", "però", "tuttavia", "eppure", "invece"]),
}
# VADER's weights: a negated word keeps 74 % of its valence, turned round; TextBlob's pattern
# analyzer halves it. Before a contrast a clause counts half, after it one and a half.
_VADER_NEGATION = -0.74
_VADER_NEGATION_WINDOW = 3
_TEXTBLOB_NEGATION = -0.5
_BEFORE_CONTRAST = 0.5
_AFTER_CONTRAST = 1.5
_VADER_ALPHA = 15.0

LANGUAGES = frozenset(_TOKENS)


@dataclass(frozen=True, slots=True)
class _Word:
    """Everything one token means to the pass; tokens absent from the table mean nothing."""

    vader: float | None = None
    textblob: float | None = None
    booster: float = 0.0
    negator: bool = False
    contrast: bool = False
    # Complaint phrases starting with this word, longest first, as token tuples.
    phrases: tuple[tuple[str, ...], ...] = ()


@dataclass(frozen=True)
class Language:
    """What the feature pass needs for one language."""

    code: str
    tokens: re.Pattern[str]
    table: dict[str, _Word]
    fold: bool = False

    @classmethod
    def load(cls, code: str) -> Language:
        tokens = _TOKENS[code]
        vader, textblob = lexicons.vader(code), lexicons.textblob(code)
        boosters = lexicons.vader_boosters(code)
        negators = _NEGATORS[code] | lexicons.vader_negators(code)
        # Phrases go through the same tokenizer as comments: "j'attends" is "j attends" in French.
        starting: dict[str, list[tuple[str, ...]]] = {}
        for phrase in PHRASES[code]:
            words = tuple(tokens.findall(phrase.translate(_APOSTROPHES)))
            starting.setdefault(words[0], []).append(words)
        names = vader.keys() | textblob.keys() | boosters.keys() | starting.keys() | negators
        table = {
            name: _Word(
                vader=vader.get(name),
                textblob=textblob.get(name),
                booster=boosters.get(name, 0.0),
                negator=name in negators,
                contrast=name in CONTRASTS[code],
                phrases=tuple(sorted(starting.get(name, ()), key=len, reverse=True)),
            )
            for name in names | CONTRASTS[code]
        }
        return cls(code=code, tokens=tokens, table=table, fold=code in _FOLDED)


@dataclass(frozen=True)
class Features:
    words: list[str]
    bigrams: list[str]
    lexicon: dict[str, float]
    phrases: tuple[str, ...]

    @property
    def values(self) -> dict[str, float]:
        """All features by name with their counts, as the training script fits them."""
        counts: dict[str, float] = dict(Counter(self.words) + Counter(self.bigrams))
        return counts | self.lexicon


def extract(text: str, lang: Language) -> Features:
    """The features of one comment; deterministic, no I/O."""
    lowered = text.lower()
    if "\u2019" in lowered or "\u2018" in lowered or "`" in lowered:
        lowered = lowered.translate(_APOSTROPHES)
    tokens = lang.tokens.findall(lowered)
    table = lang.table
    fold = lang.fold
    words: list[str] = []
    add = words.append
    phrases: list[str] = []
    negated = exclaimed = after_contrast = False
    # The words after the last contrast count apart from those before.
    vader_before = vader_after = 0.0
    blob_before: list[float] = []
    blob_after: list[float] = []
    positive = negative = 0
    # VADER's own rules: a negator up to 3 words back turns a word round; a booster just
    # before it adds or takes away intensity.
    negator_at = -10
    boost = 0.0
    phrase_ends = 0
    for i, token in enumerate(tokens):
        if token in _SCOPE_ENDS:
            negated = False
            exclaimed = exclaimed or token == "!"
            continue
        info = table.get(token)
        if info is None:
            # Most words mean nothing to the lexicons: the short way round.
            if fold:
                token = _fold(token)
            add("!" + token if negated else token)
            boost = 0.0
            if "'" in token and token.endswith("n't"):
                negated = True
                negator_at = i
            continue
        if info.contrast:
            negated = False
            after_contrast = True
            vader_before += vader_after
            vader_after = 0.0
            blob_before += blob_after
            blob_after = []
        word = _fold(token) if fold else token
        add("!" + word if negated else word)
        if info.vader is not None:
            valence = info.vader
            if boost:
                valence += boost if valence > 0 else -boost
            if i - negator_at <= _VADER_NEGATION_WINDOW:
                valence *= _VADER_NEGATION
            vader_after += valence
            if valence < 0:
                negative += 1
            elif valence > 0:
                positive += 1
        if info.textblob is not None:
            blob_after.append(info.textblob * _TEXTBLOB_NEGATION if negated else info.textblob)
        if info.phrases and i >= phrase_ends:
            # Longest first, and never overlapping: "still waiting for" is one phrase, not two.
            for phrase in info.phrases:
                if tuple(tokens[i : i + len(phrase)]) == phrase:
                    phrases.append(" ".join(phrase))
                    phrase_ends = i + len(phrase)
                    break
        boost = info.booster
        if info.negator or ("'" in token and token.endswith("n't")):
            negated = True
            negator_at = i
    if after_contrast:
        vader_sum = _BEFORE_CONTRAST * vader_before + _AFTER_CONTRAST * vader_after
        blob = _BEFORE_CONTRAST * _mean(blob_before) + _AFTER_CONTRAST * _mean(blob_after)
    else:
        vader_sum = vader_after
        blob = _mean(blob_after)
    found = tuple(dict.fromkeys(phrases))
    lexicon = {
        "$vader": vader_sum / math.sqrt(vader_sum * vader_sum + _VADER_ALPHA),
        "$textblob": blob,
        "$lexicon_negative": float(negative),
        "$lexicon_positive": float(positive),
        "$phrases": float(len(found)),
        "$exclamation": float(exclaimed),
    }
    bigrams = [f"{a} {b}" for a, b in pairwise(words)]
    return Features(words=words, bigrams=bigrams, lexicon=lexicon, phrases=found)


def _fold(token: str) -> str:
    """An Italian word's feature name: without its final vowel, at most six letters."""
    if len(token) > 3 and token[-1] in _FINAL_VOWELS:
        token = token[:-1]
    return token[:_STEM_LETTERS]


def _mean(xs: list[float]) -> float:
    return sum(xs) / len(xs) if xs else 0.0
