"""Complaint phrases: what unhappy customers write that carries no sentiment word.

"Still waiting for the engineer", "third time I call", "charged twice": a sentiment lexicon sees
nothing there. Written from customer-service practice (contact-centre and after-sales complaint
categories: waiting, unreachable, not delivered, billing errors, broken, rude, leaving), not
fitted to any labelled set. Phrases are lower-case word sequences matched on whole words.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

ENGLISH = (
    # waiting and chasing
    "still waiting",
    "waiting for",
    "waited",
    "been waiting",
    "on hold",
    "kept waiting",
    "no answer",
    "no response",
    "no reply",
    "nobody answered",
    "no one answered",
    "never called back",
    "never got back",
    "no call back",
    "no callback",
    "still not",
    "still no",
    "still haven't",
    "still hasn't",
    "third time",
    "several times",
    "again and again",
    "chasing",
    "hung up",
    "cut off",
    "disconnected",
    "transferred",
    # not delivered, late, lost
    "not delivered",
    "never delivered",
    "never arrived",
    "never received",
    "never showed",
    "didn't show",
    "no show",
    "didn't arrive",
    "hasn't arrived",
    "not arrived",
    "late",
    "delayed",
    "delay",
    "lost",
    "missing",
    "wrong item",
    "wrong order",
    "damaged",
    # billing
    "charged twice",
    "double charged",
    "overcharged",
    "charged me",
    "hidden fees",
    "extra charge",
    "wrong bill",
    "billing error",
    "refund",
    "money back",
    "chargeback",
    # broken, not working
    "broken",
    "broke",
    "stopped working",
    "not working",
    "doesn't work",
    "didn't work",
    "does not work",
    "did not work",
    "won't work",
    "faulty",
    "defective",
    "keeps crashing",
    # staff and process
    "rude",
    "unhelpful",
    "no help",
    "lack of",
    "nobody cares",
    "no one cares",
    "ignored",
    "unprofessional",
    "incompetent",
    "had to call",
    "had to explain",
    "no explanation",
    "no apology",
    "waste of time",
    "complaint",
    "unacceptable",
    # leaving
    "cancel",
    "cancelled",
    "canceled",
    "cancelling",
    "close my account",
    "switch to",
    "never again",
    "go elsewhere",
    "last time",
)

FRENCH = (
    # attente et relances
    "toujours en attente",
    "en attente",
    "j'attends",
    "attendu",
    "attente",
    "toujours pas",
    "toujours rien",
    "pas de réponse",
    "aucune réponse",
    "sans réponse",
    "personne ne",
    "jamais rappelé",
    "pas rappelé",
    "jamais eu de retour",
    "aucun retour",
    "pas de retour",
    "relancé",
    "relance",
    "plusieurs fois",
    "troisième fois",
    "raccroché",
    "coupé",
    "injoignable",
    "transféré",
    # livraison
    "pas livré",
    "jamais livré",
    "jamais reçu",
    "pas reçu",
    "non reçu",
    "jamais arrivé",
    "pas arrivé",
    "pas venu",
    "jamais venu",
    "en retard",
    "retard",
    "perdu",
    "manquant",
    "abîmé",
    "endommagé",
    "mauvais article",
    "erreur de commande",
    # facturation
    "prélevé deux fois",
    "facturé deux fois",
    "débité deux fois",
    "surfacturé",
    "frais cachés",
    "erreur de facturation",
    "trop payé",
    "remboursement",
    "rembourser",
    "remboursé",
    # panne
    "en panne",
    "panne",
    "cassé",
    "ne fonctionne pas",
    "ne marche pas",
    "ne marche plus",
    "ne fonctionne plus",
    "défectueux",
    "plante",
    # accueil et traitement
    "impoli",
    "désagréable",
    "méprisant",
    "aucune aide",
    "manque de",
    "personne ne sait",
    "ignoré",
    "incompétent",
    "réexpliquer",
    "aucune explication",
    "aucune excuse",
    "perte de temps",
    "réclamation",
    "inadmissible",
    "inacceptable",
    # départ
    "résilier",
    "résiliation",
    "annuler",
    "annulé",
    "changer d'opérateur",
    "plus jamais",
    "aller voir ailleurs",
    "je pars",
    "dernière fois",
)

PHRASES: dict[str, tuple[str, ...]] = {"en": ENGLISH, "fr": FRENCH}


class PhraseFinder:
    """Finds the phrases of one language in a token sequence, longest first, without overlap."""

    def __init__(self, phrases: Iterable[str]) -> None:
        ordered = sorted(set(phrases), key=len, reverse=True)
        # Matched on the tokens joined by single spaces, so "on  hold," and "On hold" both match.
        alternatives = "|".join(re.escape(p) for p in ordered)
        self._pattern = re.compile(f"(?<![\\w'])(?:{alternatives})(?![\\w'])") if ordered else None

    def find(self, normalised: str) -> tuple[str, ...]:
        """Distinct phrases in order of first appearance."""
        if self._pattern is None:
            return ()
        return tuple(dict.fromkeys(self._pattern.findall(normalised)))
