"""The ``wasteroute`` command line: one module per command, one shared set-up.

- ``wasteroute serve [--host H] [--port P]``: run the HTTP service (:mod:`~app.cli.serve`).
- ``wasteroute solve PROBLEM.json [--out PLAN.geojson] [--network FILE]``: optimise one
  problem and print (or write) the same JSON the API answers (:mod:`~app.cli.solve`).
- ``wasteroute bench cvrp|wcvrptw|matrix|api ...``: benchmarks (:mod:`~app.cli.bench`).
- ``wasteroute batch [--night YYYY-MM-DD] [--bins REGISTER.json]``: the nightly re-optimisation
  of every stored round set (:mod:`~app.cli.batch`, :mod:`app.batch.nightly`, docs/batch.md).
- ``wasteroute round-set ROUND_SET PLAN.json [--approve-by NAME]``: store a plan under a
  round-set key, for the batch (:mod:`~app.cli.round_set`, :mod:`app.batch.round_sets`).
- ``wasteroute keys create --tenant NAME | list | revoke ID | demo``: API keys (:mod:`~app.cli.keys`).
- ``wasteroute users create --tenant T --name N --role R | list | disable ID | roles ID | key ID | demo``:
  people, their roles and their keys (:mod:`~app.cli.users`).
- ``wasteroute report PLAN --baseline BASELINE`` and ``wasteroute reproduce PLAN_ID``: savings
  reports and reproducing stored plans (:mod:`~app.cli.report`, :mod:`~app.cli.reproduce`).
- ``wasteroute purge --tenant T [--before DATE] [--dry-run]``, ``wasteroute tenant export|delete``:
  a council's personal data past retention, handed over or removed (:mod:`~app.cli.tenant_data`).

Every command starts the same way (:mod:`~app.cli.setup`): configuration from the same
``WASTEROUTE_*`` environment variables as the service, options given here taking
precedence; logs to stderr, answers to stdout; faults of the input in the API's 422
shape on stderr, exit status :data:`EXIT_INVALID_INPUT`. The commands import what
they run (FastAPI, the solver) only when run, so the command line starts quickly.
"""

from __future__ import annotations

import typer

from app.cli.batch import batch
from app.cli.bench import bench_cli
from app.cli.case_study import case_study_cli
from app.cli.keys import keys_cli
from app.cli.report import report
from app.cli.reproduce import reproduce
from app.cli.round_set import round_set
from app.cli.serve import serve
from app.cli.setup import EXIT_INVALID_INPUT
from app.cli.solve import solve
from app.cli.tenant_data import purge, tenant_cli
from app.cli.users import users_cli

__all__ = ["EXIT_INVALID_INPUT", "cli", "main"]

cli = typer.Typer(
    name="wasteroute",
    help="Optimised waste-collection rounds on real streets.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)

cli.add_typer(bench_cli, name="bench")
cli.add_typer(keys_cli, name="keys")
cli.add_typer(users_cli, name="users")
cli.add_typer(case_study_cli, name="case-study")
cli.add_typer(tenant_cli, name="tenant")
cli.command("report")(report)
cli.command("reproduce")(reproduce)
cli.command()(serve)
cli.command()(solve)
cli.command()(batch)
cli.command(name="round-set")(round_set)
cli.command()(purge)


def main() -> None:
    """Entry point of the ``wasteroute`` console script."""
    cli()
