"""Emerging topics: the phrases of a comment, and the phrases said far more this week than in
the four weeks before, named by their longest form and never one a theme catches already."""

from __future__ import annotations

from app.core.emerging import day_counts, emerging
from app.core.writes import Said
from sentiment.phrases import phrases


def test_a_comments_phrases_are_runs_of_up_to_three_words_without_stop_words() -> None:
    assert phrases("The new app keeps crashing since the update!", "en") == {
        "new",
        "app",
        "keeps",
        "crashing",
        "update",
        "new app",
        "app keeps",
        "keeps crashing",
        "new app keeps",
        "app keeps crashing",
    }
    # Folded as the taxonomy folds: accents off, an apostrophe or "à" ends nothing but a word.
    assert phrases("L'appli plante à chaque mise à jour", "fr") == {
        "appli",
        "plante",
        "appli plante",
        "mise",
        "jour",
    }
    assert phrases("La consegna è arrivata in ritardo", "it") == {
        "consegna",
        "arrivata",
        "ritardo",
    }
    assert phrases("Die Lieferung kam zu spät", "de") == frozenset()  # no stop words known


def test_a_comment_counts_once_per_phrase_and_day() -> None:
    said = [
        Said("en", 100, phrases("app crash, app crash again", "en")),
        Said("en", 100, phrases("app crash", "en")),
        Said("fr", 101, phrases("appli plante", "fr")),
    ]
    per_phrase, per_day = day_counts(said)
    assert per_phrase[100, "en", "app crash"] == 2
    assert per_phrase[101, "fr", "appli plante"] == 1
    assert per_day == {(100, "en"): 2, (101, "fr"): 1}


def never(_language: str, _phrase: str) -> bool:
    return False


def test_a_phrase_emerges_when_its_share_jumps_with_enough_comments() -> None:
    week = {("en", "gift wrapping"): 12, ("en", "gift"): 13, ("en", "wrapping"): 12}
    week |= {("en", "queue"): 30, ("en", "rare"): 4}
    before = {("en", "queue"): 110, ("en", "gift"): 2}
    found = emerging(
        week,
        before,
        {"en": 100},
        {"en": 400},
        known=never,
        min_count=10,
        min_lift=3.0,
    )
    # "gift" and "wrapping" are held in "gift wrapping", not said much more on their own;
    # the queue is as talked about as before (30 % now, 27.5 % before); "rare" is too rare.
    assert [(e.phrase, e.comments, e.before) for e in found] == [("gift wrapping", 12, 0)]
    assert found[0].share == 12.0
    assert found[0].lift == 48.0  # 12 % against 1 in 400 (never said: counted once)


def test_a_shorter_phrase_said_clearly_more_on_its_own_stays_and_known_ones_go() -> None:
    week = {("en", "gift wrapping"): 10, ("en", "gift"): 40, ("fr", "emballage cadeau"): 20}
    found = emerging(
        week,
        {},
        {"en": 100, "fr": 50},
        {"en": 100, "fr": 50},
        known=lambda language, phrase: phrase == "emballage cadeau",
        min_count=10,
        min_lift=3.0,
    )
    assert [e.phrase for e in found] == ["gift", "gift wrapping"]
