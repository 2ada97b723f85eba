"""Bearer JWTs of the council's identity provider (app/api/oidc.py, through app/api/auth.py's middleware)
on a real started app, against a local provider serving its keys on a loopback port (tests/identity_provider.py):
a valid token acts as its person and council with the mapped roles; every forged, stale or foreign token is
refused with its own ``type``; a council's token never reaches another council's plan; keys rotate."""

from __future__ import annotations

import base64
import json
import logging
from collections.abc import Iterator
from typing import Any

import jwt
import pytest
from cryptography.hazmat.primitives import serialization
from fastapi.testclient import TestClient

from app import store
from app.api.principal import PrincipalDep
from app.core.config import Settings
from app.main import create_app

from ...identity_provider import (
    API_AUDIENCE,
    CLIENT_ID,
    OTHER_TENANT_ID,
    TENANT_ID,
    LocalIdentityProvider,
    Person,
    new_rsa_key,
)

WHO_PATH = "/api/v1/test-only/who"
"""A route added to the app under test that answers who the request acts as."""
ROLE_MAP = {"Waste.Viewer": "viewer", "Waste.Planner": "planner", "Waste.Approver": "approver",
            "Waste.Admin": "admin"}
TODAYS_ROUNDS = [{"vehicle_id": "rcv-1", "stops": ["b00001", "b00002", "b00003", "b00004"]},
                 {"vehicle_id": "rcv-2", "stops": ["b00005", "b00006", "b00007", "b00008"]}]
"""A person's plan of the eight test bins."""


@pytest.fixture(scope="module")
def identity_provider() -> Iterator[LocalIdentityProvider]:
    """The local identity provider, serving on a free loopback port."""
    provider = LocalIdentityProvider()
    provider.start()
    yield provider
    provider.stop()


@pytest.fixture(scope="module")
def oidc_settings(settings: Settings, identity_provider: LocalIdentityProvider,
                  tmp_path_factory: pytest.TempPathFactory) -> Settings:
    """Keys required, the local provider trusted, its council ``council-a`` and another organisation's
    ``council-b``; unknown key ids may refetch the keys at once (no rate limit: rotation is tested)."""
    folder = tmp_path_factory.mktemp("oidc-store")
    return settings.model_copy(update={
        "auth_required": True, "max_concurrent_solves": 1, "database_url": f"sqlite:///{folder / 'store.sqlite3'}",
        "oidc_issuer": identity_provider.issuer, "oidc_audience": [API_AUDIENCE], "oidc_client_id": CLIENT_ID,
        "oidc_role_map": ROLE_MAP, "oidc_tenant_map": {TENANT_ID: "council-a", OTHER_TENANT_ID: "council-b"},
        "oidc_jwks_refresh_s": 0.0})


@pytest.fixture(scope="module")
def oidc_client(oidc_settings: Settings) -> Iterator[TestClient]:
    """A started app (Monaco loaded) trusting the local provider, with :data:`WHO_PATH` added."""
    app = create_app(oidc_settings)

    @app.get(WHO_PATH)
    def who(principal: PrincipalDep) -> dict[str, Any]:
        """Who the request acts as."""
        return {"tenant": principal.tenant, "user_id": principal.user_id, "name": principal.name,
                "roles": sorted(principal.roles), "via": principal.via}

    with TestClient(app) as started:
        yield started


def bearer(token: str) -> dict[str, str]:
    """The Authorization header carrying ``token``."""
    return {"Authorization": f"Bearer {token}"}


def refusal(answer: Any) -> tuple[int, str]:
    """Status and ``type`` of a refused request (the API's error shape)."""
    body = answer.json()
    [item] = body["detail"]
    assert item["loc"] == ["header", "Authorization"] and item["msg"], body
    return answer.status_code, item["type"]


def b64url(data: dict[str, Any]) -> str:
    """``data`` as JSON in unpadded base64url, a JWT part."""
    return base64.urlsafe_b64encode(json.dumps(data).encode()).rstrip(b"=").decode()


