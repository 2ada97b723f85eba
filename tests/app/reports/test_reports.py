"""Savings reports: HTML, JSON and CSV from the API and the command line, and reproducing stored plans.

On the embedded Monaco network: 60 bins of the demo problem on three lorries, a
baseline that deals the bins to the lorries in a random order, and the same problem
optimised by OR-Tools. The report's figures must be the evaluator's, as the
evaluations endpoint gives them, for both plans.
"""

from __future__ import annotations

import copy
import csv
import dataclasses
import io
import json
import math
import random
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

from app import store
from app.cli import EXIT_INVALID_INPUT, cli
from app.compute.network_registry import load_road_network
from app.core.config import Settings
from app.reports import inputs, render
from app.reports.demo import DEMO_PROBLEM, demo_report
from app.reports.screenshot import html_to_png
from app.schemas import EvaluationRequest, OptimisationRequest
from app.services import evaluation as evaluation_service
from app.services import optimisation as optimisation_service
from solver.savings import DESNZ_2025_DIESEL_CO2E_KG_PER_L

SUMMARY = ("distance_m", "duration_s", "vehicles_used", "bins_served", "bins_unassigned", "cost", "violations")
ROUND = {"distance_m": "distance_m", "duration_s": "duration_s", "trips": "trips", "cost": "cost",
         "bins_served": "n_bins"}


def random_rounds(body: dict[str, Any], *, seed: int) -> list[dict[str, Any]]:
    """The bins dealt to the vehicles in a random order (capacity kept): deliberately poor rounds."""
    ids = [b["id"] for b in body["bins"]]
    random.Random(seed).shuffle(ids)
    demand = {b["id"]: b["demand_kg"] for b in body["bins"]}
    routes: dict[str, list[str]] = {v["id"]: [] for v in body["vehicles"]}
    room = {v["id"]: v["capacity_kg"] for v in body["vehicles"]}
    vehicles = list(routes)
    for i, bin_id in enumerate(ids):
        turns = (vehicles[(i + k) % len(vehicles)] for k in range(len(vehicles)))
        vehicle = next(v for v in turns if room[v] >= demand[bin_id])
        routes[vehicle].append(bin_id)
        room[vehicle] -= demand[bin_id]
    return [{"vehicle_id": v, "stops": stops} for v, stops in routes.items()]


def _answer(body: dict[str, Any], settings: Settings) -> dict[str, Any]:
    """The evaluations endpoint's answer for an evaluation body (the same service call)."""
    network = load_road_network(settings.network_file, cache_dir=settings.cache_dir)
    answer = evaluation_service.evaluate_request(EvaluationRequest.model_validate(body), network, settings=settings)
    return answer.model_dump(mode="json", exclude_none=True)


@pytest.fixture(scope="module")
def monaco_pair(settings: Settings) -> SimpleNamespace:
    """Problem, poor baseline body, optimised answer and plan body; the report and each plan's evaluated answer."""
    demo = json.loads(DEMO_PROBLEM.read_text(encoding="utf-8"))
    problem = {"depots": demo["depots"], "bins": demo["bins"][:60], "options": {"time_limit_s": 2, "seed": 0},
               "vehicles": [{"id": f"rcv-{k}", "depot": "depot", "capacity_kg": 400} for k in (1, 2, 3)]}
    network = load_road_network(settings.network_file, cache_dir=settings.cache_dir)
    answer = optimisation_service.optimise_request(OptimisationRequest.model_validate(problem), network,
                                                   settings=settings).model_dump(mode="json", exclude_none=True)
    baseline_body = {**copy.deepcopy(problem), "routes": random_rounds(problem, seed=5)}
    plan_body = inputs.evaluation_body(answer, problem)
    report = render.build(inputs.score("plan", plan_body, network, settings=settings),
                          inputs.score("today", baseline_body, network, settings=settings), network,
                          inputs.factors_from(settings))
    return SimpleNamespace(problem=problem, answer=answer, baseline_body=baseline_body, plan_body=plan_body,
                           report=report, json=render.to_json(report), plan_answer=_answer(plan_body, settings),
                           baseline_answer=_answer(baseline_body, settings))


