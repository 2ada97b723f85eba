"""Signing in on the map with the council's account (app/web/js/signin-oidc.js), in real headless Chromium
against a real server that trusts a local OpenID Connect provider (tests/identity_provider.py) on a
loopback port: the authorization code flow with PKCE, the person's name on the map, every call of the
page carrying the access token, and signing out."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace

import httpx
import pytest
from playwright.sync_api import Page, Request, expect

from solver.network import RoadNetwork

from ..identity_provider import API_AUDIENCE, CLIENT_ID, TENANT_ID, LocalIdentityProvider, Person
from .conftest import Server, served

pytestmark = [pytest.mark.slow, pytest.mark.spawns]

PLANNER = Person(sub="jo-sub", name="Jo Planner", roles=["Waste.Planner"])
APPROVER = Person(sub="ann-sub", name="Ann Approver", roles=["Waste.Approver"])


@pytest.fixture(scope="module")
def identity_provider() -> Iterator[LocalIdentityProvider]:
    """The local identity provider, where Jo Planner and Ann Approver can sign in."""
    provider = LocalIdentityProvider(people=[PLANNER, APPROVER])
    provider.start()
    yield provider
    provider.stop()


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory, tools: SimpleNamespace, network_cache_dir: Path,
           monaco: RoadNetwork, identity_provider: LocalIdentityProvider) -> Iterator[Server]:
    """The web tests' server trusting the local provider (its directory is tenant ``web-tests``), the
    map registered there as a public client; the tab holds no API key (``key`` is empty): it signs in."""
    with served(tmp_path_factory.mktemp("web-oidc-var"), tools, network_cache_dir,
                WASTEROUTE_OIDC_ISSUER=identity_provider.issuer, WASTEROUTE_OIDC_AUDIENCE=API_AUDIENCE,
                WASTEROUTE_OIDC_CLIENT_ID=CLIENT_ID,
                WASTEROUTE_OIDC_SCOPES=f"openid profile {API_AUDIENCE}/access",
                WASTEROUTE_OIDC_ROLE_MAP="Waste.Planner=planner,Waste.Approver=approver",
                WASTEROUTE_OIDC_TENANT_MAP=f"{TENANT_ID}=web-tests") as running:
        identity_provider.redirect_uris.add(f"{running.base}/")
        yield dataclasses.replace(running, key="")


def test_a_planner_signs_in_with_the_council_account_and_sees_their_name(
        page: Page, server: Server, identity_provider: LocalIdentityProvider, artifacts: Path) -> None:
    """The map offers "Sign in with your council account"; the provider's page signs Jo Planner in and
    sends the browser back; the map names her, loses the code from its address, starts (its calls
    carrying her access token as a bearer, never an API key) and the token is one the API accepts."""
    api_calls: list[Request] = []
    page.on("request", lambda request: api_calls.append(request) if "/api/v1/" in request.url else None)
    page.goto(f"{server.base}/")
    page.get_by_role("button", name="Sign in with your council account").click()
    page.wait_for_url(f"{identity_provider.base}/authorize?**")
    assert "code_challenge_method=S256" in page.url and "code_challenge=" in page.url
    api_calls.clear()  # those of the first visit, before signing in, carried nothing
    page.get_by_role("button", name="Sign in as Jo Planner").click()
    expect(page.locator("#signed-in-as")).to_contain_text("Signed in as Jo Planner")
    page.wait_for_selector("body[data-ready='true']", timeout=120_000)
    assert page.url == f"{server.base}/"
    assert page.locator("#key-form").is_hidden()
    page.screenshot(path=str(artifacts / "signed-in-with-council-account.png"))
    token = page.evaluate("sessionStorage.getItem('wasteroute.bearerToken')")
    assert token and token.count(".") == 2
    closed = [call for call in api_calls if "/api/v1/auth/config" not in call.url]
    assert closed and all(call.headers.get("authorization") == f"Bearer {token}" for call in closed)
    assert all("x-api-key" not in call.headers for call in api_calls)
    assert httpx.get(f"{server.base}/api/v1/plans", headers={"Authorization": f"Bearer {token}"}).status_code == 200


def test_signing_out_forgets_the_token(page: Page, server: Server, identity_provider: LocalIdentityProvider) -> None:
    """Ann Approver signs in, then out: the token leaves the tab, the sign-in button is back, and the
    page, holding neither key nor token, asks for one."""
    page.goto(f"{server.base}/")
    page.get_by_role("button", name="Sign in with your council account").click()
    page.get_by_role("button", name="Sign in as Ann Approver").click()
    expect(page.locator("#signed-in-as")).to_contain_text("Signed in as Ann Approver")
    page.get_by_role("button", name="Sign out").click()
    expect(page.get_by_role("button", name="Sign in with your council account")).to_be_visible()
    assert page.evaluate("sessionStorage.getItem('wasteroute.bearerToken')") is None
    expect(page.locator("#key-form")).to_be_visible()


def test_a_forged_return_is_refused(page: Page, server: Server) -> None:
    """Landing on the map with a code but no sign-in under way in this tab (a forged or replayed
    redirect) signs nobody in and says so."""
    page.goto(f"{server.base}/?code=stolen&state=made-up")
    expect(page.locator("#oidc-signin")).to_contain_text("Sign-in failed")
    assert page.evaluate("sessionStorage.getItem('wasteroute.bearerToken')") is None
    expect(page.get_by_role("button", name="Sign in with your council account")).to_be_visible()
