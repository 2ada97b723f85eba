"""How often the rounds run, read from the bins' own frequency (a gazetteer's FREQUENCY column, kept by the
upload as the bins' ``frequency`` attribute) when neither the request nor the round set says: the savings
report's yearly figures and the source line that says where the figure came from."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient

from app.core.config import Settings
from app.reports import inputs

ROUNDS = [{"vehicle_id": "rcv-1", "stops": ["b00001", "b00002", "b00003", "b00004"]},
          {"vehicle_id": "rcv-2", "stops": ["b00005", "b00006", "b00007", "b00008"]}]


def _with_frequencies(problem: dict[str, Any], *cells: str | None) -> dict[str, Any]:
    """``problem`` whose bins carry the frequency ``cells`` in turn (``None``: no frequency attribute)."""
    for i, item in enumerate(problem["bins"]):
        cell = cells[i % len(cells)]
        item["attributes"] = {"WARD": "Oakham North"} | ({"frequency": cell} if cell is not None else {})
    return problem


def test_bins_all_fortnightly_give_26_said_to_come_from_their_frequency(problem: dict[str, Any]) -> None:
    """Every bin ``Fortnightly`` (any case, any spelling the table knows): 26 a year, the counts named."""
    value, source = inputs.bins_frequency([_with_frequencies(problem, "Fortnightly", "FORTNIGHTLY")])
    assert value == 26 and source == "the bins' FREQUENCY: 8 fortnightly (26 collections a year)"
    value, _ = inputs.bins_frequency([_with_frequencies(problem, "Alternate weekly")])
    assert value == 26


@pytest.mark.parametrize(("cells", "found"), [
    (("Weekly", "Fortnightly"), "4 fortnightly, 4 weekly"),
    (("Weekly", None), "4 none, 4 weekly"),
    (("Weekly", "every other Tuesday"), "4 none, 4 weekly"),
    ((None,), ""),
    (("every other Tuesday",), ""),
])
def test_bins_that_disagree_give_no_figure_and_say_why(problem: dict[str, Any], cells: tuple[str | None, ...],
                                                       found: str) -> None:
    """Mixed frequencies, or bins without one, give no figure: the words say what was found (nothing when
    no bin names a frequency the table knows: the assumption's own words then stand alone)."""
    value, source = inputs.bins_frequency([_with_frequencies(problem, *cells)])
    assert value is None and (found in source if found else source == "")


def test_the_request_and_the_round_set_come_before_the_bins(problem: dict[str, Any], settings: Settings) -> None:
    """Order of the sources: the request's figure, the round set's word, the bins' frequency, the setting."""
    bins = [_with_frequencies(problem, "Fortnightly")]
    assert inputs.collections_per_year(13.0, ["refuse/weekly"], settings=settings, problems=bins)[0] == 13
    assert inputs.collections_per_year(None, ["refuse/weekly"], settings=settings, problems=bins)[0] == 52
    assert inputs.collections_per_year(None, [None], settings=settings, problems=bins)[0] == 26
    value, source = inputs.collections_per_year(None, [None], settings=settings,
                                                problems=[_with_frequencies(problem, "Weekly", "Fortnightly")])
    assert value == settings.savings_collections_per_year and source.startswith("assumption")
    assert "4 fortnightly, 4 weekly" in source


def test_the_report_of_stored_plans_takes_the_bins_frequency(client: TestClient, problem: dict[str, Any]) -> None:
    """Two stored plans of fortnightly bins and no round set: the report's yearly figures are 26 times a
    collection's, and its factors say they come from the bins' FREQUENCY."""
    body = _with_frequencies(problem, "Fortnightly")
    base = client.post("/api/v1/plans", json={**body, "routes": [
        {"vehicle_id": "rcv-1", "stops": ROUNDS[0]["stops"] + ROUNDS[1]["stops"]}]}).json()
    plan = client.post("/api/v1/plans", json={**body, "routes": ROUNDS}).json()
    answer = client.get(f"/api/v1/plans/{plan['id']}/report", params={"baseline": base["id"], "format": "json"})
    assert answer.status_code == 200, answer.text
    report = answer.json()
    assert report["factors"]["collections_per_year"] == 26
    assert report["factors"]["collections_source"].startswith("the bins' FREQUENCY: 8 fortnightly")
    assert report["per_year"]["plan"]["distance_m"] == pytest.approx(26 * report["plan"]["distance_m"])
    html = client.get(f"/api/v1/plans/{plan['id']}/report", params={"baseline": base["id"]}).text
    assert "the bins&#39; FREQUENCY: 8 fortnightly" in html or "the bins' FREQUENCY: 8 fortnightly" in html
