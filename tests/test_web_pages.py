"""The console's HTML pages through real HTTP on loopback, on SQLite and PostgreSQL: signing in
with the form (cookie flags, wrong passwords, the limit), CSRF and roles on every page post,
the alert list's filters and pages, one alert's explanation with feed text escaped, the
triage, silence, review and retry forms, the setup page, signing out."""

from __future__ import annotations

import html
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import pytest
import requests

from monitor.channels import CHANNELS
from monitor.config.load import Config, load_config
from monitor.model import Routed, Severity
from monitor.store import Store
from monitor.web import auth, site
from monitor.web.app import Console
from monitor.web.http import ConsoleServer
from monitor.web.screens import highlight
from tests.clock import FakeClock
from tests.factories import HOSTILE, T0, alert, item, match
from tests.stores import ENGINES, open_engine
from tests.test_web_api import CONFIG, record

PASSWORD = "correct horse"
_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


@dataclass
class Site:
    base: str
    store: Store
    clock: FakeClock

    def session(self, name: str = "amina", password: str = PASSWORD) -> requests.Session:
        """A browser-like session signed in through the form."""
        s = requests.Session()
        answer = sign_in(s, self.base, name, password)
        assert answer.status_code == 303, answer.text[:500]
        return s

    def csrf(self, s: requests.Session, path: str = "/logout") -> str:
        return csrf_of(s.get(self.base + path, timeout=10).text)

    def post(self, s: requests.Session, path: str, **form: str) -> requests.Response:
        """A page form's post with the session's CSRF token; redirects not followed."""
        data = {"csrf_token": self.csrf(s), **form}
        return s.post(self.base + path, data=data, allow_redirects=False, timeout=10)


def csrf_of(page: str) -> str:
    found = _CSRF.search(page)
    assert found, page[:1000]
    return found.group(1)


def sign_in(
    s: requests.Session, base: str, name: str, password: str, **headers: str
) -> requests.Response:
    token = csrf_of(s.get(base + "/login", timeout=10).text)
    form = {"csrf_token": token, "username": name, "password": password, "next": "/"}
    return s.post(base + "/login", data=form, headers=headers, allow_redirects=False, timeout=10)


@pytest.fixture(params=ENGINES)
def web(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Site]:
    (tmp_path / "config.toml").write_text(CONFIG)
    config: Config = load_config(tmp_path / "config.toml", channel_types=CHANNELS)
    engine = open_engine(request.param, tmp_path, request)
    store = next(engine)
    clock = FakeClock(T0 + timedelta(hours=2))
    store.add_user("amina", "analyst", auth.hash_password(PASSWORD), clock())
    store.add_user("vic", "viewer", auth.hash_password(PASSWORD), clock())
    server: ConsoleServer = site.start("127.0.0.1:0", Console(store, lambda: config, now=clock))
    try:
        yield Site(server.url.rstrip("/"), store, clock)
    finally:
        server.shutdown()
        server.server_close()
        next(engine, None)


def rows_of(page: str) -> list[str]:
    """The alert ids a list page links to, in order."""
    return [html.unescape(m) for m in re.findall(r'<a href="/alerts/([^"]+)">', page)]


def test_sign_in_sets_a_session_cookie_httponly_lax_and_secure_behind_tls(web: Site) -> None:
    """The form signs in (303 to the page asked for); the cookie is HttpOnly and SameSite=Lax,
    and Secure when a TLS proxy says X-Forwarded-Proto: https."""
    s = requests.Session()
    answer = sign_in(s, web.base, "amina", PASSWORD)
    assert answer.status_code == 303 and answer.headers["Location"] == "/"
    cookie = next(c for c in answer.raw.headers.getlist("Set-Cookie") if "monitor_session=" in c)
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and "Secure" not in cookie
    assert "amina (analyst)" in s.get(web.base + "/", timeout=10).text
    tls = sign_in(requests.Session(), web.base, "amina", PASSWORD, **{"X-Forwarded-Proto": "https"})
    secure = next(c for c in tls.raw.headers.getlist("Set-Cookie") if "monitor_session=" in c)
    assert "Secure" in secure and "HttpOnly" in secure


def test_wrong_password_401_and_five_failures_429(web: Site) -> None:
    """A wrong password gives the form again with 401 and no session; after five failures
    even the right password is refused with 429 until a minute has passed."""
    s = requests.Session()
    wrong = sign_in(s, web.base, "amina", "not the password")
    assert wrong.status_code == 401 and "Wrong username or password" in wrong.text
    assert "monitor_session" not in s.cookies
    for _ in range(4):
        assert sign_in(s, web.base, "amina", "nope").status_code == 401
    blocked = sign_in(s, web.base, "amina", PASSWORD)
    assert blocked.status_code == 429 and "Too many failed sign-ins" in blocked.text
    web.clock.advance(61)
    assert sign_in(s, web.base, "amina", PASSWORD).status_code == 303


