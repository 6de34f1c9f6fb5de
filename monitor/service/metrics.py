"""EDGE: Prometheus metrics and /healthz on an optional loopback HTTP endpoint."""

from __future__ import annotations

import threading
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
)

from monitor.model import Fetched, PollResult
from monitor.store import SaveOutcome


class Metrics:
    """Every metric the daemon exports, on a registry of its own (tests can make several)."""

    def __init__(self) -> None:
        r = self.registry = CollectorRegistry()
        self.polls = Counter(
            "monitor_polls", "Feed polls by outcome", ["feed", "outcome"], registry=r
        )
        self.fetch_seconds = Histogram(
            "monitor_fetch_duration_seconds",
            "Time to fetch one feed",
            registry=r,
            buckets=(0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60),
        )
        self.items_new = Counter("monitor_items_new", "New items recorded", registry=r)
        self.matches = Counter("monitor_matches", "Rule matches on new items", ["rule"], registry=r)
        self.alerts = Counter("monitor_alerts_created", "Alerts created", ["kind"], registry=r)
        self.unrouted = Counter(
            "monitor_alerts_unrouted", "Alerts recorded that route to no channel", registry=r
        )
        self.deliveries = Counter(
            "monitor_deliveries", "Delivery attempts by outcome", ["channel", "outcome"], registry=r
        )
        self.outbox = Gauge("monitor_outbox", "Outbox rows by status", ["status"], registry=r)
        self.evidence = Counter(
            "monitor_evidence", "Evidence page attempts by outcome", ["outcome"], registry=r
        )
        self.articles = Counter(
            "monitor_article_fetches",
            "Article fetches of fetch_articles feeds by outcome",
            ["feed", "outcome"],
            registry=r,
        )
        self.last_success = Gauge(
            "monitor_feed_last_success_timestamp_seconds",
            "Last successful poll",
            ["feed"],
            registry=r,
        )

    def poll(self, result: PollResult, saved: SaveOutcome, fetched: Fetched) -> None:
        self.polls.labels(result.feed, result.outcome).inc()
        self.fetch_seconds.observe(fetched.elapsed)
        self.items_new.inc(saved.new_items)
        for alert in result.alerts:
            for rule in alert.rules:
                self.matches.labels(rule.id).inc()
        self.alerts.labels("match").inc(len(saved.created))
        self.alerts.labels("corroboration").inc(len(saved.corroborated))
        self.unrouted.inc(len(saved.unrouted))
        if result.state.last_success:
            self.last_success.labels(result.feed).set(result.state.last_success.timestamp())

    def delivery(self, channel: str, outcome: str) -> None:
        self.deliveries.labels(channel, outcome).inc()

    def evidence_outcome(self, outcome: str) -> None:
        self.evidence.labels(outcome).inc()

    def article(self, feed: str, outcome: str) -> None:
        self.articles.labels(feed, outcome).inc()

    def outbox_counts(self, counts: dict[str, int]) -> None:
        for status, n in counts.items():
            self.outbox.labels(status).set(n)


class _Handler(BaseHTTPRequestHandler):
    server: _MetricsServer

    def do_GET(self) -> None:
        if self.path.split("?")[0] == "/metrics":
            self._answer(200, generate_latest(self.server.metrics.registry), CONTENT_TYPE_LATEST)
        elif self.path.split("?")[0] == "/healthz":
            problem = self.server.problem()
            if problem is None:
                self._answer(200, b"ok\n")
            else:
                self._answer(503, f"unhealthy: {problem}\n".encode())
        else:
            self._answer(404, b"not found\n")

    def _answer(self, status: int, body: bytes, ctype: str = "text/plain; charset=utf-8") -> None:
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:
        pass


class _MetricsServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, addr: tuple[str, int], metrics: Metrics, problem: Callable[[], str | None]):
        super().__init__(addr, _Handler)
        self.metrics = metrics
        self.problem = problem


def serve(listen: str, metrics: Metrics, problem: Callable[[], str | None]) -> _MetricsServer:
    """Start /metrics and /healthz on HOST:PORT in a background thread; /healthz answers 503
    with what `problem()` says is wrong, 200 while it says nothing."""
    host, _, port = listen.rpartition(":")
    server = _MetricsServer((host.strip("[]") or "127.0.0.1", int(port)), metrics, problem)
    threading.Thread(target=server.serve_forever, name="metrics", daemon=True).start()
    return server
