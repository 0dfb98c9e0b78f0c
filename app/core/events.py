"""Wire schemas: the survey response integrators send, and the events the hub pushes to cockpits.

One schema, one place: Kafka carries `SurveyResponse` JSON, the websocket carries `HubEvent` JSON,
and the frontend reads the JSON Schema exported from here (`voc schema`).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Annotated, Any, Literal

from pydantic import (
    AwareDatetime,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StrictInt,
    StringConstraints,
    ValidationError,
    ValidationInfo,
    computed_field,
    field_validator,
)
from pydantic_core import InitErrorDetails, PydanticCustomError

from app.core import explain as wording
from app.core.wirejson import field_path, printable, unstorable

COMMENT_MAX_CHARS = 4000
METADATA_MAX_KEYS = 50
STAFF_MAX_NAMES = 10
# Survey tools and clocks drift; a response dated further ahead than this is an integration bug.
FUTURE_SKEW = timedelta(minutes=10)
# No survey was answered online before; the bound also keeps the conversion to UTC within the
# years a datetime holds (year 1 at +01:00 would fall before them).
EARLIEST_SUBMITTED = datetime(1970, 1, 1, tzinfo=UTC)
# The `language` column's width: BCP 47 advises room for 35 characters.
LANGUAGE_MAX_CHARS = 35


class ScoreKind(StrEnum):
    NPS = "nps"
    CSAT = "csat"
    CES = "ces"


# Inclusive ranges. CES direction is explicit: 1 = very easy, 7 = very hard (high effort).
SCORE_RANGES: dict[ScoreKind, tuple[int, int]] = {
    ScoreKind.NPS: (0, 10),
    ScoreKind.CSAT: (1, 5),
    ScoreKind.CES: (1, 7),
}
CES_HIGH_EFFORT_FROM = 6


class Channel(StrEnum):
    WEB = "web"
    EMAIL = "email"
    SMS = "sms"
    APP = "app"
    PHONE = "phone"
    STORE = "store"
    CHAT = "chat"


class CustomerType(StrEnum):
    PERSON = "person"
    COMPANY = "company"
    INTERMEDIARY = "intermediary"
    INTERNAL = "internal"


class Severity(StrEnum):
    """How urgently a response calls for a callback, from the score and the comment together."""

    NONE = "none"
    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"

    @property
    def rank(self) -> int:
        """0 for none up to 3 for high: compare severities by rank, never by their names."""
        return list(Severity).index(self)


Identifier = Annotated[
    str, StringConstraints(strip_whitespace=True, min_length=1, max_length=128, pattern=r"^\S+$")
]


def _normalise_slug(value: object) -> object:
    return value.strip().lower() if isinstance(value, str) else value


# Lower-cased so "Store-12" and "store-12" are one unit in every barometer.
Slug = Annotated[
    str,
    BeforeValidator(_normalise_slug),
    StringConstraints(pattern=r"^[a-z0-9][a-z0-9._-]{0,63}$"),
]
LanguageTag = Annotated[
    str,
    StringConstraints(
        strip_whitespace=True,
        max_length=LANGUAGE_MAX_CHARS,
        pattern=r"^[A-Za-z]{2,3}(-[A-Za-z0-9]{2,8})*$",
    ),
]


def _storable_text(value: object) -> object:
    # PostgreSQL text cannot hold a NUL: the worker's insert would fail on every retry and stall
    # the partition. Refused on SQLite too, so no deployment takes what another will not.
    if isinstance(value, str) and "\x00" in value:
        raise ValueError("contains a NUL character (\\u0000), which cannot be stored")
    return value


StaffName = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=80)]


class Contact(BaseModel):
    """How to call the customer back: personal data, shown in full only to managers acting on it."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str | None = Field(default=None, min_length=1, max_length=200)
    email: str | None = Field(default=None, max_length=254, pattern=r"^[^@\s]+@[^@\s]+$")
    phone: str | None = Field(default=None, max_length=40, pattern=r"^\+?[0-9][0-9 ().-]{2,39}$")

    @field_validator("*")
    @classmethod
    def _no_nul(cls, value: object) -> object:
        return _storable_text(value)


