"""Apprise channel: the message, one target per URL, config errors named, and delivery
through the outbox to a real loopback receiver of Apprise's `json://` posts (order,
queued while down, retries then dead letters, no duplicate after a partial failure)."""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
import requests

from monitor import log
from monitor.alerts.decide import StoryDesk, StoryPolicy
from monitor.alerts.route import route
from monitor.channels import CHANNELS, apprise, make_channel
from monitor.config.load import Config, load_config
from monitor.deliver import ChannelSet, Deliverer
from monitor.errors import ConfigError, DeliveryError
from monitor.model import AlertKind, FeedState, PollResult, Severity
from monitor.store.sqlite import SqliteStore
from monitor.web import auth, site
from monitor.web.app import Console
from tests.channel_servers import HttpReceiver, http_receiver
from tests.clock import FakeClock
from tests.factories import HOSTILE, T0, alert, item, make_alert, match
from tests.feedfiles import write_config
from tests.loopback import Reply, closed_port

TOKEN = "T0KEN-apprise-9f8e7d"
FIELD = '[[channels]]\nname = "field"\ntype = "apprise"\nurl_env = "FIELD_URLS"\ntimeout = "2s"\n'


def url(port: int) -> str:
    return f"json://127.0.0.1:{port}/hook/{TOKEN}"


def configured(tmp_path: Path, urls: str, channels: str = FIELD) -> Config:
    path = write_config(tmp_path, {"un": "https://example.org/feed.xml"}, channels=channels)
    return load_config(path, {"FIELD_URLS": urls}, channel_types=CHANNELS)


def problems(tmp_path: Path, urls: str | None, channels: str = FIELD) -> str:
    with pytest.raises(ConfigError) as err:
        configured(tmp_path, urls, channels) if urls is not None else load_config(
            write_config(tmp_path, {"un": "https://example.org/f"}, channels=channels), {},
            channel_types=CHANNELS)  # fmt: skip
    text = "\n".join(err.value.problems)
    assert TOKEN not in text and "127.0.0.1" not in text, text
    return text


def test_title_and_body_come_from_the_renderer_and_severity_sets_the_type() -> None:
    """The plain rendering's first line is the title, the rest the body; critical -> failure."""
    p = apprise.payload(make_alert())
    assert p.title == "[CRITICAL] Match: Reports of mass killings in El Fasher"
    assert "Link: https://news.un.org/en/story/2024/05/1149000" in p.body
    assert p.body.endswith("Alert id: a1b2c3d4e5f6") and p.notify_type == "failure"
    assert apprise.payload(make_alert(severity=Severity.MEDIUM)).notify_type == "warning"
    assert apprise.payload(make_alert(kind=AlertKind.SOURCE_BACK)).notify_type == "success"


def test_feed_text_cannot_mention_anyone_but_our_links_stay_whole() -> None:
    """<!channel>, <@U123>, @everyone in a title reach no one; the item's own link is intact."""
    link = "https://medium.example.org/@un/report"
    p = apprise.payload(make_alert(f"{HOSTILE} @everyone", link=link))
    for text in (p.title, p.body):
        assert "<!channel>" not in text and "<@U123>" not in text and "@everyone" not in text
        assert "\x1b" not in text and "\u202e" not in text
    assert f"Link: {link}" in p.body.splitlines()


def test_a_long_alert_is_bounded_by_whole_lines() -> None:
    """Fifty matched rules of ten terms fit in BODY_MAX, ending with "… and N more lines"."""
    p = apprise.payload(make_alert(matches=50, hits=10))
    assert len(p.body) <= apprise.BODY_MAX and "more lines" in p.body.splitlines()[-1]


def test_each_url_is_a_target_of_its_own(tmp_path: Path) -> None:
    """Three URLs make field/json, field/json-2 and field/ntfy, sharing the table's filters."""
    urls = f"{url(1)}, {url(2)} ntfy://ntfy.example.org/alerts-{TOKEN}"
    config = configured(tmp_path, urls, FIELD + 'min_severity = "high"\n')
    names = [(c.name, c.group, c.min_severity) for c in config.channels]
    assert names == [(f"field/{s}", "field", Severity.HIGH) for s in ("json", "json-2", "ntfy")]
    assert TOKEN in " ".join(config.secrets())  # redacted wherever it could appear


