"""Static pictures of networks, rounds and key figures with matplotlib, for notebooks and reports.

No map tiles are fetched: the background is the road network itself, drawn from the
:class:`~solver.network.RoadNetwork` (so a picture can be made with no internet).
Positions are lon/lat degrees; axes are scaled so that a metre east and a metre north
look the same length at the area's latitude. Rounds are coloured from the Okabe-Ito
palette, which colour-blind readers can tell apart.

Every function draws on the ``ax`` (or figure) given, or on a new
:class:`matplotlib.figure.Figure` when none is given (pyplot is never touched, so
nothing here depends on a display), and returns it.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
import shapely
from matplotlib.axes import Axes
from matplotlib.collections import LineCollection
from matplotlib.figure import Figure

from solver.network import RoadNetwork
from solver.pipeline import PlannedRounds
from solver.problem import Problem
from solver.savings import Change
from solver.units import METRES_PER_KM, SECONDS_PER_HOUR

ROUND_COLOURS: tuple[str, ...] = ("#0072B2", "#E69F00", "#009E73", "#CC79A7",
                                  "#56B4E9", "#D55E00", "#F0E442", "#000000")
"""Okabe-Ito colours, one per round (repeated when there are more rounds than colours)."""

STREET_COLOUR = "#c8c8c8"
UNASSIGNED_COLOUR = "#D55E00"
BASELINE_COLOUR = "#999999"
BETTER_COLOUR = "#009E73"
WORSE_COLOUR = "#D55E00"

CHART_FIGURES: tuple[str, ...] = ("distance_m", "working_hours", "vehicles_used", "trips", "fuel_l", "co2e_kg",
                                  "cost_gbp", "violations")
"""The figures of a savings report :func:`plot_changes` draws by default."""

DISPLAY_UNITS: dict[str, tuple[str, float]] = {"m": ("km", 1 / METRES_PER_KM), "s": ("h", 1 / SECONDS_PER_HOUR)}
"""Unit of a report figure -> (unit shown, scale)."""


def _axes(ax: Axes | None, *, size: tuple[float, float] = (8.0, 6.0)) -> Axes:
    """``ax``, or the axes of a new figure of ``size`` inches."""
    return ax if ax is not None else Figure(figsize=size).add_subplot()


def _square_metres(ax: Axes, lat: float) -> None:
    """Scale lon/lat axes so that distances east and north look alike at latitude ``lat``."""
    ax.set_aspect(1.0 / math.cos(math.radians(lat)))


def street_lines(network: RoadNetwork) -> list[np.ndarray]:
    """Each street's line as an ``(n, 2)`` lon/lat array, once (a two-way street's
    opposite edge is left out)."""
    idx = np.arange(network.n_edges)
    once = idx[(network.edge_twin < 0) | (idx < network.edge_twin)]
    to_lonlat = network.to_lonlat()
    lines = shapely.transform(network.edge_xy[once],
                              lambda c: np.column_stack(to_lonlat.transform(c[:, 0], c[:, 1])))
    return [np.asarray(line.coords)[:, :2] for line in lines]


def plot_network(network: RoadNetwork, *, ax: Axes | None = None, colour: str = STREET_COLOUR,
                 linewidth: float = 0.6) -> Axes:
    """Draw every street of ``network`` as a thin line (the map's background)."""
    ax = _axes(ax)
    ax.add_collection(LineCollection(street_lines(network), colors=colour, linewidths=linewidth, zorder=1))
    ax.autoscale_view()
    _square_metres(ax, float(np.median(network.node_lonlat[:, 1])))
    ax.set_xlabel("longitude")
    ax.set_ylabel("latitude")
    return ax


def round_colours(planned: PlannedRounds) -> dict[str, str]:
    """Vehicle id -> colour of its round, in the order of the evaluated routes."""
    return {route.vehicle_id: ROUND_COLOURS[k % len(ROUND_COLOURS)]
            for k, route in enumerate(planned.evaluation.routes)}


def plot_rounds(planned: PlannedRounds, problem: Problem, *, ax: Axes | None = None,
                network: RoadNetwork | None = None, title: str | None = None) -> Axes:
    """Draw the rounds of ``planned``: each round's street-following line and its stops in
    the round's colour, depots as black squares, disposal sites as black triangles, and
    the bins no round serves as crosses at their given position. With ``network``, the
    streets are drawn underneath. The legend names each vehicle with its bin count."""
    ax = _axes(ax)
    if network is not None:
        plot_network(network, ax=ax)
    colours = round_colours(planned)
    for route in planned.evaluation.routes:
        colour = colours[route.vehicle_id]
        line = planned.route_lines.get(route.vehicle_id)
        if line is not None and not line.is_empty:
            xy = np.asarray(line.coords)
            ax.plot(xy[:, 0], xy[:, 1], color=colour, linewidth=1.6, zorder=3,
                    label=f"{route.vehicle_id} ({route.n_bins} bins)")
        stops = np.array([planned.stop_points[v.location_id] for v in route.visits
                          if v.type == "bin" and v.location_id in planned.stop_points]).reshape(-1, 2)
        ax.scatter(stops[:, 0], stops[:, 1], s=9, color=colour, edgecolors="white", linewidths=0.3, zorder=4)
    depots = [planned.stop_points.get(d.id, (d.lon, d.lat)) for d in problem.depots]
    sites = [planned.stop_points.get(s.id, (s.lon, s.lat)) for s in problem.disposal_sites]
    for points, marker, label in ((depots, "s", "depot"), (sites, "^", "disposal site")):
        if points:
            xy = np.array(points)
            ax.scatter(xy[:, 0], xy[:, 1], marker=marker, s=60, color="black", zorder=5, label=label)
    unserved = {u.bin_id for u in planned.evaluation.unassigned}
    if unserved:
        xy = np.array([(b.lon, b.lat) for b in problem.bins if b.id in unserved])
        ax.scatter(xy[:, 0], xy[:, 1], marker="x", s=25, color=UNASSIGNED_COLOUR, zorder=5,
                   label=f"not served ({len(unserved)})")
    if network is None:
        ax.autoscale_view()
        _square_metres(ax, problem.depots[0].lat)
    ax.legend(loc="best", fontsize="small")
    if title:
        ax.set_title(title)
    return ax


def plot_changes(changes: Sequence[Change], *, figures: Sequence[str] = CHART_FIGURES,
                 names: tuple[str, str] = ("today", "optimised"), figure: Figure | None = None,
                 columns: int = 4) -> Figure:
    """One small bar chart per figure named in ``figures`` (those present in ``changes``,
    e.g. :meth:`solver.savings.SavingsReport.changes`): the baseline's bar in grey beside
    the plan's, green where the plan is better or the same, red where it is worse; each
    bar labelled with its value. Metres show as km and seconds as hours."""
    chosen = {c.figure: c for c in changes if c.vehicle_id is None}
    shown = [chosen[name] for name in figures if name in chosen]
    if not shown:
        raise ValueError(f"changes hold none of the figures {list(figures)}")
    rows = math.ceil(len(shown) / columns)
    figure = figure if figure is not None else Figure(figsize=(3.0 * columns, 2.6 * rows), layout="constrained")
    for k, change in enumerate(shown):
        ax = figure.add_subplot(rows, columns, k + 1)
        unit, scale = DISPLAY_UNITS.get(change.unit, (change.unit, 1.0))
        values = [change.baseline * scale, change.plan * scale]
        colour = WORSE_COLOUR if change.verdict == "worse" else BETTER_COLOUR
        bars = ax.bar(list(names), values, color=[BASELINE_COLOUR, colour])
        ax.bar_label(bars, labels=[f"{v:,.1f}" if v % 1 else f"{v:,.0f}" for v in values], fontsize="small")
        title = change.label if unit.lower() in change.label.lower().split() else f"{change.label} ({unit})"
        ax.set_title(title, fontsize="medium")
        ax.set_ylim(0.0, max(1.0, 1.2 * max(values)))
        ax.tick_params(axis="x", labelsize="small")
    return figure