def test_valid_token_acts_as_its_person_and_council(oidc_client: TestClient,
                                                    identity_provider: LocalIdentityProvider) -> None:
    """A token of the council's directory with Waste.Planner and Waste.Approver acts as
    ``oidc:<sub>`` of council-a, named by its ``name`` claim, with planner and approver roles."""
    person = Person(sub="u-123", name="Jo Bloggs", roles=["Waste.Planner", "Waste.Approver", "Other.Role"])
    answer = oidc_client.get(WHO_PATH, headers=bearer(identity_provider.token(person)))
    assert answer.status_code == 200, answer.text
    assert answer.json() == {"tenant": "council-a", "user_id": "oidc:u-123", "name": "Jo Bloggs",
                             "roles": ["approver", "planner"], "via": "jwt"}


def test_name_falls_back_to_preferred_username(oidc_client: TestClient,
                                               identity_provider: LocalIdentityProvider) -> None:
    """Without a ``name`` claim the person is named by ``preferred_username``."""
    token = identity_provider.token(name=None, preferred_username="jo@rutland.gov.uk")
    assert oidc_client.get(WHO_PATH, headers=bearer(token)).json()["name"] == "jo@rutland.gov.uk"


def test_token_in_the_other_organisation_acts_for_its_council(oidc_client: TestClient,
                                                              identity_provider: LocalIdentityProvider) -> None:
    """The tenant map sends the other directory's people to council-b."""
    token = identity_provider.token(Person(sub="b-1", name="Bo", roles=["Waste.Viewer"], tid=OTHER_TENANT_ID))
    assert oidc_client.get(WHO_PATH, headers=bearer(token)).json()["tenant"] == "council-b"


def test_expired_token_is_refused(oidc_client: TestClient, identity_provider: LocalIdentityProvider) -> None:
    """A token that expired two minutes ago (beyond the minute's leeway) answers 401 expired_token."""
    claims = identity_provider.claims()
    token = identity_provider.sign({**claims, "exp": claims["iat"] - 120, "nbf": claims["iat"] - 3600})
    answer = oidc_client.get("/api/v1/plans", headers=bearer(token))
    assert refusal(answer) == (401, "expired_token")
    assert 'error="invalid_token"' in answer.headers["WWW-Authenticate"]


def test_token_not_yet_valid_is_refused(oidc_client: TestClient, identity_provider: LocalIdentityProvider) -> None:
    """A token whose ``nbf`` is ten minutes ahead answers 401 invalid_token."""
    claims = identity_provider.claims()
    token = identity_provider.sign({**claims, "nbf": claims["iat"] + 600})
    assert refusal(oidc_client.get("/api/v1/plans", headers=bearer(token))) == (401, "invalid_token")


def test_token_signed_by_another_key_is_refused(oidc_client: TestClient,
                                                identity_provider: LocalIdentityProvider) -> None:
    """A token carrying a published ``kid`` but signed with another RSA key answers 401 invalid_token_signature."""
    token = identity_provider.sign(identity_provider.claims(), key=new_rsa_key())
    assert refusal(oidc_client.get("/api/v1/plans", headers=bearer(token))) == (401, "invalid_token_signature")


def test_wrong_audience_is_refused(oidc_client: TestClient, identity_provider: LocalIdentityProvider) -> None:
    """A token for another application (an ID token for the map's client id, or Microsoft Graph's)
    answers 401 wrong_audience."""
    for audience in (CLIENT_ID, "https://graph.microsoft.com"):
        token = identity_provider.token(aud=audience)
        assert refusal(oidc_client.get("/api/v1/plans", headers=bearer(token))) == (401, "wrong_audience")


def test_wrong_issuer_is_refused(oidc_client: TestClient, identity_provider: LocalIdentityProvider) -> None:
    """A token signed with the provider's key but naming another issuer answers 401 wrong_issuer."""
    token = identity_provider.token(iss="https://login.microsoftonline.com/someone-else/v2.0")
    assert refusal(oidc_client.get("/api/v1/plans", headers=bearer(token))) == (401, "wrong_issuer")


def test_unsigned_token_is_refused(oidc_client: TestClient, identity_provider: LocalIdentityProvider) -> None:
    """``alg: none`` (no signature at all) answers 401 invalid_token_signature."""
    header = {"alg": "none", "typ": "JWT", "kid": identity_provider.current_kid}
    token = f"{b64url(header)}.{b64url(identity_provider.claims())}."
    assert refusal(oidc_client.get("/api/v1/plans", headers=bearer(token))) == (401, "invalid_token_signature")


