"""The identity provider's discovery document and keys, cached (app/api/oidc_keys.py), against the local
provider (tests/identity_provider.py): fetched once, refetched for an unknown key id at most once per
``refresh_s``, again when older than ``max_age_s``; a provider that is away or lies is unavailable."""

from __future__ import annotations

import asyncio
from collections.abc import Coroutine, Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest

from app.api.oidc_keys import IdentityProviderUnavailableError, ProviderKeys, read_key_set, read_metadata

from ...identity_provider import LocalIdentityProvider


def run(scenario: Coroutine[Any, Any, None]) -> None:
    """Run ``scenario`` on a fresh event loop in a thread of its own: in a session with the browser tests,
    Playwright keeps an event loop running in the main thread."""
    with ThreadPoolExecutor(max_workers=1) as pool:
        pool.submit(asyncio.run, scenario).result()


class Clock:
    """A clock the test moves by hand (seconds)."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def identity_provider() -> Iterator[LocalIdentityProvider]:
    """A fresh local identity provider, serving on a free loopback port."""
    provider = LocalIdentityProvider()
    provider.start()
    yield provider
    provider.stop()


def test_keys_are_fetched_once_and_refreshed_at_most_every_refresh_s(
        identity_provider: LocalIdentityProvider) -> None:
    """The published key comes from one fetch (discovery, then its jwks_uri); unknown key ids refetch
    only once ``refresh_s`` has passed since the last fetch; the set is fetched again after ``max_age_s``."""
    clock = Clock()
    keys = ProviderKeys(identity_provider.issuer, refresh_s=60, max_age_s=3600, clock=clock)

    async def scenario() -> None:
        assert await keys.key(identity_provider.current_kid) is not None
        assert await keys.key(identity_provider.current_kid) is not None
        assert identity_provider.key_fetches == 1
        assert await keys.key("made-up-1") is None and await keys.key("made-up-2") is None
        assert identity_provider.key_fetches == 1  # within refresh_s: not asked again
        new_kid = identity_provider.rotate()
        assert await keys.key(new_kid) is None  # not yet: the last fetch is too recent
        clock.now += 60
        assert await keys.key(new_kid) is not None
        assert identity_provider.key_fetches == 2
        clock.now += 3600
        assert await keys.key(new_kid) is not None
        assert identity_provider.key_fetches == 3

    run(scenario())


def test_an_unreachable_provider_is_unavailable(identity_provider: LocalIdentityProvider) -> None:
    """A provider that does not answer raises IdentityProviderUnavailableError, for the metadata and for
    keys, and keeps saying so (not 'unknown key') until a fetch succeeds."""
    issuer = identity_provider.issuer
    identity_provider.stop()
    keys = ProviderKeys(issuer, refresh_s=60)

    async def scenario() -> None:
        with pytest.raises(IdentityProviderUnavailableError):
            await keys.metadata()
        with pytest.raises(IdentityProviderUnavailableError):
            await keys.key("any")
        with pytest.raises(IdentityProviderUnavailableError):
            await keys.key("any")

    run(scenario())


def test_a_discovery_document_of_another_issuer_is_refused(identity_provider: LocalIdentityProvider) -> None:
    """A discovery document must name the configured issuer exactly, and a jwks_uri."""
    document = identity_provider.discovery()
    assert read_metadata(document, identity_provider.issuer).jwks_uri == f"{identity_provider.base}/keys"
    with pytest.raises(IdentityProviderUnavailableError, match="names issuer"):
        read_metadata(document, "https://evil.example")
    with pytest.raises(IdentityProviderUnavailableError, match="jwks_uri"):
        read_metadata({**document, "jwks_uri": None}, identity_provider.issuer)


def test_a_key_set_keeps_only_usable_signing_keys(identity_provider: LocalIdentityProvider) -> None:
    """Encryption keys, keys without a kid and entries PyJWT cannot read are left out; a set without
    any signing key is refused."""
    [published] = identity_provider.jwks()["keys"]
    document = {"keys": [published, {**published, "kid": "enc", "use": "enc"},
                         {k: v for k, v in published.items() if k != "kid"}, {"kty": "nonsense", "kid": "bad"}]}
    assert list(read_key_set(document)) == [published["kid"]]
    with pytest.raises(IdentityProviderUnavailableError, match="no usable signing key"):
        read_key_set({"keys": [{"kty": "nonsense", "kid": "bad"}]})
    with pytest.raises(IdentityProviderUnavailableError, match="not a JWKS"):
        read_key_set(["not", "a", "set"])
