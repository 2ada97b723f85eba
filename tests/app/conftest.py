"""Fixtures of the app tests: settings in a temporary data folder, real apps, a small
real problem on the embedded Monaco network."""

from __future__ import annotations

import copy
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from app.config import Settings, default_network_file
from app.main import create_app

DEPOT = {"id": "depot", "lon": 7.4149, "lat": 43.7302}
"""Fontvieille, on the street network."""

BINS = [
    {"id": "b00001", "lon": 7.41745, "lat": 43.73619, "demand_kg": 16},
    {"id": "b00002", "lon": 7.41595, "lat": 43.73639, "demand_kg": 12},
    {"id": "b00003", "lon": 7.41670, "lat": 43.73362, "demand_kg": 20},
    {"id": "b00004", "lon": 7.41847, "lat": 43.73464, "demand_kg": 8},
    {"id": "b00005", "lon": 7.42256, "lat": 43.73748, "demand_kg": 25, "service_s": 45},
    {"id": "b00006", "lon": 7.42353, "lat": 43.73857, "demand_kg": 14},
    {"id": "b00007", "lon": 7.42694, "lat": 43.73813, "demand_kg": 30},
    {"id": "b00008", "lon": 7.41293, "lat": 43.73081, "demand_kg": 11},
]
"""Bins near streets around lon 7.42, lat 43.735 (within a few metres of a road)."""

OFF_NETWORK_BIN = {"id": "b-sea", "lon": 7.4300, "lat": 43.7000, "demand_kg": 10}
"""In the sea south of Monaco, kilometres from any street of the network."""


def base_problem() -> dict[str, Any]:
    """A fresh, valid optimisation body: one depot, two vehicles, eight bins, 1 s search."""
    return copy.deepcopy({
        "depots": [DEPOT],
        "vehicles": [
            {"id": "rcv-1", "depot": "depot", "capacity_kg": 100, "shift": ["06:00", "14:00"]},
            {"id": "rcv-2", "depot": "depot", "capacity_kg": 100},
        ],
        "bins": BINS,
        "options": {"time_limit_s": 1, "seed": 0},
    })


@pytest.fixture(scope="session")
def make_problem() -> Callable[[], dict[str, Any]]:
    """A factory of fresh, valid optimisation bodies (for fixtures wider than a test)."""
    return base_problem


@pytest.fixture(scope="session")
def off_network_bin() -> dict[str, Any]:
    """A bin in the sea, far beyond the snap limit from any street."""
    return dict(OFF_NETWORK_BIN)


@pytest.fixture
def problem() -> dict[str, Any]:
    """A valid optimisation body that a test may change."""
    return base_problem()


@pytest.fixture(scope="session")
def data_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A working data folder shared by the session (its cache keeps the built network)."""
    return tmp_path_factory.mktemp("var")


@pytest.fixture(scope="session")
def settings(data_dir: Path) -> Settings:
    """Settings for tests, independent of any WASTEROUTE_* variables of the machine."""
    return Settings(network_file=default_network_file(), data_dir=data_dir, cache_dir=data_dir / "cache",
                    snap_limit_m=200, default_time_limit_s=1, max_time_limit_s=30)


@pytest.fixture
def app_client(settings: Settings) -> TestClient:
    """A client of a real app that has not started up: no road network is loaded.

    Validation and the documentation do not need the network, so their tests run on
    this client.
    """
    return TestClient(create_app(settings))


@pytest.fixture(scope="session")
def client(settings: Settings) -> Iterator[TestClient]:
    """A client of a real app that has started up and loaded the Monaco network."""
    with TestClient(create_app(settings)) as started:
        yield started
