"""Pictures of a savings report, drawn with matplotlib (Agg, no pyplot state).

- :func:`round_bars_svg`: before/after bars per round for the main figures, as inline SVG.
- :func:`plans_map_png`: the street network around both plans with each plan's round
  lines on it (baseline left, plan right), as a base64 PNG for an ``<img>`` data URL.

Nothing here computes a figure: bars show the report's numbers, the map the lines
the pipeline drew for the evaluated routes.
"""

from __future__ import annotations

import base64
import io
import textwrap
from collections.abc import Mapping
from typing import TYPE_CHECKING

import numpy as np
import shapely
from matplotlib.collections import LineCollection
from matplotlib.figure import Figure
from shapely.geometry import LineString

from solver.savings import SavingsReport
from solver.units import METRES_PER_KM, SECONDS_PER_HOUR

if TYPE_CHECKING:
    from solver.network import RoadNetwork

BASELINE_COLOUR = "#9e9e9e"
PLAN_COLOUR = "#1b7837"
WORSE_COLOUR = "#b2182b"
ROUTE_COLOURS = ("#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#17becf",
                 "#bcbd22", "#7f7f7f")

BAR_FIGURES: tuple[tuple[str, str, float], ...] = (
    ("distance_m", "Distance (km)", 1 / METRES_PER_KM),
    ("duration_s", "Round time (h)", 1 / SECONDS_PER_HOUR),
    ("fuel_l", "Fuel (litres)", 1.0),
    ("co2e_kg", "CO2e (kg)", 1.0),
    ("cost_gbp", "Cost (GBP)", 1.0),
    ("trips", "Tip trips", 1.0),
)
"""(figure, axis title, scale) of each bar chart; without any tip, bins served replace tip trips."""

NO_TIPS_FIGURE = ("bins_served", "Bins served", 1.0)

MAP_MARGIN = 0.08
"""Share of the plans' extent added around them on the map."""


def _svg(figure: Figure) -> str:
    """The figure as an inline ``<svg>`` element (XML header dropped)."""
    buffer = io.StringIO()
    figure.savefig(buffer, format="svg", bbox_inches="tight")
    text = buffer.getvalue()
    return text[text.index("<svg"):]


