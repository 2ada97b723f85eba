"""The week's validation (each error names its field and id) and the patterns a property may take."""

from __future__ import annotations

import pytest

from solver.week.calendar import Calendar, Frequency, WeekError
from solver.week.model import CurrentDay, WeekBin, WeekOptions, WeekProblem, week_units
from tests.solver.week.conftest import line_problem

FORTNIGHT = Calendar(days=("mon", "tue"), weeks=("A", "B"))


def _problem():  # type: ignore[no-untyped-def]
    return line_problem([("r1", 100.0, 10.0), ("c1", 100.0, 5.0), ("r2", 300.0, 10.0)], [("v1", 100.0)],
                        tips=[("tip", 500.0)])[0]


def _error(**kwargs) -> WeekError:  # type: ignore[no-untyped-def]
    with pytest.raises(WeekError) as caught:
        WeekProblem(calendar=kwargs.pop("calendar", FORTNIGHT), problem=_problem(), **kwargs)
    return caught.value


def test_a_frequency_the_calendar_cannot_hold_names_the_bin() -> None:
    """Fortnightly on a one-week calendar: bins[0].frequency of r1."""
    error = _error(calendar=Calendar(days=("mon", "tue")), bins=(WeekBin("r1", Frequency("fortnightly")),))
    assert (error.field, error.item_id) == ("bins[0].frequency", "r1")


def test_bins_of_one_property_with_different_allowed_days_name_the_property() -> None:
    """r1 may go Monday only, c1 of the same property any day: bins[1].allowed_days of property p1."""
    error = _error(bins=(WeekBin("r1", property="p1", allowed_days=("mon",)), WeekBin("c1", property="p1")))
    assert (error.field, error.item_id) == ("bins[1].allowed_days", "p1")


def test_a_vehicle_that_works_no_day_is_named() -> None:
    """v1 with no working day: vehicles[0].days of v1."""
    error = _error(vehicle_days={"v1": ()})
    assert (error.field, error.item_id) == ("vehicles[0].days", "v1")


def test_a_working_day_no_tip_opens_is_named() -> None:
    """The only tip opens Mondays; the vehicle works Tuesdays too: disposal_sites, tue."""
    error = _error(tip_days={"tip": ("mon",)})
    assert (error.field, error.item_id) == ("disposal_sites", "tue")


def test_a_current_day_outside_the_calendar_is_named() -> None:
    """A current day of Friday on a Monday-Tuesday calendar: bins[0].current.day of r2; week C likewise."""
    error = _error(bins=(WeekBin("r2", current=CurrentDay("fri")),))
    assert (error.field, error.item_id) == ("bins[0].current.day", "r2")
    error = _error(bins=(WeekBin("r2", current=CurrentDay("mon", "C")),))
    assert (error.field, error.item_id) == ("bins[0].current.week", "r2")


def test_an_unknown_bin_and_a_negative_day_change_cost_are_refused() -> None:
    """A week bin the daily problem lacks, and a day-change cost below 0."""
    assert _error(bins=(WeekBin("nope"),)).field == "bins[0].id"
    assert _error(options=WeekOptions(day_change_cost=-1.0)).field == "options.day_change_cost"


def test_two_fortnightly_streams_of_a_property_alternate_weeks_on_one_weekday() -> None:
    """Property p1's refuse r1 and recycling c1, both fortnightly: four patterns (Monday or Tuesday, refuse
    in week A or B), each with the two bins on the same weekday in different weeks."""
    week = WeekProblem(calendar=FORTNIGHT, problem=_problem(),
                       bins=(WeekBin("r1", Frequency("fortnightly"), property="p1"),
                             WeekBin("c1", Frequency("fortnightly"), property="p1")))
    units, unplaceable = week_units(week)
    [p1] = [u for u in units if u.id == "p1"]
    assert not unplaceable
    visits = {p.visits for p in p1.patterns}
    # slots: mon A 0, tue A 1, mon B 2, tue B 3
    assert visits == {((0, ("r1",)), (2, ("c1",))), ((0, ("c1",)), (2, ("r1",))),
                      ((1, ("r1",)), (3, ("c1",))), ((1, ("c1",)), (3, ("r1",)))}


def test_keep_current_days_leaves_only_the_current_day() -> None:
    """r2 collected weekly on Tuesday today: with keep_current_days its one pattern is Tuesday A and B;
    without, Monday costs the day-change cost and Tuesday nothing."""
    bins = (WeekBin("r2", current=CurrentDay("tue")),)
    kept = WeekProblem(calendar=FORTNIGHT, problem=_problem(), bins=bins,
                       options=WeekOptions(day_change_cost=7.0, keep_current_days=True))
    [r2] = [u for u in week_units(kept)[0] if u.id == "r2"]
    assert [p.slots for p in r2.patterns] == [frozenset({1, 3})]
    free = WeekProblem(calendar=FORTNIGHT, problem=_problem(), bins=bins, options=WeekOptions(day_change_cost=7.0))
    [r2] = [u for u in week_units(free)[0] if u.id == "r2"]
    assert sorted((sorted(p.slots), p.change_cost) for p in r2.patterns) == [([0, 2], 7.0), ([1, 3], 0.0)]


def test_a_property_no_day_can_serve_is_unplaceable_with_a_reason() -> None:
    """The only vehicle works Mondays; r1 may go Tuesday only: left out, with the reason."""
    week = WeekProblem(calendar=FORTNIGHT, problem=_problem(), vehicle_days={"v1": ("mon",)},
                       tip_days={"tip": ("mon",)}, bins=(WeekBin("r1", allowed_days=("tue",)),))
    units, unplaceable = week_units(week)
    assert [(u.property, u.bin_ids) for u in unplaceable] == [("r1", ("r1",))]
    assert "no day" in unplaceable[0].reason
    assert {u.id for u in units} == {"c1", "r2"}
