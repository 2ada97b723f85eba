"""``wasteroute batch [--night YYYY-MM-DD] [--bins REGISTER.json]``: the nightly re-optimisation of
every stored round set (see :mod:`app.batch.nightly` and docs/batch.md)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from app.cli.setup import fail_with, set_up
from app.core.faults import error_item, parse_field_path
from app.core.json_types import ErrorItemDict

if TYPE_CHECKING:
    from app.batch.inputs import InputFileError


def register_fault(exc: InputFileError) -> ErrorItemDict:
    """A bin register's fault as a 422 item: the register is this command's body, as PLAN.json is
    ``solve``'s, so its fields are located under ``body``."""
    path = parse_field_path(exc.field)
    loc = path if path[:1] == ("body",) else ("body", *path)
    return error_item(loc=loc, item_id=exc.item_id, msg=str(exc), type_="value_error")


def batch(
    night: Annotated[str | None, typer.Option(metavar="YYYY-MM-DD",
                                              help="The night to plan for (default: today); one draft per round "
                                                   "set per night.")] = None,
    tenant: Annotated[list[str] | None, typer.Option(
        help="Only this tenant (repeatable; default: every tenant in the store).")] = None,
    bins: Annotated[Path | None, typer.Option(
        metavar="REGISTER.json", exists=True, dir_okay=False, readable=True,
        help="Bin register: the latest bins of each round set (docs/batch.md).")] = None,
    new_properties: Annotated[Path | None, typer.Option(
        metavar="NEW.json", exists=True, dir_okay=False, readable=True,
        help="Properties new to an approved week, put on the day and round that suit them best "
             "(docs/batch.md).")] = None,
    register_tenant: Annotated[str, typer.Option(help="Tenant of a register (or new properties) that names none.")
                               ] = "default",
    report_dir: Annotated[Path | None, typer.Option(
        metavar="DIR", help="Where the report files go (default: <data_dir>/batch).")] = None,
    time_limit_s: Annotated[float | None, typer.Option(
        min=0.001, help="Seconds per round set (default: each round set's own).")] = None,
    seed: Annotated[int | None, typer.Option(
        min=0, help="Seed of every solve (default: each round set's own).")] = None,
    move_penalty: Annotated[float, typer.Option(
        min=0.0, help="Money per bin moved off its approved round (the stability penalty).")] = 5.0,
    week_a_starts: Annotated[str | None, typer.Option(
        metavar="YYYY-MM-DD", help="A Monday that starts a week A, for every approved week (default: the date "
                                   "given when each week was approved).")] = None,
    progress: Annotated[bool | None, typer.Option(
        "--progress/--no-progress", help="Progress bar (default: only on a terminal; log lines always).")] = None,
) -> None:
    """Re-optimise every stored round set with its latest bins; store each result as a draft.

    Exits 1 when any round set failed (the others are stored all the same), 2 on bad input.
    """
    from datetime import date

    from app.batch.new_properties import NewPropertiesError, load_new_properties
    from app.batch.nightly import EXIT_PART_FAILED, BatchOptions, RegisterError, load_register, run_batch

    settings = set_up()
    try:
        chosen_night = date.fromisoformat(night) if night else date.today()
    except ValueError as exc:
        raise fail_with([error_item(loc=("night",), item_id=None, type_="value_error",
                                    msg=f"--night must be a date YYYY-MM-DD, got {night!r}")]) from exc
    try:
        anchor = date.fromisoformat(week_a_starts) if week_a_starts else None
    except ValueError as exc:
        raise fail_with([error_item(loc=("week_a_starts",), item_id=None, type_="value_error",
                                    msg=f"--week-a-starts must be a date YYYY-MM-DD, got {week_a_starts!r}")]) from exc
    if anchor is not None and anchor.weekday() != 0:
        raise fail_with([error_item(loc=("week_a_starts",), item_id=None, type_="value_error",
                                    msg=f"--week-a-starts must be a Monday, {anchor.isoformat()} is not")])
    try:
        register = load_register(bins, default_tenant=register_tenant) if bins else {}
    except RegisterError as exc:
        raise fail_with([register_fault(exc)]) from exc
    try:
        placing = load_new_properties(new_properties, default_tenant=register_tenant) if new_properties else {}
    except NewPropertiesError as exc:
        raise fail_with([register_fault(exc)]) from exc
    options = BatchOptions(night=chosen_night, report_dir=report_dir or settings.data_dir / "batch",
                           tenants=tuple(tenant) if tenant else None, register=register, time_limit_s=time_limit_s,
                           seed=seed, move_penalty=move_penalty, show_progress=progress,
                           week_a_starts=anchor, new_properties=placing)
    report = run_batch(settings, options)
    if report.failed:
        typer.echo(f"{len(report.failed)} round set(s) failed: "
                   + ", ".join(f"{r.tenant}/{r.round_set}" for r in report.failed), err=True)
        raise typer.Exit(code=EXIT_PART_FAILED)
    if report.unplaced:
        typer.echo(f"{len(report.unplaced)} new propert{'y' if len(report.unplaced) == 1 else 'ies'} not placed: "
                   + ", ".join(f"{p.tenant}/{p.property}: {p.why}" for p in report.unplaced), err=True)
        raise typer.Exit(code=EXIT_PART_FAILED)
