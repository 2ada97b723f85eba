"""A picture of one day of a round review on the map (docs/images/week-day.png), taken in the map itself.

Usage::

    # a review on a running service (the lead's larger review, say): its busiest day, or the day named
    .venv/bin/python scripts/screenshot_week_day.py --server http://127.0.0.1:8000 --review REVIEW_ID \\
        [--day tue-A] [--api-key KEY] [--out docs/images/week-day.png]

    # no service at hand: the map's week test makes a small fortnight on the Monaco network,
    # reviews it and pictures its busiest day
    .venv/bin/python scripts/screenshot_week_day.py [--out docs/images/week-day.png]

With ``--server`` the map is opened in Debian's headless Chromium at ``SERVER/?review=ID&day=DAY``
(the address the map itself keeps for a day shown: js/week.js), with the API key (``--api-key``, else
``WASTEROUTE_API_KEY``) in the tab's storage as a planner types it; the page draws that day's rounds
with their areas, and the side panel is scrolled to the week's selector and summary. Requests to any
other host than the service are refused, so tiles a sandbox cannot reach do not stall the picture
(the map then draws the road network from the service). It prints the seconds from opening the
page to the day drawn (the review, its letters' CSV and the day's plan fetched and drawn). Without ``--server`` it runs
``tests/web/test_map_week.py``'s review with ``WASTEROUTE_DOCS_IMAGES`` set. Exits non-zero on failure.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import urlencode, urlsplit

REPO = Path(__file__).resolve().parents[1]
TEST = ("tests/web/test_map_week.py::"
        "test_a_fortnight_reviewed_on_the_map_shows_each_days_rounds_areas_summary_and_letters")
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking"]
DAY_SHOWN_TIMEOUT_MS = 600_000
"""A district's day is thousands of stops: its plan takes a while to fetch and draw."""
SCROLL_TO_WEEK_JS = "document.querySelector('#week-meta').scrollIntoView({block: 'start'})"


def from_server(base: str, review: str, day: str | None, key: str, out: Path, size: tuple[int, int]) -> None:
    """Open the map at ``base`` on ``review`` (and ``day``, "tue-A"; else its busiest day), wait until the
    day's rounds are drawn, and save the window's picture (``size``: width, height in pixels) to ``out``."""
    from playwright.sync_api import Route, sync_playwright

    origin = urlsplit(base)
    query = {"review": review, **({"day": day} if day else {})}

    def same_service(route: Route) -> None:
        """Let the service's own requests (and data/blob URLs) through; refuse the rest (tiles, fonts)."""
        url = urlsplit(route.request.url)
        if url.scheme in ("data", "blob") or (url.scheme, url.netloc) == (origin.scheme, origin.netloc):
            route.continue_()
        else:
            route.abort()

    with sync_playwright() as driver:
        browser = driver.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
        context = browser.new_context(viewport={"width": size[0], "height": size[1]})
        if key:
            context.add_init_script(f"sessionStorage.setItem('wasteroute.apiKey', {json.dumps(key)})")
        page = context.new_page()
        page.route("**/*", same_service)
        started = time.perf_counter()
        page.goto(f"{base.rstrip('/')}/?{urlencode(query)}")
        page.wait_for_selector("body[data-ready='true']", timeout=DAY_SHOWN_TIMEOUT_MS)
        errors = page.locator("#review-errors li")
        if errors.count():
            raise SystemExit(f"the map could not open review {review}: {page.locator('#review-errors').inner_text()}")
        page.wait_for_selector("body[data-week]", timeout=DAY_SHOWN_TIMEOUT_MS)
        seconds = time.perf_counter() - started
        page.evaluate(SCROLL_TO_WEEK_JS)
        out.parent.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(out))
        shown = page.evaluate("document.body.dataset.week")
        browser.close()
    print(f"wrote {out} ({shown} of review {review}; page opened to the day drawn in {seconds:.1f} s)")


def main() -> None:
    """Take the picture from a running service, or through the map's week test."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--server", help="base URL of a running service (with --review)")
    parser.add_argument("--review", help="id of a succeeded round review on that service")
    parser.add_argument("--day", help='the day and week to show, "tue-A" (default: the busiest day)')
    parser.add_argument("--api-key", default=os.environ.get("WASTEROUTE_API_KEY", ""),
                        help="API key of the review's tenant (default: $WASTEROUTE_API_KEY)")
    parser.add_argument("--out", type=Path, default=REPO / "docs" / "images" / "week-day.png")
    parser.add_argument("--width", type=int, default=1400)
    parser.add_argument("--height", type=int, default=900)
    args = parser.parse_args()
    if args.server:
        if not args.review:
            parser.error("--server needs --review (the id of a succeeded review)")
        from_server(args.server, args.review, args.day, args.api_key, args.out, (args.width, args.height))
        return
    with tempfile.TemporaryDirectory() as pictures:
        env = {**os.environ, "WASTEROUTE_DOCS_IMAGES": pictures}
        done = subprocess.run([sys.executable, "-m", "pytest", TEST, "-x", "-q"], cwd=REPO, env=env, check=False)
        if done.returncode == 0:
            args.out.parent.mkdir(parents=True, exist_ok=True)
            shutil.copyfile(Path(pictures) / "week-day.png", args.out)
            print(f"wrote {args.out}")
    sys.exit(done.returncode)


if __name__ == "__main__":
    main()