def _route_properties(answer: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {f["properties"]["vehicle_id"]: f["properties"] for f in answer["features"]
            if f["properties"]["kind"] == "route"}


def test_report_totals_are_the_evaluations_summary(monaco_pair: SimpleNamespace) -> None:
    """The JSON's plan and baseline totals equal, figure by figure, the evaluations endpoint's summary."""
    for side in ("plan", "baseline"):
        summary = getattr(monaco_pair, f"{side}_answer")["summary"]
        assert {k: monaco_pair.json[side][k] for k in SUMMARY} == {k: summary[k] for k in SUMMARY}


def test_report_rounds_are_the_evaluations_routes(monaco_pair: SimpleNamespace) -> None:
    """Each round's figures equal the evaluated route's properties, for plan and baseline."""
    for side in ("plan", "baseline"):
        routes = _route_properties(getattr(monaco_pair, f"{side}_answer"))
        for r in monaco_pair.json["rounds"]:
            if r[side]["vehicles_used"] == 0:
                assert r["vehicle_id"] not in routes
                continue
            assert {k: r[side][k] for k in ROUND} == {k: routes[r["vehicle_id"]][v] for k, v in ROUND.items()}


def test_optimised_answer_scores_again_to_its_own_figures(monaco_pair: SimpleNamespace) -> None:
    """The optimised answer's routes, read back from its visits and evaluated again, give its figures exactly
    (all but ``relaxed``, which only a solve asked for balance or compact rounds reports, and ``timings``,
    the wall clock of each run)."""
    optimised = {k: v for k, v in monaco_pair.answer["summary"].items() if k not in ("relaxed", "timings")}
    assert {k: v for k, v in monaco_pair.plan_answer["summary"].items() if k != "timings"} == optimised
    assert _route_properties(monaco_pair.plan_answer) == _route_properties(monaco_pair.answer)


def test_report_deltas_add_up(monaco_pair: SimpleNamespace) -> None:
    """delta = plan - baseline for every total, and each total delta is the sum of the rounds' deltas."""
    report = monaco_pair.json
    for name, delta in report["delta"].items():
        assert delta == report["plan"][name] - report["baseline"][name]
        if name != "bins_unassigned":
            assert delta == pytest.approx(math.fsum(r["delta"][name] for r in report["rounds"]), rel=1e-9, abs=1e-9)


def test_report_states_factors_and_what_got_worse(monaco_pair: SimpleNamespace) -> None:
    """The JSON carries the factors with the DESNZ source, and better/worse lists that cover every change."""
    report = monaco_pair.json
    assert report["factors"]["co2e_kg_per_l"] == DESNZ_2025_DIESEL_CO2E_KG_PER_L
    assert "DESNZ" in report["factors"]["co2e_source"]
    changed = {c["figure"] for c in report["better"]} | {c["figure"] for c in report["worse"]}
    moved = {name for name, delta in report["delta"].items() if abs(delta) > 1e-6}
    assert changed == moved


def test_csv_carries_the_json_figures(monaco_pair: SimpleNamespace) -> None:
    """Every CSV row of the totals and the rounds holds exactly the JSON's numbers."""
    rows = list(csv.DictReader(io.StringIO(render.to_csv(monaco_pair.report))))
    report = monaco_pair.json
    rounds = {r["vehicle_id"]: r for r in report["rounds"]}
    for row in rows:
        if row["scope"] == "collection":
            source = report
        elif row["scope"] == "year":
            source = report["per_year"]
        else:
            source = rounds[row["vehicle_id"]]
        for side in ("baseline", "plan", "delta"):
            assert float(row[side]) == source[side][row["figure"]], (row["scope"], row["figure"], side)
    assert {row["scope"] for row in rows} == {"collection", "year", "round"}


def test_html_shows_worse_beside_better_charts_map_and_factors(monaco_pair: SimpleNamespace) -> None:
    """The HTML has both verdict boxes, the bar charts (SVG), the map (PNG), the factors and print CSS."""
    html = render.to_html(monaco_pair.report)
    for text in ('class="verdict worse"', 'class="verdict better"', "<svg", "data:image/png;base64,", "@media print",
                 "2.57082", "Conversion Factors for Company Reporting 2025", "OpenStreetMap contributors"):
        assert text in html, text
    assert html.index("verdict worse") < html.index("verdict better")


@pytest.fixture
def env(settings: Settings, tmp_path: Path) -> dict[str, str]:
    """Environment pointing the command line at the tests' network and a fresh SQLite store."""
    return {"WASTEROUTE_DATA_DIR": str(settings.data_dir), "WASTEROUTE_CACHE_DIR": str(settings.cache_dir),
            "WASTEROUTE_NETWORK_FILE": str(settings.network_file), "WASTEROUTE_LOG_LEVEL": "warning",
            "WASTEROUTE_DATABASE_URL": f"sqlite:///{tmp_path / 'store.sqlite3'}"}


def _write(path: Path, body: dict[str, Any]) -> str:
    path.write_text(json.dumps(body), encoding="utf-8")
    return str(path)


def test_cli_report_on_files_gives_the_same_figures(monaco_pair: SimpleNamespace, tmp_path: Path,
                                                    env: dict[str, str]) -> None:
    """``wasteroute report PLAN.geojson --baseline TODAY.json -f json`` answers the same totals and rounds."""
    plan = _write(tmp_path / "plan.geojson", monaco_pair.answer)
    today = _write(tmp_path / "today.json", monaco_pair.baseline_body)
    result = CliRunner().invoke(cli, ["report", plan, "--baseline", today, "-f", "json"], env=env)
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    for key in ("plan", "baseline", "delta", "rounds", "factors"):
        assert report[key] == monaco_pair.json[key], key


@pytest.mark.spawns
def test_cli_report_writes_html_and_png(monaco_pair: SimpleNamespace, tmp_path: Path, env: dict[str, str]) -> None:
    """``--out`` writes the HTML and ``--png`` a picture of it from headless Chromium."""
    out, png = tmp_path / "report.html", tmp_path / "report.png"
    result = CliRunner().invoke(cli, ["report", _write(tmp_path / "plan.json", monaco_pair.plan_body), "--baseline",
                                      _write(tmp_path / "today.json", monaco_pair.baseline_body), "--out", str(out),
                                      "--png", str(png)], env=env)
    assert result.exit_code == 0, result.output
    assert out.read_text(encoding="utf-8").startswith("<!DOCTYPE html>")
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_cli_report_of_a_geojson_without_a_problem_is_refused(monaco_pair: SimpleNamespace, tmp_path: Path,
                                                             env: dict[str, str]) -> None:
    """Two GeoJSON answers and no --problem: exit 2 saying the answer needs its problem."""
    plan = _write(tmp_path / "plan.geojson", monaco_pair.answer)
    result = CliRunner().invoke(cli, ["report", plan, "--baseline", plan], env=env)
    assert result.exit_code == EXIT_INVALID_INPUT
    assert "needs the problem" in result.output


def test_cli_report_of_an_unknown_plan_id_names_it(tmp_path: Path, env: dict[str, str]) -> None:
    """A PLAN that is neither a file nor a stored plan: exit 2 naming the id."""
    result = CliRunner().invoke(cli, ["report", "no-such-plan", "--baseline", "nor-this"], env=env)
    assert result.exit_code == EXIT_INVALID_INPUT
    assert "'no-such-plan'" in result.output


TINY = {"depots": [{"id": "depot", "lon": 7.4149, "lat": 43.7302}],
        "vehicles": [{"id": "rcv-1", "depot": "depot", "capacity_kg": 100}],
        "bins": [{"id": "b1", "lon": 7.41745, "lat": 43.73619, "demand_kg": 16},
                 {"id": "b2", "lon": 7.41670, "lat": 43.73362, "demand_kg": 20},
                 {"id": "b3", "lon": 7.41293, "lat": 43.73081, "demand_kg": 11}],
        "options": {"time_limit_s": 1, "seed": 0}}
"""Three bins and one lorry: the optimum is found long before the time limit, so a re-run repeats it."""


def _store_optimised(env: dict[str, str], settings: Settings, *, tamper: bool = False) -> str:
    """Optimise :data:`TINY` and store it as a job would (options, engine, seed, fix_directions); the
    plan id."""
    network = load_road_network(settings.network_file, cache_dir=settings.cache_dir)
    parameters = {"time_limit_s": 1, "seed": 0, "engine": "ortools", "fix_directions": True}
    answer = optimisation_service.optimise_request(OptimisationRequest.model_validate(TINY), network,
                                                   settings=settings).model_dump(mode="json", exclude_none=True)
    if tamper:
        answer["summary"]["distance_m"] -= 1.0
    db = store.Store(env["WASTEROUTE_DATABASE_URL"])
    db.migrate()
    with db.transaction() as session:
        problem = store.save_problem(session, settings.default_tenant, TINY)
        plan = store.create_plan(session, settings.default_tenant, problem=problem, result=answer,
                                 source="optimised", parameters=parameters,
                                 engine="ortools", seed=0)
        plan_id = plan.id
    db.dispose()
    return plan_id


def test_reproduce_a_stored_plan_gives_identical_figures(settings: Settings, env: dict[str, str]) -> None:
    """``wasteroute reproduce ID`` re-evaluates and re-optimises a stored plan: every figure identical, exit 0."""
    plan_id = _store_optimised(env, settings)
    result = CliRunner().invoke(cli, ["reproduce", plan_id, "--json"], env=env)
    assert result.exit_code == 0, result.output
    outcome = json.loads(result.stdout)
    assert outcome["matches"] and outcome["inputs_hash"]["match"]
    assert outcome["evaluation"]["matches"] and outcome["reoptimisation"]["matches"]
    assert all(row["match"] for row in outcome["evaluation"]["figures"] + outcome["reoptimisation"]["figures"])
    assert {"summary.distance_m", "summary.duration_s", "rcv-1.stops"} <= {
        row["figure"] for row in outcome["evaluation"]["figures"]}


def test_reproduce_finds_a_stored_figure_that_the_inputs_do_not_give(settings: Settings, env: dict[str, str]) -> None:
    """A stored distance 1 m off what the inputs give is found: exit 1, the figure named."""
    plan_id = _store_optimised(env, settings, tamper=True)
    result = CliRunner().invoke(cli, ["reproduce", plan_id], env=env)
    assert result.exit_code == 1
    assert "DIFF summary.distance_m" in result.stdout
    assert "NOT REPRODUCED" in result.stdout


def test_cli_report_by_stored_plan_ids(monaco_pair: SimpleNamespace, settings: Settings, env: dict[str, str]) -> None:
    """``wasteroute report ID --baseline ID`` works on stored plans and names who approved the plan."""
    db = store.Store(env["WASTEROUTE_DATABASE_URL"])
    db.migrate()
    ids = {}
    with db.transaction() as session:
        for name, body, answer in (("plan", monaco_pair.plan_body, monaco_pair.plan_answer),
                                   ("today", monaco_pair.baseline_body, monaco_pair.baseline_answer)):
            problem = store.save_problem(session, settings.default_tenant,
                                         {k: v for k, v in body.items() if k != "routes"})
            ids[name] = store.create_plan(session, settings.default_tenant, problem=problem, result=answer,
                                          source="manual", parameters={"routes": body["routes"]}).id
        store.approve_plan(session, settings.default_tenant, ids["plan"], by="Jo Bloggs, Head of Waste")
    db.dispose()
    result = CliRunner().invoke(cli, ["report", ids["plan"], "--baseline", ids["today"], "-f", "json"], env=env)
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert report["plan"] == monaco_pair.json["plan"] and report["baseline"] == monaco_pair.json["baseline"]
    assert report["meta"]["approved_by"] == "Jo Bloggs, Head of Waste"


def _post_plan(client: TestClient, body: dict[str, Any]) -> str:
    response = client.post("/api/v1/plans", json=body)
    assert response.status_code == 201, response.text
    plan_id: str = response.json()["id"]
    return plan_id


@pytest.fixture(scope="module")
def stored_ids(client: TestClient, monaco_pair: SimpleNamespace) -> dict[str, str]:
    """The plan and the baseline stored through ``POST /api/v1/plans``; the plan approved by a named person (in
    the store: through the API the approver is the person signed in, and this client has no keys)."""
    ids = {"plan": _post_plan(client, monaco_pair.plan_body), "baseline": _post_plan(client, monaco_pair.baseline_body)}
    with client.app.state.store.transaction() as session:  # type: ignore[attr-defined]
        assert store.approve_plan(session, "default", ids["plan"], by="A. Planner") is not None
    return ids


def test_api_report_json_has_the_contract_shape(client: TestClient, stored_ids: dict[str, str],
                                                monaco_pair: SimpleNamespace) -> None:
    """``format=json`` answers plan, baseline, delta, rounds and factors, with the evaluator's figures."""
    response = client.get(f"/api/v1/plans/{stored_ids['plan']}/report",
                          params={"baseline": stored_ids["baseline"], "format": "json"})
    assert response.status_code == 200, response.text
    report = response.json()
    assert {"plan", "baseline", "delta", "rounds", "factors"} <= set(report)
    for side in ("plan", "baseline"):
        summary = getattr(monaco_pair, f"{side}_answer")["summary"]
        assert {k: report[side][k] for k in SUMMARY} == {k: summary[k] for k in SUMMARY}
    assert report["meta"]["approved_by"] == "A. Planner"


def test_api_report_is_html_by_default_and_says_who_approved(client: TestClient, stored_ids: dict[str, str]) -> None:
    """Without ``format`` the answer is the printable HTML, naming the approver."""
    response = client.get(f"/api/v1/plans/{stored_ids['plan']}/report", params={"baseline": stored_ids["baseline"]})
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    assert "approved by <strong>A. Planner</strong>" in response.text


def test_api_report_csv(client: TestClient, stored_ids: dict[str, str]) -> None:
    """``format=csv`` answers CSV with the stated columns."""
    response = client.get(f"/api/v1/plans/{stored_ids['plan']}/report",
                          params={"baseline": stored_ids["baseline"], "format": "csv"})
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/csv")
    assert response.text.splitlines()[0] == ",".join(render.CSV_COLUMNS)


def test_api_report_with_an_unknown_baseline_is_404_naming_it(client: TestClient, stored_ids: dict[str, str]) -> None:
    """An unknown baseline id answers 404 naming the field and the id."""
    response = client.get(f"/api/v1/plans/{stored_ids['plan']}/report", params={"baseline": "nope"})
    assert response.status_code == 404
    assert response.json()["detail"] == "baseline: plan 'nope' not found"


def test_api_report_without_a_baseline_is_422(client: TestClient, stored_ids: dict[str, str]) -> None:
    """The baseline is required: 422 naming it."""
    response = client.get(f"/api/v1/plans/{stored_ids['plan']}/report")
    assert response.status_code == 422
    assert "baseline" in response.text


@pytest.mark.spawns
def test_demo_report_renders_in_headless_chromium(settings: Settings, tmp_path: Path) -> None:
    """The demo report (plain nearest-bin rounds against the optimised plan) renders to a full-page PNG."""
    from PIL import Image

    report = demo_report(settings, time_limit_s=1.0)
    png = html_to_png(render.to_html(report), tmp_path / "demo.png")
    with Image.open(png) as picture:
        width, height = picture.size
        colours = picture.convert("RGB").getcolors(maxcolors=1_000_000)
    assert width == 1200 and height > 2000
    assert colours is not None and len(colours) > 50
    assert report.savings.delta.distance_m < 0


def test_factors_come_from_the_settings(tmp_path: Path) -> None:
    """``WASTEROUTE_SAVINGS_*`` set the factors; a changed value is attributed to its setting, not to DESNZ."""
    configured = Settings(data_dir=tmp_path, savings_fuel_l_per_km=0.5, savings_co2e_kg_per_l=2.6,
                          savings_cost_per_hour=60.0, savings_collections_per_year=26.0)
    factors = inputs.factors_from(configured)
    assert (factors.fuel_l_per_km, factors.co2e_kg_per_l, factors.cost_per_hour,
            factors.collections_per_year) == (0.5, 2.6, 60.0, 26.0)
    assert "WASTEROUTE_SAVINGS_CO2E_KG_PER_L" in factors.co2e_source and factors.co2e_url == ""
    assert "WASTEROUTE_SAVINGS_FUEL_L_PER_KM" in factors.fuel_source
    assert "DESNZ" in inputs.factors_from(Settings(data_dir=tmp_path)).co2e_source


def test_html_escapes_what_people_typed(monaco_pair: SimpleNamespace) -> None:
    """An approver's name is shown as text, never as markup."""
    meta = dataclasses.replace(monaco_pair.report.meta, approved_by="<script>alert(1)</script>")
    html = render.to_html(dataclasses.replace(monaco_pair.report, meta=meta))
    assert "<script>alert(1)</script>" not in html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in html


def test_reproduce_a_plan_stored_by_a_job(client: TestClient, settings: Settings, env: dict[str, str]) -> None:
    """A plan optimised by ``POST /api/v1/jobs`` and stored by the service reproduces exactly from the store."""
    import time

    response = client.post("/api/v1/jobs", json=TINY)
    assert response.status_code == 202, response.text
    job_id = response.json()["id"]
    deadline = time.monotonic() + 60
    while (job := client.get(f"/api/v1/jobs/{job_id}").json())["status"] in ("queued", "running"):
        assert time.monotonic() < deadline, job
        time.sleep(0.2)
    assert job["status"] == "succeeded", job
    result = CliRunner().invoke(cli, ["reproduce", job["result"]["plan_id"]],
                                env={**env, "WASTEROUTE_DATABASE_URL": settings.database_url})
    assert result.exit_code == 0, result.output
    assert "REPRODUCED" in result.stdout and "every figure matches" in result.stdout
