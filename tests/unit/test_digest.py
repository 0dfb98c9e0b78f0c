"""The daily digest's pure parts: who gets it, when it is due across timezones and clock changes,
which touchpoint broke the corridor, and its words in plain text and HTML."""

from __future__ import annotations

import dataclasses
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from alerts.digest import (
    AlertCounts,
    Broken,
    Comment,
    Digest,
    Nps,
    broken_touchpoint,
    day_bounds,
    due_day,
    hour_span,
    known_timezone,
    render,
    reported_day,
    response_link,
    scope_label,
    wants_digest,
    zone,
)
from app.core.access import Role
from app.core.barometer import Counts
from app.core.i18n import texts

PARIS = ZoneInfo("Europe/Paris")
JOURNEY = ["purchase", "delivery", "installation", "billing"]


def _counts(promoters: int = 0, passives: int = 0, detractors: int = 0) -> Counts:
    total = promoters + passives + detractors
    return Counts(responses=total, promoters=promoters, passives=passives, detractors=detractors)


def _digest(**changes: object) -> Digest:
    digest = Digest(
        display_name="Nora North",
        email="nora@example.com",
        scope=("North",),
        day=date(2026, 12, 6),
        hour=7,
        timezone="Europe/Paris",
        nps_day=Nps(10.0, 10, 5, 4),
        nps_week=Nps(42.1, 19, 13, 5),
        alerts=AlertCounts(opened=2, closed=1, overdue=3),
        praise=2,
        broken=Broken("delivery", Nps(-33.3, 6, 2, 4), Nps(33.3, 15, 10, 5)),
        comments=(
            Comment(
                "worst",
                "r-1",
                "Store 2",
                "delivery",
                "nps",
                0,
                "Still waiting for the engineer.",
                "https://cockpit.example.com/?response=r-1",
            ),
            Comment("best", "r-2", "Store 1", "delivery", "nps", 10, "Friendly driver.", None),
        ),
        cockpit="https://cockpit.example.com/",
    )
    return dataclasses.replace(digest, **changes)  # type: ignore[arg-type]


# Who gets it


@pytest.mark.parametrize(
    ("role", "choice", "gets"),
    [
        (Role.MANAGER, None, True),
        (Role.ADMIN, None, True),
        (Role.FRONTLINE, None, False),
        (Role.FRONTLINE, True, True),
        (Role.MANAGER, False, False),
        ("frontline", False, False),
    ],
)
def test_managers_get_it_by_default_and_frontline_staff_once_they_opt_in(
    role: Role | str, choice: bool | None, gets: bool
) -> None:
    assert wants_digest(role, choice) is gets


# When it is due


@pytest.mark.parametrize(
    ("tz", "hour", "due"),
    [
        ("Europe/Paris", 7, date(2026, 12, 7)),  # 07:30 there
        ("Europe/Paris", 8, None),
        ("America/New_York", 7, None),  # 01:30 there
        ("Asia/Tokyo", 7, date(2026, 12, 7)),  # 15:30
        ("Pacific/Auckland", 7, date(2026, 12, 7)),  # 19:30, summer time (UTC+13)
        # 20:30 on the 6th: that day's digest, claimed at 07:00 there if it went out.
        ("Pacific/Honolulu", 7, date(2026, 12, 6)),
        ("Asia/Kathmandu", 12, date(2026, 12, 7)),  # 12:15 (UTC+5:45)
        ("Asia/Kathmandu", 13, None),
    ],
)
def test_a_digest_is_due_once_the_users_local_hour_is_reached(
    tz: str, hour: int, due: date | None
) -> None:
    now = datetime(2026, 12, 7, 6, 30, tzinfo=UTC)
    assert due_day(now, ZoneInfo(tz), hour) == due


def test_an_hour_skipped_by_summer_time_is_reached_at_the_next_hour() -> None:
    # Paris, 29 March 2026: 01:59 is followed by 03:00.
    before = datetime(2026, 3, 29, 0, 59, tzinfo=UTC)  # 01:59 CET
    after = datetime(2026, 3, 29, 1, 0, tzinfo=UTC)  # 03:00 CEST
    assert due_day(before, PARIS, 2) is None
    assert due_day(after, PARIS, 2) == date(2026, 3, 29)


