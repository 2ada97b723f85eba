"""A council's own files through the map, in real headless Chromium against a real server: a
gazetteer in British National Grid is drawn with its addresses, and today's rounds naming a bin
the gazetteer does not have are refused with the row named."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import Page

pytestmark = [pytest.mark.slow, pytest.mark.spawns]

GAZETTEER = (b"UPRN,ADDRESS,EASTING,NORTHING,BIN_SIZE,STREAM,ASSISTED,WARD\n"
             b"100030001,\"2 Burley Road, Oakham\",486101.2,308945.7,240,Residual,Y,Oakham North\n"
             b"100030002,\"4 Burley Road, Oakham\",486121.9,308951.3,240,Residual,N,Oakham North\n"
             b"100030003,\"6 Burley Road, Oakham\",486140.0,308957.0,1100,Residual,N,Oakham North\n")


def open_map(page: Page, server: Any) -> None:
    """Open the map and wait until it has started (demo problem loaded)."""
    page.goto(f"{server.base}/")
    page.wait_for_selector("body[data-ready='true']")


def test_gazetteer_in_british_national_grid_is_drawn_with_its_addresses(page: Page, server: Any) -> None:
    """Eastings and northings land in Oakham (lon about -0.73, lat 52.67); a bin's tooltip gives its
    address, size and that it is an assisted collection; the ward column travels with the bin."""
    open_map(page, server)
    page.set_input_files("#bins-file", files=[{"name": "gazetteer.csv", "mimeType": "text/csv",
                                               "buffer": GAZETTEER}])
    page.wait_for_function("document.querySelectorAll('path.bin-dot').length === 3")
    bins: list[dict[str, Any]] = page.evaluate("window.wasteroute.state.problem.bins")
    assert all(-0.75 < b["lon"] < -0.70 and 52.65 < b["lat"] < 52.69 for b in bins)
    assert bins[0]["attributes"]["WARD"] == "Oakham North" and bins[2]["volume_l"] == 1100
    page.locator("path.bin-dot").first.hover()
    tooltip = page.locator(".leaflet-tooltip").first
    tooltip.wait_for()
    assert tooltip.inner_text() == "Bin 100030001, 2 Burley Road, Oakham, 17 kg, 240 L, assisted"


def test_todays_rounds_naming_a_bin_not_uploaded_are_refused(page: Page, server: Any) -> None:
    """A rounds file whose stop is not one of the map's bins is refused, naming the row; nothing is drawn."""
    open_map(page, server)
    first_bin = page.evaluate("window.wasteroute.state.problem.bins[0].id")
    content = f"ROUND,SEQUENCE,UPRN\nrcv-1,1,{first_bin}\nrcv-1,2,999999999\n".encode()
    page.set_input_files("#rounds-file", files=[{"name": "today.csv", "mimeType": "text/csv", "buffer": content}])
    errors = page.locator("#compare-errors")
    errors.get_by_text("row 3").wait_for()
    assert "'999999999' is not a bin of the gazetteer" in errors.inner_text()
    assert page.evaluate("window.wasteroute.state.baseline") is None


def test_councils_bins_over_the_demo_need_the_councils_depot(page: Page, server: Any) -> None:
    """Bins uploaded in Oakham over the Monaco demo: the demo's depot blocks optimising with a message
    (and a tip in Monaco is left out with a notice); the council's fleet list with its depot in
    eastings/northings replaces the demo's and optimising is possible again."""
    open_map(page, server)
    tips = b"id,lon,lat\ntip-monaco,7.4186,43.7318\n"
    page.set_input_files("#sites-file", files=[{"name": "tips.csv", "mimeType": "text/csv", "buffer": tips}])
    page.wait_for_function("(window.wasteroute.state.problem.disposal_sites || []).length === 1")
    page.set_input_files("#bins-file", files=[{"name": "gazetteer.csv", "mimeType": "text/csv",
                                               "buffer": GAZETTEER}])
    errors = page.locator("#upload-errors")
    errors.get_by_text("Depot depot is").wait_for()
    assert "km from the nearest bin: upload your vehicles" in errors.inner_text()
    assert "left out (upload your tips)" in errors.inner_text()
    assert page.locator("#optimise").is_disabled()
    assert page.evaluate("window.wasteroute.state.problem.disposal_sites") == []
    fleet = b"id,depot,capacity_kg,depot_easting,depot_northing\nrcv-1,oakham,10000,486300,309100\n"
    page.set_input_files("#vehicles-file", files=[{"name": "fleet.csv", "mimeType": "text/csv", "buffer": fleet}])
    page.wait_for_function("window.wasteroute.state.problem.vehicles.length === 1")
    assert [d["id"] for d in page.evaluate("window.wasteroute.state.problem.depots")] == ["oakham"]
    assert errors.locator("li").count() == 0 and page.locator("#optimise").is_enabled()


