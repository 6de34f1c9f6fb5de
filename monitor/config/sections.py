"""The config's small sections: [model] (the relevance model's switches and thresholds),
[web] (the console) and the HOST:PORT of [metrics] and [web]."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from monitor.config.reader import Table


@dataclass(frozen=True)
class ModelConfig:
    """[model]: the learned relevance model beside the rules (monitor.match.decision)."""

    enabled: bool = True
    path: Path | None = None  # None: the model shipped in the package
    veto: float | None = None  # None: the model file's thresholds
    alone: float | None = None
    alone_headline: float | None = None  # `alone` for an item with no summary


@dataclass(frozen=True)
class WebConfig:
    """[web]: the analysts' console (monitor.web), served by `monitor run` and `monitor web`."""

    listen: str | None = None  # HOST:PORT; None: no console
    secure_cookies: bool = False  # Secure cookies even without X-Forwarded-Proto: https


def model_section(t: Table, base: Path) -> ModelConfig:
    raw = t.get("path", str, "")
    limits = {}
    for name in ("veto", "alone", "alone_headline"):
        value = t.get(name, (int, float), -1.0)
        if value != -1.0 and not 0 <= value <= 1:
            t.problem(name, f"{value} is not a probability between 0 and 1")
        limits[name] = float(value) if 0 <= value <= 1 else None
    model = ModelConfig(t.get("enabled", bool, True), base / raw if raw else None, **limits)
    t.finish()
    return model


def listen_of(t: Table, example: str, *, finish: bool = True) -> str | None:
    listen = t.get("listen", str, "") or None
    port = listen.rpartition(":")[2] if listen else ""
    if listen and not (port.isdigit() and int(port) < 65536):
        t.problem("listen", f'"{listen}" must be HOST:PORT, e.g. {example}')
    if finish:
        t.finish()
    return listen
