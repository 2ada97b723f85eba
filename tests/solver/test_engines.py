"""The engine interface: what a request needs (required_features) and which engine plans it
(choose_engine), with the real OR-Tools and PyVRP engines and their declared features."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

import numpy as np
import pytest

from solver.engines import (
    AUTO,
    HYBRID_FROM_S,
    Engine,
    HybridEngine,
    OrToolsEngine,
    PyVrpEngine,
    choose_engine,
    engine_choices,
    engine_names,
    get_engine,
    required_features,
)
from solver.engines.base import ALL_FEATURES
from solver.matrix import FleetMatrices, TravelMatrices
from solver.problem import Bin, Break, Depot, DisposalSite, InitialRoute, Problem, ProblemError, SolveOptions, Vehicle


def _problem(*, vehicles: tuple[Vehicle, ...] | None = None, bins: tuple[Bin, ...] | None = None,
             sites: tuple[DisposalSite, ...] = ()) -> Problem:
    """A plain CVRP: one depot, two vehicles, three bins of the default stream."""
    return Problem(depots=(Depot("D", -0.7, 52.6),),
                   vehicles=vehicles or (Vehicle("v1", "D", 1000.0), Vehicle("v2", "D", 1000.0)),
                   bins=bins or tuple(Bin(f"b{i}", -0.7 + 0.001 * i, 52.6, demand_kg=50.0) for i in range(3)),
                   disposal_sites=sites)


def _matrices(problem: Problem, profile_of: Callable[[str], str] = lambda vehicle_id: "all") -> FleetMatrices:
    """Straight-line-ish matrices shared by every profile ``profile_of`` names."""
    n = problem.n_locations
    distance = np.abs(np.subtract.outer(np.arange(n), np.arange(n))) * 100.0
    travel = TravelMatrices(duration_s=distance / 10.0, distance_m=distance)
    vehicle_profile = {v.id: profile_of(v.id) for v in problem.vehicles}
    return FleetMatrices(profiles={key: travel for key in set(vehicle_profile.values())},
                         vehicle_profile=vehicle_profile)


def _with_bin(problem: Problem, **changes: object) -> Problem:
    """``problem`` with its first bin changed."""
    first, *rest = problem.bins
    return replace(problem, bins=(replace(first, **changes), *rest))  # type: ignore[arg-type]


def _with_vehicle(problem: Problem, **changes: object) -> Problem:
    """``problem`` with its first vehicle changed."""
    first, *rest = problem.vehicles
    return replace(problem, vehicles=(replace(first, **changes), *rest))  # type: ignore[arg-type]


def test_plain_cvrp_needs_no_feature() -> None:
    """One stream, no tips, windows, breaks, volumes, pins or options: nothing beyond the CVRP."""
    assert required_features(_problem(), SolveOptions()) == frozenset()


REQUESTS: dict[str, Callable[[Problem], tuple[Problem, SolveOptions]]] = {
    "disposal_sites": lambda p: (_problem(sites=(DisposalSite("tip", -0.8, 52.6),)), SolveOptions()),
    "time_windows": lambda p: (_with_bin(p, time_windows=((7 * 3600, 9 * 3600),)), SolveOptions()),
    "breaks": lambda p: (_with_vehicle(p, breaks=(Break(1800, (11 * 3600, 13 * 3600)),)), SolveOptions()),
    "multi_capacity": lambda p: (_with_vehicle(p, capacity_l=20_000.0), SolveOptions()),
    "max_lifts": lambda p: (_with_vehicle(p, max_lifts=400), SolveOptions()),
    "daily_limit": lambda p: (_with_vehicle(p, max_collected_kg=20_000.0), SolveOptions()),
    "streams": lambda p: (_with_bin(p, stream="recycling"), SolveOptions()),
    "access_profiles": lambda p: (_with_bin(p, max_vehicle_width_m=2.2), SolveOptions()),
    "optional_bins": lambda p: (_with_bin(p, required=False, penalty=10.0), SolveOptions()),
    "pinned_bins": lambda p: (_with_bin(p, vehicle_id="v2"), SolveOptions()),
    "warm_start": lambda p: (p, SolveOptions(initial_routes=(InitialRoute("v1", ("b0", "b1")),))),
    "locks": lambda p: (p, SolveOptions(initial_routes=(InitialRoute("v1", ("b0", "b1"), locked=1),))),
    "move_penalty": lambda p: (p, SolveOptions(initial_routes=(InitialRoute("v1", ("b0",)),), move_penalty=5.0)),
    "objective_cost": lambda p: (p, SolveOptions(objective="cost")),
}


@pytest.mark.parametrize("feature", sorted(REQUESTS))
def test_each_feature_is_detected_in_a_request(feature: str) -> None:
    """A request using one capability needs the feature of that name (locks and move penalties
    come with the warm start they act on)."""
    problem, options = REQUESTS[feature](_problem())
    needed = required_features(problem, options)
    assert feature in needed
    assert needed <= {feature, "warm_start"}


def test_every_feature_name_has_a_request() -> None:
    """The table of requests above covers every feature name the interface defines."""
    assert set(REQUESTS) == ALL_FEATURES


def test_a_vehicle_that_does_not_carry_every_stream_needs_streams() -> None:
    """One stream of bins, but a vehicle that only carries recycling: compatibility matters."""
    problem = _with_vehicle(_problem(), streams=("recycling",))
    assert "streams" in required_features(problem, SolveOptions())


def test_move_penalty_without_initial_routes_needs_nothing() -> None:
    """A penalty per moved bin with no earlier plan moves nothing, so it needs no feature."""
    assert required_features(_problem(), SolveOptions(move_penalty=5.0)) == frozenset()


def test_access_profiles_follow_the_fleets_matrices() -> None:
    """Vehicles of different sizes need access profiles when their matrices differ, not when
    the network lets them share one profile; without matrices the sizes decide."""
    problem = _with_vehicle(_problem(), width_m=2.0)
    shared = _matrices(problem)
    split = _matrices(problem, lambda vehicle_id: vehicle_id)
    assert "access_profiles" in required_features(problem, SolveOptions())
    assert "access_profiles" not in required_features(problem, SolveOptions(), matrices=shared)
    assert "access_profiles" in required_features(problem, SolveOptions(), matrices=split)


def test_every_engine_declares_known_features_and_fits_the_protocol() -> None:
    """Both engines are Engines with a name and a set of feature names from the interface."""
    for name in engine_names():
        engine = get_engine(name)
        assert isinstance(engine, Engine)
        assert engine.name == name
        assert engine.features <= ALL_FEATURES


def test_options_engine_accepts_the_engines_and_auto() -> None:
    """``options.engine`` may name either engine or ``auto``."""
    assert set(engine_choices()) == {"ortools", "pyvrp", AUTO}


def test_a_named_engine_that_supports_the_request_is_used() -> None:
    """``engine="pyvrp"`` on a plain CVRP gives the PyVRP engine, ``"ortools"`` the OR-Tools one."""
    problem = _problem()
    assert isinstance(choose_engine(problem, SolveOptions(engine="pyvrp")), PyVrpEngine)
    assert isinstance(choose_engine(problem, SolveOptions(engine="ortools")), OrToolsEngine)


def test_a_named_engine_lacking_a_feature_is_a_422_naming_it() -> None:
    """PyVRP has no breaks: asking it to plan a shift with a break is a ProblemError on
    ``options.engine`` that names the missing feature and the engine that has it."""
    problem, options = REQUESTS["breaks"](_problem())
    with pytest.raises(ProblemError) as caught:
        choose_engine(problem, replace(options, engine="pyvrp"))
    assert caught.value.field == "options.engine"
    message = str(caught.value)
    assert "breaks" in message and "'pyvrp'" in message and "'ortools'" in message


def test_the_422_names_every_missing_feature() -> None:
    """A request with breaks and locked stops names both when PyVRP is asked for."""
    problem = _with_vehicle(_problem(), breaks=(Break(1800, (11 * 3600, 13 * 3600)),))
    options = SolveOptions(engine="pyvrp", initial_routes=(InitialRoute("v1", ("b0",), locked=1),))
    with pytest.raises(ProblemError, match="breaks, locks"):
        choose_engine(problem, options)


def test_auto_prefers_pyvrp_when_it_supports_everything() -> None:
    """Tips, windows, volumes, two streams and the cost objective are all PyVRP's: auto picks it."""
    problem = _with_bin(_problem(sites=(DisposalSite("tip", -0.8, 52.6),)), stream="recycling",
                        time_windows=((7 * 3600, 9 * 3600),))
    problem = _with_vehicle(problem, capacity_l=20_000.0, streams=("refuse", "recycling"))
    assert isinstance(choose_engine(problem, SolveOptions(engine=AUTO, objective="cost")), PyVrpEngine)


