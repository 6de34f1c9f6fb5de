"""OPML import and export: parsing, refusal of hostile or malformed files, config editing."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from monitor.cli import main
from monitor.config.opml import (
    Candidate,
    Feed,
    OpmlError,
    build,
    configured,
    import_file,
    parse,
    plan,
)
from tests.e2e import REPO

W3C = Path(__file__).resolve().parents[2] / "shared" / "corpus" / "w3c-feedvalidator"

CONFIG = f"""# monitor test config: this comment must survive an import
[state]
path = "state.db"   # trailing comment

[defaults]
interval = "15m"

[rules]
paths = ["{REPO / "rules"}"]

# --- feeds ---
[[feeds]]
name = "un-news"
url = "https://news.un.org/feed/rss.xml"
tags = ["un"]

# --- channels ---
[[channels]]
name = "console"
type = "console"
"""

SUBSCRIPTIONS = b"""<?xml version="1.0" encoding="UTF-8"?>
<opml version="2.0">
  <head><title>Reader export</title></head>
  <body>
    <outline text="Human Rights">
      <outline text="HRW &amp; Friends" type="rss" xmlUrl="https://www.hrw.org/rss?a=1&amp;b=2"/>
      <outline text="UN News" type="rss" xmlUrl="https://news.un.org/feed/rss.xml"/>
    </outline>
    <outline title="Cour p\xc3\xa9nale" xmlUrl="https://www.icc-cpi.int/fr/rss"
             category="/Courts/ICC,/Law"/>
    <outline text="Gopher" xmlUrl="gopher://example.org/feed"/>
    <outline text="No feed here" htmlUrl="https://example.org/"/>
  </body>
