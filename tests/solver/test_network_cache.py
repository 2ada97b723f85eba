"""Tests of the network cache files (solver.cache_file) as load_network meets them: a
truncated, damaged, foreign or crafted file is refused before unpickling, logged, and
rebuilt into a sound file."""

from __future__ import annotations

import logging
import os
import pickle
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest

import solver.cache_file as cache_format
import solver.network.cache as netmod
from solver.network import REFUSE_TRUCK, NetworkSource, RoadNetwork, cache_key, load_network

STREET_NODES = {i: (51.0, -0.5 + 0.001 * (i - 1)) for i in range(1, 5)}
STREET_WAYS = [(20, [1, 2, 3, 4], {"highway": "residential"})]
"""A hand-made two-way street of three blocks."""


class _Mkdir:
    """A pickle payload that, unpickled by plain ``pickle``, creates a folder."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def __reduce__(self) -> tuple[object, tuple[str]]:
        return (os.mkdir, (str(self.path),))


@pytest.fixture
def cached(tmp_path: Path, tools: SimpleNamespace,
           monkeypatch: pytest.MonkeyPatch) -> SimpleNamespace:
    """The street built once into ``tmp_path/cache`` with an empty memory cache:
    ``network``, ``file`` (its cache file), ``key``, ``source`` and ``reload()``, which
    loads it again with memory cleared."""
    source = tools.write_osm_xml(tmp_path / "street.osm", STREET_NODES, STREET_WAYS)
    monkeypatch.setattr(netmod, "_MEMORY", {})
    network = load_network(source, cache_dir=tmp_path / "cache")
    (file,) = (tmp_path / "cache").glob("*.pkl")

    def reload() -> RoadNetwork:
        netmod._MEMORY.clear()
        return load_network(source, cache_dir=tmp_path / "cache")

    return SimpleNamespace(network=network, file=file, source=source, reload=reload,
                           key=cache_key(NetworkSource.parse(source), REFUSE_TRUCK, True))


def _read(cached: SimpleNamespace) -> object:
    """The cache file's content as the checked reader gives it."""
    return cache_format.read(cached.file, cached.key, format_version=netmod.CACHE_FORMAT)


def test_written_file_starts_with_magic_and_header(cached: SimpleNamespace) -> None:
    """A cache file starts with the magic and a header naming format, key, length and checksum."""
    data = cached.file.read_bytes()
    assert data.startswith(cache_format.MAGIC)
    header = data[len(cache_format.MAGIC):].split(b"\n", 1)[0].decode()
    for word in ("format", cached.key, "length", "sha256"):
        assert word in header


def test_sound_file_is_loaded_not_rebuilt(cached: SimpleNamespace, caplog: pytest.LogCaptureFixture) -> None:
    """A sound cache file is read back (same build time, no warning), not rebuilt."""
    with caplog.at_level(logging.WARNING, logger="solver.network"):
        again = cached.reload()
    assert again is not cached.network
    assert again.build_seconds == cached.network.build_seconds
    assert "unreadable network cache" not in caplog.text


def test_truncated_file_is_rebuilt_with_warning(cached: SimpleNamespace,
                                                caplog: pytest.LogCaptureFixture) -> None:
    """A file cut short (a crash while copying it, a full disk) is refused with a warning
    that says so, and the network is rebuilt."""
    data = cached.file.read_bytes()
    cached.file.write_bytes(data[: len(data) - 100])
    with caplog.at_level(logging.WARNING, logger="solver.network"):
        again = cached.reload()
    assert "unreadable network cache" in caplog.text and "truncated" in caplog.text
    assert again.build_seconds != cached.network.build_seconds
    np.testing.assert_array_equal(again.edge_time_s, cached.network.edge_time_s)


def test_rebuilt_file_replaces_the_bad_one(cached: SimpleNamespace) -> None:
    """After a rebuild the cache file is sound again: the checked reader loads a network."""
    cached.file.write_bytes(b"garbage" * 100)
    cached.reload()
    assert isinstance(_read(cached), RoadNetwork)


