from __future__ import annotations

import json
import math
import statistics
from pathlib import Path
from typing import Any

import pytest

from app.core.iat import (
    STANDARD_BLOCK_TRIALS,
    STIMULI,
    Category,
    Design,
    ErrorRule,
    Excluded,
    Exclusion,
    Score,
    Strength,
    Trial,
    band,
    blocks,
    inclusive_sd,
    score,
    validate_trials,
)
from app.core.languages import SHIPPED

EXAMPLES = json.loads((Path(__file__).parent / "iat_examples.json").read_text(encoding="utf-8"))
# Two trials in each combined block: small enough to work out by hand.
SMALL = (1, 1, 2, 2, 1, 2, 2)


def trials(block: int, *latencies: float, errors: tuple[int, ...] = ()) -> list[Trial]:
    return [Trial(block, latency, i in errors) for i, latency in enumerate(latencies)]


def design(
    counts: tuple[int, ...] = SMALL,
    *,
    customer_positive_first: bool = True,
    errors: ErrorRule = ErrorRule.BUILT_IN,
) -> Design:
    return Design.model_validate(
        {
            "customer_positive_first": customer_positive_first,
            "errors": errors,
            "block_trials": counts,
        }
    )


def scored(result: Score | Excluded) -> Score:
    assert isinstance(result, Score), result
    return result


# Blocks 3-4 pair "customer first" with "positive", blocks 6-7 the reverse.
HAND = trials(3, 600, 800) + trials(4, 500, 700) + trials(6, 900, 1100) + trials(7, 700, 900)


def test_hand_computed_small_case() -> None:
    # Pair 3 & 6: B3 600, 800 -> mean 700; B6 900, 1100 -> mean 1000.
    #   Inclusive SD of 600, 800, 900, 1100: mean 850, deviations -250, -50, 50, 250,
    #   squares 62500 + 2500 + 2500 + 62500 = 130000, / (4 - 1) -> SD = sqrt(130000 / 3) = 208.17.
    #   Quotient (1000 - 700) / 208.17 = 3 * sqrt(3 / 13) = 1.4412.
    # Pair 4 & 7: B4 500, 700 -> 600; B7 700, 900 -> 800.
    #   Deviations from 700: -200, 0, 0, 200; squares 80000 / 3 -> SD = 163.30.
    #   Quotient 200 / 163.30 = sqrt(6) / 2 = 1.2247.
    # D = (1.4412 + 1.2247) / 2 = 1.3329.
    result = scored(score(HAND, design()))

    assert result.d_practice == pytest.approx(3 * math.sqrt(3 / 13), abs=1e-12)
    assert result.d_test == pytest.approx(math.sqrt(6) / 2, abs=1e-12)
    assert result.d == pytest.approx(1.332949127819, abs=1e-12)
    assert result.band.strength is Strength.STRONG
    assert result.band.favours is Category.CUSTOMER_FIRST


def test_positive_d_means_faster_when_customer_first_pairs_with_positive() -> None:
    # The same latencies, faster in blocks 3-4; only which pairing those blocks held differs.
    customer_first = scored(score(HAND, design(customer_positive_first=True)))
    procedure_first = scored(score(HAND, design(customer_positive_first=False)))

    assert customer_first.d > 0
    assert procedure_first.d == -customer_first.d
    assert procedure_first.band.favours is Category.PROCEDURE_FIRST


def test_trials_over_10_seconds_are_deleted_and_10_seconds_is_kept() -> None:
    counts = (1, 1, 2, 2, 1, 2, 3)
    deleted = scored(score([*HAND, Trial(7, 12_000)], design(counts)))
    kept = scored(score([*HAND, Trial(7, 10_000)], design(counts)))

    assert deleted.d == scored(score(HAND, design())).d
    # Kept, the 10 s trial moves block 7's mean by 3,067 ms but widens the SD even more, so one
    # lapse of attention drags D from 1.22 to 0.78: why the paper deletes longer ones.
    pair = [500, 700, 700, 900, 10_000]
    expected = (statistics.mean(pair[2:]) - 600) / statistics.stdev(pair)
    assert kept.d_test == pytest.approx(expected, abs=1e-12)
    assert kept.d_test == pytest.approx(0.784975, abs=1e-6)


