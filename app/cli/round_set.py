"""``wasteroute round-set ROUND_SET PLAN.json [--tenant NAME] [--approve-by NAME]``: store a plan under
a round-set key, for the batch (see :mod:`app.batch.round_sets`)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer
from pydantic import ValidationError

from app.cli.setup import fail_with, read_body, set_up
from app.core.faults import problem_error_items, validation_error_items
from solver.problem import ProblemError


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

    settings = set_up()
    body = read_body(plan_file)
    store = Store(settings.database_url)
    store.migrate()
    network = load_road_network(settings.network_file, cache_dir=settings.cache_dir)
    try:
        stored = store_round_set_plan(store, settings, network, tenant=tenant, round_set=name, body=body,
                                      approve_by=approve_by)
    except ValidationError as exc:
        raise fail_with(validation_error_items(exc.errors(), body, loc_prefix=("body",))) from exc
    except ProblemError as exc:
        raise fail_with(problem_error_items(exc)) from exc
    finally:
        store.dispose()
    typer.echo(json.dumps({"id": stored.plan_id, "round_set": name, "version": stored.version,
                           "source": stored.source, "status": stored.status}))
