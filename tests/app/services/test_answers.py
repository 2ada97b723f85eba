"""Stored answers read back typed (app/services/answers.py)."""

from __future__ import annotations

import pytest

from app.services import answers


def _visit(vehicle: str, sequence: int, kind: str, **ids: str) -> dict[str, object]:
    """A visit feature of ``vehicle`` as the API writes it."""
    return {"type": "Feature", "id": f"{vehicle}-{sequence}", "geometry": {"type": "Point", "coordinates": [7.4, 43.7]},
            "properties": {"kind": "visit", "vehicle_id": vehicle, "sequence": sequence, "type": kind,
                           "arrival_s": 0.0, "arrival": "00:00", "start_s": 0.0, "departure_s": 0.0,
                           "load_kg": 0.0, "load_l": 0.0, **ids}}


def _route(vehicle: str) -> dict[str, object]:
    """A route feature of ``vehicle`` as the API writes it."""
    return {"type": "Feature", "id": vehicle, "geometry": {"type": "LineString",
                                                          "coordinates": [[7.4, 43.7], [7.5, 43.8]]},
            "properties": {"kind": "route", "vehicle_id": vehicle, "distance_m": 1200.0, "duration_s": 600.0,
                           "load_kg": 40.0, "load_l": 0.0, "n_bins": 2, "lifts": 2, "trips": 1, "cost": 10.0}}


ANSWER = {
    "type": "FeatureCollection",
    "features": [_route("rcv-1"), _visit("rcv-1", 0, "depot", depot_id="depot"),
                 _visit("rcv-1", 3, "disposal", site_id="tip"), _visit("rcv-1", 1, "bin", bin_id="b2"),
                 _visit("rcv-1", 2, "break"), _visit("rcv-1", 4, "depot", depot_id="depot"), _route("rcv-2"),
                 _visit("rcv-2", 1, "bin", bin_id="b1")],
    "summary": {"distance_m": 1200.0, "duration_s": 600.0, "vehicles_used": 2, "bins_served": 2,
                "bins_unassigned": 1, "cost": 10.0, "violations": 0},
    "unassigned": [{"bin_id": "b3", "reason": "capacity", "detail": "too heavy"}],
}


def test_round_stops_follow_sequence_and_leave_depots_out() -> None:
    """Each round's stops come in sequence order: bins, sites and the break; depots are implied."""
    assert answers.round_stops(answers.read_answer(ANSWER)) == {"rcv-1": ["b2", "break", "tip"], "rcv-2": ["b1"]}


def test_bin_rounds_name_each_bins_vehicle_or_none() -> None:
    """A served bin maps to its vehicle, an unassigned one to ``None``."""
    assert answers.bin_rounds(answers.read_answer(ANSWER)) == {"b2": "rcv-1", "b1": "rcv-2", "b3": None}


def test_summary_figures_are_numbers_by_name() -> None:
    """The summary reads as figures by name, each a float."""
    figures = answers.summary_figures(answers.read_answer(ANSWER).summary)
    assert figures["distance_m"] == 1200.0 and figures["bins_unassigned"] == 1.0


def test_answers_stored_before_balance_and_compactness_still_read() -> None:
    """An answer stored without the balance and compactness groups reads with them absent, and
    with them present the summary's figures are still the plain numbers (the groups left out)."""
    old = answers.read_answer(ANSWER)
    assert old.summary.balance is None and old.summary.compactness is None
    assert all(f.properties.compactness is None for f in old.features if f.properties.kind == "route")
    balance = {"duration_min_s": 600.0, "duration_max_s": 600.0, "duration_mean_s": 600.0, "duration_spread": 0.0,
               "load_min_kg": 40.0, "load_max_kg": 40.0, "load_mean_kg": 40.0, "load_spread": 0.0}
    newer = answers.read_answer({**ANSWER, "summary": {**ANSWER["summary"], "balance": balance}})  # type: ignore[dict-item]
    assert newer.summary.balance is not None and newer.summary.balance.load_mean_kg == 40.0
    assert answers.summary_figures(newer.summary) == answers.summary_figures(old.summary)


def test_a_bin_visit_without_its_id_is_named() -> None:
    """A bin visit that names no bin is a ValueError naming the feature."""
    broken = {**ANSWER, "features": [_route("rcv-1"), _visit("rcv-1", 1, "bin")]}
    with pytest.raises(ValueError, match=r"features\[1\]"):
        answers.round_stops(answers.read_answer(broken))


def test_something_else_is_no_answer() -> None:
    """A dict that is no optimisation answer fails validation (a ValueError naming the field)."""
    with pytest.raises(ValueError, match="summary"):
        answers.read_answer({"type": "FeatureCollection", "features": [], "unassigned": []})


def test_stored_bins_are_read_by_the_request_model() -> None:
    """A problem body's bins come back as BinIn, defaults filled."""
    [bin_] = answers.read_bins({"bins": [{"id": "b1", "lon": 7.4, "lat": 43.7, "demand_kg": 12}]})
    assert (bin_.id, bin_.demand_kg, bin_.service_s) == ("b1", 12.0, 30.0)
