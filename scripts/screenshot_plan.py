"""Screenshot a plan's rounds on the real web map, in headless Chromium.

Usage::

    .venv/bin/python scripts/screenshot_plan.py --problem PROBLEM.json --plan PLAN.json
        --out docs/images/oakham-before.png [--network FILE] [--centre LON,LAT] [--zoom Z]
        [--width W] [--height H] [--tile-url URL]

``PROBLEM.json`` is an optimisation request body and ``PLAN.json`` its answer (as
``benchmarks/oakham.py --write-problem/--save-plan`` write them). The script starts the
real service (``wasteroute serve`` on a loopback port, planning on ``--network``, no API
keys), stores the plan's rounds with ``POST /api/v1/plans`` (the service scores them with
its own evaluator and draws them street by street), opens the map page in Debian's
headless Chromium (the browser tests' set-up; ``make system`` installs it), uploads the
problem's bins, vehicles and tips as CSV files as a planner would, opens the stored plan
from the page's list, centres the map on ``--centre`` at ``--zoom`` and saves
the page as a PNG.

Tiles default to a closed loopback port, as in the browser tests: the page then draws the
road network itself and no request leaves the machine. Prints the stored plan's id and
its distance and duration, which match the plan's own when the network is the same.
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import sys
import tempfile
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from app.cli.bench import Service, free_port  # noqa: E402
from app.services.answers import read_answer, round_stops  # noqa: E402
from solver.units import METRES_PER_KM, SECONDS_PER_HOUR  # noqa: E402

RUTLAND = REPO.parent / "shared" / "data" / "osm" / "rutland-latest.osm.pbf"
CACHE_DIR = REPO / "var" / "network-cache"
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
OAKHAM_CENTRE = (-0.7285, 52.6699)
"""Oakham's ``place=town`` node (lon, lat)."""

# Leaflet keeps its map in main.js's module scope; this hook (Leaflet's own addInitHook)
# hands every map made on the page to the script, without changing the page.
EXPOSE_MAP = """
(() => {
  let leaflet;
  Object.defineProperty(window, 'L', {
    configurable: true,
    get() { return leaflet; },
    set(value) {
      leaflet = value;
      value.Map.addInitHook(function keep() { window.__screenshotMap = this; });
    },
  });
})();
"""