class SurveyResponse(BaseModel):
    """One survey answer as an integrator sends it. Unknown fields are rejected, by name."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    response_id: Identifier = Field(description="The integrator's idempotency key.")
    survey_id: Identifier
    submitted_at: AwareDatetime = Field(description="When the customer answered; with timezone.")
    # score_kind first: the score's range check reads it.
    score_kind: ScoreKind
    score: StrictInt
    comment: str | None = Field(default=None, max_length=COMMENT_MAX_CHARS)
    language: LanguageTag | None = None
    channel: Channel
    touchpoint: Slug = Field(description="Journey step, e.g. purchase, delivery, support.")
    org_unit: Slug = Field(description="Store or team id the response belongs to.")
    customer_type: CustomerType
    customer_ref: Identifier | None = Field(default=None, description="Pseudonymous customer id.")
    contact: Contact | None = Field(default=None, description="For the callback; masked for most.")
    staff: list[StaffName] = Field(
        default_factory=list,
        max_length=STAFF_MAX_NAMES,
        description="The staff members the customer dealt with, as the survey tool names them "
        '(e.g. ["Marie"]): a praise names them to their team.',
    )
    metadata: dict[str, Any] = Field(default_factory=dict, max_length=METADATA_MAX_KEYS)

    @field_validator("*")
    @classmethod
    def _no_nul(cls, value: object) -> object:
        return _storable_text(value)

    @field_validator("staff")
    @classmethod
    def _staff_without_nul(cls, value: list[str]) -> list[str]:
        for name in value:
            _storable_text(name)
        return value

    @field_validator("comment")
    @classmethod
    def _blank_comment_is_none(cls, value: str | None) -> str | None:
        if value is None or not value.strip():
            return None
        return value.strip()

    @field_validator("submitted_at")
    @classmethod
    def _plausible_time(cls, value: datetime) -> datetime:
        # Compared before converting: the conversion itself overflows near year 1.
        if value < EARLIEST_SUBMITTED:
            raise ValueError(
                f"lies before {EARLIEST_SUBMITTED:%Y-%m-%d}; send the time the customer answered"
            )
        if value - datetime.now(UTC) > FUTURE_SKEW:
            raise ValueError("lies in the future; send the time the customer answered")
        return value.astimezone(UTC)

    @field_validator("metadata")
    @classmethod
    def _storable_metadata(cls, value: dict[str, Any]) -> dict[str, Any]:
        found = unstorable(value)
        if found is not None:
            path, problem = found
            loc = tuple(printable(p) if isinstance(p, str) else p for p in path)
            detail = InitErrorDetails(
                type=PydanticCustomError("unstorable", problem), loc=loc, input=None
            )
            # Raised as a ValidationError so the location names the offending key, not only
            # `metadata`.
            raise ValidationError.from_exception_data("metadata", [detail])
        return value

    @field_validator("score")
    @classmethod
    def _score_in_range(cls, value: int, info: ValidationInfo) -> int:
        kind = info.data.get("score_kind")
        if kind is None:  # score_kind itself was invalid and is reported on its own
            return value
        low, high = SCORE_RANGES[kind]
        if not low <= value <= high:
            raise ValueError(f"{value} is outside the {kind.value} range {low}-{high}")
        return value


class ReasonKind(StrEnum):
    """What a reason points at: the score's band, the comment's tone, a phrase, its language."""

    SCORE = "score"
    TEXT = "text"
    PHRASE = "phrase"
    LANGUAGE = "language"


class Reason(BaseModel):
    """One thing the sentiment stage saw, worded for the manager who reads the flag."""

    model_config = ConfigDict(frozen=True)

    kind: ReasonKind
    label: str = Field(
        description="What to show in English, e.g. 'NPS 2: very poor (0-3)', "
        "'negative comment (93%)', 'still waiting' (a matched phrase, without quotes), "
        "'comment in de: not assessed'."
    )
    words: dict[str, Any] | None = Field(
        default=None,
        description="The same as a phrase to word in the reader's language, as an alert's `why` "
        'holds them: {"message": English text with {placeholders}, "params": {...}, "plural"?, '
        '"n"?}. None for a matched phrase (the customer\'s own words, shown as written) and on '
        "reasons stored before it was kept: show `label` then.",
    )


class Tone(StrEnum):
    """How a comment speaks of one of its themes (the clause that names it)."""

    NEGATIVE = "negative"
    NEUTRAL = "neutral"
    POSITIVE = "positive"


class ThemeMention(BaseModel):
    """A theme a comment talks about, by the taxonomy's id, and the tone it does so in."""

    model_config = ConfigDict(frozen=True)

    theme: str = Field(description="The theme's id in the taxonomy, e.g. 'delivery'.")
    tone: Tone | None = Field(
        description='Of the clause naming it ("good product but the delivery was a disaster": '
        "product positive, delivery negative); None when the comment's language is not one the "
        "scorer reads."
    )


