"""Visiting schemes of each frequency on hand-counted calendars, and the frequencies a calendar cannot hold."""

from __future__ import annotations

import pytest

from solver.week.calendar import Calendar, Frequency, WeekError, even_schemes, parse_frequency, visiting_schemes

FORTNIGHT = Calendar(days=("mon", "tue", "wed", "thu", "fri"), weeks=("A", "B"))


def _sets(schemes: tuple[frozenset[int], ...]) -> list[list[int]]:
    return [sorted(s) for s in schemes]


def test_two_visits_over_four_days_are_the_benchmark_schemes() -> None:
    """Horizon 4: two visits are days {0, 2} or {1, 3}; one visit any day; four visits every day."""
    assert _sets(even_schemes(4, 2)) == [[0, 2], [1, 3]]
    assert _sets(even_schemes(4, 1)) == [[0], [1], [2], [3]]
    assert _sets(even_schemes(4, 4)) == [[0, 1, 2, 3]]


def test_weekly_is_one_weekday_in_both_weeks() -> None:
    """Over a fortnight of five days, weekly is Monday A and B (slots 0 and 5), Tuesday A and B, ..."""
    assert _sets(visiting_schemes(Frequency("weekly"), FORTNIGHT)) == [[0, 5], [1, 6], [2, 7], [3, 8], [4, 9]]


def test_fortnightly_is_one_weekday_of_one_week() -> None:
    """Fortnightly over A/B: ten single slots, week A's five days first."""
    assert _sets(visiting_schemes(Frequency("fortnightly"), FORTNIGHT)) == [[0], [1], [2], [3], [4],
                                                                           [5], [6], [7], [8], [9]]


def test_twice_weekly_is_an_evenly_spaced_pair_every_week() -> None:
    """Five days a week, two visits two or three days apart: Mon-Wed, Mon-Thu, Tue-Thu, Tue-Fri, Wed-Fri,
    the same pair in week B (slots + 5)."""
    schemes = _sets(visiting_schemes(Frequency("twice_weekly"), FORTNIGHT))
    assert schemes == [[0, 2, 5, 7], [0, 3, 5, 8], [1, 3, 6, 8], [1, 4, 6, 9], [2, 4, 7, 9]]


def test_k_visits_spread_over_the_whole_horizon() -> None:
    """Five visits over the ten-day fortnight: every other day, starting Monday A or Tuesday A."""
    assert _sets(visiting_schemes(Frequency("visits", 5), FORTNIGHT)) == [[0, 2, 4, 6, 8], [1, 3, 5, 7, 9]]


def test_fortnightly_on_a_one_week_calendar_names_the_bin() -> None:
    """A calendar of one week cannot hold a fortnightly bin: WeekError on the field, naming the bin."""
    with pytest.raises(WeekError, match="even number of weeks") as caught:
        visiting_schemes(Frequency("fortnightly"), Calendar(), field="bins[3].frequency", item_id="b7")
    assert (caught.value.field, caught.value.item_id) == ("bins[3].frequency", "b7")


def test_more_visits_than_days_is_refused() -> None:
    """Eleven visits do not fit ten days; twice weekly does not fit a one-day week."""
    with pytest.raises(WeekError, match="do not fit"):
        visiting_schemes(Frequency("visits", 11), FORTNIGHT, item_id="b1")
    with pytest.raises(WeekError, match="two working days"):
        visiting_schemes(Frequency("twice_weekly"), Calendar(days=("mon",)), item_id="b1")


def test_parse_frequency_reads_the_contract_forms() -> None:
    """Names, {"visits": k} and whole numbers are read; anything else is a WeekError naming the field."""
    assert parse_frequency(None, field="f", item_id="b") == Frequency("weekly")
    assert parse_frequency("fortnightly", field="f", item_id="b") == Frequency("fortnightly")
    assert parse_frequency({"visits": 3}, field="f", item_id="b") == Frequency("visits", 3)
    assert parse_frequency(2.0, field="f", item_id="b") == Frequency("visits", 2)
    with pytest.raises(WeekError) as caught:
        parse_frequency("monthly", field="bins[0].frequency", item_id="b9")
    assert (caught.value.field, caught.value.item_id) == ("bins[0].frequency", "b9")


def test_calendar_slots_and_labels() -> None:
    """Slot numbering is week by week: Wednesday B is slot 7, labelled "wed B"; unknown days are refused."""
    assert FORTNIGHT.slot("wed", "B") == 7
    assert (FORTNIGHT.day_of(7), FORTNIGHT.week_of(7), FORTNIGHT.label(7)) == ("wed", "B", "wed B")
    with pytest.raises(WeekError, match="not one of"):
        Calendar(days=("mon", "funday"))
