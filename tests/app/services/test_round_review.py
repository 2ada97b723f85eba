"""app/services/round_review.py without a network: a review body split into the daily body and the week,
and the day changes written for the letters."""

from __future__ import annotations

import csv
import io
from typing import Any

import pytest

from app.core.config import Settings
from app.schemas import OptimisationRequest, ReviewRequest
from app.services import round_review
from solver.week import Frequency, WeekError
from tests.app.api.test_round_reviews import ADDRESS, week_body


def test_the_daily_body_leaves_the_weeks_fields_out_and_keeps_only_the_ids_named() -> None:
    """The day's body is a valid optimisation body: no calendar, days, frequency, property, current, address
    or week options; only the bins and vehicles asked for."""
    body = week_body()
    body["disposal_sites"] = [{"id": "tip", "lon": 7.4149, "lat": 43.7302, "days": ["mon"]}]
    daily = round_review.daily_body(body, bin_ids=["b00001", "b00003"], vehicle_ids=["rcv-1"], site_ids=[])
    request = OptimisationRequest.model_validate(daily)
    assert [b.id for b in request.bins] == ["b00001", "b00003"]
    assert [v.id for v in request.vehicles] == ["rcv-1"] and request.disposal_sites == []
    options = daily["options"]
    assert "calendar" not in daily and isinstance(options, dict) and "day_change_cost" not in options


def test_the_week_carries_each_bins_frequency_property_and_current_day(settings: Settings) -> None:
    """to_week: frequencies parsed, properties and current days kept, vehicles' days and the options."""
    body = week_body()
    body["calendar"]["weeks"] = ["A", "B"]
    body["bins"][2]["frequency"] = {"visits": 2}
    body["options"]["keep_current_days"] = True
    _, _, week = round_review.prepare(ReviewRequest.model_validate(body), settings=settings)
    assert week.week_bin("b00003").frequency == Frequency("visits", 2)
    assert week.week_bin("b00002").household() == "p1"
    current = week.week_bin("b00004").current
    assert current is not None and (current.day, current.week, current.round) == ("mon", "A", "R1")
    assert week.vehicle_days == {"rcv-1": ("mon", "tue")}
    assert week.options.keep_current_days and week.options.day_change_cost == 5.0


def test_a_fortnightly_bin_on_a_one_week_calendar_names_the_field_and_the_bin(settings: Settings) -> None:
    """The week's own check raises WeekError (a 422 in the API) naming bins[i].frequency and the bin."""
    body = week_body()
    body["bins"][5]["frequency"] = "fortnightly"
    with pytest.raises(WeekError) as raised:
        round_review.prepare(ReviewRequest.model_validate(body), settings=settings)
    assert (raised.value.field, raised.value.item_id) == ("bins[5].frequency", "b00006")


def test_the_day_changes_csv_has_one_line_per_household() -> None:
    """Header, then property, address (empty when none), bin ids joined by ';', old and new day and week."""
    changes: list[dict[str, Any]] = [
        {"property": "p1", "bin_ids": ["b1", "b2"], "address": ADDRESS, "from": {"day": "mon", "week": "A"},
         "to": {"day": "tue", "week": "B"}},
        {"property": "p2", "bin_ids": ["b3"], "from": {"day": "wed", "week": None}, "to": {"day": "thu", "week": None}},
    ]
    rows = list(csv.reader(io.StringIO(round_review.day_changes_csv(changes))))
    assert rows == [list(round_review.DAY_CHANGE_COLUMNS),
                    ["p1", ADDRESS, "b1;b2", "mon", "A", "tue", "B"],
                    ["p2", "", "b3", "wed", "", "thu", ""]]


@pytest.mark.parametrize(("time_limit_s", "rounds", "seconds"), [(20.0, 20, 0.2), (1800.0, 100, 1.8), (600.0, 2, 5.0)])
def test_today_s_rounds_share_a_tenth_of_the_review_s_time(time_limit_s: float, rounds: int, seconds: float) -> None:
    """A tenth of the time limit over the rounds, each between 0.2 s and 5 s: 2 s over 20 rounds is 0.1 s,
    raised to 0.2 s; 180 s over 100 rounds 1.8 s; 60 s over 2 rounds 30 s, cut to 5 s."""
    assert round_review.today_round_s(time_limit_s, rounds) == pytest.approx(seconds)