class Assessment(BaseModel):
    """What the sentiment stage concluded about one response."""

    model_config = ConfigDict(frozen=True)

    polarity: float | None = Field(
        description="Comment sentiment in [-1, 1]; None without a comment or when its language "
        "is not one the scorer reads (not assessed, which is not neutral)."
    )
    dissatisfied: bool
    severity: Severity
    comment_language: str | None = Field(
        default=None,
        description="The language the comment was read as (ISO 639-1, e.g. 'en', 'fr'); "
        "None without a comment or when it could not be told.",
    )
    negative_comment: bool = Field(
        default=False, description="The comment reads as a complaint or as negative."
    )
    negative_probability: float | None = Field(
        default=None,
        description="The text model's probability in [0, 1] that the comment is negative; "
        "None when not assessed.",
    )
    reasons: list[Reason] = Field(
        default_factory=list,
        description="Why the response is (or would be) flagged, strongest first.",
    )
    themes: list[ThemeMention] = Field(
        default_factory=list,
        description="What the comment talks about, in order of first mention (the taxonomy's "
        "themes; see docs/themes.md).",
    )


class ResponseView(BaseModel):
    """A response as cockpits and the read API show it: no metadata, contact masked unless revealed.

    `contact_masked` says which: live events always carry the masked form (contact data never
    crosses the hub); the read API reveals it to managers on the dissatisfied responses they handle.
    """

    response_id: str
    survey_id: str
    submitted_at: datetime
    received_at: datetime
    score: int
    score_kind: ScoreKind
    comment: str | None
    language: str | None
    channel: Channel
    touchpoint: str
    org_unit: str
    customer_type: CustomerType
    customer_ref: str | None = None
    contact: Contact | None = None
    contact_masked: bool = True
    polarity: float | None
    dissatisfied: bool
    severity: Severity
    comment_language: str | None = None
    negative_comment: bool = False
    negative_probability: float | None = None
    reasons: list[Reason] = Field(default_factory=list)
    staff: list[str] = Field(default_factory=list)
    themes: list[ThemeMention] = Field(default_factory=list)

    @classmethod
    def of(
        cls, response: SurveyResponse, assessment: Assessment, received_at: datetime
    ) -> ResponseView:
        """The masked view, as live events carry it.

        Built from fields already validated, without validating them again: the worker makes
        one per stored response, and validation was a sixth of its time.
        """
        r, a = response, assessment
        return cls.model_construct(
            response_id=r.response_id,
            survey_id=r.survey_id,
            submitted_at=r.submitted_at,
            received_at=received_at,
            score=r.score,
            score_kind=r.score_kind,
            comment=r.comment,
            language=r.language,
            channel=r.channel,
            touchpoint=r.touchpoint,
            org_unit=r.org_unit,
            customer_type=r.customer_type,
            customer_ref=_mask_ref(r.customer_ref),
            contact=_mask_contact(r.contact),
            contact_masked=True,
            polarity=a.polarity,
            dissatisfied=a.dissatisfied,
            severity=a.severity,
            comment_language=a.comment_language,
            negative_comment=a.negative_comment,
            negative_probability=a.negative_probability,
            reasons=list(a.reasons),
            staff=list(r.staff),
            themes=list(a.themes),
        )

    def masked(self) -> ResponseView:
        if self.contact_masked:
            return self
        return self.model_copy(
            update={
                "contact": _mask_contact(self.contact),
                "customer_ref": _mask_ref(self.customer_ref),
                "contact_masked": True,
            }
        )


MASK = "•••"


