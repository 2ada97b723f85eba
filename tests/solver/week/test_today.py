"""Today's week read from the bins' current day, week and round, ordered by the real engine, on
hand-made days whose rounds are worked out by hand."""

from __future__ import annotations

import pytest

from solver.problem import SolveOptions
from solver.week.calendar import Calendar, Frequency
from solver.week.model import CurrentDay, WeekBin, WeekProblem
from solver.week.today import has_today, round_seconds, today_round_count, today_week, visits_today
from tests.solver.week.conftest import line_problem

OPTIONS = SolveOptions(engine="ortools", objective="cost")
MON_TUE = Calendar(days=("mon", "tue"), weeks=("A",))
FORTNIGHT = Calendar(days=("mon",), weeks=("A", "B"))


def _routes(week: WeekProblem, matrices) -> dict[int, dict[str, set[str]]]:  # type: ignore[no-untyped-def]
    days = today_week(week, matrices, options=OPTIONS, round_time_s=0.2)
    return {s: {r.vehicle_id: set(r.stops) for r in d.plan.routes} for s, d in days.items()}


def test_each_named_round_is_driven_by_one_vehicle_on_its_day() -> None:
    """Monday: round R1 (a, b) and round v2 (c); Tuesday: round R1 (d). v2's round is v2's (its name), R1
    takes the other vehicle, v1; d alone on Tuesday, driven by v1."""
    problem, matrices = line_problem([("a", 100.0, 10.0), ("b", 200.0, 10.0), ("c", 300.0, 10.0),
                                      ("d", 400.0, 10.0)], [("v1", 100.0), ("v2", 100.0)])
    week = WeekProblem(calendar=MON_TUE, problem=problem, bins=(
        WeekBin("a", current=CurrentDay("mon", "A", "R1")), WeekBin("b", current=CurrentDay("mon", None, "R1")),
        WeekBin("c", current=CurrentDay("mon", "A", "v2")), WeekBin("d", current=CurrentDay("tue", "A", "R1"))))
    assert has_today(week)
    assert _routes(week, matrices) == {0: {"v1": {"a", "b"}, "v2": {"c"}}, 1: {"v1": {"d"}}}


def test_more_rounds_than_vehicles_gives_a_vehicle_two_rounds() -> None:
    """Three rounds on Monday and two vehicles: R1 and R3 to v1 (in turn), R2 to v2."""
    problem, matrices = line_problem([("a", 100.0, 10.0), ("b", 200.0, 10.0), ("c", 300.0, 10.0)],
                                     [("v1", 100.0), ("v2", 100.0)])
    week = WeekProblem(calendar=MON_TUE, problem=problem, bins=(
        WeekBin("a", current=CurrentDay("mon", None, "R1")), WeekBin("b", current=CurrentDay("mon", None, "R2")),
        WeekBin("c", current=CurrentDay("mon", None, "R3"))))
    days = today_week(week, matrices, options=OPTIONS, round_time_s=0.2)
    assert {r.vehicle_id: set(r.stops) for r in days[0].plan.routes} == {"v1": {"a", "c"}, "v2": {"b"}}
    assert days[0].rounds == {"v1": ("R1", "R3"), "v2": ("R2",)}


def test_bins_with_no_round_go_to_a_spare_vehicle_or_join_the_nearest_round() -> None:
    """With v2 spare, the round-less bin c is v2's; with one vehicle only, c (at 300 m) joins the round
    of b (at 200 m), the nearest bin."""
    bins = [("a", 100.0, 10.0), ("b", 200.0, 10.0), ("c", 300.0, 10.0)]
    week_bins = (WeekBin("a", current=CurrentDay("mon", None, "R1")),
                 WeekBin("b", current=CurrentDay("mon", None, "R1")), WeekBin("c", current=CurrentDay("mon")))
    problem, matrices = line_problem(bins, [("v1", 100.0), ("v2", 100.0)])
    assert _routes(WeekProblem(calendar=MON_TUE, problem=problem, bins=week_bins), matrices) == \
        {0: {"v1": {"a", "b"}, "v2": {"c"}}}
    problem, matrices = line_problem(bins, [("v1", 100.0)])
    assert _routes(WeekProblem(calendar=MON_TUE, problem=problem, bins=week_bins), matrices) == \
        {0: {"v1": {"a", "b", "c"}}}


def test_a_bin_with_no_current_week_is_collected_every_week() -> None:
    """In a fortnight, x (Monday, no week) is collected Monday A and Monday B; y (Monday B) only in B;
    z has no current day and is in no day of today's week."""
    problem, matrices = line_problem([("x", 100.0, 10.0), ("y", 200.0, 10.0), ("z", 300.0, 10.0)], [("v1", 100.0)])
    week = WeekProblem(calendar=FORTNIGHT, problem=problem, bins=(
        WeekBin("x", current=CurrentDay("mon")), WeekBin("y", Frequency("fortnightly"), current=CurrentDay("mon", "B")),
        WeekBin("z")))
    assert visits_today(week) == {"x": 2, "y": 1}
    assert _routes(week, matrices) == {0: {"v1": {"x"}}, 1: {"v1": {"x", "y"}}}


