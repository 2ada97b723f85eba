"""Bearer JWTs from the council's OpenID Connect identity provider: checked, then who they name.

When ``WASTEROUTE_OIDC_ISSUER`` is set, a bearer credential shaped like a JWT (three
base64url parts joined by dots; API keys hold no dot) is handed by the authentication
middleware (:mod:`app.api.auth`) to :meth:`TokenVerifier.principal` instead of the key store.
A token is accepted only when

- its header names an asymmetric algorithm, RS256 or ES256 (``none`` and HS256 are refused:
  an HMAC "signed" with the provider's public key proves nothing), and a key id (``kid``)
  the provider publishes (:class:`app.api.oidc_keys.ProviderKeys`; an unknown id makes one
  rate-limited refetch, which is how a key rotation is picked up);
- the signature verifies with that key, whose own algorithm must be the header's;
- ``exp`` is in the future and ``nbf`` (if any) in the past, give or take ``leeway_s``;
- ``iss`` is the configured issuer and ``aud`` one of the configured audiences;
- the tenant claim (``tid`` for Entra ID) maps to a wasteroute tenant, and the roles claim
  holds at least one role or group that maps to a wasteroute role.

The person becomes a :class:`app.api.principal.Principal` with ``user_id`` ``"oidc:<sub>"``,
the display name from the name claim, the mapped roles and ``via="jwt"``.

Refusals raise :class:`TokenRefusedError`, answered in the error shape of
:mod:`app.core.faults` by :func:`refusal_response`: 401 with ``type`` ``invalid_token``
(not a readable JWT), ``invalid_token_signature``, ``expired_token``, ``wrong_audience``,
``wrong_issuer`` or ``unknown_tenant``; **403** ``no_role`` for a valid token of a known
council whose person holds no mapped role: they have proved who they are, and signing in
again will not help until an administrator gives them a role.

Tokens are never logged nor repeated in an answer.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Final, Literal
from urllib.parse import urlsplit

import jwt
from fastapi.responses import JSONResponse

from app.api.oidc_keys import ProviderKeys
from app.api.principal import ROLES, Principal
from app.core.config import Settings
from app.core.faults import error_item

logger = logging.getLogger(__name__)

ALGORITHMS: Final = ("RS256", "ES256")
"""The signature algorithms accepted: asymmetric only."""
REQUIRED_CLAIMS: Final = ("exp", "iss", "aud", "sub")
USER_PREFIX: Final = "oidc:"
"""``user_id`` of a token's person: this prefix and the token's ``sub``."""
FALLBACK_NAME_CLAIM: Final = "preferred_username"
UNAUTHORIZED: Final = 401
FORBIDDEN: Final = 403
LOOPBACK_HOSTS: Final = frozenset({"127.0.0.1", "::1", "localhost"})
TokenRefusal = Literal["invalid_token", "invalid_token_signature", "expired_token", "wrong_audience",
                       "wrong_issuer", "unknown_tenant", "no_role"]
"""The ``type`` of a refused token's answer (a closed list: docs/api.md and the contract test)."""
_JWT_SHAPE = re.compile(r"[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*")


class TokenRefusedError(Exception):
    """A bearer JWT is refused: ``kind`` is the answer's ``type``, ``status`` 401 or 403."""

    def __init__(self, kind: TokenRefusal, msg: str, status: int = UNAUTHORIZED) -> None:
        super().__init__(msg)
        self.kind = kind
        self.msg = msg
        self.status = status


def looks_like_jwt(credential: str) -> bool:
    """Whether ``credential`` has a JWT's shape (three base64url parts, the last possibly empty)."""
    return _JWT_SHAPE.fullmatch(credential) is not None