@pytest.mark.parametrize("feature", ["locks", "move_penalty"])
def test_auto_falls_back_to_ortools_for_what_pyvrp_lacks(feature: str) -> None:
    """A locked stop or a move penalty (a warm start's) sends auto to OR-Tools."""
    problem, options = REQUESTS[feature](_problem())
    assert isinstance(choose_engine(problem, replace(options, engine=AUTO)), OrToolsEngine)


@pytest.mark.parametrize("feature", ["breaks", "max_lifts", "daily_limit"])
def test_auto_takes_the_hybrid_for_breaks_and_per_shift_limits(feature: str) -> None:
    """A break or a per-shift limit, which PyVRP's phase can relax, sends auto to PyVRP then OR-Tools
    when the time limit leaves room for both."""
    problem, options = REQUESTS[feature](_problem())
    chosen = choose_engine(problem, replace(options, engine=AUTO, time_limit_s=HYBRID_FROM_S))
    assert isinstance(chosen, HybridEngine)


@pytest.mark.parametrize("feature", ["breaks", "max_lifts", "daily_limit"])
def test_auto_keeps_ortools_alone_for_a_short_time_limit(feature: str) -> None:
    """Below HYBRID_FROM_S seconds a break or per-shift limit sends auto to OR-Tools alone."""
    problem, options = REQUESTS[feature](_problem())
    chosen = choose_engine(problem, replace(options, engine=AUTO, time_limit_s=HYBRID_FROM_S / 2))
    assert isinstance(chosen, OrToolsEngine)


def test_an_unknown_engine_is_a_422_on_options_engine() -> None:
    """``options.engine="vroom"`` names the field and the known engines."""
    with pytest.raises(ProblemError, match="ortools, pyvrp") as caught:
        choose_engine(_problem(), SolveOptions(engine="vroom"))
    assert caught.value.field == "options.engine"