def test_an_hour_lived_twice_when_clocks_go_back_is_due_from_its_first_time() -> None:
    # Paris, 25 October 2026: 02:00 to 02:59 happen twice. Both say the same day, so the day's
    # claim (one per user and day) keeps the second from sending again.
    first = datetime(2026, 10, 25, 0, 0, tzinfo=UTC)  # 02:00 CEST
    second = datetime(2026, 10, 25, 1, 0, tzinfo=UTC)  # 02:00 CET
    assert due_day(first - timedelta(minutes=1), PARIS, 2) is None
    assert due_day(first, PARIS, 2) == due_day(second, PARIS, 2) == date(2026, 10, 25)


def test_a_digest_reports_the_local_day_before_with_its_true_length() -> None:
    assert reported_day(date(2026, 3, 30)) == date(2026, 3, 29)
    start, end = day_bounds(date(2026, 3, 29), PARIS)
    assert (start, end - start) == (datetime(2026, 3, 28, 23, 0, tzinfo=UTC), timedelta(hours=23))
    start, end = day_bounds(date(2026, 10, 25), PARIS)
    assert (start, end - start) == (datetime(2026, 10, 24, 22, 0, tzinfo=UTC), timedelta(hours=25))


def test_a_day_in_aggregate_hours_starts_at_the_utc_hour_holding_local_midnight() -> None:
    start, end = day_bounds(date(2026, 12, 6), ZoneInfo("Asia/Kathmandu"))
    assert start == datetime(2026, 12, 5, 18, 15, tzinfo=UTC)
    first, until = hour_span(start, end)
    assert first * 3600 == datetime(2026, 12, 5, 18, 0, tzinfo=UTC).timestamp()
    assert until - first == 24


def test_the_users_timezone_wins_and_the_organisations_stands_in() -> None:
    assert zone("Asia/Tokyo", "Europe/Paris").key == "Asia/Tokyo"
    assert zone(None, "Europe/Paris").key == "Europe/Paris"
    assert zone("Mars/Olympus_Mons", "Europe/Paris").key == "Europe/Paris"
    assert known_timezone("America/Sao_Paulo") == "America/Sao_Paulo"
    with pytest.raises(ValueError, match="unknown IANA timezone 'Mars/Olympus_Mons'"):
        known_timezone("Mars/Olympus_Mons")
    with pytest.raises(ValueError, match="unknown IANA timezone"):
        known_timezone("../../etc/passwd")


# The corridor


def test_the_corridor_broke_where_nps_fell_furthest_below_its_week_on_enough_answers() -> None:
    day = {
        "purchase": _counts(promoters=3, detractors=3),  # 0, week +50: fell 50
        "delivery": _counts(promoters=1, detractors=5),  # -67, week +20: fell 87
        "billing": _counts(detractors=4),  # -100, but 4 answers only
        "returns": _counts(detractors=9),  # not a step of the journey
    }
    week = {
        "purchase": _counts(promoters=15, passives=5, detractors=5),
        "delivery": _counts(promoters=20, passives=10, detractors=10),
        "billing": _counts(promoters=20, detractors=4),
        "returns": _counts(promoters=20, detractors=9),
    }
    broken = broken_touchpoint(day, week, JOURNEY)
    assert broken is not None
    assert (broken.touchpoint, broken.day.value, broken.day.answers) == ("delivery", -66.7, 6)
    assert (broken.week.value, broken.week.answers) == (25.0, 40)


def test_a_small_fall_breaks_nothing_and_equal_falls_name_the_earlier_step() -> None:
    steady = {"purchase": _counts(promoters=5, detractors=1)}
    assert (
        broken_touchpoint(steady, {"purchase": _counts(promoters=50, detractors=15)}, JOURNEY)
        is None
    )
    day = {"billing": _counts(detractors=5), "delivery": _counts(detractors=5)}
    week = {
        "billing": _counts(promoters=5, detractors=5),
        "delivery": _counts(promoters=5, detractors=5),
    }
    broken = broken_touchpoint(day, week, JOURNEY)
    assert broken is not None and broken.touchpoint == "delivery"


# Links and labels


def test_a_comment_links_to_the_cockpit_only_with_a_public_url() -> None:
    assert response_link("https://cockpit.example.com/", "r-1") == (
        "https://cockpit.example.com/?response=r-1"
    )
    assert (
        response_link("https://c.example", "a&b=c#d") == "https://c.example/?response=a%26b%3Dc%23d"
    )
    assert response_link(None, "r-1") is None


def test_the_scope_is_named_by_its_units() -> None:
    english = texts("en")
    assert scope_label(["North"], english) == "North"
    assert scope_label(["Store 12", "Store  40\n"], english) == "Store 12, Store 40"
    assert scope_label(["A", "B", "C", "D", "E"], english) == "A, B and 3 more units"
    assert scope_label(["A", "B", "C", "D"], english) == "A, B and 2 more units"
    assert scope_label([], english) == "no units"


