"""The import order of the service holds (the import-linter contracts in pyproject.toml)."""

from __future__ import annotations

import pkgutil
import subprocess
import sys
import tomllib
from pathlib import Path

import app

REPO = Path(__file__).resolve().parent.parent


def _contracts() -> list[dict[str, object]]:
    """The import-linter contracts of pyproject.toml."""
    config = tomllib.loads((REPO / "pyproject.toml").read_text(encoding="utf-8"))
    contracts: list[dict[str, object]] = config["tool"]["importlinter"]["contracts"]
    return contracts


def test_import_contracts_hold() -> None:
    """``lint-imports`` keeps every contract: app's layers, a pure solver, no cycles in any app
    package (imports inside functions counted like any other)."""
    lint_imports = Path(sys.executable).with_name("lint-imports")
    run = subprocess.run([str(lint_imports), "--no-cache"], cwd=REPO, capture_output=True, text=True,
                         timeout=300, check=False)
    assert run.returncode == 0, run.stdout + run.stderr


def test_every_app_package_has_its_layer() -> None:
    """Each top-level package and module of app/ is named in the layers contract, so none escapes it."""
    layers = next(c for c in _contracts() if c["type"] == "layers")["layers"]
    assert isinstance(layers, list)
    named = {name.strip() for layer in layers for name in layer.replace(":", "|").split("|")}
    found = {f"app.{module.name}" for module in pkgutil.iter_modules(app.__path__)}
    assert found - named == set()
