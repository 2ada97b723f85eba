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


def test_identity_provider_settings_read_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """WASTEROUTE_OIDC_*: audiences comma-separated, role and tenant maps as name=value pairs or JSON,
    Entra ID's claims by default; an issuer without an audience, or a pair without '=', is refused."""
    monkeypatch.setenv("WASTEROUTE_OIDC_ISSUER", "https://login.microsoftonline.com/tid-1/v2.0")
    monkeypatch.setenv("WASTEROUTE_OIDC_AUDIENCE", "api://wasteroute, 0b1e-client")
    monkeypatch.setenv("WASTEROUTE_OIDC_ROLE_MAP", "Waste.Planner=planner, Waste.Approver = approver")
    monkeypatch.setenv("WASTEROUTE_OIDC_TENANT_MAP", '{"tid-1": "rutland"}')
    settings = Settings()
    assert settings.oidc_audience == ["api://wasteroute", "0b1e-client"]
    assert settings.oidc_role_map == {"Waste.Planner": "planner", "Waste.Approver": "approver"}
    assert settings.oidc_tenant_map == {"tid-1": "rutland"}
    assert (settings.oidc_roles_claim, settings.oidc_tenant_claim, settings.oidc_name_claim) == ("roles", "tid", "name")
    monkeypatch.setenv("WASTEROUTE_OIDC_ROLE_MAP", "Waste.Planner")
    with pytest.raises(ValidationError, match="name=value"):
        Settings()
    monkeypatch.delenv("WASTEROUTE_OIDC_ROLE_MAP")
    monkeypatch.delenv("WASTEROUTE_OIDC_AUDIENCE")
    with pytest.raises(ValidationError, match="oidc_audience"):
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


def test_a_heartbeat_not_shorter_than_the_lease_is_refused() -> None:
    """Leases must be renewed before they expire: ``job_heartbeat_s`` >= ``job_lease_s`` is refused, naming both."""
    with pytest.raises(ValueError, match=r"job_heartbeat_s .* must be less than job_lease_s"):
        Settings(job_lease_s=10, job_heartbeat_s=10)
    assert Settings(job_lease_s=10, job_heartbeat_s=3).job_heartbeat_s == 3
