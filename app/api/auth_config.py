"""``GET /api/v1/auth/config``: how the map may sign a person in, asked before it holds a key or token.

Open (no key needed, see :func:`app.api.auth.open_paths`): it says only what the identity
provider publishes anyway, and the map's public client id. With ``WASTEROUTE_OIDC_ISSUER``
and ``WASTEROUTE_OIDC_CLIENT_ID`` set it answers ``oidc: true``, the issuer, client id and
scopes, and the provider's authorization and token endpoints (from its discovery
document, fetched by the service so that the browser need not); otherwise ``oidc: false``
and the map offers the API key form only. A provider that cannot be reached answers 503.
"""

from __future__ import annotations

from fastapi import APIRouter, HTTPException
from pydantic import BaseModel, Field
from starlette.requests import Request

from app.api.deps import SettingsDep
from app.api.oidc import TokenVerifier
from app.api.oidc_keys import IdentityProviderUnavailableError

router = APIRouter(tags=["web map"])

RETRY_AFTER_S = 5


class AuthConfig(BaseModel):
    """How a browser signs in: OpenID Connect's authorization code flow with PKCE, as a public client."""

    oidc: bool = Field(description="Whether the map may sign in with the council's identity provider.")
    issuer: str | None = Field(default=None, description="The identity provider's issuer URL.")
    client_id: str | None = Field(default=None, description="The map's (public) client id at the provider.")
    scopes: list[str] = Field(default_factory=list, description="Scopes to ask for.")
    authorization_endpoint: str | None = Field(default=None, description="Where the browser is sent to sign in.")
    token_endpoint: str | None = Field(default=None, description="Where the browser trades its code for tokens.")
    end_session_endpoint: str | None = Field(default=None, description="Where the browser signs out, if any.")


@router.get("/auth/config", response_model=AuthConfig, response_model_exclude_none=True, include_in_schema=False)
async def auth_config(request: Request, settings: SettingsDep) -> AuthConfig:
    """How the map signs a person in (no key needed)."""
    verifier: TokenVerifier | None = getattr(request.app.state, "token_verifier", None)
    if verifier is None or not settings.oidc_client_id:
        return AuthConfig(oidc=False)
    try:
        metadata = await verifier.keys.metadata()
    except IdentityProviderUnavailableError as fault:
        raise HTTPException(status_code=503, detail="the identity provider is unavailable; try again shortly",
                            headers={"Retry-After": str(RETRY_AFTER_S)}) from fault
    if metadata.authorization_endpoint is None or metadata.token_endpoint is None:
        return AuthConfig(oidc=False)
    return AuthConfig(oidc=True, issuer=metadata.issuer, client_id=settings.oidc_client_id,
                      scopes=settings.oidc_scopes.split(), authorization_endpoint=metadata.authorization_endpoint,
                      token_endpoint=metadata.token_endpoint, end_session_endpoint=metadata.end_session_endpoint)
