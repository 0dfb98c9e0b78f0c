"""Implicit association test (IAT) of customer orientation: its blocks, its words, and its D score.

The test is the standard 7-block IAT (Greenwald, McGhee & Schwartz 1998), scored with the improved
algorithm of Greenwald, Nosek & Banaji (2003), "Understanding and using the Implicit Association
Test: I. An improved scoring algorithm", JPSP 85(2), 197-216, Table 4. The 7-block form rather
than the brief IAT (Sriram & Greenwald 2009): the 2003 algorithm is defined on it, its two pairs
of combined blocks (3 & 6, 4 & 7) give two D quotients to average (more reliable than one, and
their agreement across employees estimates the test's reliability), and it is the best validated
form. It takes about five minutes. Block 5 has 40 trials rather than 20, which weakens the effect
of which pairing comes first (Nosek, Greenwald & Banaji 2005); which pairing comes first is
still drawn at random per employee (`Design.customer_positive_first`) and the score undoes it.

Only the score leaves the page: the page's script computes it, and this module is the reference
it must match (tests/unit/iat_examples.json holds shared worked examples). The arithmetic is
written as plain loops in a fixed order so that a port adds the same numbers in the same order.

Sign: a positive D means the employee sorts faster when "customer first" shares a key with
"positive" (and "procedure first" with "negative") than in the reverse pairing.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field

from app.core.languages import Language


class Category(StrEnum):
    CUSTOMER_FIRST = "customer_first"
    PROCEDURE_FIRST = "procedure_first"
    POSITIVE = "positive"
    NEGATIVE = "negative"


# A Python constant rather than a YAML file: the kernel reads no file, mypy checks that every
# language has every category, and a few words per category do not need a file of their own.
# Target words are about neutral in tone (no "help" or "solution"), so that the test measures
# how the two ideas are associated with good and bad, not how pleasant the words themselves are.
STIMULI: dict[Language, dict[Category, tuple[str, ...]]] = {
    "en": {
        Category.CUSTOMER_FIRST: ("customer", "request", "need", "listening", "expectation"),
        Category.PROCEDURE_FIRST: ("procedure", "rule", "form", "protocol", "checklist"),
        Category.POSITIVE: ("joy", "love", "peace", "wonderful", "laughter"),
        Category.NEGATIVE: ("anguish", "terrible", "horrible", "nasty", "failure"),
    },
    "fr": {
        Category.CUSTOMER_FIRST: ("client", "demande", "besoin", "écoute", "attente"),
        Category.PROCEDURE_FIRST: ("procédure", "règle", "formulaire", "protocole", "check-list"),
        Category.POSITIVE: ("joie", "amour", "paix", "merveilleux", "rire"),
        Category.NEGATIVE: ("angoisse", "terrible", "horrible", "méchant", "échec"),
    },
    "it": {
        Category.CUSTOMER_FIRST: ("cliente", "richiesta", "bisogno", "ascolto", "aspettativa"),
        Category.PROCEDURE_FIRST: ("procedura", "regola", "modulo", "protocollo", "checklist"),
        Category.POSITIVE: ("gioia", "amore", "pace", "meraviglioso", "risata"),
        Category.NEGATIVE: ("angoscia", "terribile", "orribile", "cattivo", "fallimento"),
    },
}

BLOCKS = 7
# (practice, test) blocks of each pairing: 3 and 4 pair one way, 6 and 7 the other. Block 3 is
# scored against block 6 and block 4 against block 7, each pair with its own SD.
PAIRS = ((3, 6), (4, 7))
COMBINED = (3, 4, 6, 7)
STANDARD_BLOCK_TRIALS = (20, 20, 20, 40, 40, 20, 40)
MAX_BLOCK_TRIALS = 200

SLOW_MS = 10_000
FAST_MS = 300
FAST_PERCENT_MAX = 10
ERROR_PENALTY_MS = 600

BlockTrials = Annotated[int, Field(ge=1, le=MAX_BLOCK_TRIALS)]


class ErrorRule(StrEnum):
    """How an error trial counts.

    BUILT_IN (the default): the page shows the error and waits for the correct answer, and a
    trial's latency runs to that correct answer, so it already holds the time the error cost; D
    uses latencies as recorded. This is the 2003 paper's D for procedures that require correcting
    errors, the form Project Implicit runs. It needs no constant and no extra step, so the page
    and this reference cannot drift apart on it, and it keeps a hurried employee from gaining
    anything by pressing at random.

    D600: for a page that moves on after an error, whose latency is that of the wrong answer. Each
    error latency is replaced by its block's mean of correct latencies + 600 ms.
    """

    BUILT_IN = "built_in"
    D600 = "d600"


class Design(BaseModel):
    """One administration of the test: which pairing comes first, how errors count, and how many
    trials each block presents (block 1 first)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    customer_positive_first: bool
    errors: ErrorRule = ErrorRule.BUILT_IN
    block_trials: tuple[
        BlockTrials, BlockTrials, BlockTrials, BlockTrials, BlockTrials, BlockTrials, BlockTrials
    ] = STANDARD_BLOCK_TRIALS


