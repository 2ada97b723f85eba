"""The ``wasteroute`` command line.

- ``wasteroute serve [--host H] [--port P]``: run the HTTP service.
- ``wasteroute solve PROBLEM.json [--out PLAN.geojson] [--network FILE]``: optimise one
  problem and print (or write) the same JSON the API answers.
- ``wasteroute bench cvrp|wcvrptw|matrix|api ...``: benchmarks (see :mod:`app.bench`).

Configuration comes from the same ``WASTEROUTE_*`` environment variables as the
service; options given here take precedence. Logs go to stderr, answers to stdout.
More commands (``bench``, ``batch``) attach to :data:`cli` as further commands or
sub-apps.
"""

from __future__ import annotations

import json
import logging
import sys
from pathlib import Path
from typing import Annotated, Any

import typer
from pydantic import ValidationError

from app.bench import bench_cli
from app.config import Settings
from app.errors import problem_error_items, validation_error_items
from solver.problem import ProblemError

EXIT_INVALID_INPUT = 2
"""Exit status of ``solve`` when the problem file is malformed (the faults go to stderr)."""

cli = typer.Typer(
    name="wasteroute",
    help="Optimised waste-collection rounds on real streets.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


def _settings(**overrides: Any) -> Settings:
    """Settings from the environment, with the command line's options (those given) on top."""
    try:
        return Settings(**{name: value for name, value in overrides.items() if value is not None})
    except ValidationError as exc:
        typer.echo(f"invalid configuration: {exc}", err=True)
        raise typer.Exit(code=EXIT_INVALID_INPUT) from exc


def _configure_logging(settings: Settings) -> None:
    """Send log records at the configured level to stderr."""
    logging.basicConfig(level=settings.log_level.upper(), stream=sys.stderr,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")


def _fail_with(items: list[dict[str, Any]]) -> typer.Exit:
    """Print 422-shaped fault items to stderr; the exit to raise for invalid input."""
    typer.echo(json.dumps({"detail": items}, indent=2), err=True)
    return typer.Exit(code=EXIT_INVALID_INPUT)


cli.add_typer(bench_cli, name="bench")


HostOption = Annotated[str | None, typer.Option(help="Interface to listen on (default: WASTEROUTE_HOST or 127.0.0.1).")]
PortOption = Annotated[int | None, typer.Option(help="Port to listen on (default: WASTEROUTE_PORT or 8000).")]


@cli.command()
def serve(host: HostOption = None, port: PortOption = None) -> None:
    """Run the HTTP service (API, /docs) until interrupted."""
    import uvicorn

    from app.main import create_app

    settings = _settings(host=host, port=port)
    _configure_logging(settings)
    uvicorn.run(create_app(settings), host=settings.host, port=settings.port, log_level=settings.log_level)


@cli.command()
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
    from app.network_registry import load_road_network
    from app.schemas import OptimisationRequest
    from app.services import optimisation as service

    settings = _settings(network_file=network)
    _configure_logging(settings)
    try:
        body = json.loads(problem_file.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise _fail_with([{"loc": ["body"], "field": "body", "id": None, "type": "json_invalid",
                           "msg": f"{problem_file} is not valid JSON: {exc}"}]) from exc
    try:
        request = OptimisationRequest.model_validate(body)
        problem, options = service.prepare(request, settings=settings)
    except ValidationError as exc:
        raise _fail_with(validation_error_items(exc.errors(), body, loc_prefix=("body",))) from exc
    except ProblemError as exc:
        raise _fail_with(problem_error_items(exc)) from exc
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


def main() -> None:
    """Entry point of the ``wasteroute`` console script."""
    cli()


if __name__ == "__main__":
    main()
