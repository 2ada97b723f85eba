"""Pictures of the county case's savings report and first round book page, taken in the map's own flow.

Usage::

    .venv/bin/python scripts/screenshot_county_case.py [--out docs/images]

Runs the Chromium test of the county case on Rutland in British National Grid
(``tests/web/test_county_case_rutland.py``: a service started on ``../shared``'s Rutland extract,
300 Oakham households uploaded from a gazetteer export, today's round stored, optimised, approved,
round books and report opened from the plan, with Debian's Chromium) with
``WASTEROUTE_DOCS_IMAGES`` set, so the pictures it takes of the report's tab (full page, 1200 px
wide) and of the round book's tab (print styles, one A4 page) are written to ``--out`` as
``county-report.png`` and ``county-round-book.png``. ``--monaco`` takes them from the case on the
embedded Monaco network instead (``tests/web/test_county_case.py``, which needs no ``../shared``).
The pictures are the pages a planner opens, not a rendering made for the documentation. Exits with
pytest's status, or 1 when the test was skipped and wrote nothing (the Rutland test without
``../shared``).
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
TEST = "tests/web/test_county_case_rutland.py"
MONACO_TEST = "tests/web/test_county_case.py"


def main() -> None:
    """Run the county case's browser test, its pictures going to ``--out``."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=REPO / "docs" / "images")
    parser.add_argument("--monaco", action="store_true", help="the case on the embedded Monaco network")
    args = parser.parse_args()
    env = {**os.environ, "WASTEROUTE_DOCS_IMAGES": str(args.out.resolve())}
    started = time.time()
    done = subprocess.run([sys.executable, "-m", "pytest", MONACO_TEST if args.monaco else TEST, "-x", "-q", "-rs"],
                          cwd=REPO, env=env, check=False)
    pictures = [args.out / "county-report.png", args.out / "county-round-book.png"]
    written = all(p.is_file() and p.stat().st_mtime >= started for p in pictures)
    if done.returncode == 0 and not written:  # a skipped test passes and takes no picture
        print("no picture written: the test was skipped (see the reason above)", file=sys.stderr)
        sys.exit(1)
    if done.returncode == 0:
        print(f"wrote {pictures[0]} and {pictures[1]}")
    sys.exit(done.returncode)


if __name__ == "__main__":
    main()
