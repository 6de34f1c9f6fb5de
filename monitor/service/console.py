"""The console served beside the daemon (`[web] listen`) or alone (`monitor web`): the web
app built on the process's store and live config, a taken port said as a config error."""

from __future__ import annotations

from collections.abc import Callable

import structlog

from monitor.config.load import Config
from monitor.errors import ConfigError
from monitor.store import Store
from monitor.web import site
from monitor.web.app import Console
from monitor.web.http import ConsoleServer

log = structlog.get_logger("monitor.web")


def serve(config: Config, store: Store, live: Callable[[], Config]) -> ConsoleServer:
    """Start the console on `[web] listen`; ConfigError when the address cannot be taken."""
    listen = config.web.listen
    assert listen
    console = Console(store, live, secure_cookies=config.web.secure_cookies)
    try:
        server = site.start(listen, console)
    except OSError as exc:
        raise ConfigError(
            [f"{config.file}: web.listen: cannot listen on {listen} ({exc.strerror or exc}); "
             "pick a free port"]
        ) from None  # fmt: skip
    log.info("console.serving", url=server.url)
    return server
