"""The house rules of the layout, read from the imports of every module under monitor/.

A layer may only import what sits below it: the frozen model imports nothing of the
project; the store only the model, the errors and itself; channels likewise; the
stages that read feeds and rules never reach into alerts, the store, delivery or the
service; and only the service and the command line import the service.
"""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "monitor"

# (layer, what it may import of the project: None = anything not forbidden, forbidden)
ONLY = {
    "model": set(),
    "store": {"model", "errors", "store"},
    "channels": {"model", "errors", "channels"},
}
NEVER = {
    "reader": {"alerts", "store", "service", "cli", "channels", "deliver"},
    "match": {"alerts", "store", "service", "cli", "channels", "deliver"},
    "rules": {"alerts", "store", "service", "cli", "channels", "deliver"},
    "config": {"alerts", "store", "service", "cli", "channels", "deliver"},
}
SERVICE_USERS = {"service", "cli"}


def layer_of(path: Path, package: Path = PACKAGE) -> str:
    """monitor/store/base.py -> "store"; monitor/model.py -> "model"."""
    rel = path.relative_to(package)
    return rel.parts[0].removesuffix(".py")


def project_imports(path: Path) -> set[str]:
    """The first-level names of monitor this module imports ("store" for monitor.store.x)."""
    tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names = [node.module]
            if node.module == "monitor":
                names = [f"monitor.{a.name}" for a in node.names]
        else:
            continue
        for name in names:
            parts = name.split(".")
            if parts[0] == "monitor" and len(parts) > 1:
                found.add(parts[1])
    return found


def violations(package: Path = PACKAGE) -> list[str]:
    out = []
    for path in sorted(package.rglob("*.py")):
        layer = layer_of(path, package)
        if layer in ("__init__", "__main__"):
            continue
        for target in sorted(project_imports(path) - {layer}):
            forbidden = target in NEVER.get(layer, ())
            if forbidden or (layer in ONLY and target not in ONLY[layer]):
                out.append(f"{path.relative_to(package)}: {layer} may not import {target}")
            elif target == "service" and layer not in SERVICE_USERS:
                out.append(f"{path.relative_to(package)}: only service and cli import service")
    return out


def test_no_module_imports_across_a_forbidden_layer() -> None:
    assert violations() == []


def test_a_forbidden_import_is_caught(tmp_path: Path) -> None:
    """The checker itself: a store module importing the pipeline is reported."""
    (tmp_path / "store").mkdir()
    (tmp_path / "store" / "bad.py").write_text("from monitor.pipeline import PollResult\n")
    (tmp_path / "model.py").write_text("from monitor import errors\n")
    (tmp_path / "reader").mkdir()
    (tmp_path / "reader" / "x.py").write_text("import monitor.service.daemon\n")
    assert violations(tmp_path) == [
        "model.py: model may not import errors",
        "reader/x.py: reader may not import service",
        "store/bad.py: store may not import pipeline",
    ]


def test_every_module_is_at_most_300_lines() -> None:
    long = {
        str(p.relative_to(PACKAGE)): n
        for p in PACKAGE.rglob("*.py")
        if (n := len(p.read_text(encoding="utf-8").splitlines())) > 300
    }
    assert long == {}


def test_the_top_level_reads_as_the_pipeline() -> None:
    entries = {
        p.name
        for p in PACKAGE.iterdir()
        if p.name not in ("__init__.py", "__main__.py", "py.typed", "__pycache__")
    }
    assert len(entries) <= 16, sorted(entries)


@pytest.mark.parametrize(
    ("module", "must_not_load"),
    [
        ("monitor.store", ("alerts", "match", "pipeline", "reader", "service")),
        ("monitor.channels", ("alerts", "match", "pipeline", "reader", "service", "store")),
        ("monitor.model", ("alerts", "match", "pipeline", "reader", "service", "store")),
    ],
)
def test_importing_a_layer_loads_nothing_above_it(
    module: str, must_not_load: tuple[str, ...]
) -> None:
    code = (
        f"import sys, {module}\n"
        "print(' '.join(sorted({m.split('.')[1] for m in sys.modules "
        "if m.startswith('monitor.') and m.count('.') >= 1})))"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    loaded = set(done.stdout.split())
    assert loaded.isdisjoint(must_not_load), sorted(loaded & set(must_not_load))
