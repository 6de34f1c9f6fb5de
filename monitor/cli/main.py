"""Composition root and command line: run, check, status, retry, send-test, test-rules."""

from __future__ import annotations

import argparse
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import structlog

from monitor import __version__, log
from monitor.config.load import default_config_path
from monitor.errors import ConfigError, StoreError
from monitor.model import FeedSpec
from monitor.service import runtime

EXIT_OK, EXIT_FAIL, EXIT_CONFIG = 0, 1, 2


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    if not getattr(args, "func", None):
        parser().print_help()
        return EXIT_CONFIG
    try:
        return int(args.func(args))
    except ConfigError as exc:
        for problem in exc.problems:
            print(log.redact(problem), file=sys.stderr)
        print(f"{len(exc.problems)} problem(s); nothing was started", file=sys.stderr)
        return EXIT_CONFIG
    except StoreError as exc:
        print(f"state store: {log.redact(str(exc))}", file=sys.stderr)
        return EXIT_CONFIG
    except KeyboardInterrupt:
        return 130


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="monitor", description="Early-warning feed monitor for mass atrocities."
    )
    p.add_argument("--version", action="version", version=f"monitor {__version__}")
    sub = p.add_subparsers(metavar="COMMAND")

    def command(name: str, help_: str, func: object) -> argparse.ArgumentParser:
        c = sub.add_parser(name, help=help_, description=help_)
        c.add_argument(
            "-c",
            "--config",
            type=Path,
            default=None,
            help="config file (default: $MONITOR_CONFIG, then ./config.toml)",
        )
        c.set_defaults(func=func)
        return c

    run = command("run", "run the daemon (or poll everything once with --once)", cmd_run)
    run.add_argument("--once", action="store_true", help="poll every feed once, deliver, exit")
    command("check", "validate config and rules; exit 2 on any problem", cmd_check)
    status = command("status", "show feed health and the outbox", cmd_status)
    status.add_argument("--json", action="store_true", help="one JSON object for scripts")
    retry = command("retry", "make every pending delivery due now", cmd_retry)
    retry.add_argument("--dead", action="store_true", help="also requeue dead deliveries")
    send = command("send-test", "send a marked test alert through each channel", cmd_send_test)
    send.add_argument("--channel", help="only this channel")
    tr = command(
        "test-rules",
        "run the rules over feed files, folders or URLs; no state change",
        cmd_test_rules,
    )
    tr.add_argument("--rules", type=Path, help="rule file or folder replacing the configured rules")
    tr.add_argument("--json", action="store_true", help="one JSON object per item")
    tr.add_argument("inputs", nargs="+", metavar="PATH_OR_URL")
    db = sub.add_parser("db", help="state database tools")
    db_sub = db.add_subparsers(metavar="ACTION")
    copy = db_sub.add_parser("copy", help="copy the configured state into an empty PostgreSQL")
    copy.add_argument("-c", "--config", type=Path, default=None, help="config file")
    copy.add_argument(
        "--to",
        required=True,
        metavar="URL_ENV_NAME",
        help="environment variable holding the target postgresql:// URL",
    )
    copy.set_defaults(func=cmd_db_copy)
    feeds = sub.add_parser("feeds", help="import or export the feed list as OPML")
    feeds_sub = feeds.add_subparsers(metavar="ACTION")
    imp = feeds_sub.add_parser("import", help="add an OPML file's new feeds to the config")
    imp.add_argument("-c", "--config", type=Path, default=None, help="config file")
    imp.add_argument("file", type=Path, metavar="FILE.opml")
    imp.set_defaults(func=cmd_feeds_import)
    exp = feeds_sub.add_parser("export", help="print the configured feeds as OPML 2.0")
    exp.add_argument("-c", "--config", type=Path, default=None, help="config file")
    exp.set_defaults(func=cmd_feeds_export)
    return p


def config_path(args: argparse.Namespace) -> Path:
    return args.config or default_config_path()


def _setup_logging(loaded: runtime.Loaded) -> None:
    log.set_secrets(loaded.config.secrets())
    log.setup(loaded.config.logging.format, loaded.config.logging.level)


def cmd_check(args: argparse.Namespace) -> int:
    loaded = runtime.load(config_path(args))
    c = loaded.config
    print(
        f"{c.file}: ok: {len(c.feeds)} feeds, {len(loaded.rules)} rules, "
        f"{len(c.channels)} channels, state {c.state.path or c.state.url_env}"
    )
    return EXIT_OK


def cmd_run(args: argparse.Namespace) -> int:
    path = config_path(args)
    loaded = runtime.load(path)
    _setup_logging(loaded)
    rt = runtime.build(loaded)
    if args.once:
        return run_once(rt)
    from monitor.service.daemon import Daemon

    Daemon(rt, path).run_forever()
    return EXIT_OK


