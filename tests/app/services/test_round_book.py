"""Round books of real plans on a hand-made network of named streets (the square of
tests/solver/test_directions.py): a person's plan stored and evaluated by the started app, then
its book built street by street, with numbers and ranges from the bins' addresses, counts,
assisted collections, the tip and the break, and directions; served as HTML and as a PDF."""

from __future__ import annotations

import copy
import io
from typing import Any

import pytest
from fastapi.testclient import TestClient
from pypdf import PdfReader

from app.schemas import OptimisationResponse
from app.services.addresses import bin_details, parse_address, problem_bins
from app.services.round_book import build_round_book, number_range, round_ids, street_title
from app.services.round_book_render import to_pdf
from solver.directions import UNNAMED

from .conftest import CHURCH, MILL, PARK

ADDRESSES = {"c0": "2 Church Lane, Tinytown", "c1": "4 Church Lane", "c2": "6A Church Lane",
             "c3": "Flat 1, 8 Church Lane", "m0": "1 Mill Lane", "m1": "3 Mill Lane", "m2": "5 Mill Lane"}
"""Addresses as a gazetteer gives them; Park Road's bins have none (their street comes from the map)."""


def gazetteer_bins() -> dict[str, Any]:
    """The bins' details as a stored gazetteer upload would give them: addresses, one assisted."""
    bins = [{"id": b, "address": ADDRESSES[b]} if b in ADDRESSES else {"id": b} for b, _, _ in CHURCH + PARK + MILL]
    bins[1]["attributes"] = {"ASSISTED": "Y", "UPRN": "100012345"}
    return problem_bins({"bins": bins})


def test_addresses_give_house_numbers_and_streets() -> None:
    """The number and street are read from an address line (a house name has neither), or from a
    gazetteer's own columns kept as attributes."""
    assert parse_address("12A Burley Road, Oakham") == ("12A", "Burley Road")
    assert parse_address("Flat 2, 14 Mill Lane") == ("14", "Mill Lane")
    assert parse_address("Rose Cottage, Burley Road") == (None, None)
    details = bin_details({"id": "b", "address": "3 Mill Lane", "attributes": {"Assisted": "yes", "BIN_SIZE": "240L"}})
    assert (details.house_number, details.street, details.assisted, details.bin_size_l) == ("3", "Mill Lane", True,
                                                                                            240.0)
    gazetteer = bin_details({"id": "b", "attributes": {"PAO_START_NUMBER": 7, "STREET_DESCRIPTION": "Burley Road"}})
    assert (gazetteer.house_number, gazetteer.street, gazetteer.address) == ("7", "Burley Road", None)
    geojson = bin_details({"id": "b", "properties": {"Street": "Mill Lane", "Assisted": 1}})
    assert (geojson.street, geojson.assisted) == ("Mill Lane", True)


def test_ranges_say_the_side_of_the_street() -> None:
    """Even numbers only, odd only, both sides, one number, none."""
    assert number_range(["2", "4", "48"]) == "2-48 even"
    assert number_range(["1", "3", "47"]) == "1-47 odd"
    assert number_range(["3", "20"]) == "3-20"
    assert number_range(["12A"]) == "12A"
    assert number_range([None, None]) == ""
    assert street_title("Burley Road", ["2"] * 22 + ["48"]) == "Burley Road 2-48 even, 23 bins"
    assert street_title("Park Road", [None]) == "Park Road, 1 bin"


