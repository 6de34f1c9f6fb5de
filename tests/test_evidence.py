"""Evidence capture (issue 14, part 1), on loopback and both engines: each alert source's page
is fetched through the feeds' edge, hashed (the SHA-256 of the bytes served), its main text
kept; shown on the alert page (escaped), returned by the API, exported as a zip whose
manifest matches; a page answering 500 or timing out is recorded as failed and retried with
backoff; a configured archive is asked to save the page and its answer kept; delivery is not
held up by a slow page."""

from __future__ import annotations

import hashlib
import io
import json
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import requests

from monitor.channels import CHANNELS
from monitor.cli.db import copy_state
from monitor.cli.main import main
from monitor.config.load import load_config
from monitor.config.sections import EvidenceConfig
from monitor.errors import ConfigError, FetchError
from monitor.model import Routed
from monitor.reader.fetch import FetchPolicy, make_session
from monitor.reader.page import Page
from monitor.service.evidence import Capturer, capture_of
from monitor.store import Store, open_store
from monitor.web import auth, site
from monitor.web.app import Console
from tests.channel_servers import http_receiver
from tests.clock import FakeClock
from tests.e2e import daemon, env_with, events, wait_for
from tests.factories import T0, alert, item
from tests.feedfiles import rss, story, webhook, write_config
from tests.feedserver import FeedServer, Response, feed_server
from tests.stores import ENGINES, new_target, open_engine

POLICY = FetchPolicy("monitor-test/1", 1.0, 1.0, 1.5, 2_000_000, 3)
ARTICLE = (
    b"<html><head><title>Killings in Abyei</title></head><body><nav>Home | World | Sport</nav>"
    b"<article><h1>Killings in Abyei</h1><p>Witnesses said at least forty civilians were killed "
    b"in the market of Abyei town on Monday morning, local officials told reporters.</p>"
    b"<p>The attackers wrote &lt;b&gt;no mercy&lt;/b&gt; on the walls of the clinic.</p>"
    b"</article><footer>Copyright Example News</footer></body></html>"
)


@pytest.fixture(params=ENGINES)
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Store]:
    yield from open_engine(request.param, tmp_path, request)


@dataclass
class Desk:
    """A store, a clock and the capturer of one test; `alert(*links)` records an alert."""

    store: Store
    clock: FakeClock
    feeds: FeedServer
    cfg: EvidenceConfig

    def capturer(self) -> Capturer:
        session = make_session(POLICY)
        return Capturer(self.store, session, POLICY, lambda: self.cfg,
                        lambda feed: self.feeds.url("/feed.xml"), self.clock)  # fmt: skip

    def alert(self, link: str) -> str:
        a = alert(item(link=link), now=self.clock())
        assert self.store.record_alert(Routed(a, ("ops",)), self.clock())
        return a.id


def desk(store: Store, feeds: FeedServer, **cfg: object) -> Desk:
    return Desk(store, FakeClock(T0), feeds, EvidenceConfig(**cfg))  # type: ignore[arg-type]


