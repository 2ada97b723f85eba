"""Round books as printed: the HTML printed to PDF by headless Chromium (as a crew's browser would
print it) starts each round on a new page; the map fits its box and keeps its numbers apart."""

from __future__ import annotations

import io
import math
from typing import Any

import pytest
from fastapi.testclient import TestClient
from pypdf import PdfReader

from app.reports.screenshot import CHROMIUM, CHROMIUM_ARGS
from app.schemas import OptimisationResponse
from app.services.round_book import build_round_book, round_ids
from app.services.round_book_render import LABEL_SPACING, MAP_HEIGHT, MAP_WIDTH, map_drawing, to_html


@pytest.fixture(scope="module")
def books(client: TestClient, make_problem: Any) -> list[Any]:
    """The round books of a real optimisation of the small Monaco problem (two rounds)."""
    answer = client.post("/api/v1/optimisations", json=make_problem())
    assert answer.status_code == 200, answer.text
    plan = OptimisationResponse.model_validate(answer.json())
    network = client.app.state.network_registry.get()  # type: ignore[attr-defined]
    return [build_round_book(plan, r, network) for r in round_ids(plan)]


def test_map_fits_its_box_and_keeps_numbers_apart(books: list[Any]) -> None:
    """Every drawn point lies inside the map's box; no two street numbers closer than the spacing."""
    for book in books:
        drawing = map_drawing(book)
        points = drawing.line + [(x, y) for x, y, _ in drawing.stops]
        assert points and all(0 <= x <= MAP_WIDTH and 0 <= y <= MAP_HEIGHT for x, y in points)
        labels = drawing.labels
        assert all(math.hypot(a[0] - b[0], a[1] - b[1]) >= LABEL_SPACING
                   for i, a in enumerate(labels) for b in labels[i + 1:])


@pytest.mark.spawns
def test_printed_html_starts_each_round_on_a_new_page(books: list[Any]) -> None:
    """Chromium prints the HTML (A4, print styles) with each round's heading at the top of a page."""
    from playwright.sync_api import sync_playwright

    assert len(books) >= 2
    with sync_playwright() as driver:
        browser = driver.chromium.launch(executable_path=CHROMIUM, args=list(CHROMIUM_ARGS))
        try:
            page = browser.new_page()
            page.set_content(to_html(books, title="Monaco"), wait_until="load")
            printed = page.pdf(format="A4")
        finally:
            browser.close()
    pages = [p.extract_text() or "" for p in PdfReader(io.BytesIO(printed)).pages]
    starts = [i for i, text in enumerate(pages) if text.lstrip().startswith("Round ")]
    assert len(starts) == len(books) and starts[0] == 0
    assert [pages[i].lstrip().split()[1] for i in starts] == [b.round_id for b in books]
