"""The reports of recent stories kept between polls: whatever was written since (by this
instance or another one sharing the database), a poll reads the same reports as a store
reading them all afresh."""

from pathlib import Path

from monitor.store.reports import ReportCache
from monitor.store.sqlite import SqliteStore

STORIES = ["al_a", "al_b"]


def _source(tx, story: str, key: str, added: float) -> None:
    tx.x(
        "INSERT INTO sources (alert_id, feed, item_key, title, link, published, added, summary) "
        "VALUES (?, 'un-news', ?, ?, NULL, ?, ?, ?)",
        (story, key, f"Killings in Darfur, report {key}", added, added, "Dozens killed."),
    )


def _hit(tx, key: str, rule: str, country: str, theme: str = "mass-killing") -> None:
    tx.x(
        "INSERT INTO hits (feed, item_key, created, rule_id, theme, country) "
        "VALUES ('un-news', ?, 0, ?, ?, ?)",
        (key, rule, theme, country),
    )


def test_a_kept_cache_reads_what_a_fresh_read_does(tmp_path: Path) -> None:
    path = tmp_path / "state.db"
    mine, other = SqliteStore(str(path)), SqliteStore(str(path))  # two instances, one file
    cache = ReportCache()

    def check() -> dict:
        with mine._tx() as tx:
            kept = cache.reports(tx, STORIES)
            fresh = ReportCache().reports(tx, STORIES)
        assert kept == fresh
        return kept

    with mine._tx() as tx:
        _source(tx, "al_a", "k1", 10.0)
        _hit(tx, "k1", "massacre", "SD")
    first = check()
    assert [r[3] for r in first["al_a"]] == [("massacre",)]

    with other._tx() as tx:  # a newer report, and one with the same time as the newest read
        _source(tx, "al_a", "k2", 20.0)
        _hit(tx, "k2", "massacre", "SD")
        _hit(tx, "k2", "civilians-killed", "SD")
        _source(tx, "al_a", "k3", 10.0)
        _source(tx, "al_b", "k4", 30.0)
    grown = check()
    assert [r[1].item_key for r in grown["al_a"]] == ["k1", "k2", "k3"]
    assert grown["al_a"][0] is first["al_a"][0]  # an unchanged report keeps its tuple
    assert grown["al_a"][1][3] == ("civilians-killed", "massacre")

    with other._tx() as tx:  # a hit added to an older report: its count gives it away
        _hit(tx, "k1", "genocide-named", "TD", theme="genocide")
    late = check()
    assert late["al_a"][0][3] == ("genocide-named", "massacre")
    assert late["al_a"][0][4] == ("SD", "TD")

    with other._tx() as tx:  # retention prunes a report
        tx.x("DELETE FROM sources WHERE item_key = 'k2'")
    assert [r[1].item_key for r in check()["al_a"]] == ["k1", "k3"]
    mine.close()
    other.close()
