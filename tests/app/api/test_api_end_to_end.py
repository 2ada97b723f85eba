"""End to end through the API on real networks: the committed demo problem on the embedded
Monaco network, and 1,000 kerbside bins on Rutland (England), each answer checked
property by property against the problem and the street network."""

from __future__ import annotations

import itertools
import json
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import shapely
from fastapi.testclient import TestClient

from app.core.config import Settings, default_network_file
from app.main import create_app
from solver.network import RoadNetwork, load_network
from solver.synthetic import kerbside_bins

REPO = Path(__file__).resolve().parents[3]
URL = "/api/v1/optimisations"
REASONS = {"off_network", "unreachable", "capacity", "time_window", "no_compatible_vehicle",
           "shift_too_short", "not_worth_serving", "no_feasible_insertion"}
VISIT_TYPES = {"depot", "bin", "disposal", "break"}
ON_STREET_M = 1.0


def _clock_s(hhmm: str) -> int:
    hours, minutes = hhmm.split(":")
    return int(hours) * 3600 + int(minutes) * 60


def check_answer(problem: dict[str, Any], answer: dict[str, Any], network: RoadNetwork) -> None:
    """Assert every promise of an optimisation answer against its problem and network."""
    assert answer["type"] == "FeatureCollection"
    routes = [f for f in answer["features"] if f["properties"]["kind"] == "route"]
    visits = [f for f in answer["features"] if f["properties"]["kind"] == "visit"]
    vehicles = {v["id"]: v for v in problem["vehicles"]}

    # every bin visited exactly once, or unassigned with a reason, never both, never lost
    served = Counter(v["properties"]["bin_id"] for v in visits if v["properties"]["type"] == "bin")
    assert all(n == 1 for n in served.values()), [b for b, n in served.items() if n > 1]
    unassigned = {u["bin_id"]: u for u in answer["unassigned"]}
    assert not set(served) & set(unassigned)
    assert set(served) | set(unassigned) == {b["id"] for b in problem["bins"]}
    assert all(u["reason"] in REASONS and u["detail"] for u in unassigned.values())

    tree = shapely.STRtree(network.edge_xy)
    to_xy = network.to_xy()

    def xy(coords: np.ndarray) -> np.ndarray:
        return np.column_stack(to_xy.transform(coords[:, 0], coords[:, 1]))

    for route in routes:
        props = route["properties"]
        vehicle = vehicles[props["vehicle_id"]]
        stops = sorted((v for v in visits if v["properties"]["vehicle_id"] == props["vehicle_id"]),
                       key=lambda v: v["properties"]["sequence"])
        assert [v["properties"]["sequence"] for v in stops] == list(range(len(stops)))
        assert stops[0]["properties"]["type"] == stops[-1]["properties"]["type"] == "depot"
        kinds = [v["properties"]["type"] for v in stops]
        assert set(kinds) <= VISIT_TYPES
        # capacity (the load on board never above it; a tip empties the body) and shift
        assert max(v["properties"]["load_kg"] for v in stops) <= vehicle["capacity_kg"] + 1e-6
        tips = [v for v in stops if v["properties"]["type"] == "disposal"]
        assert all(v["properties"]["load_kg"] == 0 and v["properties"]["site_id"] for v in tips)
        assert props["trips"] == len(tips)
        assert props["load_kg"] <= vehicle["capacity_kg"] * (len(tips) + 1) + 1e-6
        start, end = (_clock_s(t) for t in vehicle.get("shift", ["06:00", "14:00"]))
        arrivals = [v["properties"]["arrival_s"] for v in stops]
        assert arrivals[0] >= start and arrivals[-1] <= end
        # arrivals increase; a break starts where the vehicle already is, so it may share the time
        assert all(b > a or (kind == "break" and b >= a)
                   for (a, b), kind in zip(itertools.pairwise(arrivals), kinds[1:], strict=True)), \
            "arrivals must increase"
        assert props["n_bins"] == kinds.count("bin")
        # one continuous line on the streets, from the depot back to it, through every stop
        line = route["geometry"]
        assert line["type"] == "LineString"
        coords = xy(np.asarray(line["coordinates"], dtype=float))
        stop_xy = xy(np.asarray([v["geometry"]["coordinates"] for v in stops], dtype=float))
        assert np.linalg.norm(coords[0] - stop_xy[0]) < ON_STREET_M
        assert np.linalg.norm(coords[-1] - stop_xy[-1]) < ON_STREET_M
        drawn = shapely.LineString(coords)
        assert shapely.distance(drawn, shapely.points(stop_xy)).max() < ON_STREET_M
        samples = np.vstack([coords, (coords[1:] + coords[:-1]) / 2])
        _, gaps = tree.query_nearest(shapely.points(samples), return_distance=True, all_matches=False)
        assert gaps.max() < ON_STREET_M, f"route {props['vehicle_id']} leaves the streets by {gaps.max():.1f} m"
        # its length is the distance reported (projected vs great-circle metres: within 0.5 %)
        assert drawn.length == pytest.approx(props["distance_m"], rel=5e-3)

    summary = answer["summary"]
    assert summary["vehicles_used"] == len(routes)
    assert summary["bins_served"] == sum(r["properties"]["n_bins"] for r in routes) == len(served)
    assert summary["bins_unassigned"] == len(unassigned)
    for key in ("distance_m", "duration_s", "cost"):
        assert summary[key] == pytest.approx(sum(r["properties"][key] for r in routes), rel=1e-9)


