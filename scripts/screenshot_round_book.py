"""Screenshot the first printed page of a round book, in headless Chromium.

Usage::

    .venv/bin/python scripts/screenshot_round_book.py --plan PLAN.json --round rcv-1
        --out docs/images/round-book-oakham.png [--network FILE] [--title TEXT]

``PLAN.json`` is an optimisation answer (as ``benchmarks/oakham.py --save-plan`` writes it).
The round book is built by the service's own code (:mod:`app.services.round_book`, streets
named from ``--network``, the network the plan was made on) and rendered as the API serves
it; Chromium (Debian's, as the browser tests use it) shows it with the print styles on, at
the width of an A4 page, and the top of the page (one A4 page's height) is saved as a PNG.
Prints how long the book took to build and how many entries and directions it holds.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from app.reports.screenshot import CHROMIUM, CHROMIUM_ARGS  # noqa: E402
from app.schemas import OptimisationResponse  # noqa: E402
from app.services.round_book import build_round_book  # noqa: E402
from app.services.round_book_render import to_html  # noqa: E402
from solver.network import load_network  # noqa: E402

RUTLAND = REPO.parent / "shared" / "data" / "osm" / "rutland-latest.osm.pbf"
CACHE_DIR = REPO / "var" / "network-cache"
A4_WIDTH_PX, A4_HEIGHT_PX = 794, 1123
"""An A4 page at CSS's 96 pixels per inch."""


def main() -> None:
    """Build the round's book, render it and save the first page's picture."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--plan", type=Path, required=True)
    parser.add_argument("--round", required=True, help="the round (vehicle id)")
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--network", type=Path, default=RUTLAND)
    parser.add_argument("--title", default="Oakham case (issue 15), optimised plan")
    args = parser.parse_args()

    network = load_network(args.network, cache_dir=CACHE_DIR)
    plan = OptimisationResponse.model_validate_json(args.plan.read_text(encoding="utf-8"))
    started = time.perf_counter()
    book = build_round_book(plan, args.round, network)
    built_s = time.perf_counter() - started
    html = to_html([book], title=args.title)
    print(f"round {book.round_id}: {book.bins} bins, {len(book.entries)} entries, "
          f"{sum(len(e.directions) for e in book.entries)} directions, built in {built_s:.2f} s")

    from playwright.sync_api import sync_playwright

    args.out.parent.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as driver:
        browser = driver.chromium.launch(executable_path=CHROMIUM, headless=True, args=list(CHROMIUM_ARGS))
        try:
            page = browser.new_page(viewport={"width": A4_WIDTH_PX, "height": A4_HEIGHT_PX})
            page.emulate_media(media="print")
            page.set_content(html, wait_until="load")
            page.screenshot(path=str(args.out), full_page=False)
        finally:
            browser.close()
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