MONACO_BINS_WITH_ADDRESSES = (
    b"Property Ref,Longitude,Latitude,Bin Size,Full Address,Crew Notes\n"
    b"b00001,7.41745,43.73619,240,1 Rue Grimaldi,behind the gate\nb00002,7.41595,43.73639,240,3 Rue Grimaldi,\n"
    b"b00003,7.41670,43.73362,240,5 Rue Grimaldi,\nb00004,7.41847,43.73464,240,7 Rue Grimaldi,\n")
"""Four bins by the streets of Monaco, with the address and notes a council's file gives."""


def test_a_bins_address_and_notes_are_in_its_stop_popup(page: Page, server: Any) -> None:
    """After optimising bins uploaded with addresses, a bin's popup gives its address and notes."""
    open_map(page, server)
    page.set_input_files("#bins-file", files=[{"name": "bins.csv", "mimeType": "text/csv",
                                               "buffer": MONACO_BINS_WITH_ADDRESSES}])
    page.wait_for_function("window.wasteroute.state.problem.bins.length === 4")
    page.fill("#time-limit", "2")
    page.click("#optimise")
    page.wait_for_selector("body[data-plan='shown']", timeout=120_000)
    page.locator(".stop-marker.optimised[title='b00001']").click()
    popup = page.locator(".leaflet-popup-content")
    popup.wait_for()
    assert "address: 1 Rue Grimaldi" in popup.inner_text() and "notes: behind the gate" in popup.inner_text()


def test_a_weeks_in_cab_export_is_read_for_the_day_chosen(page: Page, server: Any) -> None:
    """An in-cab export of two days is refused until a day is chosen; Monday's rounds are then evaluated."""
    open_map(page, server)
    bins = page.evaluate("window.wasteroute.state.problem.bins.map((b) => b.id)")
    vehicles = page.evaluate("window.wasteroute.state.problem.vehicles.map((v) => v.id)")
    lines = ["ROUND,DAY,WEEK,SEQUENCE,UPRN"]
    lines += [f"{vehicles[0]},MON,1,{i + 1},{bin_id}" for i, bin_id in enumerate(bins[:5])]
    lines += [f"{vehicles[0]},TUE,1,{i + 1},{bin_id}" for i, bin_id in enumerate(bins[5:9])]
    content = ("\n".join(lines) + "\n").encode()
    page.set_input_files("#rounds-file", files=[{"name": "week.csv", "mimeType": "text/csv", "buffer": content}])
    errors = page.locator("#compare-errors")
    errors.get_by_text("choose today's with the day option").wait_for()
    page.select_option("#rounds-day", "Monday")
    page.set_input_files("#rounds-file", files=[{"name": "week.csv", "mimeType": "text/csv", "buffer": content}])
    page.wait_for_selector("#today-table tbody tr")
    baseline = page.evaluate("window.wasteroute.state.baseline")
    served = [f["properties"]["bin_id"] for f in baseline["features"]
              if f["properties"]["kind"] == "visit" and f["properties"]["type"] == "bin"]
    assert served == bins[:5]


def test_upload_options_give_the_councils_bin_sizes(page: Page, server: Any) -> None:
    """The council's own weight for a 240 L bin, set in the upload options, is the bins' weight;
    a wrong table is refused, naming the option."""
    open_map(page, server)
    page.click("#upload-options summary")
    page.fill("#upload-bin-sizes", '{"240": {"kg": 22}}')
    page.set_input_files("#bins-file", files=[{"name": "gazetteer.csv", "mimeType": "text/csv",
                                               "buffer": GAZETTEER}])
    page.locator("#upload-errors").get_by_text("bin_sizes['240']").wait_for()
    page.fill("#upload-bin-sizes", '{"240": {"demand_kg": 22}}')
    page.set_input_files("#bins-file", files=[{"name": "gazetteer.csv", "mimeType": "text/csv",
                                               "buffer": GAZETTEER}])
    page.wait_for_function("window.wasteroute.state.problem.bins.length === 3")
    weights = page.evaluate("window.wasteroute.state.problem.bins.map((b) => b.demand_kg)")
    assert weights == [22, 22, 75]
