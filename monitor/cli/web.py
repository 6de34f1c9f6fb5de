"""`monitor web [-c CONFIG] [--listen HOST:PORT]`: the console alone, on the configured store
(a host that only shows; any instance sharing PostgreSQL can serve it)."""

from __future__ import annotations

import argparse
import signal
import sys
import threading
from dataclasses import replace

from monitor import log
from monitor.cli.common import EXIT_CONFIG, EXIT_OK, Subparsers, add, config_path
from monitor.service import console, runtime


def register(sub: Subparsers) -> None:
    c = add(sub, "web", "serve the analysts' console alone (no polling, no delivery)", cmd)
    c.add_argument("--listen", help="HOST:PORT instead of [web] listen")


def cmd(args: argparse.Namespace) -> int:
    loaded = runtime.load(config_path(args), read_only=True)
    config = loaded.config
    if args.listen:
        config = replace(config, web=replace(config.web, listen=args.listen))
    if not config.web.listen:
        print(f"{config.file}: [web] listen is not set; add listen = \"127.0.0.1:8080\" "
              "or pass --listen", file=sys.stderr)  # fmt: skip
        return EXIT_CONFIG
    log.set_secrets(config.secrets())
    log.setup(config.logging.format, config.logging.level)
    store = runtime.store_of(config)
    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())
    try:
        server = console.serve(config, store, lambda: config)
        print(f"console: {server.url}", file=sys.stderr, flush=True)
        stop.wait()
        server.shutdown()
        server.server_close()
    finally:
        store.close()
    return EXIT_OK