QUICK = [250, 600, 650, 700, 750]
SLOW = [800, 850, 900, 950, 1000]
FIVE = (1, 1, 5, 5, 1, 5, 5)


def test_exactly_10_percent_of_trials_under_300_ms_is_scored() -> None:
    # 2 of 20 trials under 300 ms: 10 %, not more. Each pair: means 590 and 900; deviations from
    # 745 square to 422250 in all, so SD = sqrt(422250 / 9) = 216.60 and D = 310 / 216.60.
    result = score(
        trials(3, *QUICK) + trials(4, *QUICK) + trials(6, *SLOW) + trials(7, *SLOW), design(FIVE)
    )

    assert scored(result).d == pytest.approx(930 / math.sqrt(422250), abs=1e-12)


def test_more_than_10_percent_of_trials_under_300_ms_excludes() -> None:
    fast_b4 = [250, 290, 650, 700, 750]
    result = score(
        trials(3, *QUICK) + trials(4, *fast_b4) + trials(6, *SLOW) + trials(7, *SLOW), design(FIVE)
    )

    assert result == Excluded(reason=Exclusion.TOO_FAST)


def test_the_300_ms_share_counts_the_trials_left_after_deleting_slow_ones() -> None:
    # 2 fast trials of 20 are scored (above); with one of the 20 over 10 s and deleted first,
    # 2 of the 19 left is 10.5 %: excluded.
    slow_b7 = [800, 850, 900, 950, 11_000]
    result = score(
        trials(3, *QUICK) + trials(4, *QUICK) + trials(6, *SLOW) + trials(7, *slow_b7), design(FIVE)
    )

    assert result == Excluded(reason=Exclusion.TOO_FAST)


PENALTY = (
    trials(3, 600, 800, 400, errors=(2,))
    + trials(4, 500, 700, 600)
    + trials(6, 900, 1100, 1000)
    + trials(7, 700, 900, 800)
)
THREE = (1, 1, 3, 3, 1, 3, 3)


def test_d600_replaces_an_error_by_the_blocks_correct_mean_plus_600_ms() -> None:
    # B3: correct 600 and 800 -> mean 700; the error (400 ms) counts 700 + 600 = 1300, so the
    #   block mean is (600 + 800 + 1300) / 3 = 900. B6 mean 1000.
    # SD of pair 3 & 6 on the latencies as recorded (600, 800, 400, 900, 1100, 1000): mean 800,
    #   squares 40000 + 0 + 160000 + 10000 + 90000 + 40000 = 340000, / 5 -> sqrt(68000) = 260.77.
    #   Quotient (1000 - 900) / 260.77 = 0.3835.
    # Pair 4 & 7: means 600 and 800, squares 100000 / 5 -> sqrt(20000); quotient sqrt(2).
    result = scored(score(PENALTY, design(THREE, errors=ErrorRule.D600)))

    assert result.d_practice == pytest.approx(100 / math.sqrt(68000), abs=1e-12)
    assert result.d_test == pytest.approx(math.sqrt(2), abs=1e-12)
    assert result.d == pytest.approx(0.898848, abs=1e-6)
    assert result.errors is ErrorRule.D600


def test_the_built_in_rule_takes_an_error_latency_as_recorded() -> None:
    # The page waited for the correct key, so the recorded latency already holds the penalty:
    # B3 mean (600 + 800 + 400) / 3 = 600, quotient (1000 - 600) / sqrt(68000).
    built_in = scored(score(PENALTY, design(THREE)))
    unmarked = [Trial(t.block, t.latency_ms) for t in PENALTY]

    assert built_in.d_practice == pytest.approx(400 / math.sqrt(68000), abs=1e-12)
    assert scored(score(unmarked, design(THREE))) == built_in
    assert design().errors is ErrorRule.BUILT_IN


def test_d600_without_a_correct_trial_in_a_block_excludes() -> None:
    hand = [Trial(t.block, t.latency_ms, error=t.block == 6) for t in HAND]

    assert score(hand, design(errors=ErrorRule.D600)) == Excluded(reason=Exclusion.NO_CORRECT_TRIAL)
    assert isinstance(score(hand, design()), Score)


