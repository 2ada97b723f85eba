"""Built networks cached on disk and in memory, so a request never rebuilds one.

The disk cache is a checked pickle (see :mod:`solver.cache_file`) keyed by the source's
content and the settings; a truncated, damaged or foreign cache file is refused with a
warning and rebuilt.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import time
from dataclasses import asdict
from pathlib import Path

import osmnx as ox

from solver import cache_file
from solver.network.build import RoadNetwork, build_network
from solver.network.source import NetworkSource
from solver.network.speeds import REFUSE_TRUCK, SpeedProfile

log = logging.getLogger(__name__)

#: bump when RoadNetwork's layout or the module of a pickled class changes, so old cache
#: files are not read (7: the classes moved from ``solver.network`` into its modules; 8: the
#: turn facts, banned turns and turning places; 9: merged edges' tag lists sorted, so speeds no
#: longer depend on the process's string hashing).
CACHE_FORMAT = 10


def cache_key(source: NetworkSource, profile: SpeedProfile, simplify: bool) -> str:
    """Hex key identifying a built network: source content, profile, simplification, format."""
    payload = json.dumps({"source": source.fingerprint(), "profile": asdict(profile),
                          "simplify": simplify, "format": CACHE_FORMAT,
                          "osmnx": ox.__version__}, sort_keys=True)
    return hashlib.sha256(payload.encode()).hexdigest()


_MEMORY: dict[str, RoadNetwork] = {}


def load_network(source: str | os.PathLike[str], *, profile: SpeedProfile = REFUSE_TRUCK,
                 simplify: bool = True, cache_dir: str | os.PathLike[str] | None = None) -> RoadNetwork:
    """The network for ``source``, from memory, the disk cache in ``cache_dir``, or built.

    A cache file that cannot be read is rebuilt and replaced. Without ``cache_dir``
    only the in-memory cache is used.
    """
    src = NetworkSource.parse(source)
    key = cache_key(src, profile, simplify)
    if key in _MEMORY:
        return _MEMORY[key]
    path = Path(cache_dir) / f"{Path(src.value).name[:40]}-{key[:20]}.pkl" if cache_dir else None
    network = _read_cache(path, key) if path else None
    if network is None:
        network = build_network(src, profile=profile, simplify=simplify)
        if path:
            cache_file.write(path, network, key, format_version=CACHE_FORMAT)
    _MEMORY[key] = network
    return network


def _read_cache(path: Path, key: str) -> RoadNetwork | None:
    """The network cached in ``path`` for ``key``, or ``None`` (with a warning when the file
    exists but fails a check of :mod:`solver.cache_file` or holds no complete network)."""
    if not path.is_file():
        return None
    started = time.perf_counter()
    try:
        network = cache_file.read(path, key, format_version=CACHE_FORMAT)
        if not isinstance(network, RoadNetwork):
            raise TypeError(f"cache file holds {type(network).__name__}")
        missing = sorted(set(RoadNetwork.__dataclass_fields__) - set(vars(network)))
        if missing:
            raise TypeError(f"cache file lacks {', '.join(missing)}")
    except (OSError, ValueError, TypeError) as exc:  # a corrupt or foreign cache file is rebuilt, not trusted
        log.warning("ignoring unreadable network cache %s: %s; rebuilding it", path, exc)
        return None
    log.info("loaded network %s from cache in %.2f s", network.name, time.perf_counter() - started)
    return network
