"""A company at scale, made up: an org tree of N stores in regions and a week of their responses.

For benchmarks and for seeing the cockpit with a real load (`voc company`). Pure: it builds the
tree and the responses' wire JSON (what integrators produce to Kafka, as `SurveyResponse`
serialises it) and does no I/O beyond `write_tree`; the command produces them.

Why the command produces straight to the broker rather than posting to the REST API or writing
to the database: a million responses is a Kafka backfill, as a survey tool's import is, and the
product's own ingest worker then scores and stores them (the honest path, whatever the storage
underneath); a file (`--out` without `--bootstrap`) is for inspecting them or replaying them
with another producer. The tree is always written to a file first: the worker dead-letters a
response whose unit it does not know, so the tree is loaded before the responses arrive
(VOC_ORG_TREE_FILE, or `voc units import`).

Deterministic: the same stores, regions, seed, count, days and end give the same bytes.
Fast: one response costs a handful of random draws, a dict and `json.dumps`, no validation
(the unit tests validate them as `SurveyResponse`).
"""

from __future__ import annotations

import bisect
import itertools
import json
import math
import random
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import yaml

from app.demo import (
    COMPLAINTS,
    FIRST_NAMES,
    LAST_NAMES,
    NEUTRAL,
    PRAISE,
    TOUCHPOINTS,
)

COMPANY_ID = "company"
# The stores' local time, for the daily rhythm: customers answer by day, few by night.
TIMEZONE = ZoneInfo("Europe/Paris")
# Relative answers an hour, by local hour of the day.
DAILY_RHYTHM = (
    *(0.15, 0.08, 0.05, 0.05, 0.05, 0.1, 0.25, 0.6, 1.2, 1.8, 2.1, 2.2),
    *(2.3, 2.2, 2.0, 2.0, 2.1, 2.2, 2.0, 1.6, 1.2, 0.8, 0.5, 0.3),
)
REGION_NAMES = (
    "Île-de-France",
    "Nord",
    "Grand Est",
    "Normandie",
    "Bretagne",
    "Pays de la Loire",
    "Nouvelle-Aquitaine",
    "Occitanie",
    "Auvergne-Rhône-Alpes",
    "Provence",
)
TOWNS = [
    "Paris",
    "Dunkerque",
    "Lille",
    "Reims",
    "Metz",
    "Nancy",
    "Rouen",
    "Caen",
    "Rennes",
    "Brest",
    "Nantes",
    "Angers",
    "Tours",
    "Bordeaux",
    "Pau",
    "Toulouse",
    "Montpellier",
    "Nîmes",
    "Lyon",
    "Grenoble",
    "Marseille",
    "Nice",
    "Toulon",
    "Dijon",
    "Orléans",
    "Limoges",
    "Poitiers",
    "Amiens",
    "Strasbourg",
    "Mulhouse",
    "Clermont",
    "Annecy",
    "Avignon",
    "Perpignan",
    "Bayonne",
    "Vannes",
]
TOUCHPOINT_SHARE = {
    "purchase": 30,
    "delivery": 20,
    "installation": 10,
    "support": 25,
    "billing": 15,
}
# Added to a store's chance of an unhappy customer: some steps of the corridor are harder.
TOUCHPOINT_STRAIN = {
    "purchase": -0.06,
    "delivery": 0.05,
    "installation": 0.08,
    "support": 0.04,
    "billing": 0.0,
}
CHANNELS = {
    "purchase": ("store", "store", "store", "web", "app"),
    "delivery": ("sms", "email", "web", "app"),
    "installation": ("sms", "phone", "email"),
    "support": ("phone", "phone", "chat", "email"),
    "billing": ("email", "web", "app"),
}
KIND_SHARE = {"nps": 75, "csat": 17, "ces": 8}
# Inclusive score ranges of each kind, by mood (CES: 1 very easy, 7 very hard).
SCORES: dict[str, dict[str, tuple[int, ...]]] = {
    "nps": {"unhappy": tuple(range(0, 7)), "neutral": (7, 8), "happy": (9, 10)},
    "csat": {"unhappy": (1, 2), "neutral": (3,), "happy": (4, 5)},
    "ces": {"unhappy": (6, 7), "neutral": (4, 5), "happy": (1, 2, 3)},
}
CUSTOMER_TYPES = ("person",) * 80 + ("company",) * 12 + ("intermediary",) * 5 + ("internal",) * 3
NEUTRAL_SHARE = 0.25
BASE_UNHAPPY = 0.24
NO_COMMENT = 0.15
OTHER_LANGUAGES = 0.15
ANONYMOUS = 0.15
# Customers per store as a share of its responses: the others answer more than once.
RETURNING = 0.75
WEAK_SPOT_SHARE = 0.04
WEAK_SPOT_UNHAPPY = 0.55

