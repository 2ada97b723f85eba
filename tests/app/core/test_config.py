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


@pytest.mark.parametrize(("given", "token"), [("", None), ("   ", None), ("s3cret", "s3cret")])
def test_an_empty_metrics_token_leaves_metrics_off(monkeypatch: pytest.MonkeyPatch, given: str,
                                                   token: str | None) -> None:
    """compose.yaml's ``${WASTEROUTE_METRICS_TOKEN:-}`` sets an empty value when unset: that is no token,
    not a token anyone can present; a real one is kept secret (not shown in the settings' repr)."""
    monkeypatch.setenv("WASTEROUTE_METRICS_TOKEN", given)
    settings = Settings()
    assert (settings.metrics_token and settings.metrics_token.get_secret_value()) == (token or None)
    assert "s3cret" not in repr(settings)
