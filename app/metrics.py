"""Prometheus metrics, named once; the API serves them at /metrics."""

from __future__ import annotations

from prometheus_client import Counter, Gauge, Histogram

INGESTED = Counter("voc_responses_ingested", "Responses stored for the first time.")
DUPLICATES = Counter(
    "voc_responses_duplicate",
    "Responses whose response_id was already stored, or came earlier in the same batch.",
)
FLAGGED = Counter("voc_responses_flagged", "Stored responses judged dissatisfied.")
ALERTS = Counter("voc_alerts_raised", "Alerts raised by the rules (one per customer or unit-hour).")
DLQ = Counter("voc_responses_dlq", "Messages sent to the dead-letter topic.", ["reason"])
ACCEPTED = Counter("voc_responses_accepted", "Responses acknowledged by the broker via REST.")
WORKER_ERRORS = Counter(
    "voc_worker_errors", "Unexpected ingest failures; the batch stays uncommitted and is retried."
)
LAG = Gauge(
    "voc_ingest_lag", "Messages not yet stored and committed, per partition.", ["partition"]
)
STALLED = Gauge(
    "voc_worker_stalled_seconds",
    "Seconds a worker has been failing to get past the batch in hand; 0 while it progresses.",
    ["worker"],
)
WS_CLIENTS = Gauge("voc_ws_clients", "Websocket clients connected to this instance.")
WS_SLOW_DISCONNECTS = Counter(
    "voc_ws_slow_disconnects", "Websocket clients disconnected because their queue was full."
)
WS_COALESCED = Counter(
    "voc_ws_coalesced",
    "Barometer or loop-figure frames replaced, unsent, by a newer one for the same client.",
)
WS_DELIVERY_LAG = Gauge(
    "voc_ws_delivery_lag_seconds",
    "Age of the oldest event this instance has read from the hub but not yet written to a socket.",
)
WS_BATCHES = Counter(
    "voc_ws_batch_frames", "Frames that carried several events to a client that was behind."
)
HUB_DROPPED = Counter(
    "voc_hub_dropped",
    "Events the in-process hub dropped because its reader was that far behind (clients reload).",
)
HUB_PUBLISH_FAILURES = Counter(
    "voc_hub_publish_failures", "Batches stored but not published live because the hub failed."
)
HUB_RECONNECTS = Counter(
    "voc_hub_reconnects", "Times this instance's Redis subscription was restored after a loss."
)
HUB_GAPS = Counter(
    "voc_hub_gaps", "Times hub event ids broke continuity here, so cockpits were told to reload."
)
LIVE_BAROMETER_SECONDS = Histogram(
    "voc_live_barometer_seconds",
    "Time to compute one watched scope's barometer for its live push (count: computations).",
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5),
)
LIVE_BAROMETER_SCOPES = Gauge(
    "voc_live_barometer_scopes", "Barometer scopes websocket clients watch on this instance."
)
LIVE_BAROMETER_FAILURES = Counter(
    "voc_live_barometer_failures",
    "Live barometer computations that failed (pushed with the next response).",
)
