"""The one settings object: every `VOC_*` environment variable, its default and its check."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

from pydantic import Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict


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
    # Events each app instance keeps so a reconnecting client can resume by its last id.
    ws_replay_events: int = Field(default=2000, ge=0)
    # Events queued for one websocket client before it is judged too slow and disconnected.
    ws_client_queue: int = Field(default=256, ge=1)

    # Comma-separated. `voc run` creates a demo key when none is given.
    integrator_keys: Annotated[list[SecretStr], NoDecode] = Field(default_factory=list)
    batch_max: int = Field(default=500, ge=1, le=10_000)

    # Calendar day used by the "today" barometer window (IANA name).
    timezone: str = "UTC"
    log_level: str = "INFO"
    frontend_dir: Path = Path(__file__).resolve().parents[2] / "frontend"

    @field_validator("integrator_keys", mode="before")
    @classmethod
    def _split_keys(cls, value: object) -> object:
        if isinstance(value, str):
            return [k.strip() for k in value.split(",") if k.strip()]
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

    @property
    def dlq_topic(self) -> str:
        return f"{self.responses_topic}.dlq"
