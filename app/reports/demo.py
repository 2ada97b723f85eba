"""The demo savings report: the demo problem's plain rounds against its optimised plan.

``python -m app.reports.demo [--png docs/images/report-demo.png] [--html FILE]``
takes ``data/demo_problem.json`` (320 bins in Monaco, four lorries), makes "today's
rounds" the plain way (:func:`solver.plain_rounds.nearest_bin_rounds`: each lorry
keeps going to the nearest bin as the crow flies until it is full), optimises the
same problem with OR-Tools (seeded, 5 s), scores both with the evaluator, and renders
the report; ``--png`` photographs it in headless Chromium.
"""

from __future__ import annotations

import argparse
import copy
import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from app.compute.network_registry import load_road_network
from app.core.config import Settings
from app.reports import inputs, render
from app.schemas import OptimisationRequest
from app.services import optimisation
from solver.plain_rounds import nearest_bin_rounds

DEMO_PROBLEM = Path(__file__).resolve().parents[2] / "data" / "demo_problem.json"
DEMO_TIME_LIMIT_S = 5.0


def today_body(problem_body: Mapping[str, object]) -> dict[str, object]:
    """An evaluation body of the problem's plain nearest-bin rounds (the demo's baseline)."""
    request = OptimisationRequest.model_validate(problem_body)
    routes = nearest_bin_rounds(optimisation.to_problem(request))
    return {**copy.deepcopy(problem_body), "routes": [{"vehicle_id": r.vehicle_id, "stops": list(r.stops)}
                                                      for r in routes]}


def demo_report(settings: Settings, *, problem_body: dict[str, Any] | None = None,
                time_limit_s: float = DEMO_TIME_LIMIT_S) -> render.Report:
    """The demo's report (optimises: takes about ``time_limit_s`` seconds)."""
    body = copy.deepcopy(problem_body if problem_body is not None
                         else json.loads(DEMO_PROBLEM.read_text(encoding="utf-8")))
    body.setdefault("options", {})["time_limit_s"] = time_limit_s
    network = load_road_network(settings.network_file, cache_dir=settings.cache_dir)
    answer = optimisation.optimise_request(OptimisationRequest.model_validate(body), network, settings=settings)
    plan_body = inputs.evaluation_body(answer.model_dump(mode="json", exclude_none=True), body)
    plan = inputs.score("optimised (OR-Tools, seed 0)", plan_body, network, settings=settings)
    baseline = inputs.score("today's rounds (nearest bin)", today_body(body), network, settings=settings)
    return render.build(plan, baseline, network, inputs.factors_from(settings))


def main(argv: list[str] | None = None) -> None:
    """Write the demo report's HTML and/or PNG."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--html", type=Path, help="write the HTML here")
    parser.add_argument("--png", type=Path, help="write a full-page PNG here (headless Chromium)")
    args = parser.parse_args(argv)
    built = demo_report(Settings())
    html = render.to_html(built)
    if args.html is not None:
        args.html.write_text(html, encoding="utf-8")
    if args.png is not None:
        from app.reports.screenshot import html_to_png

        html_to_png(html, args.png)


if __name__ == "__main__":
    main()
