"""The service: the one composition root, the daemon (APScheduler jobs, signals, reload),
the poller, housekeeping, `run --once` and metrics."""