def test_round_book_reads_street_by_street_with_directions(square_client: TestClient,
                                                           stored: dict[str, Any]) -> None:
    """In driving order: leave the depot, Church Lane's even numbers (left off High Street), Park Road
    (right, named from the map), Mill Lane's odd numbers (right) split by the break, the tip, back."""
    plan = OptimisationResponse.model_validate(stored)
    network = square_client.app.state.network_registry.get()  # type: ignore[attr-defined]
    book = build_round_book(plan, "rcv-1", network, gazetteer_bins())
    titles = [e.title for e in book.entries]
    assert titles == ["Leave depot yard", "Church Lane 2-8 even, 4 bins", "Park Road, 2 bins", "Mill Lane 1, 1 bin",
                      "Break (30 min)", "Mill Lane 3-5 odd, 2 bins", "Tip at tip (High Street)", "Back at depot yard"]
    by_title = {e.title: e for e in book.entries}
    assert by_title["Church Lane 2-8 even, 4 bins"].directions == ("left onto Church Lane",)
    assert by_title["Church Lane 2-8 even, 4 bins"].assisted == ("4",)
    assert by_title["Park Road, 2 bins"].directions == ("right onto Park Road",)
    assert by_title["Mill Lane 1, 1 bin"].directions == ("right onto Mill Lane",)
    assert by_title["Tip at tip (High Street)"].directions == ("left onto High Street",)
    assert by_title["Mill Lane 3-5 odd, 2 bins"].directions == ()
    assert by_title["Back at depot yard"].directions == ("turn round on High Street",)
    times = [e.arrival for e in book.entries]
    assert times == sorted(times)


def test_round_book_without_addresses_names_streets_from_the_map(square_client: TestClient,
                                                                 stored: dict[str, Any]) -> None:
    """Without any bin detail every street comes from the OSM edge the stop lies on."""
    plan = OptimisationResponse.model_validate(stored)
    network = square_client.app.state.network_registry.get()  # type: ignore[attr-defined]
    streets = [e.title for e in build_round_book(plan, "rcv-1", network).entries if e.kind == "street"]
    assert streets == ["Church Lane, 4 bins", "Park Road, 2 bins", "Mill Lane, 1 bin", "Mill Lane, 2 bins"]


def test_round_book_is_served_as_printable_html(square_client: TestClient, stored: dict[str, Any]) -> None:
    """HTML with print styles, the map drawn from the route (an SVG line) with the attribution."""
    answer = square_client.get(f"/api/v1/plans/{stored['id']}/book")
    assert answer.status_code == 200
    assert answer.headers["content-type"].startswith("text/html")
    html = answer.text
    assert "@media print" in html and "<polyline" in html and "© OpenStreetMap contributors" in html
    assert html.index("Church Lane, 4 bins") < html.index("Park Road, 2 bins") < html.index("Mill Lane, 2 bins")
    assert "left onto Church Lane" in html


def test_round_book_pdf_is_a_pdf_with_the_rounds_streets(square_client: TestClient, stored: dict[str, Any]) -> None:
    """format=pdf is a PDF whose text holds the round's streets in driving order and the attribution."""
    answer = square_client.get(f"/api/v1/plans/{stored['id']}/book", params={"format": "pdf", "round": "rcv-1"})
    assert answer.status_code == 200
    assert answer.headers["content-type"] == "application/pdf"
    assert answer.content.startswith(b"%PDF-")
    assert f'round-book-{stored["id"]}-rcv-1.pdf' in answer.headers["content-disposition"]
    text = " ".join(page.extract_text() for page in PdfReader(io.BytesIO(answer.content)).pages)
    assert "Round rcv-1" in text and "OpenStreetMap contributors" in text
    assert text.index("Church Lane, 4 bins") < text.index("Park Road, 2 bins") < text.index("Mill Lane, 2 bins")
    assert "right onto Park Road" in text


@pytest.mark.parametrize("params, detail", [({"round": "no-such-rcv"}, "no-such-rcv")])
def test_round_book_of_an_unknown_round_or_plan_is_404(square_client: TestClient, stored: dict[str, Any],
                                                       params: dict[str, str], detail: str) -> None:
    """A round the plan lacks, or a plan that does not exist, answers 404 naming it."""
    answer = square_client.get(f"/api/v1/plans/{stored['id']}/book", params=params)
    assert answer.status_code == 404 and detail in answer.json()["detail"]
    missing = square_client.get("/api/v1/plans/nope/book")
    assert missing.status_code == 404 and "nope" in missing.json()["detail"]