def _csv(header: list[str], rows: list[list[object]]) -> bytes:
    """A CSV file (UTF-8, comma-separated) with ``header`` and ``rows``."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(rows)
    return out.getvalue().encode()


def upload_files(problem: dict[str, Any]) -> dict[str, bytes]:
    """The problem as the CSV files a planner uploads on the page (docs/web.md), by input:
    ``bins-file``, ``vehicles-file`` (each vehicle's depot declared) and, when it has tips,
    ``sites-file``."""
    depots = {d["id"]: d for d in problem["depots"]}
    bins = _csv(["id", "lon", "lat", "demand_kg", "volume_l", "service_s"],
                [[b["id"], b["lon"], b["lat"], b["demand_kg"], b.get("volume_l", ""), b.get("service_s", "")]
                 for b in problem["bins"]])
    vehicles = _csv(
        ["id", "depot", "capacity_kg", "shift_start", "shift_end", "break_duration_s", "break_start", "break_end",
         "depot_lon", "depot_lat"],
        [[v["id"], v["depot"], v["capacity_kg"], *v.get("shift", ["", ""]),
          v.get("break", {}).get("duration_s", ""), *v.get("break", {}).get("window", ["", ""]),
          depots[v["depot"]]["lon"], depots[v["depot"]]["lat"]] for v in problem["vehicles"]])
    files = {"bins-file": bins, "vehicles-file": vehicles}
    if problem.get("disposal_sites"):
        # A file of no rows is refused: a problem without tips uploads none.
        files["sites-file"] = _csv(["id", "lon", "lat", "unload_s"],
                                   [[t["id"], t["lon"], t["lat"], t.get("unload_s", "")]
                                    for t in problem["disposal_sites"]])
    return files


def store_plan(service: Service, problem: dict[str, Any], plan: dict[str, Any]) -> dict[str, Any]:
    """The plan as stored by ``POST /api/v1/plans`` (the service's own scoring of its rounds)."""
    body: dict[str, Any] = {key: problem[key] for key in ("depots", "disposal_sites", "vehicles", "bins")
                            if key in problem}
    body["routes"] = [{"vehicle_id": vehicle, "stops": stops}
                      for vehicle, stops in round_stops(read_answer(plan)).items()]
    status, answer, _ = service.post("/api/v1/plans", body, timeout_s=600)
    if status != 201:
        raise SystemExit(f"POST /api/v1/plans answered {status}: {json.dumps(answer)[:2000]}")
    return dict(answer)


def screenshot(base: str, uploads: dict[str, bytes], plan_id: str, out: Path, *, centre: tuple[float, float],
               zoom: int, size: tuple[int, int]) -> None:
    """Open the map page at ``base``, upload the problem's ``uploads`` (file input id -> CSV) as
    a planner would, open stored plan ``plan_id``, centre on ``centre`` (lon, lat) at ``zoom``
    and save the page as ``out``."""
    from playwright.sync_api import FilePayload, sync_playwright

    if not CHROMIUM.is_file():
        raise SystemExit(f"{CHROMIUM} is missing: run `make system` (scripts/install_system_packages.sh)")
    with sync_playwright() as driver:
        browser = driver.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS)
        try:
            page = browser.new_page(viewport={"width": size[0], "height": size[1]})
            page.set_default_timeout(180_000)
            page.add_init_script(EXPOSE_MAP)
            page.goto(base + "/")
            page.wait_for_selector("body[data-ready='true']")
            for input_id, content in uploads.items():
                before = page.locator("#problem-status").text_content()
                name = f"{input_id.removesuffix('-file')}.csv"
                page.locator(f"#{input_id}").set_input_files(
                    files=FilePayload(name=name, mimeType="text/csv", buffer=content))
                # The page either takes the file (its status line changes) or lists what is wrong.
                page.wait_for_function(
                    "text => document.querySelector('#problem-status').textContent !== text"
                    " || document.querySelector('#upload-errors li') !== null", arg=before)
                errors = page.locator("#upload-errors li").all_text_contents()
                if errors:
                    raise SystemExit(f"the page refused {input_id}: {errors[:5]}")
            page.locator(f"button.open-plan[data-id='{plan_id}']").click()
            page.wait_for_selector("body[data-plan='shown']")
            # a block body: setView returns the map, which the page cannot hand back
            page.evaluate("([lat, lon, zoom]) => {"
                          " window.__screenshotMap.setView([lat, lon], zoom, {animate: false}); }",
                          [centre[1], centre[0], zoom])
            page.wait_for_selector("path.network-line")
            page.wait_for_timeout(2000)  # let Leaflet redraw the vector layers at the new view
            out.parent.mkdir(parents=True, exist_ok=True)
            png = page.screenshot()
        finally:
            browser.close()
    save_palette_png(png, out)


def save_palette_png(png: bytes, out: Path) -> None:
    """Save a screenshot with a 256-colour palette: a map of a few flat colours looks the same
    and takes a third of the bytes in the repository."""
    from PIL import Image

    with Image.open(io.BytesIO(png)) as image:
        image.convert("RGB").quantize(256).save(out, optimize=True)


def _figures(summary: dict[str, Any]) -> str:
    """A plan summary's distance (km) and duration (h), as printed."""
    return f"{summary['distance_m'] / METRES_PER_KM:.1f} km, {summary['duration_s'] / SECONDS_PER_HOUR:.2f} h"


def _point(text: str) -> tuple[float, float]:
    """``LON,LAT`` as a pair of floats."""
    lon, lat = (float(part) for part in text.split(","))
    return lon, lat


def main() -> None:
    """Start the service, store the plan, take the screenshot."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--problem", type=Path, required=True, help="optimisation request body (JSON)")
    parser.add_argument("--plan", type=Path, required=True, help="its answer (JSON), as the API returns it")
    parser.add_argument("--out", type=Path, required=True, help="PNG to write")
    parser.add_argument("--network", type=Path, default=RUTLAND)
    parser.add_argument("--centre", type=_point, default=OAKHAM_CENTRE, help="LON,LAT of the view's centre")
    parser.add_argument("--zoom", type=int, default=15)
    parser.add_argument("--width", type=int, default=1400)
    parser.add_argument("--height", type=int, default=900)
    parser.add_argument("--tile-url", default=None, help="tile URL template; default: none reachable")
    args = parser.parse_args()
    problem = json.loads(args.problem.read_text(encoding="utf-8"))
    plan = json.loads(args.plan.read_text(encoding="utf-8"))
    with tempfile.TemporaryDirectory(prefix="screenshot-plan-") as data_dir:
        service = Service(args.network, cache_dir=CACHE_DIR, data_dir=Path(data_dir), max_time_limit_s=600)
        tile_url = args.tile_url or f"http://127.0.0.1:{free_port()}/tiles/{{z}}/{{x}}/{{y}}.png"
        service.env.update({"WASTEROUTE_TILE_URL": tile_url,
                            "WASTEROUTE_MAX_SYNC_BINS": str(max(1000, len(problem["bins"])))})
        with service:
            stored = store_plan(service, problem, plan)
            print(f"stored plan {stored['id']}: {_figures(stored['summary'])} (the plan: {_figures(plan['summary'])})")
            screenshot(service.base, upload_files(problem), str(stored["id"]), args.out, centre=args.centre,
                       zoom=args.zoom, size=(args.width, args.height))
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
