"""Who a request acts for: API keys, the paths left open, CORS, and the OpenAPI security scheme.

A request presents its key in a header, ``Authorization: Bearer <key>`` or
``X-API-Key: <key>`` (never in the URL: URLs are logged). :class:`ApiKeyMiddleware`
looks the key up in the store (:func:`app.store.find_api_key`, by its SHA-256) and puts
its tenant and who it acts as on the request (``request.state.tenant``,
``request.state.principal``, a :class:`app.api.principal.Principal`), which
:data:`app.api.tenancy.TenantDep` and :data:`app.api.principal.PrincipalDep` hand to the handlers.
It guards **every** path but the open ones (:func:`open_paths`: the health and readiness checks, how the map
signs in, the map page and its static files, the OpenAPI document and its pages), so a route added later is
closed by default.

With ``WASTEROUTE_OIDC_ISSUER`` set, a bearer credential shaped like a JWT is no key: it is
checked against the council's identity provider by :mod:`app.api.oidc` (its refusals have
their own ``type``: ``expired_token``, ``invalid_token_signature``, ``wrong_audience``, ...;
a provider that cannot be reached answers 503), and acts as the person it names.

A request without a key, or with an unknown or revoked one, answers **401** before its
body is read, in the error shape of :mod:`app.core.faults`
(``{"detail": [{"loc": ["header", "Authorization"], "field", "id": null, "msg", "type"}]}``,
``type`` ``missing_api_key`` or ``invalid_api_key``) with a ``WWW-Authenticate: Bearer``
header. A store that cannot be reached answers 503 with ``Retry-After``.

With ``WASTEROUTE_AUTH_REQUIRED=false`` no key is asked for and every request acts for
``WASTEROUTE_DEFAULT_TENANT`` (see docs/security.md for what that gives away).

Keys and headers are never logged here; error messages never repeat a key.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware
from fastapi.responses import JSONResponse
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session
from starlette.datastructures import Headers
from starlette.types import ASGIApp, Receive, Scope, Send

from app import store
from app.api.oidc import TokenRefusedError, TokenVerifier, looks_like_jwt, refusal_response, token_verifier
from app.api.oidc_keys import IdentityProviderUnavailableError
from app.api.principal import TENANT_KEY_ROLES, Principal, open_principal
from app.api.refusals import count_unauthorised
from app.core.config import Settings
from app.core.faults import error_item

logger = logging.getLogger(__name__)

UNAUTHORIZED = 401
UNAVAILABLE = 503
API_KEY_HEADER = "X-API-Key"
"""The header that may carry the key instead of ``Authorization: Bearer``."""
MAX_KEY_CHARS = 256
"""Longer header values are refused unread (keys are 46 characters)..."""
MAX_TOKEN_CHARS = 16_384
"""... unless they are JWTs (Entra ID's run to 2-3 kB), refused beyond this."""
REALM = "wasteroute"
BEARER_SCHEME = "bearerAuth"
API_KEY_SCHEME = "apiKeyHeader"
STATIC_PREFIX = "/static/"
"""The map page's scripts, styles and Leaflet: open."""
HEALTH_PATH = "/api/v1/health"
AUTH_CONFIG_PATH = "/api/v1/auth/config"
"""How the map signs in (app/api/auth_config.py): asked before there is a key or token."""
READY_PATH = "/api/v1/ready"
STORE_RETRY_AFTER_S = 5
"""Seconds a client is told to wait when the store cannot be reached."""


class KeyRefusedError(Exception):
    """A request's key is missing, malformed, unknown or revoked (``kind`` says which)."""

    def __init__(self, kind: str, msg: str) -> None:
        super().__init__(msg)
        self.kind = kind
        self.msg = msg


def presented_key(headers: Headers) -> str:
    """The key a request presents: ``Authorization: Bearer <key>`` or ``X-API-Key: <key>``.

    Raises :class:`KeyRefusedError` when there is none, when ``Authorization`` uses another
    scheme, when a value is too long, or when the two headers carry different keys.
    """
    bearer: str | None = None
    authorization = headers.get("authorization")
    if authorization is not None:
        scheme, _, credentials = authorization.strip().partition(" ")
        if scheme.lower() != "bearer" or not credentials.strip():
            raise KeyRefusedError("invalid_api_key", "the Authorization header must be 'Bearer <API key>'")
        bearer = credentials.strip()
    header_key = headers.get(API_KEY_HEADER)
    header_key = header_key.strip() if header_key is not None else None
    if bearer is not None and header_key is not None and bearer != header_key:
        raise KeyRefusedError("invalid_api_key", f"the Authorization and {API_KEY_HEADER} headers carry different keys")
    key = bearer if bearer is not None else header_key
    if not key:
        raise KeyRefusedError("missing_api_key", f"an API key is required: send 'Authorization: Bearer <key>' or "
                                                 f"'{API_KEY_HEADER}: <key>' (keys: `wasteroute keys create`)")
    if len(key) > (MAX_TOKEN_CHARS if looks_like_jwt(key) else MAX_KEY_CHARS):
        raise KeyRefusedError("invalid_api_key", "the API key is not valid (unknown or revoked)")
    return key


def unauthorized(refusal: KeyRefusedError) -> JSONResponse:
    """The 401 answer to a refused key, with its ``WWW-Authenticate`` challenge (RFC 6750)."""
    challenge = f'Bearer realm="{REALM}"'
    if refusal.kind == "invalid_api_key":
        challenge += ', error="invalid_token"'
    item = error_item(loc=("header", "Authorization"), item_id=None, msg=refusal.msg, type_=refusal.kind)
    return JSONResponse(status_code=UNAUTHORIZED, content={"detail": [item]},
                        headers={"WWW-Authenticate": challenge})


def _principal_of(key: str) -> Callable[[Session], Principal]:
    """Work for :meth:`app.store.Store.run`: who the unrevoked ``key`` acts as.

    A user's key acts as the user, with the user's name and roles; a tenant key (one that
    belongs to no user: ``wasteroute keys create``) acts as itself, named by its prefix, with
    :data:`~app.api.principal.TENANT_KEY_ROLES` (it is no person, so it cannot approve).
    Raises :class:`KeyRefusedError` for an unknown or revoked key and for a disabled user's key.
    """
    def lookup(session: Session) -> Principal:
        record = store.find_api_key(session, key)
        if record is None:
            raise KeyRefusedError("invalid_api_key", "the API key is not valid (unknown or revoked)")
        if record.user_id is None:
            return Principal(tenant=record.tenant_id, user_id=None, name=f"key {record.prefix}",
                             roles=TENANT_KEY_ROLES, via="api_key")
        user = store.key_user(session, record)
        if user is None or user.disabled_at is not None:
            raise KeyRefusedError("invalid_api_key", "the API key is not valid: its user is disabled")
        return Principal(tenant=record.tenant_id, user_id=user.id, name=user.name, roles=frozenset(user.roles),
                         via="api_key")
    return lookup


def open_paths(app: FastAPI) -> frozenset[str]:
    """Exact paths answered without a key: health and readiness, how to sign in, the map page, the OpenAPI
    document and its pages."""
    paths = {"/", HEALTH_PATH, READY_PATH, AUTH_CONFIG_PATH, app.openapi_url, app.docs_url, app.redoc_url,
             app.swagger_ui_oauth2_redirect_url}
    return frozenset(path for path in paths if path)


def is_open(path: str, opened: frozenset[str]) -> bool:
    """Whether ``path`` is answered without a key: one of ``opened``, or a static file (a path
    under ``/static/`` that climbs no ``..``)."""
    if path in opened:
        return True
    return path.startswith(STATIC_PREFIX) and ".." not in path.split("/")


class ApiKeyMiddleware:
    """ASGI middleware: the tenant of every request from its API key, or a 401 before anything else runs.

    ``state["tenant"]`` of the request's scope (``request.state.tenant``) is set for every
    HTTP request it lets through to a closed path; open paths pass untouched. With
    ``auth_required`` false every request gets ``default_tenant``.
    """

    def __init__(self, app: ASGIApp, *, settings: Settings, db: store.Store, opened: frozenset[str],
                 tokens: TokenVerifier | None = None) -> None:
        self.app = app
        self.tokens = tokens
        self.auth_required = settings.auth_required
        self.default_tenant = settings.default_tenant
        self.db = db
        self.opened = opened

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Resolve the tenant (or refuse) and pass the request on."""
        if scope["type"] != "http" or is_open(scope["path"], self.opened):
            await self.app(scope, receive, send)
            return
        if not self.auth_required:
            state = scope.setdefault("state", {})
            state["tenant"], state["principal"] = self.default_tenant, open_principal(self.default_tenant)
            await self.app(scope, receive, send)
            return
        try:
            key = presented_key(Headers(scope=scope))
            principal: Principal
            if self.tokens is not None and looks_like_jwt(key):  # the identity provider's (app/api/oidc.py)
                principal = await self.tokens.principal(key)
            else:
                principal = await self.db.run(_principal_of(key))
        except KeyRefusedError as refusal:
            count_unauthorised(refusal.kind, method=scope.get("method", "?"), path=scope["path"])
            await unauthorized(refusal)(scope, receive, send)
            return
        except TokenRefusedError as refusal:
            await refusal_response(refusal)(scope, receive, send)
            return
        except IdentityProviderUnavailableError as fault:
            logger.warning("token check failed: the identity provider is unavailable (%s)", fault)
            answer = JSONResponse(status_code=UNAVAILABLE, headers={"Retry-After": str(STORE_RETRY_AFTER_S)},
                                  content={"detail": "the identity provider is unavailable; try again shortly"})
            await answer(scope, receive, send)
            return
        except OperationalError:
            logger.warning("API key lookup failed: the store is unavailable", exc_info=True)
            answer = JSONResponse(status_code=UNAVAILABLE, headers={"Retry-After": str(STORE_RETRY_AFTER_S)},
                                  content={"detail": "the store is unavailable; try again shortly"})
            await answer(scope, receive, send)
            return
        state = scope.setdefault("state", {})
        state["tenant"], state["principal"] = principal.tenant, principal
        await self.app(scope, receive, send)


def _unauthorized_response() -> dict[str, Any]:
    """OpenAPI description of the 401 answer of a closed operation."""
    return {
        "description": "No API key, or an unknown or revoked one (type missing_api_key or invalid_api_key).",
        "headers": {"WWW-Authenticate": {"description": 'The challenge: Bearer realm="wasteroute"',
                                         "schema": {"type": "string"}}},
        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/ValidationErrorResponse"}}},
    }


def declare_security(schema: dict[str, Any], opened: frozenset[str]) -> None:
    """Add the two key schemes to an OpenAPI document, required by every operation but the open ones.

    Either scheme will do (OpenAPI lists alternatives); open operations carry ``security: []``
    and closed ones a documented 401.
    """
    components = schema.setdefault("components", {})
    components.setdefault("securitySchemes", {}).update({
        BEARER_SCHEME: {"type": "http", "scheme": "bearer",
                        "description": "Authorization: Bearer <API key> (`wasteroute keys create --tenant NAME`), "
                                       "or a JWT of the council's identity provider when one is configured."},
        API_KEY_SCHEME: {"type": "apiKey", "in": "header", "name": API_KEY_HEADER,
                         "description": "The same API key in its own header."},
    })
    schema["security"] = [{BEARER_SCHEME: []}, {API_KEY_SCHEME: []}]
    has_error_model = "ValidationErrorResponse" in components.get("schemas", {})
    for path, operations in schema.get("paths", {}).items():
        for operation in operations.values():
            if not isinstance(operation, dict) or "responses" not in operation:
                continue
            if is_open(path, opened):
                operation["security"] = []
            elif has_error_model:
                operation["responses"].setdefault(str(UNAUTHORIZED), _unauthorized_response())


def install_auth(app: FastAPI, settings: Settings, db: store.Store) -> None:
    """Guard ``app`` with API keys (when required), declare them in its OpenAPI document, and
    answer cross-origin calls from ``settings.cors_origins`` only (none by default).

    Call after the other middleware is added: CORS ends up outermost (its preflight and
    headers apply to 401 answers too), then the key check, then the rest.
    """
    opened = open_paths(app)
    app.state.token_verifier = token_verifier(settings)
    app.add_middleware(ApiKeyMiddleware, settings=settings, db=db, opened=opened, tokens=app.state.token_verifier)
    if settings.auth_required:
        generate = app.openapi

        def openapi() -> dict[str, Any]:
            """The application's OpenAPI document with the key schemes declared."""
            built = app.openapi_schema is not None
            schema = generate()
            if not built:
                declare_security(schema, opened)
            return schema

        app.openapi = openapi  # type: ignore[method-assign]
    if settings.cors_origins:
        app.add_middleware(CORSMiddleware, allow_origins=list(settings.cors_origins), allow_credentials=False,
                           allow_methods=["GET", "POST", "DELETE"],
                           allow_headers=["Authorization", API_KEY_HEADER, "Content-Type", "Accept"],
                           expose_headers=["Location", "Retry-After", "Content-Disposition", "WWW-Authenticate"],
                           max_age=600)
