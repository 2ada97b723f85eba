"""A started app planning on the square of named streets (tests/solver/test_directions.py) and a
person's plan round it, stored: real plans whose streets, turns and stops are known, for the round
books and the exports that name streets."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient

from app.core.config import Settings
from app.main import create_app

from ...solver.test_directions import write_square

#: bins up Church Lane (lon 9.001, northwards), along Park Road (lat 0.001, eastwards) and down
#: Mill Lane (lon 9.002, southwards), each 3 m off its street's west or south side.
CHURCH = [(f"c{i}", 9.001 - 0.00003, 0.0002 + 0.0002 * i) for i in range(4)]
PARK = [(f"p{i}", 9.0013 + 0.0002 * i, 0.001 + 0.00003) for i in range(2)]
MILL = [(f"m{i}", 9.002 + 0.00003, 0.0008 - 0.0002 * i) for i in range(3)]
def problem() -> dict[str, Any]:
    """One lorry from a depot at the west end of High Street; a tip at its east end; a break."""
    return {
        "depots": [{"id": "yard", "lon": 9.0002, "lat": -0.00003}],
        "disposal_sites": [{"id": "tip", "lon": 9.0028, "lat": -0.00003, "unload_s": 600}],
        "vehicles": [{"id": "rcv-1", "depot": "yard", "capacity_kg": 5000,
                      "break": {"duration_s": 1800, "window": ["06:00", "14:00"]}}],
        "bins": [{"id": b, "lon": lon, "lat": lat, "demand_kg": 10, "volume_l": 240}
                 for b, lon, lat in CHURCH + PARK + MILL],
    }


ROUTE = [b for b, _, _ in CHURCH + PARK + MILL[:1]] + ["break"] + [b for b, _, _ in MILL[1:]] + ["tip"]
"""Clockwise round the block: Church Lane, Park Road, Mill Lane (the break on it), then the tip."""


@pytest.fixture(scope="module")
def square_client(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    """A started app planning on the square."""
    folder = tmp_path_factory.mktemp("square-app")
    settings = Settings(network_file=write_square(folder / "square.osm"), data_dir=folder,
                        cache_dir=folder / "cache", snap_limit_m=50, auth_required=False)
    with TestClient(create_app(settings)) as client:
        yield client


@pytest.fixture(scope="module")
def stored(square_client: TestClient) -> dict[str, Any]:
    """The person's plan :data:`ROUTE`, stored (and so evaluated) by the app."""
    answer = square_client.post("/api/v1/plans", json={**problem(), "routes": [{"vehicle_id": "rcv-1",
                                                                                 "stops": ROUTE}]})
    assert answer.status_code == 201, answer.text
    body: dict[str, Any] = answer.json()
    assert body["summary"]["bins_served"] == len(CHURCH + PARK + MILL)
    return body


