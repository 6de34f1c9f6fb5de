"""The config's small sections: [model] (the relevance model's switches and thresholds),
[web] (the console), [evidence] (source pages kept for each alert) and the HOST:PORT of
[metrics] and [web]."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from monitor.config.reader import Table, check_url


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


@dataclass(frozen=True)
class EvidenceConfig:
    """[evidence]: each alert source's page fetched after the alert, hashed and kept."""

    capture: bool = True
    max_attempts: int = 4  # a failed fetch is retried with backoff until this many attempts
    archive: str = ""  # a save endpoint ("https://web.archive.org/save/"); "" asks none


def evidence_section(t: Table) -> EvidenceConfig:
    d = EvidenceConfig()
    attempts = t.get("max_attempts", int, d.max_attempts)
    if not 1 <= attempts <= 50:
        t.problem("max_attempts", f"{attempts} must be a whole number from 1 to 50")
        attempts = d.max_attempts
    archive = t.get("archive", str, "")
    if archive:
        archive = t.convert("archive", check_url, "")
    out = EvidenceConfig(t.get("capture", bool, d.capture), attempts, archive)
    t.finish()
    return out


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
