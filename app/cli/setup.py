"""What every ``wasteroute`` command shares: its settings, its logging, and how it reports bad input.

Configuration comes from the same ``WASTEROUTE_*`` environment variables as the
service; options given on the command line take precedence. Logs go to stderr,
answers to stdout. A fault of the input is printed to stderr in the API's 422 shape
(items built by :mod:`app.core.faults`, as the API builds them) and exits with
:data:`EXIT_INVALID_INPUT`.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from pydantic import ValidationError
from pydantic_settings import SettingsError

from app.core.config import Settings
from app.core.faults import error_item
from app.core.json_types import ErrorItemDict, JSONValue
from app.core.logs import configure_logging

if TYPE_CHECKING:
    from app.store import Store

EXIT_INVALID_INPUT = 2
"""Exit status of a command whose input (a file, an option, the configuration) is malformed."""

NetworkOption = Annotated[Path | None, typer.Option(
    "--network", metavar="FILE", help="Road network file (default: WASTEROUTE_NETWORK_FILE or the embedded one).")]


def load_settings(**overrides: Any) -> Settings:
    """Settings from the environment, with the command line's options (those given) on top;
    a bad value exits 2 naming it."""
    try:
        return Settings(**{name: value for name, value in overrides.items() if value is not None})
    except (ValidationError, SettingsError) as exc:
        typer.echo(f"invalid configuration: {exc}", err=True)
        raise typer.Exit(code=EXIT_INVALID_INPUT) from exc


def set_up(**overrides: Any) -> Settings:
    """:func:`load_settings`, then log at the configured level to stderr: how every command starts."""
    settings = load_settings(**overrides)
    configure_logging(settings.log_level)
    return settings


def fail_with(items: list[ErrorItemDict]) -> typer.Exit:
    """Print 422-shaped fault items to stderr; the exit to raise for invalid input."""
    typer.echo(json.dumps({"detail": items}, indent=2), err=True)
    return typer.Exit(code=EXIT_INVALID_INPUT)


def json_fault(msg: str) -> typer.Exit:
    """The exit for an input file that holds no usable JSON (``json_invalid`` at ``body``)."""
    return fail_with([error_item(loc=("body",), item_id=None, msg=msg, type_="json_invalid")])


def read_body(path: Path) -> JSONValue:
    """The JSON in ``path``; a file that is not JSON exits as invalid input (422 shape on stderr)."""
    try:
        body: JSONValue = json.loads(path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise json_fault(f"{path} is not valid JSON: {exc}") from exc
    return body


def migrated_store(settings: Settings) -> Store:
    """The configured store, migrated (the caller disposes of it)."""
    from app.store import Store

    db = Store.from_settings(settings)
    db.migrate()
    return db