</opml>
"""


def write(tmp_path: Path, name: str, data: bytes | str) -> Path:
    path = tmp_path / name
    if isinstance(data, str):
        path.write_text(data, encoding="utf-8")
    else:
        path.write_bytes(data)
    return path


def test_parse_takes_tags_from_category_or_folder():
    """Outlines with an xmlUrl are found; tags come from category, else the parent folder."""
    found = parse(SUBSCRIPTIONS, "subs.opml")
    assert [(c.title, c.url, c.tags) for c in found] == [
        ("HRW & Friends", "https://www.hrw.org/rss?a=1&b=2", ("human-rights",)),
        ("UN News", "https://news.un.org/feed/rss.xml", ("human-rights",)),
        ("Cour pénale", "https://www.icc-cpi.int/fr/rss", ("icc", "law")),
        ("Gopher", "gopher://example.org/feed", ()),
    ]


def test_plan_skips_known_urls_refuses_non_http_and_makes_names_unique():
    """Known URLs are skipped, non-http(s) refused with file and line, names slugged and unique."""
    found = [
        *parse(SUBSCRIPTIONS, "subs.opml"),
        Candidate("HRW & friends!", "https://hrw.example/2", (), 9),
        Candidate("", "https://feeds.example.net/x", (), 10),
        Candidate("Spaced", "https://example.org/a b", (), 11),
    ]
    result = plan(found, [Feed("un-news", "https://news.un.org/feed/rss.xml")], "subs.opml")
    assert [f.name for f in result.added] == [
        "hrw-friends",
        "cour-penale",
        "hrw-friends-2",
        "feeds-example-net",
    ]
    assert result.existing == ["https://news.un.org/feed/rss.xml"]
    assert result.rejected[0].startswith('subs.opml: line 11: "Gopher": ')
    assert "spaces" in result.rejected[1]


@pytest.mark.parametrize(
    "data, words",
    [
        (b'<!DOCTYPE opml [<!ENTITY a "aaaa">]><opml><body/></opml>', "DOCTYPE"),
        (
            b'<?xml version="1.0"?>\n<!DOCTYPE lolz [<!ENTITY lol "lol">'
            b'<!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">]>'
            b'<opml><body><outline text="&lol2;" xmlUrl="https://x.org/"/></body></opml>',
            "line 2: DOCTYPE",
        ),
        (
            b'<!DOCTYPE opml [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>'
            b'<opml><body><outline text="&xxe;" xmlUrl="https://x.org/"/></body></opml>',
            "DOCTYPE",
        ),
        (b"<opml><body><outline", "malformed OPML"),
        (b"", "malformed OPML"),
        (b'<rss version="2.0"><channel/></rss>', "root element is <rss>"),
        (b'<opml version="2.0"><head/></opml>', "no <body>"),
        (b"\x00\xff\xfe garbage", "malformed OPML"),
    ],
)
def test_hostile_or_malformed_opml_is_one_clean_error(data: bytes, words: str):
    """DOCTYPE/ENTITY (bombs, XXE), broken XML and non-OPML are one OpmlError naming the file."""
    with pytest.raises(OpmlError) as err:
        parse(data, "bad.opml")
    assert str(err.value).startswith("bad.opml: ")
    assert words in str(err.value)
    assert "root:" not in str(err.value)  # /etc/passwd was never read


def test_import_keeps_comments_and_settings_and_passes_check(tmp_path: Path):
    """An import adds the new feeds and keeps every comment and setting; check still passes."""
    config = write(tmp_path, "config.toml", CONFIG)
    result = import_file(write(tmp_path, "subs.opml", SUBSCRIPTIONS), config)
    assert [f.name for f in result.added] == ["hrw-friends", "cour-penale"]
    text = config.read_text(encoding="utf-8")
    assert text.startswith(CONFIG.split("[[feeds]]")[0])  # everything before is untouched
    for line in CONFIG.splitlines():
        assert line in text
    assert text.index('name = "cour-penale"') < text.index("# --- channels ---")
    assert 'url = "https://www.hrw.org/rss?a=1&b=2"' in text
    assert main(["check", "-c", str(config)]) == 0
    again = import_file(tmp_path / "subs.opml", config)
    assert again.added == [] and len(again.existing) == 3
    assert config.read_text(encoding="utf-8") == text


def test_round_trip_export_then_import_into_an_empty_config(tmp_path: Path):
    """Feeds exported as OPML and imported into an empty config are the same feeds."""
    config = write(tmp_path, "config.toml", CONFIG)
    import_file(write(tmp_path, "subs.opml", SUBSCRIPTIONS), config)
    exported = write(tmp_path, "out.opml", build(configured(config)))
    empty = write(tmp_path, "empty.toml", f'[rules]\npaths = ["{REPO / "rules"}"]\n')
    import_file(exported, empty)
    assert configured(empty) == configured(config)
    assert len(configured(empty)) == 3
    assert main(["check", "-c", str(empty)]) == 0


def test_export_is_opml_2_with_escaped_attributes():
    """Export is OPML 2.0, one rss outline per feed; quotes, <, & survive as attribute values."""
    feeds = [Feed('a"<b>&c', "https://x.org/?a=1&b='2'", ("un", "icc")), Feed("b", "http://y/")]
    root = ET.fromstring(build(feeds))
    assert root.tag == "opml" and root.get("version") == "2.0"
    outlines = root.findall("./body/outline")
    assert [o.attrib for o in outlines] == [
        {
            "text": 'a"<b>&c',
            "title": 'a"<b>&c',
            "type": "rss",
            "xmlUrl": "https://x.org/?a=1&b='2'",
            "category": "un,icc",
        },
        {"text": "b", "title": "b", "type": "rss", "xmlUrl": "http://y/"},
    ]


def test_cli_exit_codes_and_export_to_stdout(tmp_path: Path, capsys: pytest.CaptureFixture[str]):
    """feeds import exits 1 when an outline was refused, 2 on a bad OPML; export prints OPML."""
    config = write(tmp_path, "config.toml", CONFIG)
    before = config.read_text(encoding="utf-8")
    bad = write(tmp_path, "bad.opml", b"<opml><body>\n<outline></body></opml>")
    assert main(["feeds", "import", str(bad), "-c", str(config)]) == 2
    assert f"{bad}: line 2: malformed OPML" in capsys.readouterr().err
    assert config.read_text(encoding="utf-8") == before
    subs = write(tmp_path, "subs.opml", SUBSCRIPTIONS)
    assert main(["feeds", "import", str(subs), "-c", str(config)]) == 1
    out = capsys.readouterr()
    assert "gopher://example.org/feed" in out.err and "2 added, 1 already" in out.out
    assert main(["feeds", "export", "-c", str(config)]) == 0
    urls = [o.get("xmlUrl") for o in ET.fromstring(capsys.readouterr().out).iter("outline")]
    assert urls[0] == "https://news.un.org/feed/rss.xml" and len(urls) == 3
    missing = tmp_path / "nope.toml"
    assert main(["feeds", "import", str(subs), "-c", str(missing)]) == 2
    assert "no such config file" in capsys.readouterr().err


def test_import_into_a_config_without_feeds_or_with_inline_feeds(tmp_path: Path):
    """A config with no [[feeds]] gains the array; an inline feeds array gains inline tables."""
    subs = write(tmp_path, "subs.opml", SUBSCRIPTIONS)
    bare = write(tmp_path, "bare.toml", '# only a comment\n[state]\npath = "s.db"')
    import_file(subs, bare)
    assert bare.read_text(encoding="utf-8").startswith('# only a comment\n[state]\npath = "s.db"\n')
    assert len(configured(bare)) == 3
    inline = write(tmp_path, "inline.toml", 'feeds = [{name = "a", url = "https://a.org/"}]\n')
    import_file(subs, inline)
    assert [f.name for f in configured(inline)][:2] == ["a", "hrw-friends"]


def _w3c_opml_files() -> list[Path]:
    if not W3C.is_dir():
        return []
    return sorted(p for p in W3C.rglob("*") if p.is_file() and b"<opml" in p.read_bytes().lower())


@pytest.mark.skipif(not W3C.is_dir(), reason="../shared corpus is absent")
@pytest.mark.parametrize("path", _w3c_opml_files(), ids=lambda p: str(p.relative_to(W3C)))
def test_w3c_opml_documents_import_or_fail_cleanly(path: Path, tmp_path: Path):
    """Every OPML of the W3C validator suite imports (config still checks) or is one OpmlError."""
    config = write(tmp_path, "config.toml", CONFIG)
    try:
        result = import_file(path, config)
    except OpmlError as exc:
        assert str(exc).startswith(f"{path}: ")
        return
    assert main(["check", "-c", str(config)]) == 0
    assert len(configured(config)) == 1 + len(result.added)


def test_export_drops_characters_xml_cannot_carry(tmp_path: Path):
    """Control characters a TOML string may hold are dropped, so the export stays well-formed."""
    config = write(
        tmp_path,
        "config.toml",
        '[[feeds]]\nname = "bell\\u0007name"\nurl = "https://x.org/"\ntags = "un"\n',
    )
    (outline,) = ET.fromstring(build(configured(config))).iter("outline")
    assert outline.get("text") == "bellname" and outline.get("category") is None