def test_hs256_signed_with_the_public_key_is_refused(oidc_client: TestClient,
                                                     identity_provider: LocalIdentityProvider) -> None:
    """The algorithm-confusion forgery: HS256 keyed with the provider's public key (PEM), which anyone
    has, answers 401 invalid_token_signature."""
    public_pem = identity_provider.keys[identity_provider.current_kid].public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    header = {"alg": "HS256", "typ": "JWT", "kid": identity_provider.current_kid}
    signing_input = f"{b64url(header)}.{b64url(identity_provider.claims())}"
    signature = jwt.algorithms.HMACAlgorithm(jwt.algorithms.HMACAlgorithm.SHA256).sign(
        signing_input.encode(), public_pem)
    token = f"{signing_input}.{base64.urlsafe_b64encode(signature).rstrip(b'=').decode()}"
    assert refusal(oidc_client.get("/api/v1/plans", headers=bearer(token))) == (401, "invalid_token_signature")


def test_unknown_kid_refetches_the_keys_then_refuses(oidc_client: TestClient,
                                                     identity_provider: LocalIdentityProvider) -> None:
    """A token naming a key id the provider does not publish makes the service fetch the key set
    again (once), then answers 401 invalid_token_signature."""
    assert oidc_client.get(WHO_PATH, headers=bearer(identity_provider.token())).status_code == 200
    before = identity_provider.key_fetches
    token = identity_provider.sign(identity_provider.claims(), key=new_rsa_key(), kid="not-published")
    assert refusal(oidc_client.get("/api/v1/plans", headers=bearer(token))) == (401, "invalid_token_signature")
    assert identity_provider.key_fetches == before + 1


def test_unknown_tenant_is_refused(oidc_client: TestClient, identity_provider: LocalIdentityProvider) -> None:
    """A genuine token of an organisation that is no council of this service answers 401 unknown_tenant,
    as does one without a ``tid``."""
    for tid in ("00000000-0000-0000-0000-000000000000", None):
        token = identity_provider.token(tid=tid)
        assert refusal(oidc_client.get("/api/v1/plans", headers=bearer(token))) == (401, "unknown_tenant")


def test_token_without_a_mapped_role_is_forbidden(oidc_client: TestClient,
                                                  identity_provider: LocalIdentityProvider) -> None:
    """A genuine token of the council without a roles claim, or with roles the map does not name,
    answers 403 no_role (the person is known; only an administrator can help)."""
    for roles in (None, [], ["Finance.Reader"]):
        answer = oidc_client.get("/api/v1/plans", headers=bearer(identity_provider.token(roles=roles)))
        assert refusal(answer) == (403, "no_role")
        assert 'error="insufficient_scope"' in answer.headers["WWW-Authenticate"]


def test_token_without_sub_is_refused(oidc_client: TestClient, identity_provider: LocalIdentityProvider) -> None:
    """A token naming nobody (no ``sub``) answers 401 invalid_token."""
    token = identity_provider.token(sub=None)
    assert refusal(oidc_client.get("/api/v1/plans", headers=bearer(token))) == (401, "invalid_token")


def test_key_rotation_is_picked_up(oidc_client: TestClient, identity_provider: LocalIdentityProvider) -> None:
    """After the provider publishes a new key and signs with it, its tokens are accepted (the key set
    is fetched again on the unknown ``kid``), and tokens of the old key still published keep working."""
    old_token = identity_provider.token()
    assert oidc_client.get(WHO_PATH, headers=bearer(old_token)).status_code == 200
    before = identity_provider.key_fetches
    new_kid = identity_provider.rotate()
    new_token = identity_provider.token()
    assert jwt.get_unverified_header(new_token)["kid"] == new_kid
    assert oidc_client.get(WHO_PATH, headers=bearer(new_token)).status_code == 200
    assert identity_provider.key_fetches == before + 1
    assert oidc_client.get(WHO_PATH, headers=bearer(old_token)).status_code == 200


