"""Round books of real plans on a hand-made network of named streets (the square of
tests/solver/test_directions.py): a person's plan stored and evaluated by the started app, then
its book built street by street, with numbers and ranges from the bins' addresses, counts,
assisted collections, the tip and the break, and directions; served as HTML and as a PDF."""

from __future__ import annotations

import io
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from pypdf import PdfReader

from app.core.config import Settings
from app.main import create_app
from app.schemas import OptimisationResponse
from app.services.addresses import bin_details, parse_address, problem_bins
from app.services.round_book import build_round_book, number_range, street_title

from ...solver.test_directions import write_square

LAT_STEP = 0.001
"""Degrees between the square's rows (~111 m)."""

#: bins up Church Lane (lon 9.001, northwards), along Park Road (lat 0.001, eastwards) and down
#: Mill Lane (lon 9.002, southwards), each 3 m off its street's west or south side.
CHURCH = [(f"c{i}", 9.001 - 0.00003, 0.0002 + 0.0002 * i) for i in range(4)]
PARK = [(f"p{i}", 9.0013 + 0.0002 * i, 0.001 + 0.00003) for i in range(2)]
MILL = [(f"m{i}", 9.002 + 0.00003, 0.0008 - 0.0002 * i) for i in range(3)]
ADDRESSES = {"c0": "2 Church Lane, Tinytown", "c1": "4 Church Lane", "c2": "6A Church Lane",
             "c3": "Flat 1, 8 Church Lane", "m0": "1 Mill Lane", "m1": "3 Mill Lane", "m2": "5 Mill Lane"}
"""Addresses as a gazetteer gives them; Park Road's bins have none (their street comes from the map)."""


def problem() -> dict[str, Any]:
    """One lorry from a depot at the west end of High Street; a tip at its east end; a break."""
    return {
        "depots": [{"id": "yard", "lon": 9.0002, "lat": -0.00003}],
        "disposal_sites": [{"id": "tip", "lon": 9.0028, "lat": -0.00003, "unload_s": 600}],
        "vehicles": [{"id": "rcv-1", "depot": "yard", "capacity_kg": 5000,
                      "break": {"duration_s": 1800, "window": ["06:00", "14:00"]}}],
        "bins": [{"id": b, "lon": lon, "lat": lat, "demand_kg": 10, "volume_l": 240}
                 for b, lon, lat in CHURCH + PARK + MILL],
    }


ROUTE = [b for b, _, _ in CHURCH + PARK + MILL[:1]] + ["break"] + [b for b, _, _ in MILL[1:]] + ["tip"]
"""Clockwise round the block: Church Lane, Park Road, Mill Lane (the break on it), then the tip."""


@pytest.fixture(scope="module")
def square_client(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    """A started app planning on the square."""
    folder = tmp_path_factory.mktemp("square-app")
    settings = Settings(network_file=write_square(folder / "square.osm"), data_dir=folder,
                        cache_dir=folder / "cache", snap_limit_m=50, auth_required=False)
    with TestClient(create_app(settings)) as client:
        yield client


@pytest.fixture(scope="module")
def stored(square_client: TestClient) -> dict[str, Any]:
    """The person's plan :data:`ROUTE`, stored (and so evaluated) by the app."""
    answer = square_client.post("/api/v1/plans", json={**problem(), "routes": [{"vehicle_id": "rcv-1",
                                                                                 "stops": ROUTE}]})
    assert answer.status_code == 201, answer.text
    body: dict[str, Any] = answer.json()
    assert body["summary"]["bins_served"] == len(CHURCH + PARK + MILL)
    return body


def gazetteer_bins() -> dict[str, Any]:
    """The bins' details as a stored gazetteer upload would give them: addresses, one assisted."""
    bins = [{"id": b, "address": ADDRESSES[b]} if b in ADDRESSES else {"id": b} for b, _, _ in CHURCH + PARK + MILL]
    bins[1]["attributes"] = {"ASSISTED": "Y", "UPRN": "100012345"}
    return problem_bins({"bins": bins})


def test_addresses_give_house_numbers_and_streets() -> None:
    """The number and street are read from an address line; a house name has neither."""
    assert parse_address("12A Burley Road, Oakham") == ("12A", "Burley Road")
    assert parse_address("Flat 2, 14 Mill Lane") == ("14", "Mill Lane")
    assert parse_address("Rose Cottage, Burley Road") == (None, None)
    details = bin_details({"id": "b", "address": "3 Mill Lane", "attributes": {"Assisted": "yes", "BIN_SIZE": "240L"}})
    assert (details.house_number, details.street, details.assisted, details.bin_size_l) == ("3", "Mill Lane", True,
                                                                                            240.0)


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