def test_a_rule_naming_the_channel_reaches_all_its_targets(tmp_path: Path) -> None:
    """A rule's `channels = ["field"]` routes to field/json and field/json-2, not to ops."""
    ops = '[[channels]]\nname = "ops"\ntype = "console"\n'
    config = configured(tmp_path, f"{url(1)} {url(2)}", FIELD + ops)
    hinted = alert(item(), match(channels=("field",)))
    assert route(hinted, config.channels) == ("field/json", "field/json-2")
    assert route(alert(item(), match(channels=("field/json-2",))), config.channels) == (
        "field/json-2",
    )


@pytest.mark.parametrize(
    ("urls", "expected"),
    [
        (None, "channel field: environment variable FIELD_URLS is not set"),
        ("   ", "channel field: FIELD_URLS holds no Apprise URL"),
        (",", "channel field: FIELD_URLS holds no Apprise URL"),
        (f"bogus://127.0.0.1/{TOKEN}", "channel field: the URL in FIELD_URLS is not a URL"),
        (f"{url(1)} nope://{TOKEN}", "channel field: URL 2 of 2 in FIELD_URLS is not a URL"),
        (f"ntfy://127.0.0.1/a-{TOKEN}/b-{TOKEN}", "names 2 recipients"),
    ],
)
def test_config_errors_name_the_channel_and_variable_never_the_value(
    tmp_path: Path, urls: str | None, expected: str
) -> None:
    """A missing or empty variable or a URL Apprise cannot use stops the start, naming where."""
    text = problems(tmp_path, urls)
    assert "channels[0].url_env" in text and expected in text, text


def test_missing_url_env_key_is_named(tmp_path: Path) -> None:
    """An apprise channel without url_env says which key is missing."""
    text = problems(tmp_path, "x", '[[channels]]\nname = "field"\ntype = "apprise"\n')
    assert "channels[0].url_env: channel field: missing" in text, text


@pytest.fixture
def store(tmp_path: Path) -> Iterator[SqliteStore]:
    s = SqliteStore(tmp_path / "state.db")
    yield s
    s.close()


@pytest.fixture
def logs() -> Iterator[io.StringIO]:
    """The JSON log at debug, the root logger at DEBUG too: the most that could leak."""
    out = io.StringIO()
    log.setup("json", "debug", out)
    logging.getLogger().setLevel(logging.DEBUG)
    yield out
    logging.getLogger().setLevel(logging.WARNING)
    log.set_secrets(())


def enqueue(store: SqliteStore, n: int, channels: tuple[str, ...]) -> list[str]:
    """n distinct stories, each routed to channels, in creation order."""
    ids = []
    for i in range(n):
        title = f"Story {i} about an attack on village {i * 'x'}"
        a = alert(item(key=f"g:{i}", link=f"https://x.org/{i}", countries=(f"C{i}",), title=title))
        result = PollResult("f", "fetched", FeedState("f", last_success=T0), (a.item,), (a,))
        desk = StoryDesk(StoryPolicy(corroboration=0), lambda _: (channels, (), ()))
        store.save_poll(result, desk, T0)
        ids.append(a.id)
    return ids


def deliverer(store: SqliteStore, config: Config, clock: FakeClock) -> Deliverer:
    log.set_secrets(config.secrets())
    channels = {c.name: make_channel(c, now=clock) for c in config.channels}
    return Deliverer(store, ChannelSet(channels), clock, sleep=lambda s: None, mono=clock.monotonic)


def posted(rx: HttpReceiver) -> list[str]:
    """The alert ids in the bodies Apprise posted (the last word of each message)."""
    return [json.loads(r.body)["message"].rsplit(" ", 1)[-1] for r in rx.requests]


def test_alerts_arrive_once_each_in_order_with_their_content(tmp_path, store, logs) -> None:
    """Three alerts reach the json:// receiver as three posts, in creation order."""
    with http_receiver() as rx:
        config = configured(tmp_path, url(rx.port))
        ids = enqueue(store, 3, ("field/json",))
        report = deliverer(store, config, FakeClock(T0)).drain()
        bodies = [json.loads(r.body) for r in rx.requests]
    assert report.sent == 3 and posted(rx) == ids
    assert {r.path for r in rx.requests} == {f"/hook/{TOKEN}"}
    assert bodies[0]["title"].startswith("[HIGH] Match: Story 0") and bodies[0]["type"] == "failure"
    assert TOKEN not in logs.getvalue() and '"logger": "apprise' not in logs.getvalue()


