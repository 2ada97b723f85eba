"""The on-disk format of built road networks: a checked header, then a restricted pickle.

A cache file is::

    MAGIC                       b"WASTEROUTE-NETWORK-CACHE\\n"
    header                      one line of JSON: {"format", "key", "length", "sha256"}
    payload                     ``length`` bytes of pickle, whose SHA-256 is ``sha256``

Reading checks, before a single byte is unpickled, that the magic is there, that the
header is short JSON naming the expected ``format`` (the layout version) and ``key``
(the cache key of the source and settings, so a file copied or renamed from another
network is refused), and that the payload has the announced length and checksum (a
truncated or damaged file is refused). The pickle is then read by an unpickler that
only builds the few classes a road network is made of (numpy arrays, scipy sparse
arrays, networkx graphs, shapely geometries, :mod:`solver.network`'s dataclasses), so
that even a file crafted to pass the checksum cannot run arbitrary code. The cache
folder should still be writable by the service only.

Any refusal raises :class:`CacheFileError`; the caller rebuilds the network.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import pickle
import tempfile
from pathlib import Path
from typing import Any

MAGIC = b"WASTEROUTE-NETWORK-CACHE\n"
"""First bytes of every cache file."""

MAX_HEADER_BYTES = 4096
"""Longest header line read (bytes); anything longer is no header of ours."""

_ALLOWED_FUNCTIONS = frozenset({
    ("numpy._core.multiarray", "_reconstruct"), ("numpy.core.multiarray", "_reconstruct"),
    ("numpy._core.multiarray", "scalar"), ("numpy.core.multiarray", "scalar"),
    ("numpy._core.numeric", "_frombuffer"), ("numpy.core.numeric", "_frombuffer"),
    ("numpy", "dtype"), ("numpy", "ndarray"),
    ("shapely.io", "from_wkb"), ("shapely.wkb", "loads"),
    ("copyreg", "_reconstructor"), ("_codecs", "encode"),
    ("builtins", "set"), ("builtins", "frozenset"), ("builtins", "complex"), ("builtins", "slice"),
    ("builtins", "object"), ("collections", "OrderedDict"), ("collections", "defaultdict"),
})
"""Globals a network's pickle may name besides the classes of :data:`_ALLOWED_CLASS_MODULES`."""

_ALLOWED_CLASS_MODULES = ("numpy.dtypes", "scipy.sparse.", "networkx.classes.", "solver.network.build",
                          "solver.network.source", "solver.network.speeds")
"""Modules (or prefixes, ending in a dot) whose classes a network's pickle may build: the
classes of :class:`~solver.network.RoadNetwork` and of the dataclasses it holds."""


class CacheFileError(ValueError):
    """A cache file that is not a sound cache file of the expected network."""


class _NetworkUnpickler(pickle.Unpickler):
    """An unpickler that refuses every global but the building blocks of a road network."""

    def find_class(self, module: str, name: str) -> Any:
        """The global ``module.name`` if it is allowed; :class:`CacheFileError` otherwise."""
        if (module, name) in _ALLOWED_FUNCTIONS:
            return super().find_class(module, name)
        if any(module == prefix or (prefix.endswith(".") and module.startswith(prefix))
               for prefix in _ALLOWED_CLASS_MODULES):
            found = super().find_class(module, name)
            if isinstance(found, type):
                return found
        raise CacheFileError(f"cache file names {module}.{name}, which no road network is made of")


def encode(obj: object, key: str, *, format_version: int) -> bytes:
    """``obj`` as the bytes of a cache file for ``key`` (magic, header line, pickle)."""
    payload = pickle.dumps(obj, protocol=pickle.HIGHEST_PROTOCOL)
    header = {"format": format_version, "key": key, "length": len(payload),
              "sha256": hashlib.sha256(payload).hexdigest()}
    return MAGIC + json.dumps(header, sort_keys=True).encode() + b"\n" + payload


def write(path: Path, obj: object, key: str, *, format_version: int) -> None:
    """Write ``obj`` to ``path`` atomically (a temporary file renamed over it)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    data = encode(obj, key, format_version=format_version)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=path.name, suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


def _header(stream: io.BufferedIOBase, path: Path, key: str, format_version: int) -> dict[str, Any]:
    """The checked header of the file open in ``stream`` (positioned after it on return)."""
    if stream.read(len(MAGIC)) != MAGIC:
        raise CacheFileError(f"{path.name} does not start like a wasteroute network cache file")
    line = stream.readline(MAX_HEADER_BYTES)
    if not line.endswith(b"\n"):
        raise CacheFileError(f"{path.name} has no complete header line")
    try:
        header = json.loads(line)
    except ValueError as exc:
        raise CacheFileError(f"{path.name} has an unreadable header: {exc}") from exc
    if not isinstance(header, dict):
        raise CacheFileError(f"{path.name} has an unreadable header")
    if header.get("format") != format_version:
        raise CacheFileError(f"{path.name} has format {header.get('format')!r}, expected {format_version}")
    if header.get("key") != key:
        raise CacheFileError(f"{path.name} holds another network (its key differs)")
    if not isinstance(header.get("length"), int) or not isinstance(header.get("sha256"), str):
        raise CacheFileError(f"{path.name} has a header without length and checksum")
    return header


def read(path: Path, key: str, *, format_version: int) -> object:
    """The object cached in ``path`` for ``key``, after checking header, length and checksum.

    Raises :class:`CacheFileError` for a file that fails a check or whose pickle names a
    global a network is not made of, and :class:`OSError` if it cannot be read.
    """
    with path.open("rb") as stream:
        header = _header(stream, path, key, format_version)
        payload = stream.read(header["length"] + 1)
    if len(payload) != header["length"]:
        raise CacheFileError(f"{path.name} is truncated or padded: {len(payload)} bytes of payload, "
                             f"header announces {header['length']}")
    if hashlib.sha256(payload).hexdigest() != header["sha256"]:
        raise CacheFileError(f"{path.name} is damaged: its checksum does not match")
    try:
        return _NetworkUnpickler(io.BytesIO(payload)).load()
    except CacheFileError:
        raise
    except Exception as exc:  # a pickle that passed the checksum but does not load here
        raise CacheFileError(f"{path.name} does not unpickle: {exc}") from exc
