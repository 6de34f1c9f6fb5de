"""End-to-end helpers: `monitor` as a subprocess (one command, or the daemon and its JSON
log), and a newsroom of feeds that gain one distinct story at a time on the loopback feed
server (tests/feedserver.py)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import IO, Any

from tests.feedfiles import rss, story
from tests.feedserver import FeedServer

REPO = Path(__file__).resolve().parents[1]
MONITOR = [sys.executable, "-m", "monitor"]


def env_with(**values: str) -> dict[str, str]:
    env = dict(os.environ)
    env.update(values)
    env["PYTHONPATH"] = str(REPO)
    return env


def run_monitor(
    args: list[str], env: dict[str, str], timeout: float = 60, cwd: Path = REPO
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*MONITOR, *args], env=env, capture_output=True, text=True, timeout=timeout, cwd=cwd
    )


def start_daemon(cfg: Path, env: dict[str, str], out: IO[Any]) -> subprocess.Popen[bytes]:
    """`monitor run -c cfg` in the background, writing stdout and stderr to out."""
    return subprocess.Popen(
        [*MONITOR, "run", "-c", str(cfg)], env=env, cwd=REPO, stdout=out, stderr=out
    )


@contextmanager
def daemon(cfg: Path, env: dict[str, str], log: Path) -> Iterator[subprocess.Popen[bytes]]:
    """A daemon logging to log, yielded once it says it started; killed if still running."""
    with log.open("wb") as out:
        proc = start_daemon(cfg, env, out)
        try:
            assert wait_for(lambda: any(e["event"] == "daemon.started" for e in events(log)))
            yield proc
        finally:
            if proc.poll() is None:
                proc.kill()
                proc.wait(10)


def events(log: Path) -> list[dict[str, object]]:
    """The JSON log events written so far (other lines, such as console alerts, skipped)."""
    out = []
    for line in log.read_text().splitlines():
        try:
            out.append(json.loads(line))
        except ValueError:
            continue
    return out


def wait_for(pred: Callable[[], bool], timeout: float = 20.0) -> bool:
    """Poll pred until it holds (True) or the timeout passes (False)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if pred():
            return True
        time.sleep(0.1)
    return False


# Distinct countries, so that every story is its own alert (clustering never merges them).
PLACES = [
    "Kenya",
    "Peru",
    "Chile",
    "Nepal",
    "Ghana",
    "Norway",
    "Bolivia",
    "Angola",
    "Zambia",
    "Uruguay",
    "Mongolia",
    "Finland",
    "Canada",
    "Austria",
    "Portugal",
    "Malawi",
    "Senegal",
    "Tunisia",
    "Ecuador",
    "Paraguay",
    "Botswana",
    "Namibia",
    "Lesotho",
    "Jamaica",
    "Iceland",
    "Estonia",
    "Latvia",
    "Lithuania",
    "Croatia",
    "Slovenia",
    "Albania",
    "Armenia",
    "Belize",
    "Bhutan",
    "Brunei",
    "Cambodia",
    "Denmark",
    "Fiji",
    "Gabon",
    "Guyana",
]


class Newsroom:
    """Feeds that gain one distinct genocide-warning story at a time (each a new alert)."""

    def __init__(self, server: FeedServer, feeds: int, places: Sequence[str] = PLACES) -> None:
        self.server = server
        self.places = list(places)
        self.names = [f"feed-{i:03d}" for i in range(feeds)]
        self.stories: dict[str, list[str]] = {n: [] for n in self.names}
        self.published = 0
        self._urls = {n: server.publish(n, rss()) for n in self.names}

    def publish(self) -> bool:
        """Add the next story to a feed; False once every place has had its story."""
        if self.published >= len(self.places):
            return False
        name = self.names[(self.published * 7) % len(self.names)]
        place = self.places[self.published]
        self.stories[name].append(
            story(
                f"{name}-{self.published}",
                f"UN warns of genocide in {place}",
                f"Officials describe genocidal attacks in {place}.",
                datetime.now(UTC),
            )
        )
        self.server.publish(name, rss(*self.stories[name]))
        self.published += 1
        return True

    def publish_for(
        self, seconds: float, every: float, chance: Callable[[], bool] = lambda: True
    ) -> None:
        """For `seconds`, every `every` seconds, publish the next story when chance() says so."""
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            if chance():
                self.publish()
            time.sleep(every)

    def publish_rest(self) -> None:
        """Publish every story not yet out, at once."""
        while self.publish():
            pass

    def urls(self) -> dict[str, str]:
        return dict(self._urls)

    def fetches(self) -> int:
        """How many times the newsroom's feeds have been requested so far."""
        return sum(len(self.server.requests(f"/{n}.xml")) for n in self.names)
