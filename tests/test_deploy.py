"""Deployment files: the systemd unit and the Dockerfile parse and start the right program.

No container engine runs here, so the Dockerfile is checked as text: its instructions, the
config edits its build makes (applied here to config.toml and validated), and its health
check command (run here against a loopback /healthz).
"""

from __future__ import annotations

import configparser
import json
import re
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

from monitor.cli import main
from monitor.config.reader import parse_duration
from monitor.service.daemon import STOP_GRACE
from tests.e2e import REPO
from tests.feedserver import FeedServer, Response

UNIT = REPO / "deploy" / "monitor.service"
DOCKERFILE = REPO / "Dockerfile"
EXEC = "/opt/monitor/.venv/bin/monitor"


def unit() -> configparser.ConfigParser:
    parser = configparser.ConfigParser(strict=False, interpolation=None)
    parser.optionxform = str  # type: ignore[assignment,method-assign]  # keys are case-sensitive
    parser.read(UNIT, encoding="utf-8")
    return parser


def instructions() -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) of the Dockerfile, continuation lines joined."""
    text = re.sub(r"\\\n", " ", DOCKERFILE.read_text(encoding="utf-8"))
    lines = [ln.strip() for ln in text.splitlines() if ln.strip() and not ln.startswith("#")]
    return [(ln.split(None, 1)[0].upper(), ln.split(None, 1)[1]) for ln in lines]


def instruction(name: str) -> list[str]:
    return [args for key, args in instructions() if key == name]


def test_unit_runs_the_daemon_hardened_as_its_own_user():
    """The unit runs `monitor run` as user monitor, reloads by SIGHUP, and is hardened."""
    service = unit()["Service"]
    assert set(unit().sections()) == {"Unit", "Service", "Install"}
    assert service["ExecStart"] == f"{EXEC} run -c /etc/monitor/config.toml"
    assert service["ExecStart"].split()[1:3] == ["run", "-c"]
    expected = {
        "Type": "simple",
        "ExecReload": "/bin/kill -HUP $MAINPID",
        "Restart": "on-failure",
        "User": "monitor",
        "StateDirectory": "monitor",
        "EnvironmentFile": "-/etc/monitor/secrets.env",
        "NoNewPrivileges": "yes",
        "ProtectSystem": "strict",
        "ProtectHome": "yes",
        "PrivateTmp": "yes",
        "PrivateDevices": "yes",
        "ProtectKernelTunables": "yes",
        "ProtectKernelModules": "yes",
        "RestrictAddressFamilies": "AF_INET AF_INET6 AF_UNIX",
        "LockPersonality": "yes",
        "MemoryDenyWriteExecute": "yes",
        "SystemCallFilter": "@system-service",
        "ReadWritePaths": "/var/lib/monitor",
    }
    assert {k: service.get(k) for k in expected} == expected
    assert parse_duration(service["TimeoutStopSec"]) > STOP_GRACE
    assert unit()["Install"]["WantedBy"] == "multi-user.target"


@pytest.mark.skipif(shutil.which("systemd-analyze") is None, reason="no systemd-analyze")
def test_systemd_analyze_verify_accepts_the_unit(tmp_path: Path):
    """`systemd-analyze verify` finds nothing wrong (the venv path swapped for a real binary)."""
    text = UNIT.read_text(encoding="utf-8")
    if not Path(EXEC).exists():  # verify insists the ExecStart binary exists
        text = text.replace(EXEC, str(Path(sys.executable).resolve()))
    copy = tmp_path / "monitor.service"
    copy.write_text(text, encoding="utf-8")
    out = subprocess.run(
        ["systemd-analyze", "verify", str(copy)], capture_output=True, text=True, timeout=60
    )
    assert out.returncode == 0, out.stdout + out.stderr
    assert "monitor.service" not in out.stderr, out.stderr


def test_dockerfile_runs_monitor_as_non_root_with_state_on_a_volume():
    """FROM python:3.11-slim, a non-root USER, a volume for state, ENTRYPOINT monitor run."""
    assert instruction("FROM") == ["python:3.11-slim"]
    users = instruction("USER")
    assert users and users[-1] not in ("root", "0") and not users[-1].startswith("0:")
    assert instruction("VOLUME") == ["/var/lib/monitor"]
    assert json.loads(instruction("ENTRYPOINT")[-1]) == ["monitor"]
    assert json.loads(instruction("CMD")[-1]) == ["run", "-c", "/etc/monitor/config.toml"]
    scripts = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]["scripts"]
    assert scripts["monitor"] == "monitor.cli:main"
    assert any('pip install ".${EXTRAS}"' in run for run in instruction("RUN"))
    (health,) = instruction("HEALTHCHECK")
    assert "CMD" in health and "healthz" in " ".join(instruction("ENV")) + health


def test_dockerfile_config_edits_apply_and_the_result_checks(tmp_path: Path):
    """The build's sed edits each hit config.toml once; the result passes `monitor check`."""
    (run,) = [r for r in instruction("RUN") if "sed -i" in r]
    edits = re.findall(r"-e 's\|(.*?)\|(.*?)\|'", run)
    assert len(edits) == 3
    text = (REPO / "config.toml").read_text(encoding="utf-8")
    for pattern, replacement in edits:
        text, n = re.subn(pattern, replacement, text, flags=re.MULTILINE)
        assert n == 1, pattern
    config = tmp_path / "config.toml"
    config.write_text(text, encoding="utf-8")
    (tmp_path / "rules").symlink_to(REPO / "rules")
    assert main(["check", "-c", str(config)]) == 0
    loaded = tomllib.loads(text)
    assert loaded["state"]["path"] == "/var/lib/monitor/monitor.db"
    assert loaded["metrics"]["listen"] == "0.0.0.0:9464"


@pytest.mark.parametrize("status, healthy", [(200, True), (503, False)])
def test_dockerfile_healthcheck_follows_healthz(feeds: FeedServer, status: int, healthy: bool):
    """The HEALTHCHECK command exits 0 on a 200 from /healthz and non-zero on a 503."""
    (health,) = instruction("HEALTHCHECK")
    command = json.loads(health.split("CMD", 1)[1])
    assert command[0] == "python"
    url = feeds.serve("/healthz", Response(status))
    out = subprocess.run(
        [sys.executable, *command[1:]],
        env={"MONITOR_HEALTHZ": url},
        capture_output=True,
        timeout=30,
    )
    assert (out.returncode == 0) is healthy


def test_dockerignore_keeps_secrets_and_local_state_out_of_the_image():
    """.dockerignore leaves out the venv, git, state files and env files; sources stay in."""
    lines = (REPO / ".dockerignore").read_text(encoding="utf-8").splitlines()
    ignored = {ln.strip() for ln in lines if ln.strip() and not ln.startswith("#")}
    assert {".git", ".venv", "state", "*.db", "*.env", "**/secrets.env", "tests"} <= ignored
    copied = {src.rstrip("/") for args in instruction("COPY") for src in args.split()[:-1]}
    assert copied == {"pyproject.toml", "README.md", "monitor", "rules", "config.toml"}
    assert not copied & ignored
