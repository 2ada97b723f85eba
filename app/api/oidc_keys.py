"""The identity provider's published facts: its discovery document and its signing keys (JWKS), cached.

:class:`ProviderKeys` fetches ``<issuer>/.well-known/openid-configuration`` (OpenID Connect
Discovery 1.0) and the key set it names (or ``WASTEROUTE_OIDC_JWKS_URL``), keeps both for
``max_age_s`` seconds, and fetches the keys again when a token names a key id (``kid``) it
does not hold: that is how a key rotation at the provider is picked up. Such refetches are
rate-limited (at most one per ``refresh_s`` seconds), so a stream of tokens with made-up key
ids cannot make the service hammer the provider.

A provider that cannot be reached, or answers something that is not a discovery document or
a key set, raises :class:`IdentityProviderUnavailableError` (the API answers 503).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import httpx
import jwt

DISCOVERY_PATH = "/.well-known/openid-configuration"
FETCH_TIMEOUT_S = 5.0
"""Seconds a fetch from the identity provider may take before it counts as unreachable."""


class IdentityProviderUnavailableError(Exception):
    """The identity provider's discovery document or keys could not be fetched or read."""


@dataclass(frozen=True, slots=True)
class ProviderMetadata:
    """What the discovery document says: the issuer and where its keys and endpoints are (URLs)."""

    issuer: str
    jwks_uri: str
    authorization_endpoint: str | None
    token_endpoint: str | None
    end_session_endpoint: str | None


def discovery_url(issuer: str) -> str:
    """The discovery document's URL of ``issuer`` (its path appended, as OpenID Connect Discovery says)."""
    return issuer.rstrip("/") + DISCOVERY_PATH


def read_metadata(document: Any, issuer: str) -> ProviderMetadata:
    """The :class:`ProviderMetadata` of a discovery document, which must name ``issuer`` exactly.

    Raises :class:`IdentityProviderUnavailableError` for anything else: a document for
    another issuer could hand out keys that are not the issuer's.
    """
    if not isinstance(document, dict):
        raise IdentityProviderUnavailableError("the discovery document is not a JSON object")
    if document.get("issuer") != issuer:
        raise IdentityProviderUnavailableError(
            f"the discovery document names issuer {document.get('issuer')!r}, not the configured {issuer!r}")
    jwks_uri = document.get("jwks_uri")
    if not isinstance(jwks_uri, str) or not jwks_uri:
        raise IdentityProviderUnavailableError("the discovery document names no jwks_uri")

    def url(name: str) -> str | None:
        value = document.get(name)
        return value if isinstance(value, str) and value else None

    return ProviderMetadata(issuer=issuer, jwks_uri=jwks_uri, authorization_endpoint=url("authorization_endpoint"),
                            token_endpoint=url("token_endpoint"), end_session_endpoint=url("end_session_endpoint"))


def read_key_set(document: Any) -> dict[str, jwt.PyJWK]:
    """The signing keys of a JWKS document by key id; keys without an id, of other uses or of
    kinds PyJWT cannot use are left out. Raises :class:`IdentityProviderUnavailableError`
    when none is left."""
    if not isinstance(document, dict) or not isinstance(document.get("keys"), list):
        raise IdentityProviderUnavailableError("the key set is not a JWKS document (no 'keys' list)")
    keys: dict[str, jwt.PyJWK] = {}
    for entry in document["keys"]:
        if not isinstance(entry, dict) or not isinstance(entry.get("kid"), str) or entry.get("use", "sig") != "sig":
            continue
        try:
            keys[entry["kid"]] = jwt.PyJWK.from_dict(entry)
        except (jwt.PyJWKError, jwt.InvalidKeyError):
            continue
    if not keys:
        raise IdentityProviderUnavailableError("the key set holds no usable signing key")
    return keys


async def fetch_json(url: str) -> Any:
    """The JSON document at ``url`` (no redirects followed: the configured URLs are the provider's own)."""
    try:
        async with httpx.AsyncClient(timeout=FETCH_TIMEOUT_S, follow_redirects=False) as client:
            response = await client.get(url, headers={"Accept": "application/json"})
            response.raise_for_status()
            return response.json()
    except (httpx.HTTPError, ValueError) as error:
        raise IdentityProviderUnavailableError(f"could not fetch {url}: {type(error).__name__}") from error


class ProviderKeys:
    """The identity provider's discovery document and signing keys, cached and refreshed as the
    module docstring says. One instance serves the whole application (it holds a lock)."""

    def __init__(self, issuer: str, *, jwks_url: str | None = None, refresh_s: float = 60.0,
                 max_age_s: float = 3600.0, clock: Callable[[], float] = time.monotonic) -> None:
        self.issuer = issuer
        self.jwks_url = jwks_url
        self.refresh_s = refresh_s
        self.max_age_s = max_age_s
        self._clock = clock
        self._lock = asyncio.Lock()
        self._metadata: ProviderMetadata | None = None
        self._metadata_at = 0.0
        self._keys: dict[str, jwt.PyJWK] = {}
        self._keys_at: float | None = None
        self._fault: IdentityProviderUnavailableError | None = None
        self.fetches = 0
        """Key sets fetched so far (the tests count them)."""

    async def metadata(self) -> ProviderMetadata:
        """The discovery document, fetched when absent or older than ``max_age_s``."""
        async with self._lock:
            return await self._current_metadata()

    async def _current_metadata(self) -> ProviderMetadata:
        now = self._clock()
        if self._metadata is None or now - self._metadata_at >= self.max_age_s:
            self._metadata = read_metadata(await fetch_json(discovery_url(self.issuer)), self.issuer)
            self._metadata_at = now
        return self._metadata

    async def key(self, kid: str) -> jwt.PyJWK | None:
        """The signing key ``kid``: from the cache, else from a fresh key set when the last fetch
        is at least ``refresh_s`` old; ``None`` when the provider does not publish it."""
        async with self._lock:
            now = self._clock()
            stale = self._keys_at is None or now - self._keys_at >= self.max_age_s
            unknown = kid not in self._keys and (self._keys_at is None or now - self._keys_at >= self.refresh_s)
            if stale or unknown:
                await self._fetch_keys()
            elif kid not in self._keys and self._fault is not None:
                # the last fetch failed: say the provider is unreachable, not that the key is unknown
                raise self._fault
            return self._keys.get(kid)

    async def _fetch_keys(self) -> None:
        # the attempt counts even when it fails: an unreachable provider is not asked on every request
        self._keys_at = self._clock()
        self.fetches += 1
        try:
            url = self.jwks_url or (await self._current_metadata()).jwks_uri
            self._keys = read_key_set(await fetch_json(url))
        except IdentityProviderUnavailableError as fault:
            self._fault = fault
            raise
        self._fault = None
