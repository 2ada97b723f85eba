"""``wasteroute solve PROBLEM.json [--out PLAN.geojson] [--network FILE]``: optimise one problem and
print (or write) the same JSON the API answers."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from pydantic import ValidationError

from app.cli.setup import fail_with, read_body, set_up
from app.core.faults import problem_error_items, validation_error_items
from solver.problem import ProblemError


def solve(
    problem_file: Annotated[Path, typer.Argument(metavar="PROBLEM.json", exists=True, dir_okay=False,
                                                 readable=True, help="An optimisation request as JSON.")],
    out: Annotated[Path | None, typer.Option("--out", "-o", metavar="PLAN.geojson",
                                             help="Write the plan here instead of to stdout.")] = None,
    network: Annotated[Path | None, typer.Option(
        "--network", metavar="FILE",
        help="Road network file (default: WASTEROUTE_NETWORK_FILE or the embedded one).")] = None,
    pretty: Annotated[bool, typer.Option("--pretty", help="Indent the JSON for reading.")] = False,
) -> None:
    """Optimise the rounds of PROBLEM.json; answer the same GeoJSON as POST /api/v1/optimisations.

    A malformed problem exits with status 2 and the faults, in the API's 422 shape, on stderr.
    """
    from app.compute.network_registry import load_road_network
    from app.schemas import OptimisationRequest
    from app.services import optimisation as service

    settings = set_up(network_file=network)
    body = read_body(problem_file)
    try:
        request = OptimisationRequest.model_validate(body)
        problem, options = service.prepare(request, settings=settings)
    except ValidationError as exc:
        raise fail_with(validation_error_items(exc.errors(), body, loc_prefix=("body",))) from exc
    except ProblemError as exc:
        raise fail_with(problem_error_items(exc)) from exc
    try:
        road_network = load_road_network(settings.network_file, cache_dir=settings.cache_dir)
    except FileNotFoundError as exc:
        typer.echo(str(exc), err=True)
        raise typer.Exit(code=1) from exc
    response = service.solve(problem, options, road_network, snap_limit_m=settings.snap_limit_m)
    text = service.dump_response(response, indent=2 if pretty else None)
    if out is None:
        typer.echo(text)
    else:
        out.write_text(text + "\n", encoding="utf-8")
        typer.echo(f"plan written to {out}", err=True)
