"""An HTML report rendered to PNG in headless Chromium (Playwright), for docs and checks.

Playwright is a development dependency; it is imported only when a picture is taken.
"""

from __future__ import annotations

from pathlib import Path

CHROMIUM = "/usr/bin/chromium"
"""Debian's Chromium (``make system`` installs it)."""

CHROMIUM_ARGS = ("--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
                 "--no-first-run")


def html_to_png(html: str, out: Path, *, width: int = 1200, executable: str = CHROMIUM) -> Path:
    """Render ``html`` (a self-contained page) in headless Chromium and save a full-page PNG to ``out``."""
    from playwright.sync_api import sync_playwright

    out.parent.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=executable, args=list(CHROMIUM_ARGS))
        try:
            page = browser.new_page(viewport={"width": width, "height": 900})
            page.set_content(html, wait_until="load")
            page.screenshot(path=str(out), full_page=True)
        finally:
            browser.close()
    return out