@dataclass(frozen=True, slots=True)
class Block:
    """What one block asks: the categories sorted with the left key and with the right key."""

    number: int
    left: tuple[Category, ...]
    right: tuple[Category, ...]
    trials: int


def blocks(design: Design) -> tuple[Block, ...]:
    """The seven blocks of a design. Good and bad keep their sides throughout; the two targets
    swap sides in block 5, so that blocks 6 and 7 pair them with the other attribute."""
    if design.customer_positive_first:
        first, second = Category.CUSTOMER_FIRST, Category.PROCEDURE_FIRST
    else:
        first, second = Category.PROCEDURE_FIRST, Category.CUSTOMER_FIRST
    good, bad = Category.POSITIVE, Category.NEGATIVE
    sides = (
        ((first,), (second,)),
        ((good,), (bad,)),
        ((first, good), (second, bad)),
        ((first, good), (second, bad)),
        ((second,), (first,)),
        ((second, good), (first, bad)),
        ((second, good), (first, bad)),
    )
    return tuple(
        Block(number, left, right, design.block_trials[number - 1])
        for number, (left, right) in enumerate(sides, start=1)
    )


@dataclass(frozen=True, slots=True)
class Trial:
    """One sorted word: its block (1-7), the milliseconds from the word to the answer that ended
    the trial, and whether a wrong key was pressed first (or instead, under D600)."""

    block: int
    latency_ms: float
    error: bool = False


def validate_trials(trials: Sequence[Trial], design: Design) -> None:
    """Raise ValueError naming the first problem: a block the design lacks, a latency that is not
    a positive finite number, or a block with more trials than the design presents. A combined
    block (3, 4, 6, 7) must hold all its trials; blocks 1, 2 and 5 are not scored and may be left
    out. Trials over 10 s are valid: the algorithm deletes them."""
    counts = [0] * BLOCKS
    for index, trial in enumerate(trials):
        block = trial.block
        if isinstance(block, bool) or not isinstance(block, int) or not 1 <= block <= BLOCKS:
            raise ValueError(f"trials[{index}]: block {block!r} is not a block of the design (1-7)")
        latency = trial.latency_ms
        if (
            isinstance(latency, bool)
            or not isinstance(latency, int | float)
            or not math.isfinite(latency)
            or latency <= 0
        ):
            raise ValueError(
                f"trials[{index}]: latency_ms must be a positive finite number, got {latency!r}"
            )
        if not isinstance(trial.error, bool):
            raise ValueError(f"trials[{index}]: error must be true or false, got {trial.error!r}")
        counts[block - 1] += 1
    for block, (count, expected) in enumerate(zip(counts, design.block_trials, strict=True), 1):
        if block in COMBINED and count != expected:
            raise ValueError(
                f"block {block} has {count} trials; a combined block must hold all {expected}"
            )
        if count > expected:
            raise ValueError(f"block {block} has {count} trials; the design presents {expected}")


class Exclusion(StrEnum):
    # More than 10 % of the kept trials of blocks 3, 4, 6 and 7 under 300 ms: not reading words.
    TOO_FAST = "too_fast"
    # A combined block has no trial left once those over 10 s are deleted.
    TOO_SLOW = "too_slow"
    # D600 only: a combined block has no correct trial, so no mean to add the penalty to.
    NO_CORRECT_TRIAL = "no_correct_trial"
    # Every latency of a block pair is the same: an SD of 0 leaves D undefined.
    NO_VARIANCE = "no_variance"


class Strength(StrEnum):
    NONE = "none"
    SLIGHT = "slight"
    MODERATE = "moderate"
    STRONG = "strong"


# Project Implicit's conventional cut-offs on |D|, strongest first: at or above the bound.
STRENGTH_FROM: tuple[tuple[float, Strength], ...] = (
    (0.65, Strength.STRONG),
    (0.35, Strength.MODERATE),
    (0.15, Strength.SLIGHT),
)

# English, keyed like the catalogue (the English text is the key); the page words them.
BAND_LABELS: dict[tuple[Strength, Category | None], str] = {
    (Strength.NONE, None): "No automatic preference between the customer and the procedure",
    (Strength.SLIGHT, Category.CUSTOMER_FIRST): "A slight automatic preference for the customer",
    (Strength.MODERATE, Category.CUSTOMER_FIRST): (
        "A moderate automatic preference for the customer"
    ),
    (Strength.STRONG, Category.CUSTOMER_FIRST): "A strong automatic preference for the customer",
    (Strength.SLIGHT, Category.PROCEDURE_FIRST): "A slight automatic preference for the procedure",
    (Strength.MODERATE, Category.PROCEDURE_FIRST): (
        "A moderate automatic preference for the procedure"
    ),
    (Strength.STRONG, Category.PROCEDURE_FIRST): "A strong automatic preference for the procedure",
}


