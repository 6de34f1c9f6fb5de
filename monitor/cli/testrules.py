"""`monitor test-rules`: rules over feed files, folders or URLs; no state change, nothing sent."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any, NamedTuple

from monitor.channels import CHANNELS
from monitor.cli.common import Subparsers, add, config_path
from monitor.config.load import load_config
from monitor.config.sources import SELECTOR_KEYS, selector_problem
from monitor.errors import ConfigError, FetchError
from monitor.match.decision import Assessment, Screen, screen
from monitor.model import FeedSpec, FeedState, Item, Match, Selectors, utcnow
from monitor.model.sources import FEED_TYPES
from monitor.pipeline import tag
from monitor.reader.documents import parse_document
from monitor.reader.fetch import FetchPolicy, fetch, make_session
from monitor.reader.normalize import normalize_entries
from monitor.rules.load import load_rules

MAX_FILE = 50 * 2**20


def register(sub: Subparsers) -> None:
    c = add(
        sub, "test-rules", "run the rules over feed files, folders or URLs; no state change", cmd
    )
    c.add_argument("--rules", type=Path, help="rule file or folder replacing the configured rules")
    c.add_argument("--json", action="store_true", help="one JSON object per item")
    c.add_argument("--no-model", action="store_true", help="rules alone, without the model")
    c.add_argument(
        "--feed", metavar="NAME", help="read the inputs as this configured feed does (its type "
        "and selectors: a saved page of an html source)",
    )  # fmt: skip
    c.add_argument("--type", choices=FEED_TYPES, help="read the inputs as this feed type")
    for key in SELECTOR_KEYS:
        c.add_argument(f"--{key}", metavar="CSS", help=f"with --type html: the {key} selector")
    c.add_argument("--base", metavar="URL", help="with --type html: the saved page's address")
    c.add_argument("inputs", nargs="+", metavar="PATH_OR_URL")


def cmd(args: argparse.Namespace) -> int:
    source = _source(args)
    return test_rules(
        config_path(args), args.rules, args.inputs, as_json=args.json, model=not args.no_model,
        source=source,
    )  # fmt: skip


class Source(NamedTuple):
    """How test-rules reads its inputs: a feed type, its selectors (type "html"), and the
    address a saved file's relative links are resolved against (None: the file's own)."""

    kind: str = "rss"
    selectors: Selectors | None = None
    base: str | None = None


AS_FEEDS = Source()


def _source(args: argparse.Namespace) -> Source:
    """How the inputs are read: a configured feed's type and selectors (--feed), or those
    given (--type, --item, ...); by default as feeds (RSS, Atom, RDF, JSON Feed)."""
    given = {k: getattr(args, k) for k in SELECTOR_KEYS if getattr(args, k) is not None}
    if args.feed:
        if args.type or given:
            raise ConfigError(["test-rules: --feed takes the feed's type and selectors; "
                               "give either --feed or --type and selectors"])  # fmt: skip
        config = load_config(config_path(args), channel_types=CHANNELS, secrets=False)
        spec = config.feeds_by_name.get(args.feed)
        if spec is None:
            raise ConfigError([f"{config.file}: test-rules --feed: no feed named {args.feed}"])
        return Source(spec.type, spec.selectors, spec.url or None)
    kind = args.type or ("html" if given else "rss")
    if kind != "html":
        if given:
            raise ConfigError(["test-rules: selectors (--item, ...) need --type html"])
        return Source(kind)
    problems = [f"test-rules: --{k}: {p}" for k, v in given.items() if (p := _problem(v))]
    if "item" not in given:
        problems.append("test-rules: --type html needs --item, the CSS selector of each item")
    if problems:
        raise ConfigError(problems)
    return Source(kind, Selectors(**given), args.base)


def _problem(selector: str) -> str | None:
    why = selector_problem(selector)
    return f'"{selector}" is not a CSS selector lxml can use ({why})' if why else None


def _rules(config: Path, override: Path | None, model: bool) -> Screen:
    if override is not None:
        if not override.exists():
            raise ConfigError([f"{override}: no such rule file or folder"])
        return screen(load_rules([override]), model)  # the config is not read: shipped model
    configured = load_config(config, channel_types=CHANNELS, secrets=False)  # sends nothing
    m = configured.model
    rules = load_rules(list(configured.rule_paths))
    return screen(rules, model and m.enabled, m.path, m.veto, m.alone, m.alone_headline)


def _files(inputs: list[str]) -> Iterator[tuple[str, Path | None]]:
    for raw in inputs:
        if raw.startswith(("http://", "https://")):
            yield raw, None
            continue
        path = Path(raw)
        if path.is_dir():
            yield from ((str(p), p) for p in sorted(path.rglob("*")) if p.is_file())
        else:
            yield raw, path


def _read(name: str, path: Path | None) -> tuple[bytes, dict[str, str], str]:
    if path is not None:
        if path.stat().st_size > MAX_FILE:
            raise FetchError(f"larger than {MAX_FILE} bytes")
        # a saved file has no content type: a .json file is offered as JSON (a JSON Feed
        # is recognised by its version), anything else is read by its content
        headers = {"content-type": "application/json"} if path.suffix == ".json" else {}
        return path.read_bytes(), headers, path.resolve().as_uri()
    session = make_session(FetchPolicy("monitor test-rules"))
    fetched = fetch(
        session, FeedSpec(name, name, 600.0), FeedState(name), FetchPolicy("monitor test-rules")
    )
    session.close()
    if fetched.error or fetched.body is None:
        raise FetchError(fetched.error or f"HTTP {fetched.status}")
    return fetched.body, fetched.headers, fetched.url


def test_rules(
    config: Path,
    override: Path | None,
    inputs: list[str],
    as_json: bool,
    model: bool = True,
    source: Source = AS_FEEDS,
) -> int:
    matcher = _rules(config, override, model)
    unreadable = 0
    for name, path in _files(inputs):
        try:
            body, headers, url = _read(name, path)
            if path is not None and source.base:
                url = source.base  # a saved page: its links are relative to where it was
            parsed = parse_document(body, headers, url, source.kind, source.selectors)
        except (OSError, FetchError) as exc:
            print(f"{name}: cannot read: {getattr(exc, 'reason', None) or exc}", file=sys.stderr)
            unreadable += 1
            continue
        if not parsed.entries:
            print(f"{name}: not a feed (no entries found); skipped", file=sys.stderr)
            continue
        spec = FeedSpec(name, url if url.startswith("http") else "http://localhost/", 600.0)
        for item in normalize_entries(parsed.entries, spec, url, utcnow()):
            texts = matcher.texts(item)  # folded once for countries, rules and model
            item = tag(item, texts, matcher)
            _emit(item, matcher.assess(item, texts), as_json)
    return 2 if unreadable else 0


def _emit(item: Item, seen: Assessment, as_json: bool) -> None:
    if as_json:
        print(json.dumps(item_json(item, seen), ensure_ascii=False))
    elif seen.matches or seen.vetoed:
        print(human(item, seen))


def item_json(item: Item, seen: Assessment) -> dict[str, Any]:
    score = None if seen.probability is None else round(seen.probability, 4)
    return {
        **_item_json(item, seen.matches),
        "score": score,
        "vetoed": [m.rule_id for m in seen.vetoed],
    }


def _item_json(item: Item, matches: tuple[Match, ...]) -> dict[str, Any]:
    return {
        "key": item.key,
        "title": item.title,
        "link": item.link,
        "feed": item.feed,
        "published": item.published.isoformat(),
        "countries": list(item.countries),
        "lang": item.lang,
        "matches": [
            {
                "rule": m.rule_id,
                "severity": m.severity.label,
                "score": round(m.score, 1),
                "probability": m.probability,
                "terms": [
                    {
                        "term": h.term,
                        "text": h.text,
                        "field": h.field,
                        "score": round(h.score, 1),
                        "snippet": h.snippet,
                    }
                    for h in m.hits
                ],
            }
            for m in matches
        ],
    }


def _highlight(text: str, needles: set[str], tty: bool) -> str:
    for needle in sorted(needles, key=len, reverse=True):
        if needle and needle in text:
            text = text.replace(needle, f"\033[1;31m{needle}\033[0m" if tty else f"[{needle}]")
    return text


def human(item: Item, seen: Assessment) -> str:
    matches = seen.matches
    tty = sys.stdout.isatty()
    needles = {h.text for m in matches for h in m.hits if h.field == "title"}
    lines = [_highlight(item.title, needles, tty), f"  {item.link or '(no link)'}  [{item.feed}]"]
    if item.countries:
        lines.append(f"  countries: {', '.join(item.countries)}")
    for m in matches:
        terms = ", ".join(f"{h.term}={h.text!r}@{h.field}" for h in m.hits)
        lines.append(f"  {m.severity.label.upper():<8} {m.rule_id}: {m.title}  ({terms})")
    if seen.probability is not None:
        lines.append(f"  relevance model: {seen.probability:.2f}")
    for m in seen.vetoed:
        lines.append(f"  VETOED   {m.rule_id}: the model's probability is below its veto")
    return "\n".join(lines) + "\n"
