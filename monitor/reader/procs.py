"""Whether a process still runs: for parse workers watching their owner, and stale leases."""

from __future__ import annotations

import os


def pid_alive(pid: int) -> bool:
    """True while pid runs; a zombie (killed, not yet reaped by its parent) is not alive."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:
        with open(f"/proc/{pid}/stat", "rb") as stat:
            return stat.read().rsplit(b")", 1)[1].split()[0] != b"Z"
    except (OSError, IndexError):
        return True  # no /proc: trust kill()
