"""Loopback webhook receiver for benchmarks.

This module owns `WebhookReceiver`: it accepts POSTs on any path of
`http://127.0.0.1:PORT/`, and for each one logs to JSONL (and keeps in memory)
the receipt time (`t`, POSIX seconds, comparable with the feed server's growth
log), the `webhook-id` header, the `id` field of a JSON body, the status it
answered and the body size. It answers 200, except as scripted: `script`
gives the statuses of the first requests in order (e.g. 500, 503, 200), and
`fail_rate` fails that share of the later ones (seeded, reproducible) with
`fail_status`. It stops by itself after `duration` seconds.

CLI: `python bench/receiver.py --port 0 --log hooks.jsonl --duration 600
[--script 500,503] [--fail-rate 0.1]` prints its URL, then a JSON summary at exit.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import random
import signal
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

if __package__ in (None, ""):  # run as a script: make `bench` importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import JsonlLog, LoopbackHTTPServer, Request, Response


class WebhookReceiver(LoopbackHTTPServer):
    """Records every webhook POST; see the module docstring."""

    def __init__(
        self,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        log_path: str | Path | None = None,
        script: Sequence[int] = (),
        fail_rate: float = 0.0,
        fail_status: int = 503,
        seed: int = 0,
        latency_ms: float = 0.0,
        duration: float | None = 3600.0,
    ) -> None:
        super().__init__([host], port, duration)
        self.log = JsonlLog(log_path)
        self.script = list(script)
        self.fail_rate = fail_rate
        self.fail_status = fail_status
        self.latency = latency_ms / 1000.0
        self.received: list[dict[str, Any]] = []
        self._rng = random.Random(seed)

    @property
    def hook_url(self) -> str:
        return self.url("/hook")

    def ids(self, status: int = 200) -> list[str]:
        """Body ids of the deliveries answered with `status` (200: accepted)."""
        return [r["id"] for r in self.received if r["status"] == status and r["id"]]

    def stop(self) -> None:
        super().stop()
        self.log.close()

    def handle(self, request: Request) -> Response:
        if request.method != "POST":
            return Response(405, [("Allow", "POST")], b"POST only\n")
        status = self._next_status()
        record = {
            "t": time.time(),
            "webhook_id": request.headers.get("webhook-id"),
            "id": _body_id(request.body),
            "status": status,
            "bytes": len(request.body),
            "path": request.path,
        }
        self.received.append(record)
        self.log.write(record)
        body = b'{"ok":true}' if status == 200 else b'{"ok":false}'
        return Response(status, [("Content-Type", "application/json")], body, self.latency)

    def _next_status(self) -> int:
        if self.script:
            return self.script.pop(0)
        if self.fail_rate and self._rng.random() < self.fail_rate:
            return self.fail_status
        return 200


def _body_id(body: bytes) -> str | None:
    try:
        data = json.loads(body)
    except ValueError:
        return None
    value = data.get("id") if isinstance(data, dict) else None
    return None if value is None else str(value)


def _interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt  # SIGTERM stops the CLI cleanly, printing its summary


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--host", default="127.0.0.1", help="a loopback address")
    parser.add_argument("--port", type=int, default=0, help="0 picks a free port")
    parser.add_argument("--log", help="JSONL file of received POSTs")
    parser.add_argument("--script", default="", help="statuses of the first POSTs: 500,503")
    parser.add_argument("--fail-rate", type=float, default=0.0, help="share of later POSTs")
    parser.add_argument("--fail-status", type=int, default=503)
    parser.add_argument("--latency-ms", type=float, default=0.0)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--duration", type=float, default=600.0, help="seconds, then exit")
    args = parser.parse_args(argv)
    receiver = WebhookReceiver(
        host=args.host,
        port=args.port,
        log_path=args.log,
        script=[int(s) for s in args.script.split(",") if s.strip()],
        fail_rate=args.fail_rate,
        fail_status=args.fail_status,
        seed=args.seed,
        latency_ms=args.latency_ms,
        duration=args.duration,
    )
    signal.signal(signal.SIGTERM, _interrupt)
    with receiver:
        print(receiver.hook_url, flush=True)
        with contextlib.suppress(KeyboardInterrupt):
            receiver.wait()
    statuses: dict[int, int] = {}
    for record in receiver.received:
        statuses[record["status"]] = statuses.get(record["status"], 0) + 1
    summary = {"received": len(receiver.received), "statuses": statuses}
    print(json.dumps(summary), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
