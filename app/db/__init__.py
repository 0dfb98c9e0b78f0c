"""Persistence: SQLModel tables, the engine, migrations and the few queries the app makes."""
