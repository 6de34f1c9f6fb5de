"""Generic webhook channel: one JSON document per alert, signed per Standard Webhooks 1.0.

The schema, headers and answer handling are documented in WEBHOOK.md beside this module
(pasted into the README). build() serialises the document once, so the body, and thus
the signature input apart from the timestamp, is byte-identical on every retry; the
timestamp and signature are made at send time from the injected clock.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from monitor.channels import http, render
from monitor.channels.base import (
    ChannelType,
    Env,
    SettingsReader,
    Transports,
)
from monitor.channels.http import HttpSettings
from monitor.errors import ConfigError, DeliveryError
from monitor.model import (
    Alert,
    DeliveryResult,
    Item,
    Match,
    RuleRef,
    Source,
    TermHit,
    iso,
)

SCHEMA_VERSION = 1
MATCHES_MAX = 50
TERMS_MAX = 20
SOURCES_MAX = 100


@dataclass(frozen=True)
class WebhookSettings(HttpSettings):
    """url_env and timeout as every HTTP channel, plus secret_env: the signing secret."""

    secret: str | None = field(default=None, repr=False)

    def secrets(self) -> tuple[str, ...]:
        return super().secrets() + ((self.secret,) if self.secret else ())


def read_settings(t: SettingsReader, name: str, env: Env) -> WebhookSettings:
    target = http.read_http(t, name, env)
    secret = t.secret("secret_env", env, required=False, owner=f"channel {name}")
    if secret:
        try:
            signing_key(secret)
        except (binascii.Error, ValueError):
            # Say where, never what: the secret itself must not reach a message.
            var = t.get("secret_env", str, "")
            t.problem("secret_env", f"channel {name}: the secret in {var} starts with whsec_ "
                      "but the rest is not base64; paste it as the receiver gave it")  # fmt: skip
    return WebhookSettings(target.url, target.timeout, secret)


@dataclass(frozen=True)
class WebhookPayload:
    """The document (for inspection) and the exact bytes that are posted and signed."""

    alert_id: str
    document: dict[str, Any]
    body: bytes


def signing_key(secret: str) -> bytes:
    """The HMAC key: base64-decoded after a "whsec_" prefix (the spec's form), else UTF-8."""
    if secret.startswith("whsec_"):
        return base64.b64decode(secret.removeprefix("whsec_"), validate=True)
    return secret.encode("utf-8")


def sign(key: bytes, msg_id: str, timestamp: int, body: bytes) -> str:
    """The webhook-signature header value: v1,<base64 HMAC-SHA256 of "id.timestamp.body">."""
    signed = f"{msg_id}.{timestamp}.".encode() + body
    return "v1," + base64.b64encode(hmac.new(key, signed, hashlib.sha256).digest()).decode()


def document(alert: Alert) -> dict[str, Any]:
    """The JSON document of WEBHOOK.md: bounded, cleaned text; links only when http(s)."""
    return {
        "version": SCHEMA_VERSION,
        "id": alert.id,
        "type": f"alert.{alert.kind}",
        "created": iso(alert.created),
        "severity": alert.severity.label,
        "title": render.headline(alert),
        "rules": [_rule(r) for r in alert.rules],
        "item": _item(alert.item) if alert.item else None,
        "matches": [_match(m) for m in alert.matches[:MATCHES_MAX]],
        "countries": [render.line(c, 10) for c in alert.countries],
        "lang": _lang(alert.lang),
        "themes": [render.line(t, render.NAME_MAX) for t in alert.themes],
        "sources": [_source(s) for s in alert.sources[:SOURCES_MAX]],
        "text": render.block(alert.text, render.TEXT_MAX),
        "data": {k: v for k, v in alert.data.items() if k != "unreviewed"},
    } | ({"unreviewed": True} if render.unreviewed(alert) else {})


def _rule(rule: RuleRef) -> dict[str, Any]:
    return {
        "id": render.line(rule.id, render.NAME_MAX),
        "title": render.line(rule.title, render.TITLE_MAX),
        "severity": rule.severity.label,
        "description": render.block(rule.description, render.SUMMARY_MAX),
        "theme": render.line(rule.theme, render.NAME_MAX),
    }


def _item(item: Item) -> dict[str, Any]:
    return {
        "title": render.line(item.title, render.TITLE_MAX),
        "link": render.safe_link(item.link),
        "feed": render.line(item.feed, render.NAME_MAX),
        "published": iso(item.published),
        "date_estimated": item.date_estimated,
        "summary": render.block(item.summary, render.SUMMARY_MAX),
        "lang": _lang(item.lang),
    }


def _match(match: Match) -> dict[str, Any]:
    return {
        "rule": render.line(match.rule_id, render.NAME_MAX),
        "title": render.line(match.title, render.TITLE_MAX),
        "severity": match.severity.label,
        "score": round(match.score, 2),
        "probability": match.probability,
        "terms": [_term(h) for h in match.hits[:TERMS_MAX]],
    }


def _term(hit: TermHit) -> dict[str, Any]:
    return {
        "term": render.line(hit.term, render.NAME_MAX),
        "text": render.line(hit.text, render.NAME_MAX),
        "field": render.line(hit.field, 20),
        "score": round(hit.score, 2),
        "snippet": render.line(hit.snippet, render.SNIPPET_MAX),
    }


def _source(source: Source) -> dict[str, Any]:
    return {
        "feed": render.line(source.feed, render.NAME_MAX),
        "title": render.line(source.title, render.TITLE_MAX),
        "link": render.safe_link(source.link),
        "published": iso(source.published),
        "lang": _lang(source.lang),
    }


def _lang(code: str | None) -> str | None:
    """ISO 639-1 or null: the field's contract, whatever a stored body holds."""
    return code if code and len(code) == 2 and code.isascii() and code.isalpha() else None


def _json_default(value: object) -> str:
    # alert.data is ours but may hold datetimes; anything else unexpected becomes text.
    if isinstance(value, datetime):
        return iso(value)
    return str(value)


class WebhookChannel(http.HttpChannel):
    """Posts each alert as signed JSON to one URL."""

    kind = "webhook"

    def _setup(self) -> None:
        secret = self._cfg.secret if isinstance(self._cfg, WebhookSettings) else None
        try:
            self._key = signing_key(secret) if secret else None
        except (binascii.Error, ValueError):
            # Say where, never what: the secret itself must not reach a log.
            problem = f"channels.{self.name}.secret: starts with whsec_ but is not valid base64"
            raise ConfigError([problem]) from None

    def build(self, alert: Alert) -> WebhookPayload:
        """Pure: the document and its serialised body."""
        doc = document(alert)
        body = json.dumps(doc, ensure_ascii=False, default=_json_default).encode("utf-8")
        return WebhookPayload(alert.id, doc, body)

    def headers(self, payload: WebhookPayload, timestamp: int) -> dict[str, str]:
        """Standard Webhooks headers for one attempt at the given Unix time."""
        headers = {
            "Content-Type": "application/json",
            "webhook-id": payload.alert_id,
            "webhook-timestamp": str(timestamp),
        }
        if self._key is not None:
            headers["webhook-signature"] = sign(
                self._key, payload.alert_id, timestamp, payload.body
            )
        return headers

    def send(self, payload: WebhookPayload) -> DeliveryResult:
        """POST the body; any 2xx is success, everything else raises DeliveryError."""
        now = self._now()
        answer = self._post(payload.body, self.headers(payload, int(now.timestamp())))
        if 200 <= answer.status < 300:
            return DeliveryResult(f"HTTP {answer.status} from {self.label}")
        if answer.status == 410:
            reason = f"HTTP 410 Gone from {self.label}: the receiver retired this endpoint"
            raise DeliveryError(reason, retryable=False)
        raise http.failure(answer, self.label, now, http.short_code(answer.body))


def _make(name: str, settings: WebhookSettings, transports: Transports) -> WebhookChannel:
    session = http.session_of(name, transports)
    return WebhookChannel(
        name, settings, session=session, now=transports.now, deadline=transports.deadline
    )


TYPE = ChannelType((*http.KEYS, "secret_env"), read_settings, _make, WebhookSettings)
