"""``wasteroute case-study``: a publishable case study of realised savings, and case studies side by side.

- ``wasteroute case-study export --before FIRST/LAST --after FIRST/LAST --council NAME [--round-set R]
  [--plan ID --baseline ID] [--title T] [--collection-days-per-year N] [--format json|html] [--out FILE]``:
  the case study of the stored actual days (``WASTEROUTE_DATABASE_URL``, tenant
  ``WASTEROUTE_DEFAULT_TENANT``), as ``GET /api/v1/actuals/case-study`` gives it.
- ``wasteroute case-study show FILE [FILE ...] [--out FILE]``: check each document against the schema
  (``docs/case_study.schema.json``; exit 2 naming the file and path of each fault) and print them side
  by side as HTML (one's own first).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Literal

import typer

from app.cli.setup import EXIT_INVALID_INPUT, NetworkOption, migrated_store, set_up

case_study_cli = typer.Typer(help="Publishable case studies of realised savings.", no_args_is_help=True)


def _write(text: str, out: Path | None, what: str) -> None:
    """``text`` to ``out``, or to stdout."""
    if out is None:
        typer.echo(text)
    else:
        out.write_text(text, encoding="utf-8")
        typer.echo(f"{what} written to {out}", err=True)


@case_study_cli.command("export")
def export(
    before: Annotated[str, typer.Option(help="The days before the change, FIRST/LAST (2026-10-05/2026-11-01).")],
    after: Annotated[str, typer.Option(help="The days after the change, FIRST/LAST.")],
    council: Annotated[str, typer.Option(help="Who publishes it.")],
    title: Annotated[str, typer.Option(help="What changed.")] = "New rounds",
    round_set: Annotated[str | None, typer.Option(help="The round set whose actual days are compared.")] = None,
    plan: Annotated[str | None, typer.Option(help="The approved plan whose modelled saving is set beside.")] = None,
    baseline: Annotated[str | None, typer.Option(help="The baseline the plan was compared with.")] = None,
    collection_days_per_year: Annotated[float, typer.Option(min=0.001, max=366)] = 52.0,
    fmt: Annotated[Literal["json", "html"], typer.Option("--format", "-f", help="json or html.")] = "json",
    out: Annotated[Path | None, typer.Option("--out", "-o", metavar="FILE")] = None,
    network: NetworkOption = None,
) -> None:
    """The case study of the stored actual days before and after a change (no personal data)."""
    from app.compute.network_registry import load_road_network
    from app.reports import case_study
    from app.reports import realised_report as realised

    settings = set_up(network_file=network)
    if (plan is None) != (baseline is None):
        typer.echo("--plan and --baseline go together: the modelled saving is the plan against its baseline",
                   err=True)
        raise typer.Exit(code=EXIT_INVALID_INPUT)
    try:
        periods = realised.Period.parse(before, field="--before"), realised.Period.parse(after, field="--after")
        db = migrated_store(settings)
        try:
            with db.transaction() as session:
                made_from = realised.read_inputs(session, settings.default_tenant, round_set=round_set,
                                                 before=periods[0], after=periods[1], plan=plan, baseline=baseline)
        finally:
            db.dispose()
    except (ValueError, LookupError) as exc:
        typer.echo(str(exc), err=True)
        raise typer.Exit(code=EXIT_INVALID_INPUT) from exc
    road_network = load_road_network(settings.network_file, cache_dir=settings.cache_dir)
    report = realised.build_realised(made_from.before, made_from.after, road_network, settings=settings,
                                     collection_days_per_year=collection_days_per_year, promise=made_from.promise)
    document = realised.case_study_of(report, made_from, settings=settings, title=title, council=council,
                                      round_set=round_set)
    text = case_study.to_html([document]) if fmt == "html" else json.dumps(document, indent=2)
    _write(text, out, "case study")


@case_study_cli.command("show")
def show(
    files: Annotated[list[Path], typer.Argument(metavar="FILE...", exists=True, dir_okay=False,
                                                help="Case study documents, one's own first.")],
    out: Annotated[Path | None, typer.Option("--out", "-o", metavar="FILE")] = None,
) -> None:
    """Check case study documents against the schema and print them side by side as HTML."""
    from app.reports import case_study

    documents = []
    faults = []
    for path in files:
        try:
            document = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
            faults.append(f"{path}: not a JSON file ({exc})")
            continue
        faults += [f"{path}: {fault}" for fault in case_study.check(document)]
        documents.append(document)
    if faults:
        typer.echo("\n".join(faults), err=True)
        raise typer.Exit(code=EXIT_INVALID_INPUT)
    _write(case_study.to_html(documents), out, "case studies")
