"""A stored optimisation answer read back as the typed response model, and what readers take from it.

The store keeps each plan's answer as JSON (``plans.result``: the RFC 7946
FeatureCollection with ``summary`` and ``unassigned`` that the API gave). Every reader
(plans and their comparison, exports, savings reports, reproduction, the nightly
batch and its report) goes through :func:`read_answer`, so the answer's shape is
checked once, by :class:`~app.schemas.OptimisationResponse`, and a change of that
shape is caught by mypy in every reader rather than by a ``KeyError`` at night.

Units are the answer's own: metres, seconds, kg, litres, money.
"""

from __future__ import annotations

from collections.abc import Mapping

from pydantic import TypeAdapter

from app.schemas import BinIn, OptimisationResponse, RouteFeature, SummaryOut, VisitFeature
from solver.problem import BREAK_STOP


def read_answer(result: Mapping[str, object]) -> OptimisationResponse:
    """The stored (or posted) answer ``result`` as the response model.

    Raises pydantic's ``ValidationError`` (a ``ValueError``) naming the field at fault
    when ``result`` is not an optimisation answer.
    """
    return OptimisationResponse.model_validate(result)


def read_summary(result: Mapping[str, object]) -> SummaryOut:
    """The ``summary`` of a stored answer alone (a listing reads only that, so only that is checked)."""
    return SummaryOut.model_validate(result["summary"])


_BINS = TypeAdapter(list[BinIn])


def read_bins(body: Mapping[str, object]) -> list[BinIn]:
    """The bins of a stored problem body, read by the request's own model (each bin alone: the
    body's references were checked when it was posted)."""
    return _BINS.validate_python(body.get("bins", []))


def summary_figures(summary: SummaryOut) -> dict[str, float]:
    """Each summary figure by name, as a number (metres, seconds, money, counts).

    The nested ``balance`` and ``compactness`` (groups of figures, not one number) are left
    out, so comparisons and reports built on this keep their figures as they were.
    """
    return {name: float(value) for name, value in summary.model_dump().items()
            if isinstance(value, int | float)}


def visit_stop(visit: VisitFeature) -> str | None:
    """The stop id a visit puts in a route's stop list: its bin, its disposal site, or ``"break"``;
    ``None`` for a depot visit (implied in stop lists) and for a visit that names neither."""
    p = visit.properties
    if p.type == "break":
        return BREAK_STOP
    if p.type == "bin":
        return p.bin_id
    if p.type == "disposal":
        return p.site_id
    return None


def round_stops(answer: OptimisationResponse) -> dict[str, list[str]]:
    """Vehicle id -> its stops in driving order (bin ids, disposal-site ids, ``"break"``; depots
    left out), every route of the answer in its order, a route without such stops with none.

    Raises ``ValueError`` naming the feature at fault when a bin or disposal visit carries no id.
    """
    stops: dict[str, list[tuple[int, str]]] = {}
    for i, feature in enumerate(answer.features):
        props = feature.properties
        if isinstance(feature, RouteFeature):
            stops.setdefault(props.vehicle_id, [])
            continue
        if feature.properties.type == "depot":
            continue
        stop = visit_stop(feature)
        if not stop:
            raise ValueError(f"features[{i}]: a {feature.properties.type!r} visit of {props.vehicle_id!r} "
                             "names no bin or site")
        stops.setdefault(props.vehicle_id, []).append((feature.properties.sequence, stop))
    return {vehicle: [stop for _, stop in sorted(visits)] for vehicle, visits in stops.items()}


def bin_rounds(answer: OptimisationResponse) -> dict[str, str | None]:
    """Each bin the answer names -> the vehicle whose round serves it (``None``: unassigned)."""
    rounds: dict[str, str | None] = {}
    for feature in answer.features:
        if isinstance(feature, VisitFeature) and feature.properties.type == "bin" and feature.properties.bin_id:
            rounds[feature.properties.bin_id] = feature.properties.vehicle_id
    for unassigned in answer.unassigned:
        rounds.setdefault(unassigned.bin_id, None)
    return rounds
