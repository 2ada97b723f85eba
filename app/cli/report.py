"""``wasteroute report PLAN --baseline BASELINE [--problem PROBLEM.json] [--out FILE]
[--format html|json|csv] [--png FILE]``: the savings report of PLAN against BASELINE.

Each is a file (an evaluation body with ``routes``, or a plan's GeoJSON answer whose
problem comes from ``--problem`` or from the other file) or the id of a stored plan.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Literal

import typer
from pydantic import ValidationError

from app.cli.setup import EXIT_INVALID_INPUT, NetworkOption, fail_with, json_fault, migrated_store, set_up
from app.core.config import Settings
from app.core.faults import problem_error_items, validation_error_items
from solver.problem import ProblemError

if TYPE_CHECKING:
    from app.reports.inputs import ScoredPlan
    from solver.network import RoadNetwork


def _read_json(path: Path) -> dict[str, object]:
    """A JSON object from ``path``; exit 2 with a 422-shaped fault when it is not one."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise json_fault(f"{path} is not valid JSON: {exc}") from exc
    if not isinstance(data, dict):
        raise json_fault(f"{path} holds no JSON object")
    return data


def _scored(label: str, body: Mapping[str, object], network: RoadNetwork, settings: Settings) -> ScoredPlan:
    """Score ``body``; exit 2 with the faults (in the API's 422 shape) when it is malformed."""
    from app.reports.inputs import score

    try:
        return score(label, body, network, settings=settings)
    except ValidationError as exc:
        raise fail_with(validation_error_items(exc.errors(), body, loc_prefix=("body",))) from exc
    except ProblemError as exc:
        raise fail_with(problem_error_items(exc)) from exc


def report(
    plan: Annotated[str, typer.Argument(metavar="PLAN", help="Plan file (.json/.geojson) or stored plan id.")],
    baseline: Annotated[str, typer.Option("--baseline", "-b", metavar="BASELINE",
                                          help="Baseline (today's rounds): file or stored plan id.")],
    problem: Annotated[Path | None, typer.Option(
        "--problem", metavar="PROBLEM.json", exists=True, dir_okay=False,
        help="The problem a GeoJSON plan answers (default: the other file's problem).")] = None,
    out: Annotated[Path | None, typer.Option("--out", "-o", metavar="FILE",
                                             help="Write the report here instead of to stdout.")] = None,
    fmt: Annotated[Literal["html", "json", "csv"], typer.Option("--format", "-f", help="html, json or csv.")] = "html",
    png: Annotated[Path | None, typer.Option("--png", metavar="FILE",
                                             help="Also render the HTML to a PNG in headless Chromium.")] = None,
    collections_per_year: Annotated[float | None, typer.Option(
        "--collections-per-year", min=0.001,
        help="How often the rounds run (default: WASTEROUTE_SAVINGS_COLLECTIONS_PER_YEAR or 52).")] = None,
    network: NetworkOption = None,
) -> None:
    """The savings report of PLAN against BASELINE, both scored by the one evaluator."""
    from app.compute.network_registry import load_road_network
    from app.reports import inputs, render, stored

    settings = set_up(network_file=network, savings_collections_per_year=collections_per_year)
    files = {ref: _read_json(Path(ref)) for ref in (plan, baseline) if Path(ref).is_file()}
    records: dict[str, stored.StoredPlan] = {}
    if len(files) < 2:
        db = migrated_store(settings)
        with db.transaction() as session:
            for ref, field in ((plan, "PLAN"), (baseline, "--baseline")):
                if ref not in files:
                    try:
                        records[ref] = stored.load_plan(session, settings.default_tenant, ref, field=field)
                    except stored.PlanNotFoundError as exc:
                        typer.echo(f"{exc} (neither a file nor a stored plan of tenant "
                                   f"{settings.default_tenant!r})", err=True)
                        raise typer.Exit(code=EXIT_INVALID_INPUT) from exc
        db.dispose()
    given_problem = _read_json(problem) if problem is not None else None
    bodies = {}
    for ref in (plan, baseline):
        if ref in records:
            bodies[ref] = records[ref].body
            continue
        other = next((b for r, b in files.items() if r != ref and "routes" in b), None)
        try:
            bodies[ref] = inputs.evaluation_body(files[ref], given_problem or other)
        except ValueError as exc:
            typer.echo(f"{ref}: {exc}", err=True)
            raise typer.Exit(code=EXIT_INVALID_INPUT) from exc
    road_network = load_road_network(settings.network_file, cache_dir=settings.cache_dir)
    scored_plan = _scored(Path(plan).name if plan in files else plan, bodies[plan], road_network, settings)
    scored_base = _scored(Path(baseline).name if baseline in files else baseline, bodies[baseline], road_network,
                          settings)
    meta = (stored.report_meta(records[plan], records[baseline], network=road_network.name)
            if plan in records and baseline in records else None)
    round_sets = [records[ref].round_set for ref in (plan, baseline) if ref in records]
    collections = inputs.collections_per_year(collections_per_year, round_sets, settings=settings,
                                              problems=[bodies[plan], bodies[baseline]])
    built = render.build(scored_plan, scored_base, road_network, inputs.factors_from(settings, collections), meta=meta)
    html = render.to_html(built)
    text = {"html": lambda: html, "json": lambda: json.dumps(render.to_json(built), indent=2),
            "csv": lambda: render.to_csv(built)}[fmt]()
    if out is None:
        typer.echo(text)
    else:
        out.write_text(text, encoding="utf-8")
        typer.echo(f"report written to {out}", err=True)
    if png is not None:
        from app.reports.screenshot import html_to_png

        html_to_png(html, png)
        typer.echo(f"picture written to {png}", err=True)
