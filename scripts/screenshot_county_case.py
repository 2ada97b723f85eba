"""Pictures of the county case's savings report and first round book page, taken in the map's own flow.

Usage::

    .venv/bin/python scripts/screenshot_county_case.py [--out docs/images]

Runs the Chromium test of the county case (``tests/web/test_county_case.py``: uploads, today's
rounds stored, optimised, approved, round books and report opened from the plan, on a served app
with Debian's Chromium) with ``WASTEROUTE_DOCS_IMAGES`` set, so the pictures it takes of the
report's tab (full page, 1200 px wide) and of the round book's tab (print styles, one A4 page) are
written to ``--out`` as ``county-report.png`` and ``county-round-book.png``. The pictures are the
pages a planner opens, not a rendering made for the documentation. Exits with pytest's status.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
TEST = "tests/web/test_county_case.py"


def main() -> None:
    """Run the county case's browser test, its pictures going to ``--out``."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, default=REPO / "docs" / "images")
    args = parser.parse_args()
    env = {**os.environ, "WASTEROUTE_DOCS_IMAGES": str(args.out.resolve())}
    done = subprocess.run([sys.executable, "-m", "pytest", TEST, "-x", "-q"],
                          cwd=REPO, env=env, check=False)
    if done.returncode == 0:
        print(f"wrote {args.out / 'county-report.png'} and {args.out / 'county-round-book.png'}")
    sys.exit(done.returncode)


if __name__ == "__main__":
    main()