def test_the_inclusive_sd_of_a_pair_is_not_an_sd_pooled_from_each_block() -> None:
    # B3 600, 800 and B6 900, 1100: each block's own SD is sqrt(20000) = 141.42, so an SD pooled
    # within blocks is 141.42 and would give 300 / 141.42 = 2.12. The inclusive SD takes all four
    # latencies around their common mean 850: sqrt(130000 / 3) = 208.17, and D 1.44.
    within = math.sqrt((inclusive_sd([600, 800]) ** 2 + inclusive_sd([900, 1100]) ** 2) / 2)

    assert within == pytest.approx(math.sqrt(20000))
    assert inclusive_sd([600, 800, 900, 1100]) == pytest.approx(math.sqrt(130000 / 3))
    assert scored(score(HAND, design())).d_practice == pytest.approx(300 / math.sqrt(130000 / 3))
    assert scored(score(HAND, design())).d_practice != pytest.approx(300 / within)


def test_blocks_of_alike_latencies_still_have_a_finite_d() -> None:
    # Within each block every latency is the same (a per-block SD of 0); the inclusive SD is not.
    result = scored(
        score(
            trials(3, 600, 600) + trials(4, 600, 600) + trials(6, 900, 900) + trials(7, 900, 900),
            design(),
        )
    )

    # Deviations +-150 four times: SD = sqrt(90000 / 3); D = 300 / SD = sqrt(3).
    assert result.d == pytest.approx(math.sqrt(3))


def test_symmetric_data_scores_zero() -> None:
    same = trials(3, 600, 800) + trials(4, 500, 700) + trials(6, 600, 800) + trials(7, 500, 700)

    for first in (True, False):
        result = scored(score(same, design(customer_positive_first=first)))
        assert (result.d, result.band.strength, result.band.favours) == (0.0, Strength.NONE, None)
        assert math.copysign(1.0, result.d) == 1.0


def test_all_latencies_equal_excludes_for_no_variance() -> None:
    alike = [Trial(block, 700) for block in (3, 3, 4, 4, 6, 6, 7, 7)]

    assert score(alike, design()) == Excluded(reason=Exclusion.NO_VARIANCE)


def test_a_block_of_only_slow_trials_excludes() -> None:
    slow = trials(3, 11_000, 12_000) + [t for t in HAND if t.block != 3]

    assert score(slow, design()) == Excluded(reason=Exclusion.TOO_SLOW)


def test_practice_blocks_are_not_scored() -> None:
    practice = trials(1, 300) + trials(2, 9_000) + trials(5, 450)

    assert score([*practice, *HAND], design()) == score(HAND, design())


@pytest.mark.parametrize(
    ("d", "strength", "favours"),
    [
        (0.0, Strength.NONE, None),
        (0.149, Strength.NONE, None),
        (-0.149, Strength.NONE, None),
        (0.15, Strength.SLIGHT, Category.CUSTOMER_FIRST),
        (-0.15, Strength.SLIGHT, Category.PROCEDURE_FIRST),
        (0.349, Strength.SLIGHT, Category.CUSTOMER_FIRST),
        (0.35, Strength.MODERATE, Category.CUSTOMER_FIRST),
        (-0.649, Strength.MODERATE, Category.PROCEDURE_FIRST),
        (0.65, Strength.STRONG, Category.CUSTOMER_FIRST),
        (-1.8, Strength.STRONG, Category.PROCEDURE_FIRST),
    ],
)
def test_bands_follow_the_conventional_cut_offs(
    d: float, strength: Strength, favours: Category | None
) -> None:
    result = band(d)

    assert (result.strength, result.favours) == (strength, favours)
    assert result.label


def test_every_band_has_its_own_english_label() -> None:
    labels = {band(d).label for d in (0, 0.2, 0.5, 1, -0.2, -0.5, -1)}

    assert len(labels) == 7
    assert band(-0.5).label == "A moderate automatic preference for the procedure"


@pytest.mark.parametrize("example", EXAMPLES["examples"], ids=lambda e: e["name"])
def test_shared_worked_examples(example: dict[str, Any]) -> None:
    given = Design.model_validate(example["design"])
    result = score([Trial(**t) for t in example["trials"]], given)
    expected = example["expected"]

    if "excluded" in expected:
        assert result == Excluded(reason=Exclusion(expected["excluded"]))
        return
    result = scored(result)
    for name in ("d", "d_practice", "d_test"):
        assert getattr(result, name) == pytest.approx(expected[name], abs=1e-9), name
    assert result.band.strength == expected["strength"]
    assert result.band.favours == expected["favours"]


