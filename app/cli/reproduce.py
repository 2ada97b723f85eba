"""``wasteroute reproduce PLAN_ID [--json] [--no-reoptimise]``: re-run a stored plan's inputs and
show whether its figures match (exit 0 if they do, 1 if not)."""

from __future__ import annotations

import json
from typing import Annotated

import typer

from app.cli.setup import EXIT_INVALID_INPUT, NetworkOption, migrated_store, set_up


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

    settings = set_up(network_file=network)
    db = migrated_store(settings)
    try:
        with db.transaction() as session:
            record = stored.load_plan(session, settings.default_tenant, plan_id, field="PLAN_ID")
    except stored.PlanNotFoundError as exc:
        typer.echo(f"{exc} (tenant {settings.default_tenant!r})", err=True)
        raise typer.Exit(code=EXIT_INVALID_INPUT) from exc
    finally:
        db.dispose()
    road_network = load_road_network(settings.network_file, cache_dir=settings.cache_dir)
    outcome = run(record, road_network, settings, reoptimise=reoptimise)
    typer.echo(json.dumps(outcome.as_dict(), indent=2) if as_json else describe(outcome))
    if not outcome.matches:
        raise typer.Exit(code=1)
