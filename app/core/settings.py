"""The one settings object: every `VOC_*` environment variable, its default and its check."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Literal

from pydantic import Field, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from app.core.events import Slug
from app.core.languages import Language


class Settings(BaseSettings):
    """Read from the environment (prefix `VOC_`) once, in a composition root, and passed down."""

    model_config = SettingsConfigDict(env_prefix="VOC_", extra="ignore")

    host: str = "127.0.0.1"
    port: int = Field(default=8000, ge=0, le=65535)

    database_url: str = "sqlite:///./voc.db"
    # Run Alembic migrations when the API starts. Turn off when several instances share one
    # PostgreSQL database and `voc migrate` runs once per release instead.
    migrate_on_start: bool = True

    kafka_bootstrap: str = "127.0.0.1:9092"
    # The loopback port of the broker `voc run` starts (it prints it); unset: a free port.
    embedded_kafka_port: int | None = Field(default=None, ge=1, le=65535)
    responses_topic: str = "voc.responses"
    consumer_group: str = "voc-ingest"
    # Responses are keyed by org_unit, so one partition (and one worker) holds a unit's barometers.
    topic_partitions: int = Field(default=3, ge=1)
    # 6 s is the smallest session Apache Kafka accepts by default; the embedded broker answers a
    # JoinGroup after half of it, so this also bounds how long the first message waits.
    kafka_session_timeout_ms: int = Field(default=6000, ge=1000)
    kafka_heartbeat_interval_ms: int = Field(default=1000, ge=100)
    # How long a REST ingest waits for the broker before answering 503.
    kafka_produce_timeout_s: float = Field(default=5.0, gt=0)
    max_message_bytes: int = Field(default=64 * 1024, ge=1024)
    poll_max_records: int = Field(default=500, ge=1)
    # Ingest workers the API process runs in its own threads. They publish to the in-memory hub,
    # so without Redis this is how responses reach the cockpit.
    embedded_workers: int = Field(default=1, ge=0)

    # Where a standalone `voc worker` serves Prometheus metrics (on VOC_HOST); unset: nowhere.
    # Embedded workers count in their API's /metrics.
    worker_metrics_port: int | None = Field(default=None, ge=1, le=65535)

    redis_url: str | None = None
    # The pub/sub channel the instances of one deployment share; the id counter is
    # `<channel>:seq`. Deployments (or test runs) sharing one Redis each need their own.
    redis_channel: str = Field(default="voc:events", min_length=1)
    # Events each app instance keeps so a reconnecting client can resume by its last id.
    ws_replay_events: int = Field(default=2000, ge=0)
    # Events queued for one websocket client before it is judged too slow and disconnected.
    ws_client_queue: int = Field(default=256, ge=1)
    # Events the in-process hub holds for this instance's fanout before it drops (and the
    # cockpits reload); with Redis, the server's pub/sub output buffer limit plays this part.
    hub_backlog: int = Field(default=10_000, ge=1)
    # How often, at most, this instance recomputes a watched scope's barometer and pushes it.
    live_barometer_every_ms: int = Field(default=250, ge=10, le=60_000)

    # Comma-separated keys with no unit limit, for deployments that inject secrets; keys made
    # with `voc keys create` or the admin API are stored hashed, revocable and can be limited.
    integrator_keys: Annotated[list[SecretStr], NoDecode] = Field(default_factory=list)
    batch_max: int = Field(default=500, ge=1, le=10_000)
    # Larger request bodies are refused (413) before they are read into memory.
    max_body_bytes: int = Field(default=8 * 1024 * 1024, ge=64 * 1024)
    # Per integrator key and app instance: responses a second, and the burst allowed above it.
    ingest_rate_per_key: float = Field(default=500.0, gt=0)
    ingest_burst_per_key: int = Field(default=2000, ge=1)

    # The org tree (YAML or JSON) to load at start; units are added or updated, never removed.
    org_tree_file: Path | None = None
    # A response for a unit not in the tree: "reject" answers REST with 422 (Kafka messages go
    # to the dead-letter topic either way); "park" accepts it and dead-letters it for replay.
    unknown_org_unit: Literal["reject", "park"] = "reject"

    # Signed-in sessions (cookie or bearer token) last this long.
    session_hours: float = Field(default=12.0, gt=0, le=24 * 30)
    # Consecutive wrong passwords that lock an account, and for how long.
    login_max_failures: int = Field(default=5, ge=1)
    login_lockout_s: int = Field(default=300, ge=1)
    # Sign-in attempts one client address may make a minute (any account).
    login_attempts_per_minute: int = Field(default=30, ge=1)
    # Origins (scheme://host:port) a browser may open the websocket from, comma-separated,
    # besides the app's own; and origins allowed cross-origin REST calls (CORS, closed if empty).
    allowed_origins: Annotated[list[str], NoDecode] = Field(default_factory=list)
    cors_origins: Annotated[list[str], NoDecode] = Field(default_factory=list)

    # The text model's probability from which a comment counts as negative (sentiment/).
    # The rule: the highest threshold whose out-of-fold F1 (5-fold CV on the training part,
    # bench/train_sentiment.py) is within 0.01 of the best, because a false alarm costs a manager's
    # trust. English: best 0.854 at 0.30, 0.848 at 0.50 with precision 0.84 against 0.80. One
    # threshold serves both languages (French alone would take 0.45: 0.781 against 0.767).
    # Lower catches more complaints and raises more false alarms:
    # bench/sentiment_eval.py --curve prints the trade-off on the held-out sets.
    sentiment_negative_from: float = Field(default=0.5, gt=0, lt=1)
    # The taxonomy of themes (YAML, docs/themes.md); unset: sentiment/themes.yaml.
    themes_file: Path | None = None
    # Emerging topics: said by at least this many comments this week, with a share of the
    # week's comments this many times its share in the four weeks before.
    emerging_min_count: int = Field(default=10, ge=2)
    emerging_min_lift: float = Field(default=3.0, ge=1.0)

    # Alert rules (YAML); unset: the rules shipped in alerts/rules.yaml.
    alert_rules_file: Path | None = None
    # SLAs per severity (JSON objects): acknowledge within minutes, resolve within hours.
    alert_ack_minutes: dict[str, int] = Field(
        default_factory=lambda: {"high": 15, "medium": 60, "low": 240}
    )
    alert_resolve_hours: dict[str, int] = Field(
        default_factory=lambda: {"high": 48, "medium": 72, "low": 120}
    )
    # Responses submitted longer ago than this (an imported history) are stored and counted but
    # raise no alert: deadlines started at import would escalate what was settled long ago.
    alert_max_age_hours: float = Field(default=72.0, gt=0)
    # The root causes a resolution must name (JSON list).
    alert_root_causes: list[str] = Field(
        default_factory=lambda: [
            "product",
            "delivery",
            "installation",
            "staff-behaviour",
            "waiting-time",
            "billing",
            "communication",
            "process",
            "other",
        ],
        min_length=1,
    )

    # Frontline staff see their units' open callbacks, take one ("I'll call") and only then see
    # that customer's contact, and record how the call went.
    frontline_callbacks: bool = False
    # A promoter's comment (NPS 9-10, CSAT 5) whose polarity reaches this, and which reads as no
    # complaint, is praise: pushed to the unit's frontline and kept on its praise wall.
    praise_from: float = Field(default=0.5, gt=0, le=1)
    # In the inbox, a unit raising more than this many alerts within VOC_INBOX_INCIDENT_MINUTES
    # shows as one incident with its count (0: never), so a burst does not bury the rest.
    inbox_incident_alerts: int = Field(default=10, ge=0)
    inbox_incident_minutes: int = Field(default=60, ge=1, le=10_080)

    # How often overdue alerts are looked for and escalated up the org tree.
    alert_escalation_every_s: float = Field(default=30.0, gt=0)
    # Daily digest: how often each instance looks for users whose local digest hour has come
    # (docs/digest.md). It is sent once per user and day whatever the number of instances.
    digest_every_s: float = Field(default=60.0, gt=0)
    # Where alert notifications link to (the cockpit as users reach it); unset: no link.
    public_url: str | None = None
    # Webhook for alerts: JSON (ours), or Slack/Teams incoming-webhook payloads.
    alert_webhook_url: str | None = None
    alert_webhook_secret: SecretStr | None = None
    alert_webhook_style: Literal["json", "slack", "teams"] = "json"
    # E-mail for alerts, to the managers of the alert's unit and the units above it.
    smtp_host: str | None = None
    smtp_port: int = Field(default=587, ge=1, le=65535)
    smtp_security: Literal["none", "starttls", "tls"] = "starttls"
    smtp_username: str | None = None
    smtp_password: SecretStr | None = None
    smtp_sender: str = "VoC cockpit <cockpit@localhost>"

    # The journey (the corridor customers walk), comma-separated touchpoints in their order:
    # `GET /api/v1/journey` shows each of them, answered or not, before any other touchpoint.
    journey: Annotated[list[Slug], NoDecode] = Field(
        default_factory=lambda: [
            "purchase",
            "order",
            "delivery",
            "installation",
            "first-payment",
            "support",
            "billing",
            "renewal",
        ]
    )

    # Calendar day used by the "today" barometer window (IANA name).
    timezone: str = "UTC"
    # What a reader who chose no language, and whose browser asks for none the cockpit speaks,
    # gets (app/core/languages.py).
    default_language: Language = "en"
    log_level: str = "INFO"
    frontend_dir: Path = Path(__file__).resolve().parents[2] / "frontend"

    @field_validator("integrator_keys", "allowed_origins", "cors_origins", "journey", mode="before")
    @classmethod
    def _split_list(cls, value: object) -> object:
        if isinstance(value, str):
            return [k.strip() for k in value.split(",") if k.strip()]
        return value

    @field_validator("journey")
    @classmethod
    def _each_step_once(cls, value: list[str]) -> list[str]:
        repeated = sorted({step for step in value if value.count(step) > 1})
        if repeated:
            raise ValueError(f"each touchpoint once: {', '.join(repeated)} given twice or more")
        return value

    @field_validator("timezone")
    @classmethod
    def _known_timezone(cls, value: str) -> str:
        from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"unknown IANA timezone {value!r}") from exc
        return value

    @model_validator(mode="after")
    def _burst_fits_a_batch(self) -> Settings:
        if self.ingest_burst_per_key < self.batch_max:
            raise ValueError(
                f"VOC_INGEST_BURST_PER_KEY ({self.ingest_burst_per_key}) must be at least "
                f"VOC_BATCH_MAX ({self.batch_max}), or no full batch could ever be accepted"
            )
        return self

    @property
    def dlq_topic(self) -> str:
        return f"{self.responses_topic}.dlq"
