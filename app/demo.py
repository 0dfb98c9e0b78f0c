"""Demo traffic: realistic survey responses posted through the REST ingest, like an integrator."""

from __future__ import annotations

import logging
import random
import threading
import uuid
from datetime import UTC, datetime
from pathlib import Path

import httpx

from app.core.events import Channel, Contact, CustomerType, ScoreKind, SurveyResponse

log = logging.getLogger(__name__)

DEMO_TREE = Path(__file__).resolve().parent / "demo_tree.yaml"
STORES = ["paris-01", "lyon-02", "lille-03", "nantes-04", "bordeaux-05", "marseille-06"]
STORES += ["rouen-07", "reims-08", "rennes-09", "tours-10", "nice-11", "toulouse-12"]
# Stores with teams: a response belongs to the team that served the customer.
TEAMS = {
    "lyon-02": {
        "counter": ["purchase", "billing"],
        "field": ["delivery", "installation", "support"],
    },
    "marseille-06": {
        "counter": ["purchase", "billing"],
        "field": ["delivery", "installation", "support"],
    },
}
TOUCHPOINTS = ["purchase", "delivery", "installation", "support", "billing"]
# A few stores clearly worse at one touchpoint, so the cockpit has a broken corridor to show.
WEAK_SPOTS = {("lyon-02", "delivery"): 0.45, ("lille-03", "installation"): 0.4}

# What customers write, by language: the demo company serves French, Italian and English speakers
# (its Nice store mostly Italian ones), and a few German tourists the scorer does not read.
PRAISE = {
    "en": [
        "The advisor took the time to explain every option, great service.",
        "Delivered on time and the driver was very friendly.",
        "Quick and easy, exactly what I needed.",
        "Installation was clean and the technician explained everything.",
        "Super helpful staff in store, thank you!",
        "The app made paying my bill painless.",
        "Problem solved in one call, impressive.",
    ],
    "fr": [
        "Très bon accueil en magasin, merci.",
        "Livreur ponctuel et très aimable, rien à redire.",
        "Le conseiller a pris le temps de tout m'expliquer, parfait.",
        "Installation propre et rapide, technicien au top.",
        "Problème réglé en un seul appel, bravo.",
    ],
    "it": [
        "Servizio eccellente, consegna puntuale.",
        "Personale gentilissimo e molto competente, grazie!",
        "Installazione veloce e pulita, tecnico bravissimo.",
        "Problema risolto con una sola telefonata, complimenti.",
    ],
    "de": ["Sehr freundliche Beratung, gerne wieder."],
}
# Who customers name when they praise someone (the response's `staff` field).
STAFF = ["Marie", "Julien", "Sofia", "Luca", "Amira", "Tom"]
NEUTRAL = {
    "en": [
        "Fine overall, a bit of a queue at the till.",
        "Delivery was ok but the slot was wide.",
        "Average experience, nothing special.",
        "It works, though the invoice is hard to read.",
    ],
    "fr": ["Correct, sans plus.", "Livraison correcte mais créneau trop large."],
    "it": ["Nella media, niente di speciale.", "Tutto ok, un po' di coda alla cassa."],
    "de": [],
}
COMPLAINTS = {
    "en": [
        "Still waiting for the engineer, third time I call.",
        "The delivery never arrived and nobody called me back.",
        "Terrible service, I was put on hold for 40 minutes.",
        "I was charged twice and support keeps sending me to another department.",
        "The installer left a mess and the box does not work.",
        "Rude staff, I will not come back.",
        "Third time I call about the same invoice.",
        "Waiting since Monday for a callback.",
        "The product broke after two days and the refund is taking forever.",
    ],
    "fr": [
        "Livraison en retard de trois jours, aucune excuse.",
        "Personne ne m'a rappelé, je vais changer d'opérateur.",
        "Facturé deux fois et le service client ne répond pas.",
        "Le technicien n'est jamais venu, journée de congé perdue.",
    ],
    "it": [
        "Nessuno mi ha richiamato, pessimo servizio.",
        "Consegna in ritardo di una settimana e nessuna spiegazione.",
        "Addebito doppio in fattura, il servizio clienti non risponde.",
        "Il tecnico non si è presentato, giornata persa.",
    ],
    "de": ["Der Techniker ist nicht gekommen."],
}
# The language a store's customers write in, by weight (en, fr, it, de).
LANGUAGES = ("en", "fr", "it", "de")
SPOKEN = {"nice-11": (2, 3, 6, 0)}
SPOKEN_ELSEWHERE = (4, 5, 2, 0.3)


