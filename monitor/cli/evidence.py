"""`monitor evidence ALERT_ID`: each source page captured for an alert (status, time, hash,
an excerpt), as JSON (the API's list), or written as the console's zip export."""

from __future__ import annotations

import argparse
import json
import sys
from contextlib import closing
from pathlib import Path

from monitor.channels import CHANNELS
from monitor.cli.common import EXIT_CONFIG, EXIT_FAIL, EXIT_OK, Subparsers, add, config_path
from monitor.config.load import load_config
from monitor.model import utcnow
from monitor.service import runtime
from monitor.web import evidence


def register(sub: Subparsers) -> None:
    c = add(sub, "evidence", "show (or export as a zip) the source pages kept for an alert", cmd)
    c.add_argument("alert_id", metavar="ALERT_ID", help="the alert's id (console, status)")
    c.add_argument("--json", action="store_true", help="the API's JSON list")
    c.add_argument("--zip", metavar="FILE", type=Path, help="write the zip export to FILE")


def cmd(args: argparse.Namespace) -> int:
    config = load_config(config_path(args), channel_types=CHANNELS, secrets=False)
    with closing(runtime.store_of(config, create=False)) as store:
        alert = store.load_alert(args.alert_id)
        if alert is None:
            print(f"alert_id: no alert {args.alert_id[:80]}", file=sys.stderr)
            return EXIT_CONFIG
        rows = store.evidence(alert.id)
        if args.zip:
            args.zip.write_bytes(evidence.bundle(store, alert, rows, utcnow()))
            print(f"{args.zip}: {len(rows)} source{'s' if len(rows) != 1 else ''}")
            return EXIT_OK
    views = [evidence.view(e) for e in rows]
    if args.json:
        print(json.dumps(views, ensure_ascii=False, indent=1))
    for v in [] if args.json else views:
        print(f"{v['state']:<9} {v['status'] or '-':<4} {v['fetched_at'] or '-':<21} {v['link']}")
        print(f"          sha256 {v['sha256']}  {v['size']} bytes" if v["sha256"] else
              f"          {v['error'] or 'not fetched yet'}")  # fmt: skip
    if not views and not args.json:
        print("no source page captured for this alert (yet)")
    return EXIT_OK if views else EXIT_FAIL
