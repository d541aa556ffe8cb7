"""govbot as a self-hosted GitHub App: webhook receiver, jobs on Huey, state in SQLAlchemy.

``settings`` (typed, built once) → ``store`` (the state, the one source of truth) →
``receiver`` (verifies, records, enqueues after commit) → ``jobs`` (Huey wiring) →
``worker`` (claims a run, analyses through a port, publishes idempotently) → ``sweeper``.
"""