@pytest.mark.parametrize(
    ("bad", "message"),
    [
        ([*HAND, Trial(8, 600)], r"trials\[8\]: block 8 is not a block of the design"),
        ([*HAND, Trial(0, 600)], r"trials\[8\]: block 0 is not"),
        ([Trial(3, -5), *HAND[1:]], r"trials\[0\]: latency_ms must be a positive finite number"),
        ([Trial(3, 0), *HAND[1:]], r"trials\[0\]: latency_ms .* got 0"),
        ([Trial(3, math.nan), *HAND[1:]], r"got nan"),
        ([Trial(3, math.inf), *HAND[1:]], r"got inf"),
        ([Trial(3, 600, "no"), *HAND[1:]], r"trials\[0\]: error must be true or false"),  # type: ignore[arg-type]
        (HAND[1:], r"block 3 has 1 trials; a combined block must hold all 2"),
        ([*HAND, Trial(4, 600)], r"block 4 has 3 trials; a combined block must hold all 2"),
        ([*HAND, Trial(1, 600), Trial(1, 700)], r"block 1 has 2 trials; the design presents 1"),
        ([], r"block 3 has 0 trials"),
    ],
)
def test_trials_that_do_not_fit_the_design_are_refused(bad: list[Trial], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        validate_trials(bad, design())
    with pytest.raises(ValueError, match=message):
        score(bad, design())


def test_a_design_has_seven_blocks_of_1_to_200_trials() -> None:
    assert Design(customer_positive_first=True).block_trials == STANDARD_BLOCK_TRIALS
    for counts in [
        (20,) * 6,
        (20,) * 8,
        (20, 20, 0, 40, 40, 20, 40),
        (20, 20, 20, 201, 40, 20, 40),
    ]:
        with pytest.raises(ValueError):
            design(counts)


def test_blocks_pair_customer_first_with_positive_in_3_and_4_or_in_6_and_7() -> None:
    first = blocks(Design(customer_positive_first=True))
    reverse = blocks(Design(customer_positive_first=False))

    assert [b.number for b in first] == [1, 2, 3, 4, 5, 6, 7]
    assert [b.trials for b in first] == list(STANDARD_BLOCK_TRIALS)
    assert first[2].left == first[3].left == (Category.CUSTOMER_FIRST, Category.POSITIVE)
    assert first[5].left == first[6].left == (Category.PROCEDURE_FIRST, Category.POSITIVE)
    assert reverse[2].left == (Category.PROCEDURE_FIRST, Category.POSITIVE)
    assert reverse[5].right == (Category.PROCEDURE_FIRST, Category.NEGATIVE)
    # Good and bad never change sides; the targets swap in block 5.
    assert all(Category.NEGATIVE not in b.left for b in first)
    assert first[4].left == first[0].right


def test_stimuli_cover_every_language_and_category_with_balanced_distinct_words() -> None:
    assert set(STIMULI) == set(SHIPPED)
    for language, words in STIMULI.items():
        assert set(words) == set(Category), language
        assert len({len(w) for w in words.values()}) == 1, language
        every = [word for category in words.values() for word in category]
        assert len(every) == len(set(every)), language
        assert all(3 <= len(w) <= 5 for w in words.values()), language


def test_a_full_standard_session_is_scored() -> None:
    # 220 trials; blocks 3-4 (customer first with positive) 100 ms faster than 6-7, same spread.
    spread = [-300, -100, 100, 300]
    session = [
        Trial(number, (700 if number in (3, 4) else 800) + spread[i % 4], error=i == 5)
        for number, count in enumerate(STANDARD_BLOCK_TRIALS, start=1)
        for i in range(count)
    ]
    result = scored(score(session, Design(customer_positive_first=True)))

    # Block 3 against block 6: the SD of their 40 latencies together, the statistics module's.
    practice = [700 + s for s in spread] * 5 + [800 + s for s in spread] * 5
    assert result.d_practice == pytest.approx(100 / statistics.stdev(practice), abs=1e-12)
    assert result.band.strength is Strength.MODERATE
