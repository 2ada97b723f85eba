"""Tests of solver.plotting: the network, the rounds of a real optimised plan and the
key-figure bars are drawn with the data they are given (checked on the matplotlib
artists, and rendered to PNG with the Agg backend)."""

from __future__ import annotations

import io

import matplotlib
import numpy as np
import pytest
from matplotlib.collections import LineCollection
from matplotlib.figure import Figure

from solver.network import RoadNetwork
from solver.pipeline import PlannedRounds, optimise
from solver.plotting import (
    BETTER_COLOUR,
    CHART_FIGURES,
    WORSE_COLOUR,
    plot_changes,
    plot_network,
    plot_rounds,
    round_colours,
    street_lines,
)
from solver.problem import Bin, Depot, Problem, SolveOptions, Vehicle
from solver.savings import savings_report
from solver.solution import Evaluation, RouteEvaluation, Summary
from solver.synthetic import kerbside_bins

matplotlib.use("Agg")


@pytest.fixture(scope="module")
def small_plan(monaco: RoadNetwork) -> tuple[Problem, PlannedRounds]:
    """40 kerbside bins and one in the sea, two vehicles, optimised for 1 s on Monaco."""
    sea = Bin(id="sea", lon=7.43, lat=43.70, demand_kg=5)
    problem = Problem(depots=(Depot(id="depot", lon=7.4149, lat=43.7302),),
                      vehicles=(Vehicle(id="v1", depot_id="depot", capacity_kg=350),
                                Vehicle(id="v2", depot_id="depot", capacity_kg=350)),
                      bins=(*kerbside_bins(monaco, 40, seed=5), sea))
    return problem, optimise(problem, monaco, SolveOptions(time_limit_s=1, seed=0))


def _png(figure: Figure) -> bytes:
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=40)
    return buffer.getvalue()


def test_street_lines_draw_each_street_once_in_lon_lat(monaco: RoadNetwork) -> None:
    """One line per street (two-way streets once), inside the network's lon/lat bounds."""
    lines = street_lines(monaco)
    twins = int(np.sum(monaco.edge_twin >= 0))
    assert len(lines) == monaco.n_edges - twins // 2
    points = np.vstack(lines)
    lon, lat = monaco.node_lonlat[:, 0], monaco.node_lonlat[:, 1]
    assert lon.min() - 0.01 < points[:, 0].min() and points[:, 0].max() < lon.max() + 0.01
    assert lat.min() - 0.01 < points[:, 1].min() and points[:, 1].max() < lat.max() + 0.01


def test_network_is_one_line_collection_of_its_streets(monaco: RoadNetwork) -> None:
    """plot_network adds one LineCollection holding every street."""
    ax = plot_network(monaco)
    [collection] = [c for c in ax.collections if isinstance(c, LineCollection)]
    assert len(collection.get_segments()) == len(street_lines(monaco))


def test_each_round_is_drawn_along_its_street_line_in_its_colour(small_plan: tuple[Problem, PlannedRounds],
                                                                  monaco: RoadNetwork) -> None:
    """Every route's line is plotted with exactly its coordinates and its own palette colour."""
    problem, planned = small_plan
    ax = plot_rounds(planned, problem, network=monaco, title="demo")
    colours = round_colours(planned)
    assert len(set(colours.values())) == len(planned.evaluation.routes) >= 1
    drawn = {line.get_label().split(" ")[0]: line for line in ax.get_lines()}
    for vehicle_id, line in planned.route_lines.items():
        assert np.allclose(drawn[vehicle_id].get_xydata(), np.asarray(line.coords))
        assert matplotlib.colors.to_hex(drawn[vehicle_id].get_color()) == colours[vehicle_id].lower()
    assert _png(ax.figure).startswith(b"\x89PNG")


def test_unserved_bins_are_marked_and_counted_in_the_legend(small_plan: tuple[Problem, PlannedRounds]) -> None:
    """The bin in the sea is not served: the legend says so, with the count."""
    problem, planned = small_plan
    assert "sea" in {u.bin_id for u in planned.evaluation.unassigned}
    ax = plot_rounds(planned, problem)
    labels = [t.get_text() for t in ax.get_legend().get_texts()]
    assert f"not served ({len(planned.evaluation.unassigned)})" in labels


def _evaluation(distance_m: float, duration_s: float, violations: int) -> Evaluation:
    """A one-round evaluation with the given totals (no visits needed by the report's totals)."""
    route = RouteEvaluation(vehicle_id="v1", visits=(), distance_m=distance_m, duration_s=duration_s, load_kg=500,
                            n_bins=40, trips=0, cost=90.0, load_l=0.0, lifts=40)
    return Evaluation(routes=(route,), summary=Summary(distance_m=distance_m, duration_s=duration_s, vehicles_used=1,
                                                       bins_served=40, bins_unassigned=0, cost=90.0,
                                                       violations=violations))


def test_changes_show_baseline_and_plan_bars_in_display_units() -> None:
    """Each figure's panel has the baseline's and the plan's bar, metres as km and seconds as hours."""
    report = savings_report(_evaluation(9_000, 5_400, 0), _evaluation(12_000, 7_200, 0))
    figure = plot_changes(report.changes())
    panels = {ax.get_title(): ax for ax in figure.axes}
    assert [p.get_height() for p in panels["Distance (km)"].patches] == pytest.approx([12.0, 9.0])
    assert [p.get_height() for p in panels["Working hours (h)"].patches] == pytest.approx([2.0, 1.5])
    assert len(figure.axes) == len(CHART_FIGURES)
    assert _png(figure).startswith(b"\x89PNG")


def test_a_figure_that_got_worse_is_red_and_one_that_got_better_green() -> None:
    """Shorter but breaking a rule: distance in the better colour, violations in the worse one."""
    report = savings_report(_evaluation(9_000, 5_400, 2), _evaluation(12_000, 7_200, 0))
    panels = {ax.get_title(): ax for ax in plot_changes(report.changes()).axes}
    plan_bar = {title: matplotlib.colors.to_hex(ax.patches[1].get_facecolor()) for title, ax in panels.items()}
    assert plan_bar["Distance (km)"] == BETTER_COLOUR.lower()
    assert plan_bar["Rules broken (violations)"] == WORSE_COLOUR.lower()


def test_changes_without_any_chosen_figure_are_refused() -> None:
    """Asking for figures the changes do not hold is a ValueError, not an empty picture."""
    report = savings_report(_evaluation(9_000, 5_400, 0), _evaluation(12_000, 7_200, 0))
    with pytest.raises(ValueError, match="none of the figures"):
        plot_changes(report.changes(), figures=("no_such_figure",))
