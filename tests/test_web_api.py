"""The console's JSON API through real HTTP on loopback, on SQLite and PostgreSQL: tokens and
roles, the alert list's filters and pages, triage with its history, silences (an alert a
silence covers is recorded and listed, not sent), exports, and bad input changing nothing."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import pytest
import requests

from monitor.alerts import triage
from monitor.channels import CHANNELS
from monitor.config.load import Config, load_config
from monitor.model import Routed, Severity
from monitor.store import Store
from monitor.web import auth, site
from monitor.web.app import Console
from monitor.web.http import ConsoleServer
from tests.clock import FakeClock
from tests.factories import T0, alert, item, match
from tests.stores import ENGINES, open_engine

CONFIG = """
[state]
path = "state.db"
[[feeds]]
name = "un-news"
url = "https://news.example.org/feed"
[[channels]]
name = "ops"
type = "console"
"""


@dataclass
class Api:
    base: str
    store: Store
    clock: FakeClock
    tokens: dict[str, str]

    def get(self, path: str, role: str = "viewer", **params: str) -> requests.Response:
        return requests.get(self.base + path, params=params, headers=self._auth(role), timeout=10)

    def post(self, path: str, body: object, role: str = "analyst") -> requests.Response:
        return requests.post(self.base + path, json=body, headers=self._auth(role), timeout=10)

    def delete(self, path: str, role: str = "analyst") -> requests.Response:
        return requests.delete(self.base + path, headers=self._auth(role), timeout=10)

    def _auth(self, role: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.tokens[role]}"}


def record(
    store: Store,
    n: int,
    *,
    key: str = "",
    title: str = "",
    countries: tuple[str, ...] = ("SD",),
    rule: str = "civilians-killed",
    theme: str = "war-crimes",
    severity: Severity = Severity.HIGH,
) -> list[str]:
    """n match alerts a minute apart, newest last; ids returned oldest first."""
    ids = []
    for i in range(n):
        headline = title or f"Civilians killed in shelling {i}"
        link = f"https://news.example.org/{key}{i}"
        it = item(key=f"k{i}-{key}", title=headline, countries=countries, link=link)
        a = alert(it, match(rule, severity, theme), now=T0 + timedelta(minutes=i))
        store.record_alert(Routed(a, ("ops",)), T0 + timedelta(minutes=i))
        ids.append(a.id)
    return ids


@pytest.fixture(params=ENGINES)
def api(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Api]:
    (tmp_path / "config.toml").write_text(CONFIG)
    config: Config = load_config(tmp_path / "config.toml", channel_types=CHANNELS)
    engine = open_engine(request.param, tmp_path, request)
    store = next(engine)
    clock = FakeClock(T0 + timedelta(hours=1))
    tokens = {}
    for role in auth.ROLES:
        tokens[role] = auth.new_token()
        store.add_token(f"bot-{role}", role, auth.digest(tokens[role]), clock())
    store.add_user("amina", "analyst", auth.hash_password("correct horse"), clock())
    server: ConsoleServer = site.start("127.0.0.1:0", Console(store, lambda: config, now=clock))
    try:
        yield Api(server.url.rstrip("/"), store, clock, tokens)
    finally:
        server.shutdown()
        server.server_close()
        next(engine, None)


def test_no_token_401_bad_token_401_weak_role_403(api: Api) -> None:
    assert requests.get(api.base + "/api/v1/alerts", timeout=10).status_code == 401
    bad = requests.get(api.base + "/api/v1/alerts", headers={"Authorization": "Bearer mon_nope"},
                       timeout=10)  # fmt: skip
    assert bad.status_code == 401 and bad.json()["error"]
    [one] = record(api.store, 1)
    r = api.post(f"/api/v1/alerts/{one}/state", {"state": "acknowledged"}, role="viewer")
    assert r.status_code == 403
    assert api.get(f"/api/v1/alerts/{one}").json()["state"] == "new"
    api.store.revoke_token("bot-viewer")
    assert api.get("/api/v1/alerts").status_code == 401


def test_list_newest_first_with_the_contract_fields_and_pages(api: Api) -> None:
    ids = record(api.store, 60)
    first = api.get("/api/v1/alerts").json()
    assert [a["id"] for a in first["alerts"]] == ids[::-1][:50]
    a = first["alerts"][0]
    for key in ("id", "kind", "title", "severity", "rules", "countries", "created", "state",
                "assignee", "sources", "matches"):  # fmt: skip
        assert key in a
    assert a["kind"] == "match" and a["severity"] == "high" and a["rules"] == ["civilians-killed"]
    assert a["countries"] == ["SD"] and a["state"] == "new" and a["assignee"] is None
    assert set(a["sources"][0]) == {"feed", "title", "link", "published", "lang"}
    assert a["matches"][0]["terms"][0]["text"] == "killed"
    second = api.get("/api/v1/alerts", cursor=first["next"]).json()
    assert [a["id"] for a in second["alerts"]] == ids[::-1][50:]
    assert second["next"] is None
    small = api.get("/api/v1/alerts", limit="7").json()
    assert len(small["alerts"]) == 7 and small["next"]


def test_filters(api: Api) -> None:
    sd = record(api.store, 3, key="a")
    [ua] = record(api.store, 1, key="b", countries=("UA",), rule="forced-deportation",
                  theme="forced-displacement", severity=Severity.CRITICAL,
                  title="Children deported from Kherson")  # fmt: skip
    only = lambda **q: [a["id"] for a in api.get("/api/v1/alerts", **q).json()["alerts"]]  # noqa: E731
    assert only(country="ua") == [ua]
    assert only(rule="forced-displacement") == [ua]  # a theme
    assert only(rule="forced-deportation") == [ua]  # a rule id
    assert only(severity="critical") == [ua]
    assert only(q="KHERSON") == [ua]
    assert len(only(severity="high")) == 4
    assert only(tag="un") and only(tag="icc") == []
    assert only(since="2026-11-20T12:00:30Z") == sd[:0:-1]  # minutes 2 and 1, newest first
    assert set(only(until="2026-11-20T12:00:30Z")) == {sd[0], ua}
    api.post(f"/api/v1/alerts/{ua}/state", {"state": "resolved"})
    assert only(state="resolved") == [ua]
    assert ua not in only(state="new")


def test_triage_writes_history_and_notes(api: Api) -> None:
    [one] = record(api.store, 1)
    r = api.post(f"/api/v1/alerts/{one}/state", {"state": "acknowledged", "note": "on it"})
    assert r.status_code == 200 and r.json()["state"] == "acknowledged"
    assert (
        api.post(f"/api/v1/alerts/{one}/assign", {"assignee": "amina"}).json()["assignee"]
        == "amina"
    )
    assert api.post(f"/api/v1/alerts/{one}/notes", {"text": "called OHCHR"}).status_code == 201
    d = api.get(f"/api/v1/alerts/{one}").json()
    assert [n["text"] for n in d["notes"]] == ["on it", "called OHCHR"]
    actions = [(h["actor"], h["action"]) for h in d["history"]]
    assert ("bot-analyst", "state") in actions and ("bot-analyst", "assign") in actions
    assert d["deliveries"][0]["channel"] == "ops" and d["deliveries"][0]["status"] == "pending"
    for key in ("channel", "status", "attempts", "last_error", "next_attempt", "sent_at"):
        assert key in d["deliveries"][0]


@pytest.mark.parametrize(
    "path, body, field",
    [
        ("state", {"state": "closed"}, "state"),
        ("state", {"note": "x"}, "state"),
        ("assign", {"assignee": "nobody-here"}, "assignee"),
        ("notes", {"text": ""}, "text"),
        ("notes", ["not", "an", "object"], "body"),
    ],
)
def test_bad_input_400_with_field_and_nothing_changed(
    api: Api, path: str, body: object, field: str
) -> None:
    [one] = record(api.store, 1)
    before = api.get(f"/api/v1/alerts/{one}").json()
    r = api.post(f"/api/v1/alerts/{one}/{path}", body)
    assert r.status_code == 400 and r.json()["field"] == field and r.json()["error"]
    assert api.get(f"/api/v1/alerts/{one}").json() == before


def test_malformed_json_and_unknown_ids(api: Api) -> None:
    [one] = record(api.store, 1)
    bearer = {"Authorization": f"Bearer {api.tokens['analyst']}"}
    r = requests.post(
        f"{api.base}/api/v1/alerts/{one}/state", data=b"{nope", headers=bearer, timeout=10
    )
    assert r.status_code == 400 and r.json()["field"] == "body"
    assert api.get("/api/v1/alerts/does-not-exist").status_code == 404
    assert api.post("/api/v1/alerts/does-not-exist/state", {"state": "resolved"}).status_code == 404
    assert api.delete("/api/v1/silences/s-unknown").status_code == 404
    assert api.get("/api/v1/alerts", severity="extreme").json()["field"] == "severity"
    assert api.get("/api/v1/alerts", cursor="%%%").json()["field"] == "cursor"
    assert api.get("/api/v1/alerts", since="yesterday").json()["field"] == "since"


def test_silence_records_and_lists_but_does_not_send(api: Api) -> None:
    body = {"matchers": {"rule": ["war-crimes"], "country": ["sd"]}, "duration": "4h",
            "reason": "flood of duplicates from one wire"}  # fmt: skip
    r = api.post("/api/v1/silences", body)
    assert r.status_code == 201
    s = r.json()
    assert s["id"] and s["created_by"] == "bot-analyst" and s["matchers"]["country"] == ["SD"]
    assert s["starts"] == "2026-11-20T13:00:00Z" and s["ends"] == "2026-11-20T17:00:00Z"
    silence = api.store.silence(s["id"])
    assert silence is not None
    now = api.clock()
    covered = alert(item(key="s1", link="https://x.example/1"), match(), now=now)
    other = alert(item(key="s2", countries=("UA",), title="Shelling in Kharkiv",
                       link="https://x.example/2"), match(), now=now)  # fmt: skip
    for a in (covered, other):
        api.store.record_alert(triage.apply(Routed(a, ("ops",)), [silence], now), now)
    listed = {a["id"]: a for a in api.get("/api/v1/alerts").json()["alerts"]}
    assert listed[covered.id]["state"] == "silenced" and listed[covered.id]["silence_id"] == s["id"]
    assert listed[other.id]["state"] == "new"
    due = {d.alert_id for d in api.store.claim_deliveries("t", now, 60)}
    assert covered.id not in due and other.id in due
    assert [x["id"] for x in api.get("/api/v1/silences").json()["silences"]] == [s["id"]]
    ended = api.delete(f"/api/v1/silences/{s['id']}").json()
    assert ended["active"] is False and ended["expired_by"] == "bot-analyst"
    assert api.store.active_silences(api.clock()) == []


@pytest.mark.parametrize(
    "body, field",
    [
        ({"matchers": {}, "duration": "4h", "reason": "r"}, "matchers"),
        ({"matchers": {"planet": ["mars"]}, "duration": "4h", "reason": "r"}, "matchers.planet"),
        ({"matchers": {"rule": ["x"]}, "duration": "soon", "reason": "r"}, "duration"),
        ({"matchers": {"rule": ["x"]}, "ends": "2020-01-01T00:00Z", "reason": "r"}, "ends"),
        ({"matchers": {"rule": ["x"]}, "duration": "4h"}, "reason"),
        ({"matchers": {"rule": "x"}, "reason": "r"}, "duration"),
    ],
)
def test_bad_silence_400(api: Api, body: dict[str, object], field: str) -> None:
    r = api.post("/api/v1/silences", body)
    assert r.status_code == 400 and r.json()["field"] == field
    assert api.get("/api/v1/silences").json()["silences"] == []


def test_csv_atom_labels_and_missed(api: Api) -> None:
    ids = record(api.store, 3)
    rows = list(csv.DictReader(io.StringIO(api.get("/api/v1/alerts.csv").text)))
    assert [r["id"] for r in rows] == ids[::-1] and rows[0]["severity"] == "high"
    atom = requests.get(
        f"{api.base}/alerts.atom", params={"token": api.tokens["viewer"]}, timeout=10
    )
    assert atom.status_code == 200 and atom.text.count("<entry>") == 3
    atom_with = lambda t: requests.get(f"{api.base}/alerts.atom", params={"token": t}, timeout=10)  # noqa: E731
    assert atom_with("mon_bad").status_code == 401
    assert atom_with(api.tokens["admin"]).status_code == 403  # only read-only tokens in URLs
    api.post(f"/api/v1/alerts/{ids[0]}/state", {"state": "false_positive"})
    said = {"title": "Militia executes 12 villagers", "feed": "un-news",
            "link": "https://news.example.org/x"}  # fmt: skip
    r = api.post("/api/v1/items/g:99/missed", said)
    assert r.status_code == 201
    assert api.post("/api/v1/items/g:100/missed", {}).json()["field"] == "title"
    labels = api.get("/api/v1/labels.tsv").text.splitlines()
    assert labels[0] == "title\tsummary\tlabel\tlang\tsource\tnote"
    by_label = {line.split("\t")[2]: line for line in labels[1:]}
    assert "Civilians killed in shelling 0" in by_label["0"]
    assert by_label["1"].startswith("Militia executes 12 villagers\t")


def test_feeds_outbox_and_retry(api: Api) -> None:
    record(api.store, 2)
    feeds = api.get("/api/v1/feeds").json()["feeds"]
    assert [f["name"] for f in feeds] == ["un-news"]
    assert "next_poll_reason" in feeds[0]  # why the next poll is then (polite polling)
    outbox = api.get("/api/v1/outbox").json()
    assert outbox["outbox"]["pending"] == 2 and len(outbox["pending"]) == 2
    assert api.post("/api/v1/outbox/retry", {}, role="viewer").status_code == 403
    r = api.post("/api/v1/outbox/retry", {"dead": True})
    assert r.status_code == 200 and r.json()["due_now"] == 2


def test_review_queue_approve_reject_and_conflicts(api: Api) -> None:
    now = api.clock()
    held = []
    for n in range(2):
        a = alert(item(key=f"r{n}", link=f"https://x.example/r{n}"), match(), now=now)
        api.store.record_alert(Routed(a, ("ops",), review=("desk",)), now)
        held.append(a.id)
    waiting = api.get("/api/v1/reviews").json()
    assert waiting["waiting"] == 2 and {w["id"] for w in waiting["reviews"]} == set(held)
    assert waiting["reviews"][0]["channels"] == ["desk"]
    bad = api.post(f"/api/v1/alerts/{held[0]}/review", {"decision": "maybe"})
    assert bad.status_code == 400 and bad.json()["field"] == "decision"
    assert (
        api.post(f"/api/v1/alerts/{held[0]}/review", {"decision": "approve"}, "viewer").status_code
        == 403
    )
    ok = api.post(f"/api/v1/alerts/{held[0]}/review", {"decision": "approve", "note": "checked"})
    assert ok.status_code == 200
    desk = [d for d in ok.json()["deliveries"] if d["channel"] == "desk"]
    assert desk[0]["status"] == "pending"
    again = api.post(f"/api/v1/alerts/{held[0]}/review", {"decision": "reject"})
    assert again.status_code == 409
    no = api.post(f"/api/v1/alerts/{held[1]}/review", {"decision": "reject", "note": "satire"})
    assert no.json()["state"] == "false_positive"
    assert [d["status"] for d in no.json()["deliveries"] if d["channel"] == "desk"] == ["rejected"]
    assert api.get("/api/v1/reviews").json()["waiting"] == 0
    assert api.post("/api/v1/alerts/nope/review", {"decision": "approve"}).status_code == 404


def test_admin_manages_people_and_machines(api: Api) -> None:
    assert api.get("/api/v1/users", role="analyst").status_code == 403
    made = api.post("/api/v1/users", {"name": "lena", "role": "viewer", "password": "long enough"},
                    role="admin")  # fmt: skip
    assert made.status_code == 201 and made.json()["role"] == "viewer"
    person = api.store.user("lena")
    assert person is not None and person.password_hash.startswith("$argon2id$")
    again = api.post("/api/v1/users", {"name": "lena", "role": "viewer", "password": "long enough"},
                     role="admin")  # fmt: skip
    assert again.status_code == 409
    short = api.post(
        "/api/v1/users", {"name": "max", "role": "viewer", "password": "short"}, "admin"
    )
    assert short.status_code == 400 and short.json()["field"] == "password"
    odd = api.post(
        "/api/v1/users", {"name": "max", "role": "boss", "password": "long enough"}, "admin"
    )
    assert odd.status_code == 400 and odd.json()["field"] == "role"
    assert {u["name"] for u in api.get("/api/v1/users", role="admin").json()["users"]} == {
        "amina",
        "lena",
    }
    token = api.post("/api/v1/tokens", {"name": "grafana", "role": "viewer"}, "admin").json()[
        "token"
    ]
    assert token.startswith("mon_")
    feed = requests.get(f"{api.base}/api/v1/alerts", headers={"Authorization": f"Bearer {token}"},
                        timeout=10)  # fmt: skip
    assert feed.status_code == 200
    listed = api.get("/api/v1/tokens", role="admin").json()["tokens"]
    assert "grafana" in {t["name"] for t in listed} and token not in str(listed)
    assert api.delete("/api/v1/tokens/grafana", role="admin").status_code == 200
    gone = requests.get(f"{api.base}/api/v1/alerts", headers={"Authorization": f"Bearer {token}"},
                        timeout=10)  # fmt: skip
    assert gone.status_code == 401
    assert api.delete("/api/v1/users/lena", role="admin").status_code == 200
    assert api.delete("/api/v1/users/lena", role="admin").status_code == 404