def test_round_book_format_is_checked(square_client: TestClient, stored: dict[str, Any]) -> None:
    """An unknown format is a 422 naming the field."""
    answer = square_client.get(f"/api/v1/plans/{stored['id']}/book", params={"format": "docx"})
    assert answer.status_code == 422 and "format" in str(answer.json())




def test_round_books_of_an_optimised_monaco_plan_cover_every_bin(client: TestClient, make_problem: Any) -> None:
    """A real optimisation on the Monaco network: each round's street entries lift exactly its bins, in
    time order, every street named from OSM, and the PDF of all rounds names them."""
    answer = client.post("/api/v1/optimisations", json=make_problem())
    assert answer.status_code == 200, answer.text
    plan = OptimisationResponse.model_validate(answer.json())
    network = client.app.state.network_registry.get()  # type: ignore[attr-defined]
    books = [build_round_book(plan, r, network) for r in round_ids(plan)]
    assert books
    for book in books:
        streets = [e for e in book.entries if e.kind == "street"]
        assert sum(e.bins for e in streets) == book.bins
        assert all(e.street and e.street != UNNAMED for e in streets)
        assert [e.first_sequence for e in book.entries] == sorted(e.first_sequence for e in book.entries)
        assert book.entries[0].kind == book.entries[-1].kind == "depot"
    text = " ".join(p.extract_text() for p in PdfReader(io.BytesIO(to_pdf(books, title="Monaco"))).pages)
    assert all(f"Round {b.round_id}" in text for b in books)
    assert all(e.title.split(",")[0] in text for b in books for e in b.entries if e.kind == "street")


def test_round_book_of_a_posted_plan(square_client: TestClient, stored: dict[str, Any]) -> None:
    """POST /api/v1/round-books makes the books of a plan not stored, its streets named from the map;
    a round it lacks is 404, a body that is no plan 422."""
    plan = {k: v for k, v in stored.items() if k in ("type", "features", "summary", "unassigned", "attribution")}
    html = square_client.post("/api/v1/round-books", json=plan)
    assert html.status_code == 200 and html.headers["content-type"].startswith("text/html")
    assert html.text.index("Church Lane, 4 bins") < html.text.index("Park Road, 2 bins")
    pdf = square_client.post("/api/v1/round-books", params={"format": "pdf", "round": "rcv-1"}, json=plan)
    assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF-")
    assert 'filename="round-book-rcv-1.pdf"' in pdf.headers["content-disposition"]
    assert "Mill Lane, 2 bins" in " ".join(p.extract_text() for p in PdfReader(io.BytesIO(pdf.content)).pages)
    missing = square_client.post("/api/v1/round-books", params={"round": "rcv-9"}, json=plan)
    assert missing.status_code == 404 and "rcv-9" in missing.json()["detail"]
    assert square_client.post("/api/v1/round-books", json={"type": "FeatureCollection"}).status_code == 422


@pytest.mark.parametrize("fmt", ["html", "pdf"])
def test_a_posted_plan_with_positions_off_the_globe_is_a_422_naming_the_feature(square_client: TestClient,
                                                                              stored: dict[str, Any],
                                                                              fmt: str) -> None:
    """A posted plan whose route line holds a position that is no lon/lat (schemathesis posted 1e308)
    answers 422 naming the feature, never a 500; the same plan with real positions gets its books."""
    plan = {k: v for k, v in stored.items() if k in ("type", "features", "summary", "unassigned", "attribution")}
    assert square_client.post("/api/v1/round-books", params={"format": fmt}, json=plan).status_code == 200
    index = next(k for k, f in enumerate(plan["features"]) if f["properties"].get("kind") == "route")
    broken = copy.deepcopy(plan)
    broken["features"][index]["geometry"]["coordinates"][0] = [1e308, 1e16]
    answer = square_client.post("/api/v1/round-books", params={"format": fmt}, json=broken)
    assert answer.status_code == 422
    (item,) = answer.json()["detail"]
    assert item["loc"] == ["body", "features", index, "geometry", "coordinates"]