def round_bars_svg(report: SavingsReport) -> str:
    """Grouped bars, baseline beside plan, for each round and each of :data:`BAR_FIGURES`."""
    labels = [r.vehicle_id for r in report.rounds]
    charts = BAR_FIGURES
    if not (report.plan.trips or report.baseline.trips):
        charts = tuple(NO_TIPS_FIGURE if name == "trips" else (name, title, scale) for name, title, scale in charts)
    x = np.arange(len(labels))
    width = 0.38
    columns = 3
    rows = -(-len(charts) // columns)
    figure = Figure(figsize=(11, 3.1 * rows), layout="constrained")
    axes = figure.subplots(rows, columns, squeeze=False).ravel()
    for ax, (name, title, scale) in zip(axes, charts, strict=False):
        before = [getattr(r.baseline, name) * scale for r in report.rounds]
        after = [getattr(r.plan, name) * scale for r in report.rounds]
        ax.bar(x - width / 2, before, width, label="baseline", color=BASELINE_COLOUR)
        fewer_is_worse = name == "bins_served"
        colours = [WORSE_COLOUR if (a < b - 1e-9 if fewer_is_worse else a > b + 1e-9) else PLAN_COLOUR
                   for a, b in zip(after, before, strict=True)]
        ax.bar(x + width / 2, after, width, label="plan", color=colours)
        ax.set_title(title, fontsize=10)
        ax.set_xticks(x, labels, rotation=45 if len(labels) > 4 else 0, ha="right" if len(labels) > 4 else "center",
                      fontsize=8)
        ax.tick_params(axis="y", labelsize=8)
        ax.spines[["top", "right"]].set_visible(False)
    for ax in axes[len(charts):]:
        ax.set_visible(False)
    handles = [axes[0].patches[0], axes[0].patches[len(labels)] if labels else axes[0].patches[0]]
    figure.legend(handles, ["baseline", "plan (red where worse)"], loc="outside lower center", ncols=2, fontsize=9)
    return _svg(figure)


def _extent(lines: list[LineString]) -> tuple[float, float, float, float]:
    """(minx, miny, maxx, maxy) of ``lines``, widened by :data:`MAP_MARGIN` (at least 200 m)."""
    minx, miny, maxx, maxy = shapely.total_bounds(lines)
    pad = max(200.0, MAP_MARGIN * max(maxx - minx, maxy - miny))
    return minx - pad, miny - pad, maxx + pad, maxy + pad


def _streets(network: RoadNetwork, box: tuple[float, float, float, float]) -> list[np.ndarray]:
    """The network's street geometries (metres) that touch ``box``, twins drawn once."""
    bounds = shapely.bounds(network.edge_xy)
    inside = ((bounds[:, 2] >= box[0]) & (bounds[:, 0] <= box[2]) & (bounds[:, 3] >= box[1])
              & (bounds[:, 1] <= box[3]))
    twin = network.edge_twin
    keep = inside & ~((twin >= 0) & (twin < np.arange(len(twin))))
    return [np.asarray(line.coords)[:, :2] for line in network.edge_xy[keep]]


def _projected(network: RoadNetwork, lines: Mapping[str, LineString]) -> dict[str, LineString]:
    """Lon/lat route lines in the network's metric CRS."""
    to_xy = network.to_xy()
    out = {}
    for key, line in lines.items():
        coords = np.asarray(line.coords)[:, :2]
        x, y = to_xy.transform(coords[:, 0], coords[:, 1])
        out[key] = LineString(np.column_stack([x, y]))
    return out


PANEL_TITLE_CHARS = 48
"""Characters on a line of a map panel's title: two panels' titles side by side stay apart."""


def panel_title(title: str) -> str:
    """``title`` wrapped to :data:`PANEL_TITLE_CHARS` a line: a named plan's label (name, id, round set and
    version) is longer than half the figure's width and would run into the other panel's title."""
    return textwrap.fill(title, PANEL_TITLE_CHARS, break_long_words=True)


def plans_map_png(network: RoadNetwork, baseline: Mapping[str, LineString], plan: Mapping[str, LineString], *,
                  titles: tuple[str, str] = ("Baseline", "Plan"), dpi: int = 110) -> str:
    """Both plans' rounds on the streets around them, side by side, as base64 PNG.

    ``baseline``/``plan`` map vehicle id to its street-following line (lon/lat). Each
    vehicle keeps one colour on both panels; the grey lines are the road network.
    """
    base_xy, plan_xy = _projected(network, baseline), _projected(network, plan)
    everything = list(base_xy.values()) + list(plan_xy.values())
    vehicles = list(dict.fromkeys([*baseline, *plan]))
    colour = {v: ROUTE_COLOURS[i % len(ROUTE_COLOURS)] for i, v in enumerate(vehicles)}
    box = _extent(everything) if everything else None
    aspect = 0.6 if box is None else (box[3] - box[1]) / (box[2] - box[0])
    figure = Figure(figsize=(11, min(12.0, max(3.0, 4.6 * aspect + 0.6))), layout="constrained")
    axes = figure.subplots(1, 2, sharex=True, sharey=True)
    streets = _streets(network, box) if box is not None else []
    for ax, title, routes in zip(axes, titles, (base_xy, plan_xy), strict=True):
        ax.add_collection(LineCollection(streets, colors="#d0d0d0", linewidths=0.5, zorder=1))
        for vehicle_id, line in routes.items():
            xy = np.asarray(line.coords)
            ax.plot(xy[:, 0], xy[:, 1], color=colour[vehicle_id], linewidth=1.6, alpha=0.85, label=vehicle_id,
                    zorder=2)
        ax.set_title(panel_title(title), fontsize=11)
        ax.set_aspect("equal")
        ax.set_xticks([])
        ax.set_yticks([])
        if box is not None:
            ax.set_xlim(box[0], box[2])
            ax.set_ylim(box[1], box[3])
    if vehicles:
        handles = [axes[0].plot([], [], color=colour[v], linewidth=2)[0] for v in vehicles]
        figure.legend(handles, vehicles, loc="outside right center", fontsize=8, title="round")
    figure.text(0.0, 0.0, "Road data © OpenStreetMap contributors, ODbL 1.0", fontsize=7, color="#555555")
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=dpi, bbox_inches="tight")
    return base64.b64encode(buffer.getvalue()).decode("ascii")