def test_a_round_over_its_lorry_s_capacity_keeps_the_engine_s_reasons_and_says_what_it_needs() -> None:
    """Today's Monday round holds 150 kg and its lorry carries 100 kg (no tip): the engine serves 100 kg,
    leaves a 50 kg bin out with its reason, and the day needs 2 lorries."""
    problem, matrices = line_problem([("a", 100.0, 50.0), ("b", 200.0, 50.0), ("c", 300.0, 50.0)], [("v1", 100.0)])
    week = WeekProblem(calendar=MON_TUE, problem=problem,
                       bins=tuple(WeekBin(b, current=CurrentDay("mon", None, "R1")) for b in "abc"))
    day = today_week(week, matrices, options=OPTIONS, round_time_s=0.2)[0]
    assert len(day.plan.unassigned) == 1 and day.plan.unassigned[0].reason in {"capacity", "no_feasible_insertion"}
    assert day.vehicles_needed == 2


def test_a_week_without_current_days_has_no_today() -> None:
    """No bin says where it is collected today: there is no today's week."""
    problem, _ = line_problem([("a", 100.0, 10.0)], [("v1", 100.0)])
    assert not has_today(WeekProblem(calendar=MON_TUE, problem=problem, bins=(WeekBin("a"),)))


def test_a_round_given_in_order_is_driven_in_that_order_with_tips_when_full() -> None:
    """Round R1 on Monday gives c, a, b (sequence 1, 2, 3), 60 kg each, on a 100 kg lorry, a tip open at
    50 m: c, tip, a, tip, b, tip (it must tip before returning), no engine. Round R2 without sequences on
    Tuesday is ordered by the engine and served all the same."""
    problem, matrices = line_problem([("a", 100.0, 60.0), ("b", 200.0, 60.0), ("c", 300.0, 60.0),
                                      ("d", 400.0, 10.0)], [("v1", 100.0)], tips=[("tip", 50.0)])
    week = WeekProblem(calendar=MON_TUE, problem=problem, bins=(
        WeekBin("a", current=CurrentDay("mon", None, "R1", 2)), WeekBin("b", current=CurrentDay("mon", None, "R1", 3)),
        WeekBin("c", current=CurrentDay("mon", None, "R1", 1)), WeekBin("d", current=CurrentDay("tue", None, "R2"))))
    days = today_week(week, matrices, options=OPTIONS, round_time_s=0.2)
    (monday,) = days[0].plan.routes
    assert monday.stops == ("c", "tip", "a", "tip", "b", "tip") and monday.breaks_where_they_fit
    (tuesday,) = days[1].plan.routes
    assert "d" in tuesday.stops and not days[1].plan.unassigned


def test_a_big_round_gets_time_for_a_first_solution_and_rounds_are_counted() -> None:
    """400 bins keep a 0.5 s base; 800 get 1.5 s, 1600 four times that (6 s). Monday's rounds R1 and v2 and
    Tuesday's R1 are three rounds; a bin with no round on Tuesday makes four."""
    assert round_seconds(400, 0.5) == 0.5
    assert round_seconds(800, 0.2) == pytest.approx(1.5) and round_seconds(1600, 0.2) == pytest.approx(6.0)
    problem, _ = line_problem([("a", 100.0, 10.0), ("b", 200.0, 10.0), ("c", 300.0, 10.0), ("d", 400.0, 10.0),
                               ("e", 500.0, 10.0)], [("v1", 100.0), ("v2", 100.0)])
    bins = (WeekBin("a", current=CurrentDay("mon", "A", "R1")), WeekBin("b", current=CurrentDay("mon", None, "R1")),
            WeekBin("c", current=CurrentDay("mon", "A", "v2")), WeekBin("d", current=CurrentDay("tue", "A", "R1")))
    assert today_round_count(WeekProblem(calendar=MON_TUE, problem=problem, bins=bins)) == 3
    more = (*bins, WeekBin("e", current=CurrentDay("tue")))
    assert today_round_count(WeekProblem(calendar=MON_TUE, problem=problem, bins=more)) == 4


def test_today_s_week_hears_after_each_day_and_stops_when_told() -> None:
    """after_day is called once a slot (two on Monday-Tuesday); raising there stops before Tuesday."""
    problem, matrices = line_problem([("a", 100.0, 10.0), ("d", 400.0, 10.0)], [("v1", 100.0)])
    week = WeekProblem(calendar=MON_TUE, problem=problem, bins=(WeekBin("a", current=CurrentDay("mon")),
                                                                WeekBin("d", current=CurrentDay("tue"))))
    heard: list[int] = []
    assert set(today_week(week, matrices, options=OPTIONS, round_time_s=0.2,
                          after_day=lambda: heard.append(1))) == {0, 1}
    assert len(heard) == 2

    def stop() -> None:
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        today_week(week, matrices, options=OPTIONS, round_time_s=0.2, after_day=stop)


def test_a_bin_whose_day_today_has_no_vehicle_is_unassigned_with_the_reason() -> None:
    """v1 works Tuesdays only; a is collected on Monday today: today's Monday leaves it out, reason
    no_compatible_vehicle, naming the day, and no route is made."""
    problem, matrices = line_problem([("a", 100.0, 10.0)], [("v1", 100.0)])
    week = WeekProblem(calendar=MON_TUE, problem=problem, bins=(WeekBin("a", current=CurrentDay("mon")),),
                       vehicle_days={"v1": ("tue",)})
    day = today_week(week, matrices, options=OPTIONS, round_time_s=0.2)[0]
    (left,) = day.plan.unassigned
    assert (left.bin_id, left.reason) == ("a", "no_compatible_vehicle") and "mon A" in left.detail
    assert day.plan.routes == ()
