"""What the server writes people, in English, French and Italian: an alert's e-mail and its Slack,
Teams and JSON payloads, and the daily digest, with each locale's numbers, dates and plurals."""

from __future__ import annotations

import dataclasses
from datetime import UTC, date, datetime
from typing import Any

import pytest

from alerts import texts
from alerts.digest import AlertCounts, Broken, Comment, Digest, Nps, render
from alerts.notify import Notification
from alerts.notify.email import build_message
from alerts.notify.message import json_payload, slack_payload, teams_payload
from app.core.events import AlertState, AlertView, ResponseView, ScoreKind, Severity
from app.core.languages import Language
from sentiment.decision import decide
from sentiment.reading import Reading

NOW = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
COMMENT = "Toujours rien reçu <!channel> & <b>rien</b>"
# French writes a no-break space before % (CLDR), a narrow one between thousands.
NBSP, NNBSP = "\u00a0", "\u202f"


def _alert() -> AlertView:
    """A detractor's alert as the worker raises it, with the sentiment stage's own reasons."""
    reading = Reading("fr", -0.8, 0.934, negative=True, phrases=("toujours rien",))
    decision = decide(ScoreKind.NPS, 2, reading)
    response = ResponseView.model_validate(
        {
            "response_id": "r-1",
            "survey_id": "nps-delivery",
            "submitted_at": NOW,
            "received_at": NOW,
            "score": 2,
            "score_kind": "nps",
            "comment": COMMENT,
            "language": "fr",
            "channel": "web",
            "touchpoint": "delivery",
            "org_unit": "store-12",
            "customer_type": "person",
            "polarity": -0.8,
            "dissatisfied": True,
            "severity": "high",
            "reasons": list(decision.reasons),
        }
    )
    return AlertView(
        id=1234,
        org_unit="store-12",
        touchpoint="delivery",
        response_id="r-1",
        rules=["detractor-negative-comment", "repeat-dissatisfied"],
        rules_version=2,
        severity=Severity.HIGH,
        reasons={
            "detractor-negative-comment": {
                "score": 2,
                "score_kind": "nps",
                "at_most": 6,
                "probability": 0.934,
                "phrases": ["toujours rien"],
            },
            "repeat-dissatisfied": {"earlier": ["r-0"], "within_days": 14},
        },
        state=AlertState.OPEN,
        assignee=None,
        created_at=NOW,
        due_ack_at=None,
        due_resolve_at=None,
        acknowledged_at=None,
        resolved_at=None,
        closed_at=None,
        root_cause=None,
        resolution_note=None,
        escalations=1,
        response=response,
    )


def _notification(language: Language, **changes: Any) -> Notification:
    alert = _alert()
    notification = Notification(
        alert_id=alert.id,
        rule_id=alert.rules[0],
        severity="high",
        org_unit="store-12",
        unit_name="Lyon Part-Dieu",
        title=texts.alert_title(alert, "Lyon Part-Dieu"),
        lines=tuple(texts.lines(alert)),
        link="https://cockpit.example/?alert=1234",
        recipients=("lea@example.fr",),
        language=language,
    )
    return dataclasses.replace(notification, **changes)