@pytest.fixture(scope="module")
def demo_answer(client: TestClient) -> tuple[dict[str, Any], dict[str, Any]]:
    """The committed demo problem (320 bins, Monaco) and the service's answer to it."""
    problem = json.loads((REPO / "data" / "demo_problem.json").read_text(encoding="utf-8"))
    problem["options"]["time_limit_s"] = 3
    response = client.post(URL, json=problem)
    assert response.status_code == 200, response.text
    return problem, response.json()


@pytest.mark.slow
def test_demo_problem_answer_keeps_every_promise(demo_answer: tuple[dict[str, Any], dict[str, Any]],
                                                 settings: Settings) -> None:
    """The demo problem solves through the API with every bin served once or unassigned with a
    reason, loads and shifts respected, arrivals increasing, lines continuous on the streets,
    and a summary that adds up."""
    problem, answer = demo_answer
    check_answer(problem, answer, load_network(default_network_file(), cache_dir=settings.cache_dir))


@pytest.mark.slow
def test_demo_problem_is_served_in_full(demo_answer: tuple[dict[str, Any], dict[str, Any]]) -> None:
    """The demo's fleet has room for all 320 bins, so none is left out."""
    _, answer = demo_answer
    assert answer["summary"]["bins_served"] == 320 and answer["unassigned"] == []


@pytest.fixture(scope="module")
def rutland_client(tmp_path_factory: pytest.TempPathFactory, rutland: RoadNetwork) -> Iterator[TestClient]:
    """A started service planning on the Rutland network from ../shared."""
    data_dir = tmp_path_factory.mktemp("rutland-var")
    settings = Settings(network_file=Path(rutland.source.value), data_dir=data_dir, cache_dir=data_dir / "cache",
                        snap_limit_m=200, default_time_limit_s=5, max_time_limit_s=60, max_concurrent_solves=1,
                        auth_required=False)
    with TestClient(create_app(settings)) as started:
        yield started


@pytest.mark.slow
@pytest.mark.shared
def test_rutland_thousand_bins_answer_keeps_every_promise(rutland_client: TestClient, rutland: RoadNetwork) -> None:
    """1,000 kerbside bins around Rutland, a depot in Oakham and eight lorries: the answer keeps
    every promise, and the few bins left out (if any) each carry a reason."""
    bins = kerbside_bins(rutland, 1000, seed=11)
    problem = {
        "depots": [{"id": "oakham", "lon": -0.7260, "lat": 52.6690}],
        "vehicles": [{"id": f"rcv-{i + 1}", "depot": "oakham", "capacity_kg": 2500, "shift": ["06:00", "16:00"]}
                     for i in range(8)],
        "bins": [{"id": b.id, "lon": b.lon, "lat": b.lat, "demand_kg": b.demand_kg} for b in bins],
        "options": {"time_limit_s": 10, "seed": 0},
    }
    response = rutland_client.post(URL, json=problem)
    assert response.status_code == 200, response.text
    answer = response.json()
    check_answer(problem, answer, rutland)
    assert answer["summary"]["bins_served"] >= 950