def test_es256_keys_are_accepted_and_must_match_the_tokens_algorithm(
        oidc_client: TestClient, identity_provider: LocalIdentityProvider) -> None:
    """A token signed with a published P-256 key (ES256) is accepted; a token whose header claims
    ES256 while naming an RSA key is refused as invalid_token_signature."""
    rsa_kid = identity_provider.current_kid
    identity_provider.rotate(elliptic=True)
    token = identity_provider.token()
    assert jwt.get_unverified_header(token)["alg"] == "ES256"
    assert oidc_client.get(WHO_PATH, headers=bearer(token)).status_code == 200
    elliptic_key = identity_provider.keys[identity_provider.current_kid]
    confused = identity_provider.sign(identity_provider.claims(), key=elliptic_key, kid=rsa_kid)
    assert refusal(oidc_client.get("/api/v1/plans", headers=bearer(confused))) == (401, "invalid_token_signature")
    identity_provider.rotate()


def test_a_councils_token_never_reaches_another_councils_plan(oidc_client: TestClient,
                                                              identity_provider: LocalIdentityProvider,
                                                              make_problem: Any) -> None:
    """A plan stored with council-b's token answers 404 to council-a's token (as an unknown id would,
    never B's data) and is missing from council-a's list; council-b's own token reads it."""
    council_b = bearer(identity_provider.token(Person(sub="b-2", name="Bea", roles=["Waste.Planner"],
                                                      tid=OTHER_TENANT_ID)))
    council_a = bearer(identity_provider.token())
    stored = oidc_client.post("/api/v1/plans", json={**make_problem(), "routes": TODAYS_ROUNDS}, headers=council_b)
    assert stored.status_code == 201, stored.text
    plan_id = stored.json()["id"]
    assert oidc_client.get(f"/api/v1/plans/{plan_id}", headers=council_b).status_code == 200
    foreign = oidc_client.get(f"/api/v1/plans/{plan_id}", headers=council_a)
    assert foreign.status_code == 404 and "rcv-1" not in foreign.text
    listed = oidc_client.get("/api/v1/plans", headers=council_a)
    assert listed.status_code == 200 and plan_id not in {plan["id"] for plan in listed.json()["plans"]}


def test_people_signed_in_by_the_provider_plan_and_approve_under_four_eyes(
        oidc_client: TestClient, identity_provider: LocalIdentityProvider, make_problem: Any) -> None:
    """Signed in by tokens: a planner's plan is refused to the planner (403 role_required), approved by an
    approver under the approver's name; a person with both roles cannot approve their own plan (403
    four_eyes); a token's ``by`` cannot name someone else (422)."""
    planner = bearer(identity_provider.token(Person(sub="p-1", name="Pat Planner", roles=["Waste.Planner"])))
    approver = bearer(identity_provider.token(Person(sub="a-1", name="Ann Approver", roles=["Waste.Approver"])))
    both = bearer(identity_provider.token(Person(sub="s-1", name="Sam Both",
                                                 roles=["Waste.Planner", "Waste.Approver"])))
    body = {**make_problem(), "routes": TODAYS_ROUNDS}
    plan_id = oidc_client.post("/api/v1/plans", json=body, headers=planner).json()["id"]
    assert refusal(oidc_client.post(f"/api/v1/plans/{plan_id}/approve", headers=planner)) == (403, "role_required")
    assert oidc_client.post(f"/api/v1/plans/{plan_id}/approve", json={"by": "Someone Else"},
                            headers=approver).status_code == 422
    approved = oidc_client.post(f"/api/v1/plans/{plan_id}/approve", headers=approver)
    assert approved.status_code == 200, approved.text
    assert approved.json()["approved_by"] == "Ann Approver"
    own = oidc_client.post("/api/v1/plans", json=body, headers=both).json()["id"]
    assert refusal(oidc_client.post(f"/api/v1/plans/{own}/approve", headers=both)) == (403, "four_eyes")


def test_api_keys_still_work_beside_tokens(oidc_client: TestClient) -> None:
    """With the identity provider configured, an API key still acts for its tenant, and a made-up
    key still answers 401 invalid_api_key."""
    with oidc_client.app.state.store.transaction() as session:  # type: ignore[attr-defined]
        _, key = store.create_api_key(session, "council-a", name="test")
    assert oidc_client.get(WHO_PATH, headers=bearer(key)).json()["via"] == "api_key"
    assert refusal(oidc_client.get(WHO_PATH, headers=bearer("wr_" + "x" * 43))) == (401, "invalid_api_key")