# English details added to English comments, so comments vary: one a line, the touchpoint, the
# mood, the text ({n} takes a small number).
_DETAILS = """
purchase unhappy {n} people in the queue and one till open.
purchase unhappy Nobody could tell me if it was in stock.
purchase unhappy The price on the shelf was not the price at the till.
purchase neutral Waited {n} minutes to be served.
purchase neutral The shop was busy.
purchase happy The advisor found what I needed in {n} minutes.
purchase happy Clear prices.
delivery unhappy The parcel came {n} days late.
delivery unhappy The driver left it outside in the rain.
delivery unhappy Tracking said delivered, nothing at the door.
delivery neutral The slot was {n} hours wide.
delivery neutral The driver called ahead.
delivery happy Delivered the next morning.
delivery happy The driver carried it up {n} floors.
installation unhappy The technician came {n} hours late.
installation unhappy The appointment was moved {n} times.
installation unhappy It still does not work after the visit.
installation neutral It took {n} hours.
installation neutral The technician had to come back.
installation happy Done in {n} hours, tidy work.
installation happy The technician showed me how it works.
support unhappy I spent {n} minutes on hold.
support unhappy Third agent, same questions.
support unhappy Nobody called back as promised.
support neutral It took {n} calls.
support neutral The chat was slow to answer.
support happy Sorted in one call.
support happy The agent followed up after {n} days.
billing unhappy Charged {n}0 euros more than quoted.
billing unhappy The refund has been pending for {n} weeks.
billing unhappy The direct debit was taken twice.
billing neutral The invoice is hard to read.
billing neutral Paid after {n} reminders.
billing happy Clear invoice.
billing happy The payment plan was easy to set up.
"""


def _details(table: str) -> dict[str, dict[str, tuple[str, ...]]]:
    found: dict[str, dict[str, list[str]]] = {}
    for line in table.strip().splitlines():
        touchpoint, mood, text = line.split(" ", 2)
        found.setdefault(touchpoint, {}).setdefault(mood, []).append(text)
    return {
        tp: {mood: tuple(texts) for mood, texts in moods.items()} for tp, moods in found.items()
    }


DETAILS = _details(_DETAILS)
# More sentences beside the demo's, a few in the other languages customers write in.
MORE: dict[str, tuple[tuple[str, str], ...]] = {
    "unhappy": (
        ("Nobody knows who is in charge of my file.", "en"),
        ("I had to explain everything again every time.", "en"),
        ("Personne ne répond au téléphone.", "fr"),
        ("Toujours pas de nouvelles du technicien.", "fr"),
        ("Nadie me ha llamado todavía.", "es"),
        ("Seit zwei Wochen keine Antwort.", "de"),
    ),
    "neutral": (
        ("Not bad, not great.", "en"),
        ("As expected, no more.", "en"),
        ("It was fine once it was sorted.", "en"),
        ("Ça va, rien de spécial.", "fr"),
        ("Bien, mais un peu long.", "fr"),
        ("Todo bien, aunque un poco lento.", "es"),
        ("Tutto ok, ma un po' lento.", "it"),
    ),
    "happy": (
        ("Friendly and efficient from start to finish.", "en"),
        ("Really pleased with the whole thing.", "en"),
        ("Parfait, rien à redire.", "fr"),
        ("Muy buena atención, gracias.", "es"),
        ("Alles bestens, danke.", "de"),
    ),
}
CLOSERS = {
    "unhappy": ("Please call me back.", "Very disappointed.", "Not acceptable.", "Fix this."),
    "neutral": ("Could be better.", "OK."),
    "happy": ("Thanks!", "Well done.", "I will recommend you."),
}
MOODS = ("unhappy", "neutral", "happy")


@dataclass(frozen=True)
class Store:
    id: str
    name: str
    region: str
    volume: float
    """Its relative share of the company's responses (stores differ in size)."""
    unhappy: tuple[float, ...]
    """By touchpoint (in TOUCHPOINTS order), the chance a customer leaves unhappy."""


@dataclass(frozen=True)
class Company:
    name: str
    regions: tuple[tuple[str, str], ...]
    """(id, name) of each region, in order."""
    stores: tuple[Store, ...]
    weak_spots: tuple[tuple[str, str], ...]
    """(store, touchpoint) pairs clearly worse than the rest of the store: a broken corridor."""

    def tree(self) -> list[dict[str, Any]]:
        """The org tree as app/orgfile.py reads it: the company, its regions, their stores."""
        children: dict[str, list[dict[str, Any]]] = {region: [] for region, _ in self.regions}
        for store in self.stores:
            children[store.region].append({"id": store.id, "name": store.name})
        regions = [
            {"id": rid, "name": name, "kind": "region", "children": children[rid]}
            for rid, name in self.regions
        ]
        return [{"id": COMPANY_ID, "name": self.name, "kind": "company", "children": regions}]


