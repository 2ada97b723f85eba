"""``wasteroute report`` and ``wasteroute reproduce`` (registered on :data:`app.cli.cli`).

- ``wasteroute report PLAN --baseline BASELINE [--problem PROBLEM.json] [--out FILE]
  [--format html|json|csv] [--png FILE]``: the savings report of PLAN against BASELINE.
  Each is a file (an evaluation body with ``routes``, or a plan's GeoJSON answer whose
  problem comes from ``--problem`` or from the other file) or the id of a stored plan.
- ``wasteroute reproduce PLAN_ID [--json] [--no-reoptimise]``: re-run a stored plan's
  inputs and show whether its figures match (exit 0 if they do, 1 if not).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any, Literal

import typer
from pydantic import ValidationError

from app.core.config import Settings
from app.core.faults import problem_error_items, validation_error_items
from solver.problem import ProblemError

NetworkOption = Annotated[Path | None, typer.Option(
    "--network", metavar="FILE", help="Road network file (default: WASTEROUTE_NETWORK_FILE or the embedded one).")]


def _cli_helpers() -> Any:
    """:mod:`app.cli` (imported late: it imports this module to register the commands)."""
    from app import cli

    return cli


def _read_json(path: Path) -> dict[str, Any]:
    """A JSON object from ``path``; exit 2 with a 422-shaped fault when it is not one."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise _cli_helpers()._fail_with([{"loc": ["body"], "field": "body", "id": None, "type": "json_invalid",
                                         "msg": f"{path} is not valid JSON: {exc}"}]) from exc
    if not isinstance(data, dict):
        raise _cli_helpers()._fail_with([{"loc": ["body"], "field": "body", "id": None, "type": "json_invalid",
                                         "msg": f"{path} holds no JSON object"}])
    return data


def _store(settings: Settings) -> Any:
    """The configured store, migrated."""
    from app.store import Store

    db = Store.from_settings(settings)
    db.migrate()
    return db


def _scored(label: str, body: dict[str, Any], network: Any, settings: Settings) -> Any:
    """Score ``body``; exit 2 with the faults (in the API's 422 shape) when it is malformed."""
    from app.reports.inputs import score

    try:
        return score(label, body, network, settings=settings)
    except ValidationError as exc:
        raise _cli_helpers()._fail_with(validation_error_items(exc.errors(), body, loc_prefix=("body",))) from exc
    except ProblemError as exc:
        raise _cli_helpers()._fail_with(problem_error_items(exc)) from exc


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

    helpers = _cli_helpers()
    settings = helpers._settings(network_file=network, savings_collections_per_year=collections_per_year)
    helpers._configure_logging(settings)
    files = {ref: _read_json(Path(ref)) for ref in (plan, baseline) if Path(ref).is_file()}
    records: dict[str, stored.StoredPlan] = {}
    if len(files) < 2:
        db = _store(settings)
        with db.transaction() as session:
            for ref, field in ((plan, "PLAN"), (baseline, "--baseline")):
                if ref not in files:
                    try:
                        records[ref] = stored.load_plan(session, settings.default_tenant, ref, field=field)
                    except stored.PlanNotFoundError as exc:
                        typer.echo(f"{exc} (neither a file nor a stored plan of tenant "
                                   f"{settings.default_tenant!r})", err=True)
                        raise typer.Exit(code=helpers.EXIT_INVALID_INPUT) from exc
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
            raise typer.Exit(code=helpers.EXIT_INVALID_INPUT) from exc
    road_network = load_road_network(settings.network_file, cache_dir=settings.cache_dir)
    scored_plan = _scored(Path(plan).name if plan in files else plan, bodies[plan], road_network, settings)
    scored_base = _scored(Path(baseline).name if baseline in files else baseline, bodies[baseline], road_network,
                          settings)
    meta = (stored.report_meta(records[plan], records[baseline], network=road_network.name)
            if plan in records and baseline in records else None)
    built = render.build(scored_plan, scored_base, road_network, inputs.factors_from(settings), meta=meta)
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


def reproduce(
    plan_id: Annotated[str, typer.Argument(metavar="PLAN_ID", help="Id of a stored plan.")],
    as_json: Annotated[bool, typer.Option("--json", help="Answer as JSON.")] = False,
    reoptimise: Annotated[bool, typer.Option(
        "--reoptimise/--no-reoptimise", help="Also solve the inputs again with the stored parameters.")] = True,
    network: NetworkOption = None,
) -> None:
    """Re-run a stored plan's inputs and show whether its figures match (exit 1 if not)."""
    from app.compute.network_registry import load_road_network
    from app.reports import stored
    from app.reports.reproduce import describe
    from app.reports.reproduce import reproduce as run

    helpers = _cli_helpers()
    settings = helpers._settings(network_file=network)
    helpers._configure_logging(settings)
    db = _store(settings)
    try:
        with db.transaction() as session:
            record = stored.load_plan(session, settings.default_tenant, plan_id, field="PLAN_ID")
    except stored.PlanNotFoundError as exc:
        typer.echo(f"{exc} (tenant {settings.default_tenant!r})", err=True)
        raise typer.Exit(code=helpers.EXIT_INVALID_INPUT) from exc
    finally:
        db.dispose()
    road_network = load_road_network(settings.network_file, cache_dir=settings.cache_dir)
    outcome = run(record, road_network, settings, reoptimise=reoptimise)
    typer.echo(json.dumps(outcome.as_dict(), indent=2) if as_json else describe(outcome))
    if not outcome.matches:
        raise typer.Exit(code=1)