def test_garbage_shaped_like_a_jwt_is_refused(oidc_client: TestClient) -> None:
    """Three dotted parts that are not a JWT answer 401 invalid_token, never 500."""
    for token in ("a.b.c", "bm90IGpzb24.bm90IGpzb24.c2ln", "x" * 300 + ".y.z"):
        assert refusal(oidc_client.get("/api/v1/plans", headers=bearer(token))) == (401, "invalid_token")


def test_no_token_reaches_the_logs(oidc_client: TestClient, identity_provider: LocalIdentityProvider,
                                   caplog: pytest.LogCaptureFixture) -> None:
    """With every logger at DEBUG, accepted and refused tokens leave no token in any log record."""
    caplog.set_level(logging.DEBUG)
    accepted = identity_provider.token()
    expired = identity_provider.token(exp=1)
    roleless = identity_provider.token(roles=None)
    assert oidc_client.get("/api/v1/plans", headers=bearer(accepted)).status_code == 200
    assert oidc_client.get("/api/v1/plans", headers=bearer(expired)).status_code == 401
    assert oidc_client.get("/api/v1/plans", headers=bearer(roleless)).status_code == 403
    logged = caplog.text + "".join(str(record.args) for record in caplog.records)
    assert all(token not in logged and token.split(".")[2] not in logged for token in (accepted, expired, roleless))


def test_auth_config_tells_the_map_how_to_sign_in(oidc_client: TestClient,
                                                  identity_provider: LocalIdentityProvider) -> None:
    """GET /api/v1/auth/config needs no key and names the provider's endpoints, client id and scopes."""
    answer = oidc_client.get("/api/v1/auth/config")
    assert answer.status_code == 200
    assert answer.json() == {"oidc": True, "issuer": identity_provider.issuer, "client_id": CLIENT_ID,
                             "scopes": ["openid", "profile"],
                             "authorization_endpoint": f"{identity_provider.base}/authorize",
                             "token_endpoint": f"{identity_provider.base}/token"}


def test_auth_config_without_a_provider(client: TestClient) -> None:
    """Without an identity provider the map is told to use API keys only."""
    assert client.get("/api/v1/auth/config").json() == {"oidc": False, "scopes": []}


def test_a_role_map_naming_an_unknown_role_stops_the_service(oidc_settings: Settings) -> None:
    """WASTEROUTE_OIDC_ROLE_MAP naming a role wasteroute does not have fails the app's assembly, naming it."""
    wrong = oidc_settings.model_copy(update={"oidc_role_map": {"Waste.Boss": "superuser"}})
    with pytest.raises(ValueError, match="superuser"):
        create_app(wrong)


def test_an_unreachable_provider_answers_503(oidc_settings: Settings, identity_provider: LocalIdentityProvider,
                                             tools: Any) -> None:
    """With the provider away, a token answers 503 with Retry-After (never 401 nor 500), and so does
    the map's sign-in config; API keys are not affected."""
    away = oidc_settings.model_copy(update={"oidc_issuer": f"http://127.0.0.1:{tools.free_port()}"})
    with TestClient(create_app(away)) as started:
        token = identity_provider.token()
        answer = started.get("/api/v1/plans", headers=bearer(token))
        assert answer.status_code == 503 and answer.headers["Retry-After"]
        assert token not in answer.text
        assert started.get("/api/v1/auth/config").status_code == 503
        with started.app.state.store.transaction() as session:  # type: ignore[attr-defined]
            _, key = store.create_api_key(session, "council-a", name="test")
        assert started.get("/api/v1/plans", headers=bearer(key)).status_code == 200


@pytest.mark.parametrize("setting,url", [("oidc_issuer", "http://login.example.gov.uk/v2.0"),
                                         ("oidc_jwks_url", "http://login.example.gov.uk/keys"),
                                         ("oidc_issuer", "ftp://login.example.gov.uk")])
def test_a_provider_over_plain_http_stops_the_service(oidc_settings: Settings, setting: str, url: str) -> None:
    """An issuer or key URL that is not HTTPS (off loopback) fails the app's assembly, naming the setting:
    keys fetched over plain HTTP could be swapped on the way."""
    with pytest.raises(ValueError, match=f"WASTEROUTE_{setting.upper()}"):
        create_app(oidc_settings.model_copy(update={setting: url}))
