"""The road network the service plans on, loaded once and shared by every request.

:class:`NetworkRegistry` is created (without touching the disk) by
:func:`app.main.create_app`, loaded by the application's lifespan at startup, and
handed to request handlers by :func:`get_network_registry`. A request never builds a
network: until the registry is loaded it answers 503.

The network object is a ``solver.network.RoadNetwork``; the solver only reads it, so
the threads of the server process (the map's network layer, savings reports) share it.
Solves do not run here: they run in solver worker processes (:mod:`app.jobs.pool`, or
a cluster's workers, :mod:`app.compute.executors`), each of which loads its own copy
with :func:`load_road_network`, from the cache this process's load built at startup.
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from starlette.requests import Request

if TYPE_CHECKING:
    from solver.network import RoadNetwork

logger = logging.getLogger(__name__)


class NetworkUnavailableError(RuntimeError):
    """The road network has not been loaded (yet)."""


@dataclass(frozen=True, slots=True)
class NetworkInfo:
    """What the health check tells about the loaded network."""

    source: str
    name: str
    nodes: int
    edges: int
    load_s: float


def load_road_network(network_file: Path, *, cache_dir: Path) -> RoadNetwork:
    """Load the road network in ``network_file``, caching built graphs under ``cache_dir``.

    Raises ``FileNotFoundError`` naming the setting when the file does not exist.
    ``solver.network`` (osmnx and friends, slow to import) is imported only here, so
    that the command line and the app start quickly when no network is needed.
    """
    if not network_file.is_file():
        raise FileNotFoundError(
            f"road network file {str(network_file)!r} does not exist "
            "(set WASTEROUTE_NETWORK_FILE or --network to an .osm, .osm.pbf, .osm.bz2 or .graphml file)"
        )
    cache_dir.mkdir(parents=True, exist_ok=True)
    from solver.network import load_network

    started = time.perf_counter()
    network = load_network(network_file, cache_dir=cache_dir)
    logger.info("road network %s loaded in %.2f s", network_file.name, time.perf_counter() - started)
    return network


class NetworkRegistry:
    """Holds the one road network of the service.

    Creating a registry does nothing; :meth:`load` reads the network (once: later calls
    return at once) and :meth:`get` hands it out.
    """

    def __init__(self, *, network_file: Path, cache_dir: Path) -> None:
        """Remember where the network is; load nothing yet."""
        self.network_file = network_file
        self.cache_dir = cache_dir
        self._network: RoadNetwork | None = None
        self._info: NetworkInfo | None = None
        self._lock = threading.Lock()

    def load(self) -> None:
        """Load the configured network unless it is loaded already (thread-safe, blocking)."""
        with self._lock:
            if self._network is not None:
                return
            started = time.perf_counter()
            network = load_road_network(self.network_file, cache_dir=self.cache_dir)
            self._info = NetworkInfo(source=self.network_file.name, name=network.name,
                                     nodes=network.n_nodes, edges=network.n_edges,
                                     load_s=time.perf_counter() - started)
            self._network = network

    @property
    def loaded(self) -> bool:
        """Whether :meth:`get` will hand out a network."""
        return self._network is not None

    def get(self) -> RoadNetwork:
        """The loaded network; raises :class:`NetworkUnavailableError` before :meth:`load`."""
        if self._network is None:
            raise NetworkUnavailableError("the road network is not loaded yet; try again shortly")
        return self._network

    def info(self) -> NetworkInfo | None:
        """Source, size and load time of the network, or ``None`` before it is loaded."""
        return self._info


def get_network_registry(request: Request) -> NetworkRegistry:
    """FastAPI dependency: the application's :class:`NetworkRegistry`."""
    registry: NetworkRegistry = request.app.state.network_registry
    return registry