# What a reader sees, language by language.
SAID: dict[str, dict[str, str]] = {
    "en": {
        "title": "Detractor with a negative comment at Lyon Part-Dieu",
        "subject": "Escalated: Detractor with a negative comment at Lyon Part-Dieu",
        "why": "Why: NPS 2: very poor (0\u20133); negative comment (93%); "
        "\u201ctoujours rien\u201d",
        "quote": "\u201c{}\u201d",
        "rule": "Detractor with a negative comment: NPS 2 (at most 6), negative comment (93%), "
        "says \u201ctoujours rien\u201d",
        "again": "Customer dissatisfied again: 1 earlier time in 14 days",
        "severity": "Severity: High",
        "unit": "Unit: Lyon Part-Dieu (store-12)",
        "link": "Open in the cockpit: https://cockpit.example/?alert=1234",
        "High": "High",
        "Severity": "Severity",
        "Unit": "Unit",
        "Alert": "Alert",
        "open": "Open in the cockpit",
        "slack alert": "Alert #1234 \u00b7 rule `detractor-negative-comment`",
    },
    "fr": {
        "title": "D\u00e9tracteur avec un commentaire n\u00e9gatif \u2013 Lyon Part-Dieu",
        "subject": "Escalad\u00e9e : D\u00e9tracteur avec un commentaire n\u00e9gatif \u2013 "
        "Lyon Part-Dieu",
        "why": f"Pourquoi : NPS 2 : tr\u00e8s mauvais (0\u20133); commentaire n\u00e9gatif "
        f"(93{NBSP}%); \u00ab{NBSP}toujours rien{NBSP}\u00bb",
        "quote": f"\u00ab{NBSP}{{}}{NBSP}\u00bb",
        "rule": "D\u00e9tracteur avec un commentaire n\u00e9gatif : NPS 2 (au plus 6), "
        f"commentaire n\u00e9gatif (93{NBSP}%), dit \u00ab{NBSP}toujours rien{NBSP}\u00bb",
        "again": "Client de nouveau insatisfait : 1 fois auparavant en 14 jours",
        "severity": "Gravit\u00e9 : \u00c9lev\u00e9e",
        "unit": "Unit\u00e9 : Lyon Part-Dieu (store-12)",
        "link": "Ouvrir dans le cockpit : https://cockpit.example/?alert=1234",
        "High": "\u00c9lev\u00e9e",
        "Severity": "Gravit\u00e9",
        "Unit": "Unit\u00e9",
        "Alert": "Alerte",
        "open": "Ouvrir dans le cockpit",
        "slack alert": "Alerte n\u00b0 1234 \u00b7 r\u00e8gle `detractor-negative-comment`",
    },
    "it": {
        "title": "Detrattore con un commento negativo \u2013 Lyon Part-Dieu",
        "subject": "Escalation: Detrattore con un commento negativo \u2013 Lyon Part-Dieu",
        "why": "Perch\u00e9: NPS 2: pessimo (0\u20133); commento negativo (93%); "
        "\u00abtoujours rien\u00bb",
        "quote": "\u00ab{}\u00bb",
        "rule": "Detrattore con un commento negativo: NPS 2 (al massimo 6), commento negativo "
        "(93%), dice \u00abtoujours rien\u00bb",
        "again": "Cliente di nuovo insoddisfatto: 1 volta in precedenza in 14 giorni",
        "severity": "Gravit\u00e0: Alta",
        "unit": "Unit\u00e0: Lyon Part-Dieu (store-12)",
        "link": "Apri nel cockpit: https://cockpit.example/?alert=1234",
        "High": "Alta",
        "Severity": "Gravit\u00e0",
        "Unit": "Unit\u00e0",
        "Alert": "Allerta",
        "open": "Apri nel cockpit",
        "slack alert": "Allerta n. 1234 \u00b7 regola `detractor-negative-comment`",
    },
}
LANGUAGES = list(SAID)


@pytest.mark.parametrize("language", LANGUAGES)
def test_an_alert_email_speaks_its_readers_language(language: Language) -> None:
    said = SAID[language]
    mail = build_message(_notification(language, escalated=True), "alerts@voc.example")
    assert mail["Subject"] == said["subject"]
    assert mail["Content-Language"] == language
    assert mail.get_content().splitlines() == [
        "NPS 2 \u00b7 delivery \u00b7 web",
        # The customer's words as they wrote them, quoted the reader's way.
        said["quote"].format(COMMENT),
        said["why"],
        said["rule"],
        said["again"],
        "",
        said["severity"],
        said["unit"],
        said["link"],
    ]


@pytest.mark.parametrize("language", LANGUAGES)
def test_slack_gets_the_alert_in_the_organisations_language_its_markup_escaped(
    language: Language,
) -> None:
    said = SAID[language]
    payload = slack_payload(_notification(language, escalated=True))
    assert payload["text"] == f"[{said['High']}] {said['subject']}"
    section = payload["blocks"][0]["text"]["text"]
    assert section.startswith(f"*{said['subject']}*\n")
    escaped = "Toujours rien re\u00e7u &lt;!channel&gt; &amp; &lt;b&gt;rien&lt;/b&gt;"
    assert said["quote"].format(escaped) in section
    assert "<!channel>" not in section
    assert said["why"] in section.splitlines()
    context = [element["text"] for element in payload["blocks"][1]["elements"]]
    assert context == [
        said["severity"].replace(said["High"], f"*{said['High']}*"),
        "Lyon Part-Dieu (store-12)",
        said["slack alert"],
        f"<https://cockpit.example/?alert=1234|{said['open']}>",
    ]