def _mask_ref(ref: str | None) -> str | None:
    if ref is None:
        return None
    return MASK + ref[-3:] if len(ref) > 6 else MASK


def _mask_contact(contact: Contact | None) -> Contact | None:
    if contact is None:
        return None
    return Contact.model_construct(
        name=_mask_name(contact.name),
        email=_mask_email(contact.email),
        phone=_mask_phone(contact.phone),
    )


def _mask_name(name: str | None) -> str | None:
    return None if name is None else name.strip()[:1] + MASK


def _mask_email(email: str | None) -> str | None:
    if email is None:
        return None
    local, _, domain = email.partition("@")
    return f"{local[:1]}{MASK}@{domain}"


def _mask_phone(phone: str | None) -> str | None:
    if phone is None:
        return None
    digits = [c for c in phone if c.isdigit()]
    return MASK + "".join(digits[-2:])


class Barometer(BaseModel):
    """Figures over one window. Every figure stands beside the count it was computed from."""

    responses: int = 0
    nps: float | None = Field(default=None, description="% promoters - % detractors, -100..100.")
    nps_responses: int = 0
    promoters: int = 0
    passives: int = 0
    detractors: int = 0
    csat_pct: float | None = Field(default=None, description="% of CSAT answers that are 4 or 5.")
    csat_mean: float | None = None
    csat_responses: int = 0
    ces_mean: float | None = None
    ces_responses: int = 0
    sentiment_mean: float | None = None
    sentiment_responses: int = 0
    flagged: int = 0


class Window(StrEnum):
    HOUR = "hour"
    TODAY = "today"
    WEEK = "7d"


class TrendPoint(BaseModel):
    minute: datetime
    responses: int
    nps: float | None
    nps_responses: int


class HourPoint(BaseModel):
    hour: datetime
    responses: int
    nps: float | None
    nps_responses: int


class ParentBarometer(BaseModel):
    """The unit above, rolled up from its whole subtree's responses: figures and counts only."""

    org_unit: str
    name: str
    windows: dict[Window, Barometer]


class BarometerSnapshot(BaseModel):
    """The barometers of one scope: an org unit (None: all of them), optionally one touchpoint."""

    org_unit: str | None
    touchpoint: str | None
    as_of: datetime
    windows: dict[Window, Barometer]
    trend: list[TrendPoint] = Field(description="Per minute, oldest first, last hour.")
    hourly: list[HourPoint] = Field(
        default_factory=list,
        description="Per UTC hour of the 7d window (168 points), oldest first, empty hours "
        "included; only in the read API's answer, empty in live events.",
    )
    parent: ParentBarometer | None = Field(
        default=None,
        description="The unit above the one named in `org_unit`, same touchpoints and windows; "
        "only in the read API's answer, for a request naming one unit that has a parent.",
    )


class CommentEvent(BaseModel):
    type: Literal["comment"] = "comment"
    org_unit: str
    touchpoint: str
    data: ResponseView


class FlagEvent(BaseModel):
    """A response judged dissatisfied: someone should call this customer back."""

    type: Literal["flag"] = "flag"
    org_unit: str
    touchpoint: str
    data: ResponseView


class AlertState(StrEnum):
    OPEN = "open"
    ACKNOWLEDGED = "acknowledged"
    IN_PROGRESS = "in_progress"
    RESOLVED = "resolved"
    CLOSED = "closed"


class ContactOutcome(StrEnum):
    """How a call to the customer went."""

    REACHED = "reached"
    NO_ANSWER = "no_answer"
    RESOLVED = "resolved"


