"""Routing engines, one module each, found by name with :func:`get_engine`."""

from __future__ import annotations

from collections.abc import Callable

from solver.engines.base import Engine
from solver.engines.ortools import OrToolsEngine
from solver.problem import ProblemError

_ENGINES: dict[str, Callable[[], Engine]] = {
    OrToolsEngine.name: OrToolsEngine,
}


def engine_names() -> tuple[str, ...]:
    """Names accepted by :func:`get_engine` (and by ``options.engine``)."""
    return tuple(sorted(_ENGINES))


def get_engine(name: str) -> Engine:
    """A fresh engine with default settings for ``name``.

    Raises :class:`solver.problem.ProblemError` (a ``ValueError``) with field
    ``options.engine`` for an unknown name.
    """
    factory = _ENGINES.get(name)
    if factory is None:
        raise ProblemError(f"options.engine: unknown engine {name!r}; known engines: "
                           f"{', '.join(engine_names())}", field="options.engine")
    return factory()


__all__ = ["Engine", "OrToolsEngine", "engine_names", "get_engine"]