FIRST_NAMES = ["Camille", "Louis", "Emma", "Hugo", "Chloé", "Nathan", "Léa", "Jules", "Inès"]
LAST_NAMES = ["Martin", "Bernard", "Dubois", "Thomas", "Robert", "Petit", "Durand", "Moreau"]


def _mood(rng: random.Random, store: str, touchpoint: str) -> str:
    unhappy = WEAK_SPOTS.get((store, touchpoint), 0.18)
    roll = rng.random()
    if roll < unhappy:
        return "unhappy"
    return "neutral" if roll < unhappy + 0.25 else "happy"


def _score(rng: random.Random, kind: ScoreKind, mood: str) -> int:
    ranges = {
        ScoreKind.NPS: {"unhappy": (0, 6), "neutral": (7, 8), "happy": (9, 10)},
        ScoreKind.CSAT: {"unhappy": (1, 2), "neutral": (3, 3), "happy": (4, 5)},
        ScoreKind.CES: {"unhappy": (6, 7), "neutral": (4, 5), "happy": (1, 3)},
    }
    low, high = ranges[kind][mood]
    return rng.randint(low, high)


def _unit(store: str, touchpoint: str) -> str:
    for team, touchpoints in TEAMS.get(store, {}).items():
        if touchpoint in touchpoints:
            return f"{store}-{team}"
    return store


def generate(rng: random.Random, now: datetime) -> SurveyResponse:
    store = rng.choice(STORES)
    touchpoint = rng.choice(TOUCHPOINTS)
    mood = _mood(rng, store, touchpoint)
    kind = rng.choices(list(ScoreKind), weights=[6, 3, 1])[0]
    language = rng.choices(LANGUAGES, weights=SPOKEN.get(store, SPOKEN_ELSEWHERE))[0]
    pool = {"unhappy": COMPLAINTS, "neutral": NEUTRAL, "happy": PRAISE}[mood][language]
    comment = rng.choice(pool) if pool and rng.random() < 0.85 else ""
    staff = [rng.choice(STAFF)] if mood == "happy" and comment and rng.random() < 0.5 else []
    channel = Channel.STORE if touchpoint == "purchase" and rng.random() < 0.6 else None
    customer = rng.randint(1, 5000)
    return SurveyResponse(
        response_id=f"demo-{uuid.UUID(int=rng.getrandbits(128))}",
        survey_id=f"{kind.value}-{touchpoint}",
        submitted_at=now,
        score=_score(rng, kind, mood),
        score_kind=kind,
        comment=comment or None,
        language=language if comment else None,
        channel=channel or rng.choice(list(Channel)),
        touchpoint=touchpoint,
        org_unit=_unit(store, touchpoint),
        customer_type=rng.choices(list(CustomerType), weights=[80, 12, 5, 3])[0],
        customer_ref=f"cust-{customer:05d}",
        contact=Contact(
            name=f"{rng.choice(FIRST_NAMES)} {rng.choice(LAST_NAMES)}",
            email=f"customer{customer}@example.com",
            phone=f"+33 6 {customer:04d} {rng.randint(1000, 9999)}",
        ),
        staff=staff,
        metadata={"source": "demo"},
    )


def run(base_url: str, api_key: str, rate: float, stop: threading.Event) -> None:
    """Post about `rate` responses a second until stopped; a refused post is logged, not hidden."""
    rng = random.Random()
    with httpx.Client(base_url=base_url, headers={"X-API-Key": api_key}, timeout=10) as client:
        while not stop.is_set():
            response = generate(rng, datetime.now(UTC))
            try:
                answer = client.post(
                    "/api/v1/responses",
                    content=response.model_dump_json(),
                    headers={"Content-Type": "application/json"},
                )
                if answer.status_code != 202:
                    log.warning(
                        "demo post refused",
                        extra={"status": answer.status_code, "body": answer.text[:300]},
                    )
            except httpx.HTTPError as exc:
                log.warning("demo post failed", extra={"error": str(exc)})
            stop.wait(rng.expovariate(rate))
