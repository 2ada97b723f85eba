"""Response models of the HTTP API: a plan as GeoJSON, health, and the error answers.

What goes out is never what came in: these models describe what the service answers
(RFC 7946 FeatureCollections with ``[lon, lat]`` positions; metres, seconds, kg).
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from app.schemas.fields import OSM_ATTRIBUTION
from solver.solution import Relaxation


class OutputModel(BaseModel):
    """Base of every response model."""

    model_config = ConfigDict(frozen=True)


class PointGeometry(OutputModel):
    """A GeoJSON Point, ``[lon, lat]``."""

    type: Literal["Point"] = "Point"
    coordinates: tuple[float, float]


class LineStringGeometry(OutputModel):
    """A GeoJSON LineString of ``[lon, lat]`` positions."""

    type: Literal["LineString"] = "LineString"
    coordinates: list[tuple[float, float]] = Field(min_length=2)


Ring = list[tuple[float, float]]
"""A closed ring of ``[lon, lat]`` positions, the first repeated last."""


class PolygonGeometry(OutputModel):
    """A GeoJSON Polygon: its exterior ring (counter-clockwise), then any holes (clockwise)."""

    type: Literal["Polygon"] = "Polygon"
    coordinates: list[Ring] = Field(min_length=1)


class MultiPolygonGeometry(OutputModel):
    """A GeoJSON MultiPolygon: polygons given as :class:`PolygonGeometry` gives its rings."""

    type: Literal["MultiPolygon"] = "MultiPolygon"
    coordinates: list[list[Ring]] = Field(min_length=1)


class ViolationOut(OutputModel):
    """A broken rule of ``docs/rules.md`` on a route: its ``type``, the ``stop`` where it shows
    (a bin, a disposal site, ``"break"`` or the depot) and a ``detail`` in words."""

    type: str
    stop: str
    detail: str


class RoundCompactnessOut(OutputModel):
    """How compact one round is (``docs/api.md``, "Balance and compactness"): the streets it
    serves, its area, and how much of it other rounds serve or cover."""

    streets: int = Field(description="Streets (stretches between two junctions) its bins lie on.")
    street_length_m: float = Field(description="Metres of those streets, each counted whole.")
    area_m2: float = Field(description="Square metres of its area: the concave hull of its streets, widened "
                                       "by the summary's compactness.buffer_m.")
    shared_streets: int = Field(description="Of its streets, how many another round also serves.")
    shared_street_share: float = Field(description="Share (0..1) of its street length on streets another "
                                                   "round also serves.")
    overlap_share: float = Field(description="Share (0..1) of its street length inside other rounds' areas.")
    crossing_rounds: int = Field(description="Other rounds whose areas cross its own.")
    area: PolygonGeometry | MultiPolygonGeometry | None = Field(
        default=None, discriminator="type",
        description="The area itself, [lon, lat], for a map to draw (outline straightened by up to 1 m); "
                    "absent when it has no surface and from answers stored before it existed.")


class ManoeuvresOut(OutputModel):
    """What a lorry must do to drive a round (or the plan's rounds, summed), counted on its drawn line
    (``docs/api.md``, "Turns")."""

    u_turns: int = Field(description="Turning back away from a dead end or turning place: in the street "
                                     "(at a stop or along it) or at a junction.")
    turning_place_u_turns: int = Field(description="Turning round at a turning circle, loop or mini-roundabout.")
    reversing: int = Field(description="Reversing manoeuvres: turning back at a dead end without a turning head.")
    banned_turns: int = Field(description="Turns an OpenStreetMap restriction bans (always 0 on a planned round).")


class RouteProperties(OutputModel):
    """Figures of one vehicle's round, all from the evaluator."""

    kind: Literal["route"] = "route"
    vehicle_id: str
    distance_m: float = Field(description="Metres driven, depot to depot.")
    duration_s: float = Field(description="Seconds from leaving the depot to coming back.")
    load_kg: float = Field(description="Kg collected, all loads together.")
    load_l: float = Field(description="Litres collected, all loads together.")
    n_bins: int = Field(description="Bins lifted.")
    lifts: int = Field(description="Lifts made (one per bin).")
    trips: int = Field(description="Loads tipped (0 without disposal sites).")
    cost: float = Field(description="Fixed cost plus distance and time costs of the round.")
    violations: list[ViolationOut] = Field(
        default_factory=list, description="Rules the round breaks; always empty for an optimised plan.")
    compactness: RoundCompactnessOut | None = Field(
        default=None, description="How compact the round is; absent only from answers stored before it existed.")
    manoeuvres: ManoeuvresOut | None = Field(
        default=None, description="U-turns, reversing manoeuvres and banned turns of the drawn round; absent "
                                  "from answers stored before they were counted, and for a round with no line.")


class VisitProperties(OutputModel):
    """One stop of a round.

    ``arrival_s`` is seconds since midnight and ``arrival`` the same as ``"HH:MM"``
    (hours past 23 mean the next day); ``start_s`` is when collection, unloading or the
    break starts (after any wait); ``load_kg``/``load_l`` are the load on board after the
    stop. A bin visit carries ``bin_id``, a depot visit ``depot_id``, a disposal visit
    ``site_id``; a break visit is where the vehicle is at the time; absent ids are left
    out of the JSON.
    """

    kind: Literal["visit"] = "visit"
    vehicle_id: str
    sequence: int = Field(description="0 at the route's first stop, in driving order.")
    type: Literal["depot", "bin", "disposal", "break"]
    arrival_s: float
    arrival: str = Field(description='Arrival as "HH:MM".')
    start_s: float
    departure_s: float
    load_kg: float
    load_l: float
    bin_id: str | None = None
    depot_id: str | None = None
    site_id: str | None = None


class RouteFeature(OutputModel):
    """A round as a street-following LineString."""

    type: Literal["Feature"] = "Feature"
    id: str
    geometry: LineStringGeometry
    properties: RouteProperties


class VisitFeature(OutputModel):
    """A stop as the point on the street where the vehicle stops."""

    type: Literal["Feature"] = "Feature"
    id: str
    geometry: PointGeometry
    properties: VisitProperties


class BalanceOut(OutputModel):
    """How balanced the rounds are in duration and load: least, most, mean and spread
    (``max / mean - 1``: 0 when every round is equal, 0.1 when the longest is 10 % over the mean)."""

    duration_min_s: float
    duration_max_s: float
    duration_mean_s: float
    duration_spread: float = Field(description="Longest round's duration over the mean, minus 1.")
    load_min_kg: float
    load_max_kg: float
    load_mean_kg: float
    load_spread: float = Field(description="Heaviest round's kg over the mean, minus 1.")


class PlanCompactnessOut(OutputModel):
    """How compact the rounds are together (``docs/api.md``, "Balance and compactness")."""

    streets: int = Field(description="Streets served by any round.")
    shared_streets: int = Field(description="Streets served by more than one round.")
    shared_street_ids: list[str] = Field(description='Their ids, "<osm node>-<osm node>" of the street\'s ends.')
    max_rounds_per_street: int = Field(description="Most rounds serving one street.")
    mean_shared_street_share: float = Field(description="Mean of the rounds' shared_street_share (0..1).")
    mean_overlap_share: float = Field(description="Mean of the rounds' overlap_share (0..1).")
    crossing_pairs: int = Field(description="Pairs of rounds whose areas cross.")
    buffer_m: float = Field(description="Metres each round's area reaches beyond the hull of its streets.")


class TimingsOut(OutputModel):
    """Where the time of one answer went, in seconds of wall clock."""

    wall_s: float = Field(description="From the start of the pipeline to the answer built: what the caller waited "
                                      "for beyond queueing and transfer.")
    time_limit_s: float | None = Field(default=None, exclude_if=lambda value: value is None,
                                       description="The search's time limit asked for (absent for an evaluation).")
    stages_s: dict[str, float] = Field(default_factory=dict, description="Seconds per stage of the pipeline, by name "
                                       "(snapping, aggregate, matrix, solve, evaluate, ...: docs/performance.md).")


class SummaryOut(OutputModel):
    """Totals over all rounds; ``violations`` counts the rules broken (0 for an optimised plan).
    ``balance``, ``compactness`` and ``manoeuvres`` are absent only from answers stored before they existed.
    ``relaxed``: for a solve asked for balanced or compact rounds, which of the two it could not
    keep, in the order given up (empty when both held); absent otherwise."""

    distance_m: float
    duration_s: float
    vehicles_used: int
    bins_served: int
    bins_unassigned: int
    cost: float
    violations: int
    balance: BalanceOut | None = None
    compactness: PlanCompactnessOut | None = None
    manoeuvres: ManoeuvresOut | None = None
    # absent, not null, when no shape was asked for: an evaluation's or an older answer's summary
    # reads the same in a plan, a listing and a job
    relaxed: list[Relaxation] | None = Field(default=None, exclude_if=lambda value: value is None)
    # absent, not null, from an answer stored before it existed; not a figure of the plan (it varies
    # from run to run), so plan comparisons leave it out
    timings: TimingsOut | None = Field(default=None, exclude_if=lambda value: value is None)


class UnassignedOut(OutputModel):
    """A bin the plan does not serve and why (``reason`` is one of API.md's names)."""

    bin_id: str
    reason: str
    detail: str


class OptimisationResponse(OutputModel):
    """A plan (optimised, or a person's plan evaluated): an RFC 7946 FeatureCollection with
    ``summary`` and ``unassigned``.

    Features come route by route: the route's LineString, then its visits in order.
    ``attribution`` credits the road data (OpenStreetMap, ODbL), as its licence asks.
    """

    type: Literal["FeatureCollection"] = "FeatureCollection"
    features: list[RouteFeature | VisitFeature]
    summary: SummaryOut
    unassigned: list[UnassignedOut]
    attribution: str = Field(default=OSM_ATTRIBUTION, description="Credit for the road data.")


class NetworkOut(OutputModel):
    """The road network the service plans on."""

    source: str = Field(description="File name the network was loaded from.")
    name: str = Field(description="The network's own name.")
    nodes: int = Field(description="Nodes of the street graph.")
    edges: int = Field(description="Directed edges of the street graph.")
    load_s: float = Field(description="Seconds it took to load at startup.")


class SolvesOut(OutputModel):
    """Solves running now, waiting for a worker, and how many may run at once."""

    running: int
    queued: int
    limit: int


class HealthResponse(OutputModel):
    """The service is up; what it plans on and how busy it is."""

    status: Literal["ok"] = "ok"
    version: str
    network: NetworkOut | None = Field(description="Null until the network has been loaded.")
    solves: SolvesOut


ReadinessCheckName = Literal["store", "migrations", "solver_workers", "job_queue", "network"]
"""What ``GET /api/v1/ready`` checks before it says the service can take work."""


class ReadinessCheck(OutputModel):
    """One condition of taking work, whether it holds, and what was found."""

    name: ReadinessCheckName
    ok: bool
    detail: str = Field(description="What was found, e.g. 'schema at 0002 (head 0002)'.")


class ReadinessResponse(OutputModel):
    """Whether this replica can take work now; 503 with the same body when it cannot."""

    status: Literal["ready", "not_ready"]
    checks: list[ReadinessCheck]
    reasons: list[str] = Field(description="The details of the checks that failed; empty when ready.")


class ErrorItem(OutputModel):
    """One fault in a request: where (``loc``/``field``), whose (``id``) and what (``msg``)."""

    loc: list[str | int] = Field(description='Path to the field, e.g. ["body", "bins", 3, "demand_kg"].')
    field: str = Field(description='The same path written out, e.g. "bins[3].demand_kg".')
    id: str | None = Field(description="Id of the depot, vehicle or bin at fault, if any.")
    msg: str = Field(description="What is wrong; names the field and the id.")
    type: str = Field(description="Machine-readable kind of fault.")


class ValidationErrorResponse(OutputModel):
    """Body of a 422 answer."""

    detail: list[ErrorItem]


class MessageErrorResponse(OutputModel):
    """Body of a 500 or 503 answer."""

    detail: str