def test_unsigned_visitor_is_sent_to_sign_in(web: Site) -> None:
    answer = requests.get(web.base + "/silences", allow_redirects=False, timeout=10)
    assert answer.status_code == 303 and answer.headers["Location"] == "/login?next=%2Fsilences"


def test_page_post_without_csrf_token_is_403_and_changes_nothing(web: Site) -> None:
    [one] = record(web.store, 1)
    s = web.session()
    bare = s.post(web.base + f"/alerts/{one}/state", data={"state": "resolved"}, timeout=10)
    forged = s.post(web.base + f"/alerts/{one}/state",
                    data={"state": "resolved", "csrf_token": "forged"}, timeout=10)  # fmt: skip
    assert bare.status_code == forged.status_code == 403
    assert "CSRF" in bare.text
    detail = web.store.alert_detail(one)
    assert detail is not None and detail.listed.state == "new" and detail.history == ()


def test_viewer_reads_every_page_but_cannot_post(web: Site) -> None:
    [one] = record(web.store, 1)
    s = web.session("vic")
    for path in ("/", f"/alerts/{one}", "/silences", "/feeds", "/outbox"):
        page = s.get(web.base + path, timeout=10)
        assert page.status_code == 200, path
        assert 'action="/alerts/' not in page.text and 'action="/silences"' not in page.text
    refused = web.post(s, f"/alerts/{one}/state", state="acknowledged")
    assert refused.status_code == 403 and "analyst" in refused.text
    detail = web.store.alert_detail(one)
    assert detail is not None and detail.listed.state == "new"


def test_list_shows_50_rows_then_a_next_page_keeping_the_filters(web: Site) -> None:
    """60 Sudan alerts and 3 for Chad: the Sudan filter lists 50 newest first, its next
    page link keeps the filter and shows the other 10, and no Chad alert on either."""
    sudan = record(web.store, 60, key="sd")
    chad = record(web.store, 3, key="td", countries=("TD",))
    s = web.session()
    first = s.get(web.base + "/", params={"country": "SD"}, timeout=10).text
    assert rows_of(first) == sudan[::-1][:50]
    [nxt] = re.findall(r'<a href="([^"]+)" rel="next">Next page</a>', first)
    nxt = html.unescape(nxt)
    assert "country=SD" in nxt and "cursor=" in nxt
    second = s.get(web.base + nxt, timeout=10).text
    assert rows_of(second) == sudan[::-1][50:] and 'rel="next"' not in second
    assert 'name="country" value="SD"' in second
    assert not set(chad) & set(rows_of(first) + rows_of(second))
    assert set(rows_of(s.get(web.base + "/?country=TD", timeout=10).text)) == set(chad)


def test_list_filters_on_state_severity_rule_and_text(web: Site) -> None:
    high = record(web.store, 2, key="h", title="Shelling of a market in El Fasher")
    [low] = record(web.store, 1, key="l", severity=Severity.LOW, rule="displacement",
                   theme="displacement", title="Families flee the fighting")  # fmt: skip
    s = web.session()
    assert web.post(s, f"/alerts/{high[0]}/state", state="acknowledged").status_code == 303

    def listed(**q: str) -> set[str]:
        return set(rows_of(s.get(web.base + "/", params=q, timeout=10).text))

    assert listed(state="acknowledged") == {high[0]}
    assert listed(severity="high") == set(high)
    assert listed(rule="displacement") == {low}
    assert listed(q="families flee") == {low}
    assert listed(since="2026-11-20", severity="low") == {*high, low}
    bad = s.get(web.base + "/", params={"severity": "terrible"}, timeout=10)
    assert bad.status_code == 400 and "severity:" in bad.text


def test_detail_highlights_terms_and_escapes_hostile_feed_text(web: Site) -> None:
    """The hostile title shows as text (no <script>, no Slack mention markup), the matched
    word is wrapped in <mark> inside the escaped snippet, and a javascript: link is no link."""
    it = item(key="evil", title=HOSTILE + " civilians killed", link="javascript:alert(1)")
    a = alert(it, match())
    web.store.record_alert(Routed(a, ("ops",)), T0)
    page = web.session().get(web.base + f"/alerts/{a.id}", timeout=10).text
    assert "<script>" not in page and "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "<@U123>" not in page and "&lt;@U123&gt;" in page
    assert "javascript:" not in page
    assert "civilians <mark>killed</mark> in shelling" in page
    assert "Civilians Killed" in page and "civilians-killed" in page  # the rule that fired


def test_highlight_escapes_nothing_itself_and_finds_every_hit() -> None:
    """The parts keep the text as given (the template escapes it); hits ignore case."""
    assert highlight("<b>Killed</b> and killed", ["killed"]) == [
        ("<b>", False), ("Killed", True), ("</b> and ", False), ("killed", True),
    ]  # fmt: skip
    assert highlight("nothing here", ["genocide"]) == [("nothing here", False)]
    assert highlight("", ["x"]) == []


