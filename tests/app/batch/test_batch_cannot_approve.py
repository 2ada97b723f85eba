"""The nightly batch cannot approve (issue 19): no module it runs calls an approval. Its drafts staying drafts
on real nights is tests/app/batch/test_batch.py ``test_drafts_are_never_approved``; this reads the code, so
that an approval added to the batch later fails here before any night runs."""

from __future__ import annotations

import ast
from pathlib import Path

BATCH = Path(__file__).resolve().parents[3] / "app" / "batch"
APPROVALS = {"approve_plan", "approve_week"}
OPERATOR_COMMAND = "round_sets.py"
"""``wasteroute round-set --approve-by NAME``: a person at the server's command line filing today's rounds, not
the nightly run (which never imports it)."""


def _calls(path: Path) -> set[str]:
    """Names of the functions and methods ``path`` calls."""
    names = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Call):
            func = node.func
            names.add(func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", ""))
    return names


def test_no_batch_module_calls_an_approval() -> None:
    """Every module of app/batch but the operator's round-set command calls neither approve_plan nor
    approve_week, and the nightly run does not import the round-set command."""
    modules = [p for p in sorted(BATCH.glob("*.py")) if p.name != OPERATOR_COMMAND]
    assert len(modules) >= 3
    offenders = {p.name: sorted(_calls(p) & APPROVALS) for p in modules if _calls(p) & APPROVALS}
    assert offenders == {}
    imported = {alias.name if isinstance(node, ast.Import) else f"{node.module}"
                for node in ast.walk(ast.parse((BATCH / "nightly.py").read_text(encoding="utf-8")))
                if isinstance(node, ast.Import | ast.ImportFrom) for alias in node.names}
    assert "app.batch.round_sets" not in imported and imported, imported
    assert "approve_plan" in _calls(BATCH / OPERATOR_COMMAND), "the check must see real calls"