def run_once(rt: runtime.Runtime) -> int:
    """Poll every feed once, deliver what is due, exit 0 only if all went through."""
    logger = structlog.get_logger("monitor.once")
    try:
        rt.reclaim_dead_local_leases()
        started = rt.poller.now()

        def poll(spec: FeedSpec) -> tuple[str, str] | None:
            # keep only the outcome: a whole PollResult holds the feed's items, and a cycle
            # of cold feeds' worth kept to the end cost about 40 MB per 1,000 feeds
            # not_since: a feed another instance polled during this run is done for this run
            polled = rt.poller.poll_claimed(spec, due_only=False, not_since=started)
            return None if polled is None else (polled[0].feed, polled[0].outcome)

        with ThreadPoolExecutor(rt.config.defaults.workers) as pool:
            polled = list(pool.map(poll, rt.config.feeds))
        results = [p for p in polled if p is not None]
        left = len(polled) - len(results)
        if left:
            print(
                f"{left} feeds left to other instances (they hold or have just polled them)",
                file=sys.stderr,
            )
        failed = [feed for feed, outcome in results if outcome == "failed"]
        dead_before = rt.store.outbox_counts()["dead"]
        while True:  # keep draining while rows become due in order
            last_drain = rt.poller.now()
            if not rt.deliverer.drain().sent:
                break
        counts = rt.store.outbox_counts()
        dead_now = counts["dead"] - dead_before
        # rows another live instance has claimed are on their way: not "still queued" here
        pending = rt.store.pending_for(rt.instance.owner, rt.poller.now(), before=last_drain)
        logger.info(
            "once.done",
            feeds=len(results),
            left_to_others=left,
            failed=len(failed),
            pending=pending,
            dead=dead_now,
        )
        ok = not failed and pending == 0 and dead_now == 0
        return EXIT_OK if ok else EXIT_FAIL
    finally:
        rt.close()


def cmd_status(args: argparse.Namespace) -> int:
    from monitor.cli.status import show_status

    return show_status(runtime.load(config_path(args)), as_json=args.json)


def cmd_retry(args: argparse.Namespace) -> int:
    loaded = runtime.load(config_path(args))
    store = runtime.store_of(loaded.config)
    try:
        n = store.retry(runtime.utcnow(), include_dead=args.dead)
    finally:
        store.close()
    print(f"{n} deliveries due now" + (" (dead ones included)" if args.dead else ""))
    return EXIT_OK


def cmd_db_copy(args: argparse.Namespace) -> int:
    """Copy seen items, feed state, alerts and the outbox so a move re-alerts on nothing."""
    import os

    from monitor.cli.db import copy_state
    from monitor.store import open_store

    url = os.environ.get(args.to, "")
    if not url.startswith(("postgresql://", "postgres://")):
        print(f"{args.to} must hold a postgresql:// URL", file=sys.stderr)
        return EXIT_CONFIG
    loaded = runtime.load(config_path(args))
    log.set_secrets([url, *loaded.config.secrets()])
    src = runtime.store_of(loaded.config)
    try:
        dst = open_store(url)
        try:
            counts = copy_state(src, dst)
        finally:
            dst.close()
    finally:
        src.close()
    print("copied: " + ", ".join(f"{n} {table}" for table, n in counts.items()))
    return EXIT_OK


def cmd_send_test(args: argparse.Namespace) -> int:
    from monitor.cli.sendtest import send_test

    return send_test(runtime.load(config_path(args)), args.channel)


def cmd_test_rules(args: argparse.Namespace) -> int:
    from monitor.cli.testrules import test_rules

    return test_rules(config_path(args), args.rules, args.inputs, as_json=args.json)


def cmd_feeds_import(args: argparse.Namespace) -> int:
    """Exit 0 when every feed was added or already there, 1 if some were refused, 2 on a
    malformed OPML or config (nothing written)."""
    from monitor.config import opml

    try:
        result = opml.import_file(args.file, config_path(args))
    except opml.OpmlError as exc:
        print(exc, file=sys.stderr)
        return EXIT_CONFIG
    print(*result.rejected, sep="\n", file=sys.stderr, end="\n" if result.rejected else "")
    print(*opml.report(result), sep="\n")
    return EXIT_FAIL if result.rejected else EXIT_OK


def cmd_feeds_export(args: argparse.Namespace) -> int:
    from monitor.config import opml

    try:
        print(opml.build(opml.configured(config_path(args))), end="")
    except opml.OpmlError as exc:
        print(exc, file=sys.stderr)
        return EXIT_CONFIG
    return EXIT_OK


if __name__ == "__main__":
    raise SystemExit(main())
