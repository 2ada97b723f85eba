"""Settings read from the environment: the road rules (side of the road, busy road types)."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from app.core.config import Settings
from solver.problem import DEFAULT_BUSY_HIGHWAYS


def test_road_rules_read_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """WASTEROUTE_DRIVES_ON and WASTEROUTE_BUSY_HIGHWAYS (comma-separated or JSON); unset, the UK's
    left and the default busy roads; an unknown side is refused naming the setting."""
    monkeypatch.delenv("WASTEROUTE_DRIVES_ON", raising=False)
    monkeypatch.delenv("WASTEROUTE_BUSY_HIGHWAYS", raising=False)
    assert (Settings().drives_on, Settings().busy_highways) == ("left", list(DEFAULT_BUSY_HIGHWAYS))
    monkeypatch.setenv("WASTEROUTE_DRIVES_ON", "right")
    monkeypatch.setenv("WASTEROUTE_BUSY_HIGHWAYS", "primary, secondary")
    assert (Settings().drives_on, Settings().busy_highways) == ("right", ["primary", "secondary"])
    monkeypatch.setenv("WASTEROUTE_BUSY_HIGHWAYS", '["trunk"]')
    assert Settings().busy_highways == ["trunk"]
    monkeypatch.setenv("WASTEROUTE_DRIVES_ON", "middle")
    with pytest.raises(ValidationError, match="drives_on"):
        Settings()


def test_a_heartbeat_not_shorter_than_the_lease_is_refused() -> None:
    """Leases must be renewed before they expire: ``job_heartbeat_s`` >= ``job_lease_s`` is refused, naming both."""
    with pytest.raises(ValueError, match=r"job_heartbeat_s .* must be less than job_lease_s"):
        Settings(job_lease_s=10, job_heartbeat_s=10)
    assert Settings(job_lease_s=10, job_heartbeat_s=3).job_heartbeat_s == 3