@dataclass(frozen=True, slots=True)
class TokenRules:
    """What a token must say, and how its claims map to a wasteroute person (from :class:`Settings`)."""

    issuer: str
    audiences: tuple[str, ...]
    roles_claim: str
    role_map: Mapping[str, str]
    tenant_claim: str
    tenant_map: Mapping[str, str]
    name_claim: str
    leeway_s: float

    @classmethod
    def of(cls, settings: Settings) -> TokenRules:
        """The rules of ``settings`` (``oidc_issuer`` set); a role map naming a role wasteroute does
        not have raises ``ValueError``, so a misconfigured service does not start."""
        if not settings.oidc_issuer:
            raise ValueError("oidc_issuer is not set")
        unknown = sorted({role for role in settings.oidc_role_map.values() if role not in ROLES})
        if unknown:
            raise ValueError(f"WASTEROUTE_OIDC_ROLE_MAP names roles wasteroute does not have: {', '.join(unknown)} "
                             f"(roles: {', '.join(ROLES)})")
        return cls(issuer=settings.oidc_issuer, audiences=tuple(settings.oidc_audience),
                   roles_claim=settings.oidc_roles_claim, role_map=dict(settings.oidc_role_map),
                   tenant_claim=settings.oidc_tenant_claim, tenant_map=dict(settings.oidc_tenant_map),
                   name_claim=settings.oidc_name_claim, leeway_s=settings.oidc_leeway_s)


def claim(claims: Mapping[str, Any], path: str) -> Any:
    """The claim at ``path``, a name or a dotted path into nested objects; ``None`` when absent."""
    value: Any = claims
    if path in claims:
        return claims[path]
    for part in path.split("."):
        if not isinstance(value, Mapping) or part not in value:
            return None
        value = value[part]
    return value


def roles_of(claims: Mapping[str, Any], rules: TokenRules) -> frozenset[str]:
    """The wasteroute roles the token's roles claim maps to (a list, or one space-separated string)."""
    held = claim(claims, rules.roles_claim)
    if isinstance(held, str):
        held = held.split()
    if not isinstance(held, list):
        return frozenset()
    return frozenset(rules.role_map[name] for name in held if isinstance(name, str) and name in rules.role_map)


def principal_of_claims(claims: Mapping[str, Any], rules: TokenRules) -> Principal:
    """The person verified ``claims`` name, or :class:`TokenRefusedError` (``unknown_tenant``, ``no_role``)."""
    organisation = claim(claims, rules.tenant_claim)
    tenant = rules.tenant_map.get(organisation) if isinstance(organisation, str) else None
    if tenant is None:
        raise TokenRefusedError("unknown_tenant", f"the token's organisation ({rules.tenant_claim} "
                                                  f"{organisation!r}) is not a council of this service")
    roles = roles_of(claims, rules)
    if not roles:
        raise TokenRefusedError("no_role", f"the token's {rules.roles_claim!r} claim holds no role this service "
                                           f"maps (ask your administrator for one)", FORBIDDEN)
    subject = str(claims["sub"])
    name = next((value for value in (claim(claims, rules.name_claim), claims.get(FALLBACK_NAME_CLAIM))
                 if isinstance(value, str) and value.strip()), subject)
    return Principal(tenant=tenant, user_id=USER_PREFIX + subject, name=name.strip(), roles=roles, via="jwt")


def verified_claims(token: str, key: jwt.PyJWK, rules: TokenRules) -> dict[str, Any]:
    """The claims of ``token`` once its signature (with ``key``), lifetime, issuer and audience
    check out; :class:`TokenRefusedError` naming what failed otherwise."""
    try:
        claims: dict[str, Any] = jwt.decode(
            token, key=key.key, algorithms=[key.algorithm_name], audience=list(rules.audiences),
            issuer=rules.issuer, leeway=rules.leeway_s, options={"require": list(REQUIRED_CLAIMS)})
    except jwt.ExpiredSignatureError as error:
        raise TokenRefusedError("expired_token", "the token has expired: sign in again") from error
    except jwt.ImmatureSignatureError as error:
        raise TokenRefusedError("invalid_token", "the token is not valid yet (nbf or iat in the future)") from error
    except jwt.InvalidAudienceError as error:
        raise TokenRefusedError("wrong_audience", "the token was not issued for this service (aud)") from error
    except jwt.InvalidIssuerError as error:
        raise TokenRefusedError("wrong_issuer", "the token was not issued by this service's identity "
                                                "provider (iss)") from error
    except (jwt.InvalidSignatureError, jwt.InvalidAlgorithmError) as error:
        raise TokenRefusedError("invalid_token_signature", "the token's signature does not verify") from error
    except jwt.MissingRequiredClaimError as error:
        raise TokenRefusedError("invalid_token", f"the token has no {error.claim!r} claim") from error
    except jwt.InvalidTokenError as error:
        raise TokenRefusedError("invalid_token", "the token is not a valid JWT") from error
    return claims


