"""Create the topics the cockpit uses, once, before anything produces or consumes."""

from __future__ import annotations

import logging

from kafka import KafkaAdminClient
from kafka.admin import NewTopic
from kafka.errors import KafkaError, TopicAlreadyExistsError

from app.core.errors import BrokerUnavailable
from app.core.settings import Settings

log = logging.getLogger(__name__)


def ensure_topics(settings: Settings) -> None:
    try:
        admin = KafkaAdminClient(
            bootstrap_servers=settings.kafka_bootstrap,
            client_id="voc-admin",
            request_timeout_ms=int(settings.kafka_produce_timeout_s * 1000),
            bootstrap_timeout_ms=int(settings.kafka_produce_timeout_s * 1000),
        )
    except KafkaError as exc:
        raise BrokerUnavailable(f"broker {settings.kafka_bootstrap}: {exc}") from exc
    try:
        existing = set(admin.list_topics())
        wanted = [
            NewTopic(settings.responses_topic, settings.topic_partitions, 1),
            NewTopic(settings.dlq_topic, 1, 1),
        ]
        missing = [t for t in wanted if t.name not in existing]
        if missing:
            try:
                admin.create_topics(missing)
                log.info("created topics", extra={"topics": [t.name for t in missing]})
            except TopicAlreadyExistsError:
                pass
    finally:
        admin.close()
