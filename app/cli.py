"""The ``wasteroute`` command line.

- ``wasteroute serve [--host H] [--port P]``: run the HTTP service.
- ``wasteroute solve PROBLEM.json [--out PLAN.geojson] [--network FILE]``: optimise one
  problem and print (or write) the same JSON the API answers.
- ``wasteroute bench cvrp|wcvrptw|matrix|api ...``: benchmarks (see :mod:`app.bench`).
- ``wasteroute batch [--night YYYY-MM-DD] [--bins REGISTER.json]``: the nightly re-optimisation
  of every stored round set (see :mod:`app.batch` and docs/batch.md).
- ``wasteroute round-set ROUND_SET PLAN.json [--approve-by NAME]``: store a plan under a
  round-set key, for the batch (see :mod:`app.batch.round_sets`).
- ``wasteroute keys create --tenant NAME | list | revoke ID | demo``: API keys (see :mod:`app.keys`).

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
from app.core.config import Settings
from app.core.faults import problem_error_items, validation_error_items
from app.keys import keys_cli
from app.reports import commands as report_commands
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


def _read_body(path: Path) -> Any:
    """The JSON in ``path``; a file that is not JSON exits as invalid input (422 shape on stderr)."""
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise _fail_with([{"loc": ["body"], "field": "body", "id": None, "type": "json_invalid",
                           "msg": f"{path} is not valid JSON: {exc}"}]) from exc


cli.add_typer(bench_cli, name="bench")
cli.add_typer(keys_cli, name="keys")
cli.command("report")(report_commands.report)
cli.command("reproduce")(report_commands.reproduce)


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
    from app.compute.network_registry import load_road_network
    from app.schemas import OptimisationRequest
    from app.services import optimisation as service

    settings = _settings(network_file=network)
    _configure_logging(settings)
    body = _read_body(problem_file)
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


@cli.command()
def batch(
    night: Annotated[str | None, typer.Option(metavar="YYYY-MM-DD",
                                              help="The night to plan for (default: today); one draft per round "
                                                   "set per night.")] = None,
    tenant: Annotated[list[str] | None, typer.Option(
        help="Only this tenant (repeatable; default: every tenant in the store).")] = None,
    bins: Annotated[Path | None, typer.Option(
        metavar="REGISTER.json", exists=True, dir_okay=False, readable=True,
        help="Bin register: the latest bins of each round set (docs/batch.md).")] = None,
    register_tenant: Annotated[str, typer.Option(help="Tenant of a register that names none.")] = "default",
    report_dir: Annotated[Path | None, typer.Option(
        metavar="DIR", help="Where the report files go (default: <data_dir>/batch).")] = None,
    time_limit_s: Annotated[float | None, typer.Option(
        min=0.001, help="Seconds per round set (default: each round set's own).")] = None,
    seed: Annotated[int | None, typer.Option(
        min=0, help="Seed of every solve (default: each round set's own).")] = None,
    move_penalty: Annotated[float, typer.Option(
        min=0.0, help="Money per bin moved off its approved round (the stability penalty).")] = 5.0,
    progress: Annotated[bool | None, typer.Option(
        "--progress/--no-progress", help="Progress bar (default: only on a terminal; log lines always).")] = None,
) -> None:
    """Re-optimise every stored round set with its latest bins; store each result as a draft.

    Exits 1 when any round set failed (the others are stored all the same), 2 on bad input.
    """
    from datetime import date

    from app.batch.nightly import EXIT_PART_FAILED, BatchOptions, RegisterError, load_register, run_batch

    settings = _settings()
    _configure_logging(settings)
    try:
        chosen_night = date.fromisoformat(night) if night else date.today()
    except ValueError as exc:
        raise _fail_with([{"loc": ["night"], "field": "night", "id": None, "type": "value_error",
                           "msg": f"--night must be a date YYYY-MM-DD, got {night!r}"}]) from exc
    try:
        register = load_register(bins, default_tenant=register_tenant) if bins else {}
    except RegisterError as exc:
        raise _fail_with([{"loc": ["register", *exc.field.split(".")], "field": exc.field, "id": exc.item_id,
                           "type": "value_error", "msg": str(exc)}]) from exc
    options = BatchOptions(night=chosen_night, report_dir=report_dir or settings.data_dir / "batch",
                           tenants=tuple(tenant) if tenant else None, register=register, time_limit_s=time_limit_s,
                           seed=seed, move_penalty=move_penalty, show_progress=progress)
    report = run_batch(settings, options)
    if report.failed:
        typer.echo(f"{len(report.failed)} round set(s) failed: "
                   + ", ".join(f"{r.tenant}/{r.round_set}" for r in report.failed), err=True)
        raise typer.Exit(code=EXIT_PART_FAILED)


@cli.command(name="round-set")
def round_set(
    name: Annotated[str, typer.Argument(metavar="ROUND_SET", help="Round-set key, e.g. north/refuse/mon.")],
    plan_file: Annotated[Path, typer.Argument(metavar="PLAN.json", exists=True, dir_okay=False, readable=True,
                                              help="An evaluation body (with routes) or an optimisation body.")],
    tenant: Annotated[str, typer.Option(help="The council the round set belongs to.")] = "default",
    approve_by: Annotated[str | None, typer.Option(help="Approve the stored plan in this person's name.")] = None,
) -> None:
    """Store a plan as a new version of ROUND_SET (today's rounds with routes, or optimised without).

    The nightly batch re-optimises every round set stored so (docs/batch.md).
    """
    from app.batch.round_sets import store_round_set_plan
    from app.compute.network_registry import load_road_network
    from app.store.engine import Store

    settings = _settings()
    _configure_logging(settings)
    body = _read_body(plan_file)
    store = Store(settings.database_url)
    store.migrate()
    network = load_road_network(settings.network_file, cache_dir=settings.cache_dir)
    try:
        stored = store_round_set_plan(store, settings, network, tenant=tenant, round_set=name, body=body,
                                      approve_by=approve_by)
    except ValidationError as exc:
        raise _fail_with(validation_error_items(exc.errors(), body, loc_prefix=("body",))) from exc
    except ProblemError as exc:
        raise _fail_with(problem_error_items(exc)) from exc
    finally:
        store.dispose()
    typer.echo(json.dumps({"id": stored.plan_id, "round_set": name, "version": stored.version,
                           "source": stored.source, "status": stored.status}))


def main() -> None:
    """Entry point of the ``wasteroute`` console script."""
    cli()


if __name__ == "__main__":
    main()