class Band(BaseModel):
    """A plain-language reading of D: how strong, which way (None when none), and its label."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    strength: Strength
    favours: Category | None
    label: str


def band(d: float) -> Band:
    """The band of a D score: |D| < 0.15 none, < 0.35 slight, < 0.65 moderate, else strong."""
    strength = next((s for bound, s in STRENGTH_FROM if abs(d) >= bound), Strength.NONE)
    favours = None
    if strength is not Strength.NONE:
        favours = Category.CUSTOMER_FIRST if d > 0 else Category.PROCEDURE_FIRST
    return Band(strength=strength, favours=favours, label=BAND_LABELS[strength, favours])


class Score(BaseModel):
    """What leaves the page: D, its two block-pair quotients (3 & 6, 4 & 7), its band."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    d: float
    d_practice: float
    d_test: float
    band: Band
    errors: ErrorRule


class Excluded(BaseModel):
    """No score: the algorithm excludes the employee's answers, for this reason."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    reason: Exclusion


def _mean(values: Sequence[float]) -> float:
    total = 0.0
    for value in values:
        total += value
    return total / len(values)


def inclusive_sd(values: Sequence[float]) -> float:
    """The sample SD (n - 1) of all the latencies of a block pair taken together: the 2003
    paper's "pooled" SD. It includes the difference between the two blocks, unlike an SD pooled
    from each block's own, which keeps D finite when each block's latencies are alike."""
    centre = _mean(values)
    squares = 0.0
    for value in values:
        squares += (value - centre) ** 2
    return math.sqrt(squares / (len(values) - 1))


def _block_mean(trials: Sequence[Trial], errors: ErrorRule) -> float:
    if errors is ErrorRule.BUILT_IN:
        return _mean([t.latency_ms for t in trials])
    penalised = _mean([t.latency_ms for t in trials if not t.error]) + ERROR_PENALTY_MS
    return _mean([penalised if t.error else t.latency_ms for t in trials])


def score(trials: Sequence[Trial], design: Design) -> Score | Excluded:
    """The D score of one employee's trials, or why there is none (Table 4 of the 2003 paper).

    1. Use blocks 3, 4, 6 and 7; delete their trials over 10,000 ms.
    2. Exclude when more than 10 % of the trials left are under 300 ms.
    3. Per block pair (3 & 6, 4 & 7), the inclusive SD of its latencies as recorded.
    4. Under D600, replace each error latency by its block's mean of correct latencies + 600 ms.
    5. Per pair, the difference of the block means over its SD; D is the mean of the two.
    Raises ValueError when the trials do not fit the design (`validate_trials`).
    """
    validate_trials(trials, design)
    kept: dict[int, list[Trial]] = {block: [] for block in COMBINED}
    for trial in trials:
        if trial.block in kept and trial.latency_ms <= SLOW_MS:
            kept[trial.block].append(trial)
    counted = fast = 0
    for block_trials in kept.values():
        counted += len(block_trials)
        fast += sum(1 for t in block_trials if t.latency_ms < FAST_MS)
    # In whole numbers, so that a port does not meet 0.1 * n rounded either way.
    if fast * 100 > counted * FAST_PERCENT_MAX:
        return Excluded(reason=Exclusion.TOO_FAST)
    if any(not block_trials for block_trials in kept.values()):
        return Excluded(reason=Exclusion.TOO_SLOW)
    if design.errors is ErrorRule.D600 and any(
        all(t.error for t in block_trials) for block_trials in kept.values()
    ):
        return Excluded(reason=Exclusion.NO_CORRECT_TRIAL)
    # The SD comes before the error replacement, in the paper's order (some software takes it
    # after; only D600 can tell the difference).
    quotients: list[float] = []
    for earlier, later in PAIRS:
        sd = inclusive_sd([t.latency_ms for t in kept[earlier] + kept[later]])
        if sd == 0:
            return Excluded(reason=Exclusion.NO_VARIANCE)
        difference = _block_mean(kept[later], design.errors) - _block_mean(
            kept[earlier], design.errors
        )
        quotients.append(difference / sd)
    # Slower in blocks 6-7 than 3-4 is a positive quotient: faster in the pairing of 3-4.
    sign = 1 if design.customer_positive_first else -1
    # Adding 0.0 turns -0.0 into 0.0, which a page would otherwise print as "-0.00".
    d_practice = sign * quotients[0] + 0.0
    d_test = sign * quotients[1] + 0.0
    d = (d_practice + d_test) / 2 + 0.0
    return Score(d=d, d_practice=d_practice, d_test=d_test, band=band(d), errors=design.errors)