@pytest.mark.parametrize("language", LANGUAGES)
def test_teams_gets_the_alert_in_the_organisations_language(language: Language) -> None:
    said = SAID[language]
    card = teams_payload(_notification(language))["attachments"][0]["content"]
    assert card["lang"] == language
    blocks = [b["text"] for b in card["body"] if b["type"] == "TextBlock"]
    assert blocks[0] == said["title"]
    assert blocks[1:] == [
        "NPS 2 \u00b7 delivery \u00b7 web",
        said["quote"].format(COMMENT),
        said["why"],
        said["rule"],
        said["again"],
    ]
    [facts] = [b["facts"] for b in card["body"] if b["type"] == "FactSet"]
    assert facts == [
        {"title": said["Severity"], "value": said["High"]},
        {"title": said["Unit"], "value": "Lyon Part-Dieu (store-12)"},
        {"title": said["Alert"], "value": "#1234 (detractor-negative-comment)"},
    ]
    assert card["actions"][0]["title"] == said["open"]


@pytest.mark.parametrize("language", LANGUAGES)
def test_the_json_payload_says_its_language_and_keeps_its_codes(language: Language) -> None:
    said = SAID[language]
    payload = json_payload(_notification(language), sent_at=NOW)
    assert payload["language"] == language
    assert (payload["severity"], payload["rule_id"]) == ("high", "detractor-negative-comment")
    assert payload["title"] == said["title"]
    assert said["why"] in payload["text"].splitlines()


def test_recipients_get_one_email_per_language_they_read() -> None:
    notification = _notification(
        "en",
        recipients=("ann@example.com", "lea@example.fr", "luca@example.it", "max@example.fr"),
        languages={"lea@example.fr": "fr", "max@example.fr": "fr", "luca@example.it": "it"},
    )
    assert notification.audiences() == [
        ("en", ("ann@example.com",)),
        ("fr", ("lea@example.fr", "max@example.fr")),
        ("it", ("luca@example.it",)),
    ]
    french = build_message(notification, "alerts@voc.example", language="fr", to=("lea@x.fr",))
    assert (french["To"], french["Subject"]) == ("lea@x.fr", SAID["fr"]["title"])


# The digest


def _digest(language: Language, **changes: Any) -> Digest:
    digest = Digest(
        display_name="Nora North",
        email="nora@example.com",
        scope=("North", "Lyon", "Milano", "Nice"),
        day=date(2026, 12, 6),
        hour=7,
        timezone="Europe/Paris",
        nps_day=Nps(100.0, 1, 1, 0),
        nps_week=Nps(42.1, 12345, 6000, 1),
        alerts=AlertCounts(opened=1, closed=0, overdue=3),
        praise=2,
        broken=Broken("delivery", Nps(-33.3, 6, 2, 4), Nps(33.3, 15, 10, 5)),
        comments=(
            Comment(
                "worst", "r-1", "Store 2", "delivery", "nps", 0, "Still waiting.", "https://c/1"
            ),
        ),
        cockpit="https://cockpit.example/",
        language=language,
    )
    return dataclasses.replace(digest, **changes)