def signing_header(token: str) -> tuple[str, str]:
    """The algorithm and key id of ``token``'s header, refusing any algorithm but :data:`ALGORITHMS`."""
    try:
        header = jwt.get_unverified_header(token)
    except jwt.InvalidTokenError as error:
        raise TokenRefusedError("invalid_token", "the token is not a valid JWT") from error
    algorithm, kid = header.get("alg"), header.get("kid")
    if algorithm not in ALGORITHMS:
        raise TokenRefusedError("invalid_token_signature", f"the token's algorithm {algorithm!r} is not accepted "
                                                           f"({', '.join(ALGORITHMS)} only)")
    if not isinstance(kid, str) or not kid:
        raise TokenRefusedError("invalid_token_signature", "the token's header names no signing key (kid)")
    return algorithm, kid


class TokenVerifier:
    """Bearer JWT -> :class:`Principal`, with the provider's keys from ``keys``."""

    def __init__(self, rules: TokenRules, keys: ProviderKeys) -> None:
        self.rules = rules
        self.keys = keys

    async def principal(self, token: str) -> Principal:
        """Who ``token`` names, or :class:`TokenRefusedError`; an unreachable provider raises
        :class:`app.api.oidc_keys.IdentityProviderUnavailableError`."""
        try:
            return await self._principal(token)
        except TokenRefusedError as refusal:
            # why a token was turned away helps an administrator; the token and whom it named do not go in logs
            logger.info("bearer token refused: %s", refusal.kind)
            raise

    async def _principal(self, token: str) -> Principal:
        algorithm, kid = signing_header(token)
        key = await self.keys.key(kid)
        if key is None:
            raise TokenRefusedError("invalid_token_signature", "the token is signed with a key the identity "
                                                               "provider does not publish")
        if key.algorithm_name != algorithm:
            raise TokenRefusedError("invalid_token_signature", f"the token's algorithm {algorithm} is not its "
                                                               f"key's ({key.algorithm_name})")
        return principal_of_claims(verified_claims(token, key, self.rules), self.rules)


def require_https(name: str, url: str) -> None:
    """Refuse (``ValueError``) a provider URL that is not HTTPS, unless it is on this machine: keys
    fetched over plain HTTP could be swapped on the way, and with them anyone could sign tokens."""
    parts = urlsplit(url)
    if parts.scheme == "https" and parts.hostname:
        return
    if parts.scheme == "http" and parts.hostname in LOOPBACK_HOSTS:
        return
    raise ValueError(f"{name} must be an https:// URL (http:// only on loopback), not {url!r}")


def token_verifier(settings: Settings) -> TokenVerifier | None:
    """The verifier of ``settings``' identity provider; ``None`` when ``oidc_issuer`` is unset.
    Raises ``ValueError`` for a provider URL that is not HTTPS or a role map naming unknown roles."""
    if not settings.oidc_issuer:
        return None
    require_https("WASTEROUTE_OIDC_ISSUER", settings.oidc_issuer)
    if settings.oidc_jwks_url:
        require_https("WASTEROUTE_OIDC_JWKS_URL", settings.oidc_jwks_url)
    keys = ProviderKeys(settings.oidc_issuer, jwks_url=settings.oidc_jwks_url,
                        refresh_s=settings.oidc_jwks_refresh_s, max_age_s=settings.oidc_jwks_max_age_s)
    return TokenVerifier(TokenRules.of(settings), keys)


def refusal_response(refusal: TokenRefusedError) -> JSONResponse:
    """The answer to a refused token: 401 with a ``WWW-Authenticate`` challenge naming the error
    (RFC 6750), or 403 ``no_role``, in the API's error shape."""
    item = error_item(loc=("header", "Authorization"), item_id=None, msg=refusal.msg, type_=refusal.kind)
    error = "insufficient_scope" if refusal.status == FORBIDDEN else "invalid_token"
    return JSONResponse(status_code=refusal.status, content={"detail": [item]},
                        headers={"WWW-Authenticate": f'Bearer realm="wasteroute", error="{error}"'})