# The words


def test_the_plain_text_puts_a_count_beside_every_figure() -> None:
    rendered = render(_digest())
    assert (
        rendered.subject == "Daily digest for North, Sunday 6 December 2026: NPS +10 on 10 answers"
    )
    lines = rendered.text.splitlines()
    assert "NPS yesterday: +10 on 10 answers (5 promoters, 4 detractors)" in lines
    assert "NPS over 7 days: +42 on 19 answers (13 promoters, 5 detractors)" in lines
    assert "Alerts yesterday: 2 opened, 1 closed; 3 overdue now" in lines
    assert "Praise yesterday: 2" in lines
    assert (
        "Where the corridor broke: delivery: NPS -33 on 6 answers, against +33 on 15 answers "
        "over 7 days"
    ) in lines
    at = lines.index("Worst: NPS 0 at Store 2, delivery")
    assert lines[at + 1 : at + 3] == [
        "  “Still waiting for the engineer.”",
        "  Open it: https://cockpit.example.com/?response=r-1",
    ]
    # Without a public URL there is no link, not a broken one.
    at = lines.index("Best: NPS 10 at Store 1, delivery")
    assert lines[at + 1 :][:2] == ["  “Friendly driver.”", ""]
    assert "Open the cockpit: https://cockpit.example.com/" in lines
    assert lines[-1].startswith("Sent every day at 07:00 (Europe/Paris) to nora@example.com.")


def test_no_answers_show_no_figure() -> None:
    empty = Nps(None, 0)
    rendered = render(
        _digest(nps_day=empty, nps_week=empty, broken=None, comments=(), cockpit=None)
    )
    assert rendered.subject.endswith(": no NPS answers")
    lines = rendered.text.splitlines()
    assert "NPS yesterday: no answers" in lines
    assert "NPS over 7 days: no answers" in lines
    assert (
        "Where the corridor broke: no touchpoint fell 10 points below its 7 days on 5 answers "
        "or more"
    ) in lines
    assert "No comment yesterday." in lines
    assert not any(line.startswith("Open the cockpit") for line in lines)
    assert "No comment yesterday." in rendered.html


def test_nps_reads_as_a_whole_number_never_minus_zero() -> None:
    def headline(value: float) -> str:
        return render(_digest(nps_day=Nps(value, 8, 3, 3))).subject.rpartition(": ")[2]

    assert headline(-0.4) == "NPS 0 on 8 answers"
    assert headline(12.5) == "NPS +13 on 8 answers"
    assert headline(-12.5) == "NPS -13 on 8 answers"
    assert render(_digest(nps_day=Nps(100.0, 1, 1, 0))).subject.endswith("NPS +100 on 1 answer")


def test_the_html_escapes_customer_text_and_unit_names() -> None:
    hostile = Comment(
        "worst",
        'r"1',
        "Store <12> & co",
        "delivery",
        "nps",
        1,
        '<script>alert("x")</script> & </q>',
        'https://cockpit.example.com/?response=r"1',
    )
    rendered = render(_digest(comments=(hostile,), display_name="<b>Nora</b>"))
    assert "<script>" not in rendered.html and "<b>Nora" not in rendered.html
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; &lt;/q&gt;" in rendered.html
    assert "Store &lt;12&gt; &amp; co" in rendered.html
    assert 'href="https://cockpit.example.com/?response=r&quot;1"' in rendered.html
    # The plain text is text: as the customer wrote it.
    assert '<script>alert("x")</script> & </q>' in rendered.text


def test_the_html_holds_the_same_figures_as_the_text() -> None:
    rendered = render(_digest())
    for fragment in (
        "+10 on 10 answers (5 promoters, 4 detractors)",
        "+42 on 19 answers (13 promoters, 5 detractors)",
        "2 opened, 1 closed; 3 overdue now",
        '<a href="https://cockpit.example.com/?response=r-1">Open it in the cockpit</a>',
        "<q>Still waiting for the engineer.</q>",
    ):
        assert fragment in rendered.html


def test_a_long_comment_is_cut_and_a_subject_keeps_to_one_line() -> None:
    long = dataclasses.replace(_digest().comments[0], text="word " * 200)
    rendered = render(_digest(comments=(long,), scope=("North\r\nBcc: someone",)))
    quoted = next(line for line in rendered.text.splitlines() if line.startswith("  “"))
    assert len(quoted) < 300 and quoted.endswith("…”")
    assert "\n" not in rendered.subject and "\r" not in rendered.subject