DIGEST: dict[str, list[str]] = {
    "en": [
        "Daily digest for North, Lyon and 2 more units, Sunday 6 December 2026: "
        "NPS +100 on 1 answer",
        "Hello Nora North,",
        "North, Lyon and 2 more units, Sunday 6 December 2026",
        "NPS yesterday: +100 on 1 answer (1 promoter, 0 detractors)",
        "NPS over 7 days: +42 on 12,345 answers (6,000 promoters, 1 detractor)",
        "Alerts yesterday: 1 opened, 0 closed; 3 overdue now",
        "Praise yesterday: 2",
        "Where the corridor broke: delivery: NPS -33 on 6 answers, against +33 on 15 answers "
        "over 7 days",
        "Comments that matter",
        "Worst: NPS 0 at Store 2, delivery",
        "  Open it: https://c/1",
        "Open the cockpit: https://cockpit.example/",
        "Sent every day at 07:00 (Europe/Paris) to nora@example.com. Change the hour or stop "
        "it in the cockpit (PUT /api/v1/me/digest).",
    ],
    "fr": [
        "R\u00e9capitulatif quotidien pour North, Lyon et 2 autres unit\u00e9s, dimanche "
        "6 d\u00e9cembre 2026 : NPS +100 sur 1 r\u00e9ponse",
        "Bonjour Nora North,",
        "North, Lyon et 2 autres unit\u00e9s, dimanche 6 d\u00e9cembre 2026",
        # French counts 0 in the singular.
        "NPS d'hier : +100 sur 1 r\u00e9ponse (1 promoteur, 0 d\u00e9tracteur)",
        f"NPS sur 7 jours : +42 sur 12{NNBSP}345 r\u00e9ponses (6{NNBSP}000 promoteurs, "
        "1 d\u00e9tracteur)",
        "Alertes d'hier : 1 ouverte, 0 cl\u00f4tur\u00e9e ; 3 en retard \u00e0 pr\u00e9sent",
        "Compliments d'hier : 2",
        "Sortie du corridor : delivery : NPS -33 sur 6 r\u00e9ponses, contre +33 sur "
        "15 r\u00e9ponses en 7 jours",
        "Commentaires \u00e0 retenir",
        "Pire avis : NPS 0 \u2013 Store 2, delivery",
        "  Ouvrir : https://c/1",
        "Ouvrir le cockpit : https://cockpit.example/",
        "Envoy\u00e9 tous les jours \u00e0 07:00 (Europe/Paris) \u00e0 l'adresse "
        "nora@example.com. Modifiez l'heure ou d\u00e9sactivez-le dans le cockpit "
        "(PUT /api/v1/me/digest).",
    ],
    "it": [
        "Riepilogo giornaliero per North, Lyon e altre 2 unit\u00e0, domenica 6 dicembre 2026: "
        "NPS +100 su 1 risposta",
        "Buongiorno Nora North,",
        "North, Lyon e altre 2 unit\u00e0, domenica 6 dicembre 2026",
        # Italian counts 0 in the plural.
        "NPS di ieri: +100 su 1 risposta (1 promotore, 0 detrattori)",
        "NPS su 7 giorni: +42 su 12.345 risposte (6.000 promotori, 1 detrattore)",
        "Allerte di ieri: 1 aperta, 0 chiuse; 3 in ritardo ora",
        "Elogi di ieri: 2",
        "Uscita dal corridoio: delivery: NPS -33 su 6 risposte, contro +33 su 15 risposte "
        "in 7 giorni",
        "Commenti rilevanti",
        "Peggiore: NPS 0 \u2013 Store 2, delivery",
        "  Apri: https://c/1",
        "Apri il cockpit: https://cockpit.example/",
        "Inviato ogni giorno alle 07:00 (Europe/Paris) all'indirizzo nora@example.com. Per "
        "cambiare l'ora o disattivarlo, usare il cockpit (PUT /api/v1/me/digest).",
    ],
}


@pytest.mark.parametrize("language", LANGUAGES)
def test_the_digest_speaks_its_readers_language_with_their_numbers_dates_and_plurals(
    language: Language,
) -> None:
    subject, *expected = DIGEST[language]
    rendered = render(_digest(language))
    assert rendered.subject == subject
    # The comments' own lines, quoted the reader's way, are not the digest's words.
    quoted = {"en": "  \u201c", "fr": "  \u00ab\u00a0", "it": "  \u00ab"}[language]
    every = rendered.text.splitlines()
    assert any(line.startswith(quoted) for line in every)
    assert [line for line in every if line and not line.startswith(quoted)] == expected
    assert f'<html lang="{language}">' in rendered.html
    assert f"<title>{subject.replace(chr(39), '&#x27;')}</title>" in rendered.html


def test_a_digest_with_nothing_to_show_says_so_in_its_language() -> None:
    empty = Nps(None, 0)
    quiet = {"nps_day": empty, "nps_week": empty, "broken": None, "comments": (), "scope": ()}
    french = render(_digest("fr", **quiet))
    assert french.subject.endswith(" : aucune r\u00e9ponse NPS")
    assert french.subject.startswith("R\u00e9capitulatif quotidien pour aucune unit\u00e9, ")
    lines = french.text.splitlines()
    assert "NPS d'hier : aucune r\u00e9ponse" in lines
    assert "Aucun commentaire hier." in lines
    assert (
        "Sortie du corridor : aucun point de contact n'est tomb\u00e9 10 points sous ses 7 jours "
        "sur 5 r\u00e9ponses ou plus"
    ) in lines
    italian = render(_digest("it", **quiet))
    assert "<p>Nessun commento ieri.</p>" in italian.html
    assert "NPS su 7 giorni: nessuna risposta" in italian.text.splitlines()
