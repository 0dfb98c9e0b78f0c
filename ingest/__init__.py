"""Kafka ingest: decode and validate, score, store once, publish to the hub, then commit."""