def test_a_target_down_keeps_its_rows_and_the_other_target_gets_each_alert_once(
    tmp_path, store, logs
) -> None:
    """Target 2 down: target 1 has both alerts at once; target 2 keeps them queued, gets them
    once it is back, and target 1 never sees a duplicate."""
    down = closed_port()
    with http_receiver() as up:
        config = configured(tmp_path, f"{url(up.port)},{url(down)}")
        ids = enqueue(store, 2, ("field/json", "field/json-2"))
        clock = FakeClock(T0)
        d = deliverer(store, config, clock)
        d.drain()
        assert posted(up) == ids
        assert store.outbox_counts().get("pending") == 2
        queued = [q.delivery for q in store.queued_deliveries()]
        assert {q.channel for q in queued} == {"field/json-2"}
        assert "unreachable" in str(queued[0].last_error)
        with http_receiver(port=down) as back:
            for _ in range(6):
                clock.advance(3600)
                d.drain()
        assert posted(back) == ids and posted(up) == ids
    assert store.outbox_counts().get("sent") == 4
    assert TOKEN not in logs.getvalue() and "127.0.0.1" not in logs.getvalue()


def test_a_5xx_is_retried_with_backoff_then_dead_and_a_4xx_is_dead_at_once(
    tmp_path, store, logs
) -> None:
    """500s: retried at growing intervals, dead after 48 h; 404: dead after one post."""
    with http_receiver(default=Reply(500, f"no {TOKEN}".encode())) as rx:
        config = configured(tmp_path, url(rx.port))
        enqueue(store, 1, ("field/json",))
        clock = FakeClock(T0)
        d = deliverer(store, config, clock)
        waits = []
        while not store.outbox_counts().get("dead"):
            d.drain()
            for row in [q.delivery for q in store.queued_deliveries()]:
                waits.append((row.next_attempt - clock()).total_seconds())
                clock.advance_to(row.next_attempt)
        attempts = len(rx.requests)
    # doubling with jitter until the one-hour ceiling, where the jitter ranges overlap
    assert waits[:8] == sorted(waits[:8]) and waits[0] < 60 <= waits[3], waits
    assert max(waits) <= 3600
    assert 5 < attempts < 100 and clock() - T0 >= timedelta(hours=48)
    (dead,) = store.dead_deliveries()
    assert "HTTP 500 from apprise 'field/json'" in str(dead.last_error)
    with http_receiver(default=Reply(404)) as rx:
        config = configured(tmp_path, url(rx.port))
        store2 = SqliteStore(tmp_path / "other.db")
        enqueue(store2, 1, ("field/json",))
        report = deliverer(store2, config, FakeClock(T0)).drain()
        store2.close()
    assert report.dead == 1 and len(rx.requests) == 1
    assert TOKEN not in logs.getvalue()


def test_the_console_api_shows_the_failure_without_the_url(tmp_path, store, logs) -> None:
    """An alert's deliveries in /api/v1/alerts/{id} name the target and the answer, no URL."""
    with http_receiver(default=Reply(503, TOKEN.encode())) as rx:
        config = configured(tmp_path, url(rx.port))
        (one,) = enqueue(store, 1, ("field/json",))
        deliverer(store, config, FakeClock(T0)).drain()
    token = auth.new_token()
    store.add_token("bot", "viewer", auth.digest(token), T0)
    server = site.start("127.0.0.1:0", Console(store, lambda: config, now=FakeClock(T0)))
    try:
        got = requests.get(f"{server.url.rstrip('/')}/api/v1/alerts/{one}",
                           headers={"Authorization": f"Bearer {token}"}, timeout=10)  # fmt: skip
    finally:
        server.shutdown()
        server.server_close()
    assert got.status_code == 200 and TOKEN not in got.text and "json://" not in got.text
    assert "HTTP 503 from apprise 'field/json'" in got.text


def test_apprises_own_retries_stay_off_whatever_the_url_says(tmp_path) -> None:
    """A URL asking for ?retry=3&wait=0: one 500 is one post; the outbox does the retrying."""
    with http_receiver(default=Reply(500)) as rx:
        config = configured(tmp_path, url(rx.port) + "?retry=3&wait=0")
        (target,) = config.channels
        channel = make_channel(target)
        with pytest.raises(DeliveryError) as err:
            channel.send(channel.build(make_alert()))
        assert len(rx.requests) == 1
    assert err.value.retryable and "HTTP 500" in err.value.reason
