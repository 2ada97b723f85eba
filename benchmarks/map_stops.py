"""What the web map costs the browser for a town's plan, before and after stops at any zoom.

Usage::

    .venv/bin/python benchmarks/map_stops.py [--bins N] [--vehicles V] [--before REV] [--seed S]

Builds a plan of ``--bins`` kerbside bins (:mod:`solver.synthetic`, 2,600 by default: the
Oakham case of issue 15) on the embedded Monaco network, cut into ``--vehicles`` rounds by
bearing from the depot, each driven nearest bin next (a plausible, not an optimised, order), scored by
:func:`solver.pipeline.evaluate_plan` and turned into the API's answer (street-following
lines and stops, as the page gets them). Then, in Debian's headless Chromium (1400 x 900),
draws it with the map's own ``plan-layer.js`` as it is now and as it was at ``--before``
(git revision, ``0ac0386`` by default: every stop a numbered marker), and prints one row
per version: milliseconds to draw the whole plan and fit it in view (to the next painted
frame), the stop markers and all elements in the page's panes at that zoom, and the same
after zooming in to level 18 on the middle stop and back out (times are wall-clock on a
shared machine: read them as rough; the element counts are exact). Best of ``--repeats``
drawings. The first line gives the answer's size and what the rounds' areas add to it.
Nothing is asserted.
"""

from __future__ import annotations

import argparse
import json
import math
import mimetypes
import subprocess
import sys
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

import numpy as np  # noqa: E402
import xstatic.pkg.leaflet  # noqa: E402
from playwright.sync_api import Route, sync_playwright  # noqa: E402

from app.services.optimisation import dump_response, to_response  # noqa: E402
from solver.network import load_network  # noqa: E402
from solver.pipeline import evaluate_plan  # noqa: E402
from solver.problem import Bin, Depot, Problem, Vehicle  # noqa: E402
from solver.solution import RoutePlan  # noqa: E402
from solver.synthetic import kerbside_bins  # noqa: E402

MONACO = REPO / "data" / "monaco.osm.pbf"
CACHE_DIR = REPO / "var" / "network-cache"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--no-first-run"]
ORIGIN = "http://map-bench.invalid"
LEAFLET_DIR = Path(xstatic.pkg.leaflet.BASE_DIR)
WEB_FILES = ("js/plan-layer.js", "js/format.js", "js/stops-layer.js", "js/round-areas.js")

PAGE = """<!doctype html><html><head><meta charset="utf-8">
<link rel="stylesheet" href="/static/leaflet/leaflet.css"><link rel="stylesheet" href="/static/web/css/map.css">
<script src="/static/leaflet/leaflet.js"></script></head>
<body style="margin:0"><main id="map" style="width:1400px;height:900px"></main></body></html>"""

MEASURE_JS = """async ([plan, version]) => {
  const layer = await import(`/static/${version}/js/plan-layer.js`);
  const frame = () => new Promise((done) => requestAnimationFrame(() => setTimeout(done, 0)));
  const elements = () => ({
    markers: document.querySelectorAll('.stop-marker').length,
    all: document.querySelectorAll('.leaflet-map-pane *').length,
  });
  const map = L.map('map', { preferCanvas: false }).setView([43.735, 7.42], 14);
  const vehicleIds = plan.features.filter((f) => f.properties.kind === 'route').map((f) => f.properties.vehicle_id);
  const points = plan.features.filter((f) => f.properties.kind === 'visit')
    .map((f) => [f.geometry.coordinates[1], f.geometry.coordinates[0]]);
  let started = performance.now();
  layer.drawPlan(map, plan, { vehicleIds });
  map.fitBounds(points, { animate: false });
  await frame();
  const draw = { ms: performance.now() - started, zoom: map.getZoom(), elements: elements() };
  const middle = points[Math.floor(points.length / 2)];
  started = performance.now();
  map.setView(middle, 18, { animate: false });
  await frame();
  const zoomIn = { ms: performance.now() - started, elements: elements() };
  started = performance.now();
  map.fitBounds(points, { animate: false });
  await frame();
  const zoomOut = { ms: performance.now() - started, elements: elements() };
  map.remove();
  return { draw, zoomIn, zoomOut };
}"""


