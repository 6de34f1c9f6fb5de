"""Silences through the daemon's own parts: a silence created over the API before a poll
keeps the alerts it covers from the channels it names (recorded and listed as silenced,
with its id), lets every other alert and channel through, and stops at its end."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import requests

from monitor.service.runtime import Runtime
from monitor.web import auth, site
from monitor.web.app import Console
from tests.channel_servers import HttpReceiver, http_receiver
from tests.clock import FakeClock
from tests.feedfiles import rss, story, write_config
from tests.feedserver import FeedServer
from tests.runtimes import poll, runtime_of

RULES = """theme = "test"

[[rules]]
id = "genocide"
title = "Genocide warning"
severity = "critical"
description = "A test rule."
any = ["genocide"]

[[rules]]
id = "massacre"
title = "Massacre reported"
severity = "high"
description = "A test rule."
any = ["massacre"]
"""
CHANNELS = """[[channels]]
name = "ops"
type = "webhook"
url_env = "OPS_HOOK_URL"

[[channels]]
name = "partners"
type = "webhook"
url_env = "PARTNER_HOOK_URL"

[model]
enabled = false
"""


@pytest.fixture
def desk(
    tmp_path: Path, feeds: FeedServer, monkeypatch: pytest.MonkeyPatch
) -> Iterator[tuple[Runtime, FakeClock, str, str, HttpReceiver, HttpReceiver, FeedServer]]:
    (tmp_path / "rules").mkdir()
    (tmp_path / "rules" / "r.toml").write_text(RULES, encoding="utf-8")
    url = feeds.publish("news", rss())
    cfg = write_config(tmp_path, {"news": url}, rules=tmp_path / "rules", channels=CHANNELS)
    with http_receiver() as ops, http_receiver() as partners:
        monkeypatch.setenv("OPS_HOOK_URL", ops.url())
        monkeypatch.setenv("PARTNER_HOOK_URL", partners.url())
        clock = FakeClock(datetime.now(UTC).replace(microsecond=0))
        with runtime_of(cfg, now=clock) as rt:
            token = auth.new_token()
            rt.store.add_token("bot", "analyst", auth.digest(token), clock())
            server = site.start("127.0.0.1:0", Console(rt.store, lambda: rt.config, now=clock))
            try:
                yield rt, clock, server.url, token, ops, partners, feeds
            finally:
                server.shutdown()
                server.server_close()


def test_a_silence_keeps_what_it_covers_from_its_channels(desk) -> None:  # type: ignore[no-untyped-def]
    rt, clock, base, token, ops, partners, feeds = desk
    bearer = {"Authorization": f"Bearer {token}"}
    made = requests.post(
        base + "api/v1/silences",
        json={"matchers": {"rule": ["genocide"], "channel": ["partners"]}, "duration": "1h",
              "reason": "partners asked for no genocide wording until the inquiry reports"},
        headers=bearer, timeout=10,
    ).json()  # fmt: skip
    published = clock() - timedelta(minutes=10)
    feeds.publish("news", rss(
        story("g1", "UN warns of genocide in Kenya", "Officials fear genocide.", published),
        story("m1", "Massacre reported in Peru", "Villagers were massacred.", published),
    ))  # fmt: skip
    poll(rt)
    rt.deliverer.drain()
    titles = lambda rx: sorted(json.loads(r.body)["title"] for r in rx.requests)  # noqa: E731
    assert titles(ops) == ["Massacre reported in Peru", "UN warns of genocide in Kenya"]
    assert titles(partners) == ["Massacre reported in Peru"]
    listed = requests.get(base + "api/v1/alerts", headers=bearer, timeout=10).json()["alerts"]
    state = {a["title"]: (a["state"], a["silence_id"]) for a in listed}
    assert state["UN warns of genocide in Kenya"] == ("silenced", made["id"])
    assert state["Massacre reported in Peru"] == ("new", None)
    # past its end the silence holds nothing back
    clock.advance(2 * 3600)
    later = clock() - timedelta(minutes=1)
    feeds.publish(
        "news", rss(story("g2", "Genocide feared in Bolivia", "Officials fear genocide.", later))
    )
    poll(rt)
    rt.deliverer.drain()
    assert "Genocide feared in Bolivia" in titles(partners)
