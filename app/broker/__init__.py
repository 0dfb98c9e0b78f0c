"""Kafka I/O shared by the REST ingest and the workers: producing responses and creating topics."""