def test_a_source_page_is_hashed_kept_shown_returned_and_exported(
    store: Store, feeds: FeedServer, tmp_path: Path
) -> None:
    d = desk(store, feeds)
    link = feeds.serve("/news/abyei", Response(body=ARTICLE, headers={"Content-Type": "text/html"}))
    alert_id = d.alert(link)
    assert d.capturer().run() == 1
    assert d.capturer().run() == 0, "a captured page is not fetched again"
    assert len(feeds.requests("/news/abyei")) == 1
    [e] = store.evidence(alert_id)
    assert e.state == "captured" and e.capture is not None
    c = e.capture
    assert c.sha256 == hashlib.sha256(ARTICLE).hexdigest()
    assert (c.status, c.final_url, c.size, c.fetched_at) == (200, link, len(ARTICLE), T0)
    assert c.content_type == "text/html" and c.error is None
    assert "forty civilians were killed" in (c.text or "") and "Sport" not in (c.text or "")
    assert store.evidence_raw(alert_id, link) == ARTICLE

    (tmp_path / "config.toml").write_text('[[channels]]\nname = "ops"\ntype = "console"\n')
    config = load_config(tmp_path / "config.toml", channel_types=CHANNELS)
    token = auth.new_token()
    store.add_token("bot", "viewer", auth.digest(token), T0)
    server = site.start("127.0.0.1:0", Console(store, lambda: config, now=d.clock))
    base, headers = server.url.rstrip("/"), {"Authorization": f"Bearer {token}"}
    try:
        api = requests.get(f"{base}/api/v1/alerts/{alert_id}/evidence", headers=headers, timeout=10)
        page = requests.get(f"{base}/alerts/{alert_id}", headers=headers, timeout=10).text
        text = requests.get(f"{base}/alerts/{alert_id}/evidence/1.txt", headers=headers, timeout=10)
        got = requests.get(f"{base}/api/v1/alerts/{alert_id}/evidence.zip", headers=headers,
                           timeout=10)  # fmt: skip
        nobody = requests.get(f"{base}/api/v1/alerts/{alert_id}/evidence", timeout=10)
        unknown = requests.get(f"{base}/api/v1/alerts/nope/evidence", headers=headers, timeout=10)
    finally:
        server.shutdown()
        server.server_close()
    assert nobody.status_code == 401 and unknown.status_code == 404
    [row] = api.json()
    assert {k: row[k] for k in ("link", "final_url", "status", "fetched_at", "sha256", "size",
                                "content_type", "error", "archive")} == {
        "link": link, "final_url": link, "status": 200, "fetched_at": "2026-11-20T12:00:00Z",
        "sha256": c.sha256, "size": len(ARTICLE), "content_type": "text/html", "error": None,
        "archive": None}  # fmt: skip
    assert row["text"] == c.text
    assert c.sha256 in page and "forty civilians were killed" in page
    assert "&lt;b&gt;no mercy&lt;/b&gt;" in page and "<b>no mercy</b>" not in page
    assert f'href="/api/v1/alerts/{alert_id}/evidence.zip"' in page
    assert text.headers["Content-Type"].startswith("text/plain") and text.text == c.text
    assert got.headers["Content-Type"] == "application/zip"
    z = zipfile.ZipFile(io.BytesIO(got.content))
    manifest = json.loads(z.read("manifest.json"))
    assert manifest["alert"]["id"] == alert_id and manifest["alert"]["rules"][0]["id"]
    [src] = manifest["sources"]
    assert src["sha256"] == hashlib.sha256(z.read(src["html"])).hexdigest() == c.sha256
    assert z.read(src["html"]) == ARTICLE and z.read(src["text"]).decode() == c.text
    assert (src["status"], src["fetched_at"], src["link"]) == (200, "2026-11-20T12:00:00Z", link)


def test_a_page_that_fails_is_recorded_and_retried_with_backoff(
    store: Store, feeds: FeedServer
) -> None:
    d = desk(store, feeds, max_attempts=3)
    flaky = feeds.serve("/flaky", Response(500, b"oops"), Response(body=ARTICLE))
    slow = feeds.serve("/slow", Response(body=ARTICLE, delay=5.0))
    flaky_id, slow_id = d.alert(flaky), d.alert(slow)
    assert d.capturer().run() == 2
    [f] = store.evidence(flaky_id)
    [s] = store.evidence(slow_id)
    assert (f.state, f.attempts, f.capture and f.capture.status) == ("pending", 1, 500)
    assert f.capture and f.capture.error == "HTTP 500" and f.capture.sha256 is None
    assert s.state == "pending" and s.capture and s.capture.status is None
    assert s.capture.error in ("timed out", "total deadline of 1.5s exceeded")
    assert d.capturer().run() == 0, "not due again before its backoff"
    d.clock.advance(61)
    assert d.capturer().run() == 2
    [f] = store.evidence(flaky_id)
    assert (f.state, f.attempts) == ("captured", 2)
    assert f.capture and f.capture.sha256 == hashlib.sha256(ARTICLE).hexdigest()
    d.clock.advance(121)
    assert d.capturer().run() == 1
    [s] = store.evidence(slow_id)
    assert (s.state, s.attempts) == ("failed", 3), "given up after max_attempts"
    d.clock.advance(86400)
    assert d.capturer().run() == 0 and len(feeds.requests("/slow")) == 3


def test_the_archive_is_asked_once_when_set_and_never_when_not(
    store: Store, feeds: FeedServer
) -> None:
    with feed_server() as archive:
        link = feeds.serve("/news/abyei", Response(body=ARTICLE))
        saved = f"/web/20261120120000/{link}"
        archive.serve(f"/save/{link}", Response(200, b"saved", {"Content-Location": saved}))
        off = desk(store, feeds)
        off_id = off.alert(link)
        off.capturer().run()
        assert archive.requests() == [] and store.evidence(off_id)[0].archive is None

        on = desk(store, feeds, archive=archive.url("/save/"))
        on.clock.advance(60)
        on_id = on.alert(link + "?again=1")
        archive.serve(f"/save/{link}?again=1", Response(200, b"saved", {"Location": saved}))
        on.capturer().run()
    [asked] = archive.requests()
    assert asked.path == f"/save/{link}?again=1"
    [e] = store.evidence(on_id)
    assert e.archive is not None and e.archive.status == 200 and e.archive.error is None
    assert e.archive.url == archive.url(saved) and e.archive.at == T0 + timedelta(seconds=60)


