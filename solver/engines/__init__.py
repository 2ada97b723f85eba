"""Routing engines behind one interface, found by name or chosen for a request.

:func:`get_engine` gives an engine by name; :func:`choose_engine` gives the engine
for a request's ``options.engine``: a named engine when it supports every feature the
request needs (:func:`solver.engines.base.required_features`), or for ``"auto"`` the
first engine of :data:`AUTO_PREFERENCE` that does, except that a request PyVRP lacks only
crew breaks or per-shift limits for (that brings no warm start of its own and allows at
least :data:`HYBRID_FROM_S` seconds) goes to
:class:`~solver.engines.hybrid.HybridEngine`: PyVRP on a relaxation, then OR-Tools from
its rounds. Planners swap engines without
changing their data: every engine reads the same :class:`~solver.problem.Problem`
and :class:`~solver.matrix.FleetMatrices` and answers the same
:class:`~solver.solution.Plan`.
"""

from __future__ import annotations

from collections.abc import Callable

from solver.engines.base import ALL_FEATURES, BREAKS, DAILY_LIMIT, MAX_LIFTS, Engine, required_features
from solver.engines.hybrid import HybridEngine
from solver.engines.ortools import OrToolsEngine
from solver.engines.pyvrp import PyVrpEngine
from solver.engines.race import racing
from solver.engines.shaped import ShapedEngine, shaped
from solver.matrix import FleetMatrices
from solver.problem import Problem, ProblemError, SolveOptions

AUTO = "auto"
"""``options.engine`` value that lets :func:`choose_engine` pick."""

AUTO_PREFERENCE: tuple[str, ...] = (PyVrpEngine.name, OrToolsEngine.name)
"""Engines ``"auto"`` tries, best first: PyVRP's search is much stronger on the problems it
models (about 0.3% above the best known CVRPLIB X results where OR-Tools is about 4% at
a minute); OR-Tools models every feature."""

RELAXABLE: frozenset[str] = frozenset({BREAKS, MAX_LIFTS, DAILY_LIMIT})
"""Features PyVRP lacks that :class:`~solver.engines.hybrid.HybridEngine` relaxes for PyVRP's phase and
OR-Tools then models exactly: with only these missing, ``"auto"`` picks the hybrid."""

HYBRID_FROM_S = 120.0
"""Least time limit (s) at which ``"auto"`` runs the hybrid rather than OR-Tools alone: it splits the
time three ways, and at 60 s it did worse than OR-Tools alone on the waste instances 804 and 1932
(measured at 600 s it did better on both)."""

_ENGINES: dict[str, Callable[[], Engine]] = {
    OrToolsEngine.name: OrToolsEngine,
    PyVrpEngine.name: PyVrpEngine,
}


def engine_names() -> tuple[str, ...]:
    """Names accepted by :func:`get_engine` (``options.engine`` also accepts ``"auto"``)."""
    return tuple(sorted(_ENGINES))


def engine_choices() -> tuple[str, ...]:
    """Every value ``options.engine`` accepts: the engine names and ``"auto"``."""
    return (*engine_names(), AUTO)


def get_engine(name: str) -> Engine:
    """A fresh engine with default settings for ``name``.

    Raises :class:`solver.problem.ProblemError` (a ``ValueError``) with field
    ``options.engine`` for an unknown name (``"auto"`` included: only
    :func:`choose_engine` can pick, since the choice depends on the request).
    """
    factory = _ENGINES.get(name)
    if factory is None:
        hint = " ('auto' is resolved by choose_engine for a given request)" if name == AUTO else ""
        raise ProblemError(f"options.engine: unknown engine {name!r}; known engines: "
                           f"{', '.join(engine_names())}{hint}", field="options.engine")
    return factory()


def engine_features(name: str) -> frozenset[str]:
    """The features engine ``name`` declares (``ProblemError`` for an unknown name)."""
    return get_engine(name).features


def _describe(missing: frozenset[str]) -> str:
    return ", ".join(sorted(missing))


def choose_engine(problem: Problem, options: SolveOptions, *, matrices: FleetMatrices | None = None) -> Engine:
    """The engine that plans this request: ``options.engine`` by name, or the best one for ``"auto"``,
    raced in ``options.search_processes`` processes (:func:`solver.engines.race.racing`), and
    made to keep the rounds balanced and compact when ``options`` ask for it
    (:func:`solver.engines.shaped.shaped`).

    A named engine must declare every feature the request needs; otherwise this raises
    :class:`ProblemError` with field ``options.engine`` (a 422 in the API) naming the
    missing features and the engines that have them. ``"auto"`` picks the first engine
    of :data:`AUTO_PREFERENCE` that supports everything (the hybrid instead of OR-Tools when PyVRP
    lacks only :data:`RELAXABLE` features, the request has no initial routes and its time limit is at least
    :data:`HYBRID_FROM_S`), and raises the same way,
    naming what each engine lacks, when none does. ``matrices`` (when already built)
    let ``access_profiles`` be judged by the fleet's real profiles.
    """
    return shaped(racing(_choose(problem, options, matrices), options), options)


def _choose(problem: Problem, options: SolveOptions, matrices: FleetMatrices | None) -> Engine:
    """The engine of :func:`choose_engine`, before racing."""
    needed = required_features(problem, options, matrices=matrices)
    unknown = needed - ALL_FEATURES
    if unknown:  # a bug in required_features, not in the request
        raise AssertionError(f"required_features returned unknown names {sorted(unknown)}")
    if options.engine == AUTO:
        lacking: dict[str, frozenset[str]] = {}
        for name in AUTO_PREFERENCE:
            engine = get_engine(name)
            missing = needed - engine.features
            if not missing:
                if (name == OrToolsEngine.name and not options.initial_routes
                        and options.time_limit_s >= HYBRID_FROM_S
                        and not needed - PyVrpEngine.features - RELAXABLE):
                    return HybridEngine()
                return engine
            lacking[name] = missing
        detail = "; ".join(f"{name} lacks {_describe(missing)}" for name, missing in lacking.items())
        raise ProblemError(f"options.engine: no engine supports everything this request needs ({detail})",
                           field="options.engine")
    engine = get_engine(options.engine)
    missing = needed - engine.features
    if missing:
        able = [name for name in engine_names() if name != engine.name and not needed - engine_features(name)]
        choices = [repr(n) for n in able] + ["'auto'"]
        advice = (f"use {', '.join(choices[:-1])} or {choices[-1]}" if able
                  else "no engine supports all of them")
        raise ProblemError(f"options.engine: engine {engine.name!r} does not support "
                           f"{_describe(missing)}, which this request needs; {advice}",
                           field="options.engine")
    return engine


__all__ = [
    "AUTO",
    "AUTO_PREFERENCE",
    "HYBRID_FROM_S",
    "RELAXABLE",
    "Engine",
    "HybridEngine",
    "OrToolsEngine",
    "PyVrpEngine",
    "ShapedEngine",
    "choose_engine",
    "engine_choices",
    "engine_features",
    "engine_names",
    "get_engine",
    "required_features",
]