def test_garbage_file_is_rebuilt_with_warning(cached: SimpleNamespace,
                                              caplog: pytest.LogCaptureFixture) -> None:
    """Random bytes are refused at the magic, with a warning, and the network rebuilt."""
    cached.file.write_bytes(np.random.default_rng(0).bytes(5000))
    with caplog.at_level(logging.WARNING, logger="solver.network"):
        again = cached.reload()
    assert "does not start like a wasteroute network cache file" in caplog.text
    np.testing.assert_array_equal(again.edge_u, cached.network.edge_u)


def test_flipped_byte_fails_the_checksum(cached: SimpleNamespace) -> None:
    """One damaged byte in the payload is caught by the checksum before unpickling."""
    data = bytearray(cached.file.read_bytes())
    data[-10] ^= 0xFF
    cached.file.write_bytes(bytes(data))
    with pytest.raises(cache_format.CacheFileError, match="checksum"):
        _read(cached)


def test_file_of_another_network_is_refused(cached: SimpleNamespace) -> None:
    """A sound file written under another key (a file renamed or copied from another
    network) is refused."""
    cached.file.write_bytes(cache_format.encode(cached.network, "0" * 64, format_version=netmod.CACHE_FORMAT))
    with pytest.raises(cache_format.CacheFileError, match="another network"):
        _read(cached)


def test_file_of_another_format_is_refused(cached: SimpleNamespace) -> None:
    """A sound file of an older layout version is refused."""
    cached.file.write_bytes(cache_format.encode(cached.network, cached.key,
                                                format_version=netmod.CACHE_FORMAT - 1))
    with pytest.raises(cache_format.CacheFileError, match="format"):
        _read(cached)


def test_bare_pickle_of_the_old_layout_is_refused(cached: SimpleNamespace) -> None:
    """A bare pickle of a real network (the layout before checked headers) is not unpickled."""
    cached.file.write_bytes(pickle.dumps(cached.network))
    with pytest.raises(cache_format.CacheFileError, match="does not start like"):
        _read(cached)


def test_crafted_pickle_with_valid_checksum_runs_nothing(cached: SimpleNamespace, tmp_path: Path,
                                                         caplog: pytest.LogCaptureFixture) -> None:
    """A file crafted to pass every header check, whose pickle calls ``os.mkdir``, is
    refused by the restricted unpickler: nothing runs, and the network is rebuilt."""
    marker = tmp_path / "created-by-pickle"
    cached.file.write_bytes(cache_format.encode(_Mkdir(marker), cached.key, format_version=netmod.CACHE_FORMAT))
    with caplog.at_level(logging.WARNING, logger="solver.network"):
        again = cached.reload()
    assert not marker.exists()
    assert "which no road network is made of" in caplog.text
    assert isinstance(again, RoadNetwork)


def test_header_without_payload_is_refused(cached: SimpleNamespace) -> None:
    """A file holding only the magic and header is refused as truncated."""
    data = cached.file.read_bytes()
    cached.file.write_bytes(data[: data.index(b"\n", len(cache_format.MAGIC)) + 1])
    with pytest.raises(cache_format.CacheFileError, match="truncated"):
        _read(cached)


def test_monaco_round_trips_through_the_checked_reader(monaco: RoadNetwork, tmp_path: Path) -> None:
    """The real Monaco network written and read back through the restricted unpickler keeps
    its arrays (every class it is made of is allowed)."""
    path = tmp_path / "monaco.pkl"
    cache_format.write(path, monaco, "k", format_version=1)
    again = cache_format.read(path, "k", format_version=1)
    assert isinstance(again, RoadNetwork)
    np.testing.assert_array_equal(again.edge_time_s, monaco.edge_time_s)
    assert again.graph.number_of_edges() == monaco.graph.number_of_edges()