def test_triage_forms_set_state_assign_and_note_with_history(web: Site) -> None:
    [one] = record(web.store, 1)
    s = web.session()
    done = web.post(s, f"/alerts/{one}/state", state="acknowledged", note="on it")
    assert (
        done.status_code == 303 and done.headers["Location"] == f"/alerts/{one}?done=acknowledged"
    )
    assert web.post(s, f"/alerts/{one}/assign", assignee="vic").status_code == 303
    assert web.post(s, f"/alerts/{one}/notes", text="Called the <b>desk</b>").status_code == 303
    page = s.get(web.base + f"/alerts/{one}?done=%3Ci%3Eyes", timeout=10).text
    assert "Done: &lt;i&gt;yes" in page  # the flash is text, never markup
    assert "Called the &lt;b&gt;desk&lt;/b&gt;" in page and "on it" in page
    assert "new -&gt; acknowledged" in page and "assigned to <b>vic</b>" in page
    detail = web.store.alert_detail(one)
    assert detail is not None and (detail.listed.state, detail.listed.assignee) == (
        "acknowledged",
        "vic",
    )
    nobody = web.post(s, f"/alerts/{one}/assign", assignee="mallory")
    assert nobody.status_code == 400 and "assignee:" in nobody.text
    empty = web.post(s, f"/alerts/{one}/notes", text="  ")
    assert empty.status_code == 400 and "text:" in empty.text
    assert web.post(s, "/alerts/nope/state", state="resolved").status_code == 404


def test_silence_form_prefilled_created_listed_and_expired(web: Site) -> None:
    """ "Silence like this" fills the form from the alert; a bad duration is refused naming
    the field with the form as typed; a good one is listed active, then expired."""
    [one] = record(web.store, 1)
    s = web.session()
    detail = s.get(web.base + f"/alerts/{one}", timeout=10).text
    [like] = re.findall(r'<a href="(/silences\?[^"]+)">Silence alerts like this', detail)
    form = s.get(web.base + html.unescape(like), timeout=10).text
    assert 'name="rule" value="civilians-killed"' in form and 'name="country" value="SD"' in form
    bad = web.post(s, "/silences", rule="civilians-killed", duration="soon", reason="known")
    assert bad.status_code == 400 and "duration:" in bad.text
    assert 'name="reason" value="known"' in bad.text and web.store.silences(web.clock(), T0) == []
    made = web.post(s, "/silences", rule="civilians-killed", country="SD, TD", duration="4h",
                    reason="Known story <x>")  # fmt: skip
    assert made.status_code == 303
    [silence] = web.store.silences(web.clock(), T0)
    assert silence.matchers.country == ("SD", "TD") and silence.active(web.clock())
    listed = s.get(web.base + "/silences", timeout=10).text
    assert "Known story &lt;x&gt;" in listed and "Expire now" in listed
    assert web.post(s, f"/silences/{silence.id}/expire").status_code == 303
    [ended] = web.store.silences(web.clock(), T0)
    assert not ended.active(web.clock()) and ended.expired_by == "amina"


def test_feeds_and_outbox_pages_and_retry_form(web: Site) -> None:
    record(web.store, 1, title="Market <shelled>")
    s = web.session()
    feeds = s.get(web.base + "/feeds", timeout=10).text
    assert "un-news" in feeds and "never" in feeds
    outbox = s.get(web.base + "/outbox", timeout=10).text
    assert "Market &lt;shelled&gt;" in outbox and "1</b> pending" in outbox
    retried = web.post(s, "/outbox/retry", dead="1")
    assert retried.status_code == 303 and "due+now" in retried.headers["Location"]


def test_reviews_page_lists_waiting_and_approves(web: Site) -> None:
    a = alert(item(key="r1", title="Held for review"), match())
    web.store.record_alert(Routed(a, review=("ops",)), T0)
    s = web.session()
    page = s.get(web.base + "/reviews", timeout=10).text
    assert "Held for review" in page and "Waiting for review (1)" in page
    done = web.post(s, f"/alerts/{a.id}/review", decision="approve", note="ok", next="/reviews")
    assert done.status_code == 303 and done.headers["Location"].startswith("/reviews?done=")
    assert "Nothing waits for review" in s.get(web.base + "/reviews", timeout=10).text
    assert web.post(s, f"/alerts/{a.id}/review", decision="maybe").status_code == 400


def test_no_user_yet_shows_the_setup_page(web: Site) -> None:
    for name in ("amina", "vic"):
        web.store.remove_user(name)
    page = requests.get(web.base + "/", timeout=10)
    assert page.status_code == 503 and "monitor user add" in page.text
    assert "monitor user add" in requests.get(web.base + "/login", timeout=10).text


def test_sign_out_ends_the_session(web: Site) -> None:
    s = web.session()
    cookie = s.cookies["monitor_session"]
    out = web.post(s, "/logout")
    assert out.status_code == 303 and out.headers["Location"] == "/login"
    again = requests.get(web.base + "/", cookies={"monitor_session": cookie},
                         allow_redirects=False, timeout=10)  # fmt: skip
    assert again.status_code == 303 and again.headers["Location"].startswith("/login")