def test_evidence_config_keys_are_checked_by_name(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    path.write_text(
        '[evidence]\ncapture = "yes"\nmax_attempts = 0\narchive = "ftp://x/"\nkeep = 1\n'
    )
    with pytest.raises(ConfigError) as exc:
        load_config(path, channel_types=CHANNELS)
    text = "\n".join(exc.value.problems)
    for key in ("evidence.capture", "evidence.max_attempts", "evidence.archive", "evidence.keep"):
        assert f"{path}: {key}:" in text
    path.write_text("")
    assert load_config(path, channel_types=CHANNELS).evidence == EvidenceConfig(True, 4, "")


def test_delivery_is_not_delayed_by_a_slow_page(tmp_path: Path, feeds: FeedServer) -> None:
    """The daemon sends the alert while its source page is still on its way."""
    now = datetime.now(UTC).replace(microsecond=0)
    slow = feeds.serve("/news/1", Response(body=ARTICLE, delay=3.0))  # read_timeout is 5s
    entry = story("n1", "Massacre reported in Abyei", "Dozens killed.", now)
    url = feeds.publish("un-news", rss(entry.replace("https://example.org/n1", slow)))
    with http_receiver() as rx:
        cfg = write_config(tmp_path, {"un-news": url}, channels=webhook("HOOK"))
        log = tmp_path / "daemon.log"
        with daemon(cfg, env_with(HOOK=rx.url()), log):
            assert wait_for(lambda: len(rx.requests) == 1, 15)
            assert wait_for(lambda: bool(feeds.requests("/news/1")), 5)
            assert not [e for e in events(log) if e["event"] == "evidence.captured"]
            assert wait_for(lambda: any(e["event"] == "evidence.captured" for e in events(log)))
    [captured] = [e for e in events(log) if e["event"] == "evidence.captured"]
    assert captured["link"] == slow and captured["sha256"] == hashlib.sha256(ARTICLE).hexdigest()


def test_db_copy_carries_evidence_and_its_bytes_into_postgres(
    tmp_path: Path, feeds: FeedServer, request: pytest.FixtureRequest
) -> None:
    src = open_store(str(tmp_path / "src.db"))
    dst = open_store(new_target("postgres", tmp_path, request))
    try:
        d = desk(src, feeds)
        link = feeds.serve("/news/abyei", Response(body=ARTICLE))
        alert_id = d.alert(link)
        d.capturer().run()
        assert copy_state(src, dst)["evidence"] == 1
        assert dst.evidence(alert_id) == src.evidence(alert_id)
        assert dst.evidence_raw(alert_id, link) == ARTICLE
    finally:
        src.close()
        dst.close()


def test_the_cli_lists_and_exports_an_alerts_evidence(
    tmp_path: Path, feeds: FeedServer, capsys: pytest.CaptureFixture[str]
) -> None:
    cfg = tmp_path / "config.toml"
    cfg.write_text('[state]\npath = "state.db"\n')
    store = open_store(str(tmp_path / "state.db"))
    try:
        d = desk(store, feeds)
        link = feeds.serve("/news/abyei", Response(body=ARTICLE))
        alert_id = d.alert(link)
        d.capturer().run()
    finally:
        store.close()
    capsys.readouterr()  # the capture's own log lines
    assert main(["evidence", alert_id, "--json", "-c", str(cfg)]) == 0
    [row] = json.loads(capsys.readouterr().out)
    assert row["sha256"] == hashlib.sha256(ARTICLE).hexdigest() and row["status"] == 200
    assert main(["evidence", alert_id, "--zip", str(tmp_path / "e.zip"), "-c", str(cfg)]) == 0
    z = zipfile.ZipFile(tmp_path / "e.zip")
    assert json.loads(z.read("manifest.json"))["alert"]["id"] == alert_id
    assert z.read("sources/01/page.html") == ARTICLE
    assert main(["evidence", "nope", "-c", str(cfg)]) == 2


def test_a_page_whose_text_cannot_be_extracted_in_time_is_kept_by_its_bytes() -> None:
    body = b"<html><body><p>Statement on Abyei</p></body></html>"
    page = Page("https://example.org/a", "https://example.org/a", 200, body, "text/html", T0)

    def overran(_body: bytes, _url: str | None) -> str:  # failure injection: the deadline
        raise FetchError("article extraction exceeded its 20s deadline")

    capture = capture_of(page, overran)
    assert capture.error is None and capture.text is None
    assert capture.sha256 == hashlib.sha256(body).hexdigest() and capture.raw == body
    assert "Statement on Abyei" in (capture_of(page).text or "")