def town_plan(n_bins: int, n_vehicles: int, seed: int) -> dict[str, Any]:
    """The API answer of a plan of ``n_bins`` bins in ``n_vehicles`` rounds (see the module docstring)."""
    network = load_network(MONACO, cache_dir=CACHE_DIR)
    bins = kerbside_bins(network, n_bins, seed=seed)
    depot = Depot("depot", 7.4149, 43.7302)

    def bearing(lon: float, lat: float) -> float:
        return math.atan2(lat - depot.lat, (lon - depot.lon) * math.cos(math.radians(depot.lat)))

    ordered = sorted(bins, key=lambda b: bearing(b.lon, b.lat))
    size = -(-n_bins // n_vehicles)
    vehicles = tuple(Vehicle(f"rcv-{i + 1}", depot.id, 1e7) for i in range(n_vehicles))
    routes = [RoutePlan(v.id, nearest_next(ordered[i * size:(i + 1) * size], depot))
              for i, v in enumerate(vehicles)]
    problem = Problem(depots=(depot,), bins=tuple(bins), vehicles=vehicles)
    answer: dict[str, Any] = json.loads(dump_response(to_response(problem, evaluate_plan(problem, network, routes))))
    return answer


def nearest_next(bins: list[Bin], depot: Depot) -> tuple[str, ...]:
    """The ids of ``bins`` in the order of a walk from ``depot`` to the nearest bin not yet
    visited (straight-line distance, degrees of longitude scaled to metres)."""
    scale = math.cos(math.radians(depot.lat))
    xy = np.array([[b.lon * scale, b.lat] for b in bins])
    left = np.ones(len(bins), dtype=bool)
    at = np.array([depot.lon * scale, depot.lat])
    order = []
    for _ in bins:
        distance = np.where(left, ((xy - at) ** 2).sum(axis=1), np.inf)
        nearest = int(distance.argmin())
        order.append(bins[nearest].id)
        left[nearest] = False
        at = xy[nearest]
    return tuple(order)


def web_file(revision: str | None, name: str) -> bytes | None:
    """``app/web/<name>`` now (``revision`` None) or at ``revision``; None if it did not exist then."""
    if revision is None:
        path = REPO / "app" / "web" / name
        return path.read_bytes() if path.is_file() else None
    shown = subprocess.run(["git", "show", f"{revision}:app/web/{name}"], cwd=REPO, capture_output=True, check=False)
    return shown.stdout if shown.returncode == 0 else None


def serve(revisions: dict[str, str | None]) -> Any:
    """A request handler serving the bench page, Leaflet and each version's web files."""

    def handle(route: Route) -> None:
        path = route.request.url.removeprefix(ORIGIN)
        body: bytes | None = None
        if path == "/":
            body = PAGE.encode()
        elif path.startswith("/static/leaflet/"):
            file = LEAFLET_DIR / path.removeprefix("/static/leaflet/")
            body = file.read_bytes() if file.is_file() else None
        elif path.startswith("/static/"):
            version, _, name = path.removeprefix("/static/").partition("/")
            if version in revisions and (name in WEB_FILES or name == "css/map.css"):
                body = web_file(revisions[version], name)
        if body is None:
            route.fulfill(status=404, body=b"")
            return
        route.fulfill(status=200, body=body, content_type=mimetypes.guess_type(path)[0] or "text/html")

    return handle


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--bins", type=int, default=2600)
    parser.add_argument("--vehicles", type=int, default=4)
    parser.add_argument("--before", default="0ac0386")
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    plan = town_plan(args.bins, args.vehicles, args.seed)
    revisions: dict[str, str | None] = {"before": args.before, "web": None}
    n_visits = sum(f["properties"]["kind"] == "visit" for f in plan["features"])
    area_bytes = sum(len(json.dumps(f["properties"]["compactness"]["area"], separators=(",", ":")))
                     for f in plan["features"] if f["properties"]["kind"] == "route")
    size_mb = len(json.dumps(plan, separators=(",", ":"))) / 1e6
    print(f"{args.bins} bins, {args.vehicles} rounds, {n_visits} stops; the answer {size_mb:.2f} MB, of which "
          f"the rounds' areas {area_bytes / 1e3:.1f} kB; Chromium 1400 x 900 px, best of {args.repeats}")
    print("| version | draw, ms | zoom | stop markers / elements | zoom in to 18, ms | stop markers / elements "
          "| zoom out, ms | stop markers / elements |")
    print("|---|---:|---:|---:|---:|---:|---:|---:|")
    with sync_playwright() as driver:
        browser = driver.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        for version, revision in revisions.items():
            runs = []
            for _ in range(args.repeats):
                page = browser.new_page(viewport={"width": 1400, "height": 900})
                page.route("**/*", serve(revisions))
                page.goto(f"{ORIGIN}/")
                runs.append(page.evaluate(MEASURE_JS, [plan, version]))
                page.close()
            best = min(runs, key=lambda r: r["draw"]["ms"])
            label = f"before ({revision})" if revision else "now"

            def count(step: str, best: dict[str, Any] = best) -> str:
                return f"{best[step]['elements']['markers']} / {best[step]['elements']['all']}"

            print(f"| {label} | {best['draw']['ms']:.0f} | {best['draw']['zoom']} | {count('draw')} "
                  f"| {min(r['zoomIn']['ms'] for r in runs):.0f} | {count('zoomIn')} "
                  f"| {min(r['zoomOut']['ms'] for r in runs):.0f} | {count('zoomOut')} |")
        browser.close()


if __name__ == "__main__":
    main()