def default_regions(stores: int) -> int:
    """About one region for every 10 stores, at most 10."""
    return max(1, min(10, (stores + 9) // 10))


def build(stores: int, *, regions: int | None = None, seed: int = 1) -> Company:
    """A company of `stores` stores spread evenly over `regions` regions; some regions, stores
    and (store, touchpoint) weak spots clearly worse than the others."""
    if stores < 1:
        raise ValueError("a company needs at least one store")
    regions = default_regions(stores) if regions is None else regions
    if not 1 <= regions <= stores:
        raise ValueError(f"regions: from 1 to the number of stores ({stores})")
    rng = random.Random(f"company-{seed}")
    region_ids = [f"region-{r + 1:02d}" for r in range(regions)]
    region_names = [
        f"{REGION_NAMES[r]} region" if r < len(REGION_NAMES) else f"Region {r + 1}"
        for r in range(regions)
    ]
    # Some regions are run better than others, so their barometers differ.
    region_strain = [rng.uniform(-0.07, 0.09) for _ in range(regions)]
    width = max(4, len(str(stores)))
    weak = set(rng.sample(range(stores), max(1, round(stores * WEAK_SPOT_SHARE))))
    made: list[Store] = []
    weak_spots: list[tuple[str, str]] = []
    for s in range(stores):
        region = s * regions // stores
        store_id = f"store-{s + 1:0{width}d}"
        base = BASE_UNHAPPY + region_strain[region] + rng.gauss(0, 0.03)
        unhappy = [_clamp(base + TOUCHPOINT_STRAIN[tp]) for tp in TOUCHPOINTS]
        if s in weak:
            broken = rng.randrange(len(TOUCHPOINTS))
            unhappy[broken] = WEAK_SPOT_UNHAPPY
            weak_spots.append((store_id, TOUCHPOINTS[broken]))
        made.append(
            Store(
                id=store_id,
                name=f"{TOWNS[s % len(TOWNS)]} #{s + 1}",
                region=region_ids[region],
                volume=rng.lognormvariate(0, 0.5),
                unhappy=tuple(unhappy),
            )
        )
    return Company(
        name="Made-up Home Services",
        regions=tuple(zip(region_ids, region_names, strict=True)),
        stores=tuple(made),
        weak_spots=tuple(weak_spots),
    )


def _clamp(p: float) -> float:
    return min(0.9, max(0.03, p))


def tree_yaml(company: Company) -> str:
    header = f"# {company.name}: {len(company.regions)} regions, {len(company.stores)} stores.\n"
    return header + yaml.safe_dump(company.tree(), allow_unicode=True, sort_keys=False, width=100)


def write_tree(company: Company, path: Path) -> Path:
    path.write_text(tree_yaml(company), encoding="utf-8")
    return path


def history_start(end: datetime, days: float) -> datetime:
    """Where a history of `days` ending at `end` starts: on a UTC hour, so the cockpit's 7-day
    window (the 168 hours ending with now's hour) holds a 7-day history while `end`'s hour lasts.
    """
    hour = end.astimezone(UTC).replace(minute=0, second=0, microsecond=0)
    return hour - timedelta(hours=max(1, math.ceil(days * 24)) - 1)


def responses(
    company: Company, count: int, *, end: datetime, days: float = 7, seed: int = 1
) -> Iterator[tuple[str, bytes]]:
    """`count` responses as (org unit, wire JSON), in time order by the hour, between
    `history_start(end, days)` and `end`, more by day than by night (local time).

    Response ids are `co<seed>-<n>`: loading the same history twice stores it once.
    """
    rng = random.Random(f"responses-{seed}")
    slots = _hour_slots(end, days)
    hours = sorted(
        rng.choices(
            range(len(slots)), cum_weights=list(itertools.accumulate(s[2] for s in slots)), k=count
        )
    )
    stores = company.stores
    store_cum = list(itertools.accumulate(s.volume for s in stores))
    total_volume, last_store = store_cum[-1], len(stores) - 1
    # Customers of a store: fewer than its responses, so some answer twice.
    customers = [max(1, round(count * s.volume / total_volume * RETURNING)) for s in stores]
    touchpoint_cum = list(itertools.accumulate(TOUCHPOINT_SHARE[tp] for tp in TOUCHPOINTS))
    kinds, kind_cum = list(KIND_SHARE), list(itertools.accumulate(KIND_SHARE.values()))
    pools = {mood: _comment_pool(mood) for mood in MOODS}
    random_, choice, bisect_ = rng.random, rng.choice, bisect.bisect
    width = len(str(max(count - 1, 0)))
    for i, hour in enumerate(hours):
        prefix, length, _ = slots[hour]
        second = int(random_() * length)
        s = bisect_(store_cum, random_() * total_volume, 0, last_store)
        store = stores[s]
        t = bisect_(touchpoint_cum, random_() * touchpoint_cum[-1], 0, len(TOUCHPOINTS) - 1)
        touchpoint = TOUCHPOINTS[t]
        kind = kinds[bisect_(kind_cum, random_() * kind_cum[-1], 0, len(kinds) - 1)]
        roll = random_()
        unhappy = store.unhappy[t]
        if roll < unhappy:
            mood = "unhappy"
        else:
            mood = "neutral" if roll < unhappy + NEUTRAL_SHARE else "happy"
        body: dict[str, Any] = {
            "response_id": f"co{seed}-{i:0{width}d}",
            "survey_id": f"{kind}-{touchpoint}",
            "submitted_at": f"{prefix}{second // 60:02d}:{second % 60:02d}Z",
            "score_kind": kind,
            "score": choice(SCORES[kind][mood]),
            "channel": choice(CHANNELS[touchpoint]),
            "touchpoint": touchpoint,
            "org_unit": store.id,
            "customer_type": choice(CUSTOMER_TYPES),
            "metadata": {"source": "company"},
        }
        if random_() >= NO_COMMENT:
            body["comment"], body["language"] = _comment(rng, pools[mood], touchpoint, mood)
        if random_() >= ANONYMOUS:
            local = int(random_() * customers[s])
            body["customer_ref"] = f"cust-{s + 1:04d}-{local:06d}"
            body["contact"] = _contact(s + 1, local)
        yield store.id, json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode()


def _hour_slots(end: datetime, days: float) -> list[tuple[str, int, float]]:
    """Each UTC hour of the history: its ISO prefix, its seconds (the last hour ends at `end`)
    and its weight in the daily rhythm."""
    end = end.astimezone(UTC)
    hour = history_start(end, days)
    slots = []
    while hour <= end:
        length = min(3600, int((end - hour).total_seconds()) + 1)
        weight = DAILY_RHYTHM[hour.astimezone(TIMEZONE).hour] * length / 3600
        slots.append((hour.strftime("%Y-%m-%dT%H:"), length, weight))
        hour += timedelta(hours=1)
    return slots


def _comment_pool(mood: str) -> tuple[list[str], list[tuple[str, str]]]:
    """The English sentences of a mood, and the others with their language."""
    demo = {"unhappy": COMPLAINTS, "neutral": NEUTRAL, "happy": PRAISE}[mood]
    sentences = [(text, lang) for lang, texts in demo.items() for text in texts if text]
    sentences += list(MORE[mood])
    return [t for t, lang in sentences if lang == "en"], [s for s in sentences if s[1] != "en"]


def _comment(
    rng: random.Random, pool: tuple[list[str], list[tuple[str, str]]], touchpoint: str, mood: str
) -> tuple[str, str]:
    """A sentence (the demo's or one more), and for English ones often a detail about the
    touchpoint and a closing word, so that comments vary as real ones do."""
    english, others = pool
    if rng.random() < OTHER_LANGUAGES:
        return rng.choice(others)
    text, language = rng.choice(english), "en"
    roll = rng.random()
    if roll < 0.6:
        detail = rng.choice(DETAILS[touchpoint][mood]).replace("{n}", str(rng.randint(2, 9)))
        text = f"{text} {detail}" if roll < 0.4 else f"{detail} {text}"
    if rng.random() < 0.25:
        text = f"{text} {rng.choice(CLOSERS[mood])}"
    return text, language


def _contact(store: int, local: int) -> dict[str, str]:
    """The same customer gets the same contact in every response."""
    number = store * 1_000_003 + local
    first = FIRST_NAMES[number % len(FIRST_NAMES)]
    last = LAST_NAMES[number // len(FIRST_NAMES) % len(LAST_NAMES)]
    digits = f"{number * 7919 % 100_000_000:08d}"
    phone = f"+33 6 {digits[:2]} {digits[2:4]} {digits[4:6]} {digits[6:]}"
    return {
        "name": f"{first} {last}",
        "email": f"customer-{store}-{local}@example.com",
        "phone": phone,
    }
