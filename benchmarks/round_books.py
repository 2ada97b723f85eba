"""How long a plan's round books take, and how much they say: every round's book built (streets
named, directions from the line matched to the network), rendered as HTML and as PDF, and the
run sheet written with streets and each bin's volume. Prints one JSON object; nothing is
asserted; rerun to measure.

    .venv/bin/python benchmarks/round_books.py --plan PLAN.json [--network FILE]

``PLAN.json`` is an optimisation answer (``benchmarks/oakham.py --save-plan`` writes the
Oakham case's); ``--network`` the network it was planned on (default: the shared Rutland extract).
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from app.schemas import OptimisationResponse  # noqa: E402
from app.services import exports  # noqa: E402
from app.services.round_book import build_round_book, round_ids  # noqa: E402
from app.services.round_book_render import to_html, to_pdf  # noqa: E402
from solver.network import load_network  # noqa: E402

RUTLAND = REPO.parent / "shared" / "data" / "osm" / "rutland-latest.osm.pbf"
CACHE_DIR = REPO / "var" / "network-cache"


def main() -> None:
    """Measure the books of every round of ``--plan``."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--plan", type=Path, required=True)
    parser.add_argument("--network", type=Path, default=RUTLAND)
    args = parser.parse_args()
    network = load_network(args.network, cache_dir=CACHE_DIR)
    plan = OptimisationResponse.model_validate_json(args.plan.read_text(encoding="utf-8"))

    started = time.perf_counter()
    books = [build_round_book(plan, r, network) for r in round_ids(plan)]
    build_s = time.perf_counter() - started
    started = time.perf_counter()
    html = to_html(books, title=args.plan.name)
    html_s = time.perf_counter() - started
    started = time.perf_counter()
    pdf = to_pdf(books, title=args.plan.name)
    pdf_s = time.perf_counter() - started
    started = time.perf_counter()
    sheet = exports.to_run_sheets(plan, names=exports.stop_names(plan, network))
    sheet_s = time.perf_counter() - started
    rows = list(csv.DictReader(io.StringIO(sheet)))
    print(json.dumps({
        "rounds": len(books), "bins": sum(b.bins for b in books),
        "entries": sum(len(b.entries) for b in books),
        "street_entries": sum(1 for b in books for e in b.entries if e.kind == "street"),
        "directions": sum(len(e.directions) for b in books for e in b.entries),
        "build_s": round(build_s, 2), "html_s": round(html_s, 2), "html_mb": round(len(html) / 1e6, 2),
        "pdf_s": round(pdf_s, 2), "pdf_mb": round(len(pdf) / 1e6, 2), "run_sheet_s": round(sheet_s, 2),
        "stops_without_street": sum(1 for r in rows if not r["street"]),
        "max_load_l": max(float(r["load_l"]) for r in rows),
        "sum_volume_l": round(sum(float(r["volume_l"]) for r in rows), 1),
    }))


if __name__ == "__main__":
    main()