class AlertView(BaseModel):
    """An alert as managers see it: which rules fired and why, its state and deadlines.

    `response` is the customer's answer, masked like any live event; the read API reveals the
    contact to the managers who handle it.
    """

    id: int
    org_unit: str
    touchpoint: str | None
    response_id: str | None = Field(description="None for an alert about a unit.")
    rules: list[str]
    rules_version: int
    severity: Severity
    reasons: dict[str, dict[str, Any]]
    state: AlertState
    assignee: str | None
    assignee_name: str | None = Field(default=None, description="The assignee's display name.")
    created_at: datetime
    due_ack_at: datetime | None
    due_resolve_at: datetime | None
    acknowledged_at: datetime | None
    resolved_at: datetime | None
    closed_at: datetime | None
    root_cause: str | None
    resolution_note: str | None
    escalations: int
    case_key: str = Field(
        default="", description="Alerts of one customer inside the repeat window share it."
    )
    first_contact_at: datetime | None = None
    contact_outcome: ContactOutcome | None = None
    response: ResponseView | None = None

    @computed_field(  # type: ignore[prop-decorator]
        description="Each rule's reasons as phrases to word in the reader's language: "
        '{"message": English text with {placeholders}, "params": {...}, "plural"?, "n"?}.'
    )
    @property
    def why(self) -> dict[str, list[dict[str, Any]]]:
        return wording.why(self.reasons)


class LoopFigures(BaseModel):
    """How well a unit closes the loop on its alerts, with the counts behind each figure. Times
    are means (a median cannot be summed from the units' counts)."""

    org_unit: str | None
    as_of: datetime
    days: int
    alerts: int = Field(description="Alerts raised in the period.")
    acknowledged: int = Field(description="Of those, acknowledged.")
    mean_ack_minutes: float | None = Field(description="From the alert to its acknowledgement.")
    contacted: int = Field(description="Of the period's alerts, with their customer reached.")
    mean_contact_hours: float | None = Field(description="From the alert to the first contact.")
    resolved: int = Field(description="Of the period's alerts, resolved.")
    mean_resolve_hours: float | None = Field(description="From the alert to its resolution.")
    detractors: int = Field(
        description="NPS 0-6 answers of the period whose 48 h have passed, open ones included."
    )
    contacted_48h: int = Field(description="Of those, reached (or resolved) within 48 h.")
    contacted_48h_pct: float | None
    not_contacted_48h: int = Field(description="Of those, not reached within their 48 h.")
    detractors_waiting: int = Field(
        description="Detractors with an alert, inside their 48 h and not reached yet."
    )
    overdue: int = Field(description="Unresolved alerts past a deadline now, whenever raised.")
    open_by_age: dict[str, int] = Field(description="Unresolved alerts now, by age.")


class AlertEvent(BaseModel):
    """A new alert, or a change to one: for managers of its unit and of the units above."""

    type: Literal["alert"] = "alert"
    org_unit: str
    touchpoint: str | None
    data: AlertView

    @classmethod
    def payload(cls, view: AlertView) -> bytes:
        """The hub event of a new or changed alert, serialized: the one place it is built."""
        return (
            cls(org_unit=view.org_unit, touchpoint=view.touchpoint, data=view)
            .model_dump_json()
            .encode()
        )


class LoopEvent(BaseModel):
    """A unit's closed-loop figures after one of its alerts changed: for managers."""

    type: Literal["loop"] = "loop"
    org_unit: str
    touchpoint: None = None
    data: LoopFigures


class PraiseView(BaseModel):
    """A promoter's praise of the service, with the staff it names; pinned on top of the unit's
    feed until `pinned_until`."""

    response: ResponseView
    pinned_until: datetime | None = None
    pinned_by: str | None = None
    pinned_by_name: str | None = None


class PraiseEvent(BaseModel):
    """Praise for a unit, or its pin changed: for everyone watching the unit, frontline first."""

    type: Literal["praise"] = "praise"
    org_unit: str
    touchpoint: str
    data: PraiseView

    @classmethod
    def payload(cls, view: PraiseView) -> bytes:
        r = view.response
        return (
            cls(org_unit=r.org_unit, touchpoint=r.touchpoint, data=view).model_dump_json().encode()
        )


HubEvent = Annotated[
    CommentEvent | FlagEvent | AlertEvent | LoopEvent | PraiseEvent,
    Field(discriminator="type"),
]


def explain(error: ValidationError, whole: str = "body") -> str:
    """One line naming every offending field, e.g. `score: 11 is outside the nps range 0-10`."""
    parts = []
    for item in error.errors(include_url=False):
        where = field_path(item["loc"], whole)
        message = item["msg"].removeprefix("Value error, ")
        if item["type"] == "extra_forbidden":
            message = "unknown field"
        parts.append(f"{where}: {message}")
    return "; ".join(parts)
