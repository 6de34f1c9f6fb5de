"""EDGE: the console's pages (alerts, one alert, silences, reviews, feeds, outbox)."""

from __future__ import annotations

from monitor.web.app import Route

ROUTES: list[Route] = []
