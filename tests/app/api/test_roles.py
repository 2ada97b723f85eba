"""People and roles through the API (app/api/roles.py, app/api/users.py, app/api/refusals.py) on a real started
app with keys required: every route names its role, each refusal answers the right status and is recorded,
approvals are the signed-in person's and the four-eyes rule holds, and admins manage their own tenant only."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient

from app import store
from app.api.auth import is_open, open_paths
from app.api.refusals import REFUSED_401
from app.core.config import Settings
from app.main import create_app

from ..conftest import JobWaiter

TODAYS_ROUNDS = [{"vehicle_id": "rcv-1", "stops": ["b00001", "b00002", "b00003", "b00004"]},
                 {"vehicle_id": "rcv-2", "stops": ["b00005", "b00006", "b00007", "b00008"]}]
"""A person's plan of the eight test bins."""


@pytest.fixture(scope="module")
def keyed_client(settings: Settings, tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    """A started app (Monaco loaded) that requires API keys, on a store of this module's own, four-eyes on."""
    folder = tmp_path_factory.mktemp("roles-store")
    keyed = settings.model_copy(update={"auth_required": True, "max_concurrent_solves": 1, "four_eyes": True,
                                        "database_url": f"sqlite:///{folder / 'store.sqlite3'}"})
    with TestClient(create_app(keyed)) as started:
        yield started


def person(client: TestClient, tenant: str, name: str, *roles: str) -> dict[str, str]:
    """A new user of ``tenant`` holding ``roles``: the headers of their key."""
    with client.app.state.store.transaction() as session:  # type: ignore[attr-defined]
        user = store.create_user(session, tenant, name=name, roles=roles, actor="test")
        made = store.create_user_key(session, tenant, user.id, actor="test")
        assert made is not None
    return {"Authorization": f"Bearer {made[1]}"}


def refusals(client: TestClient, tenant: str) -> list[dict[str, Any]]:
    """The ``access.refused`` lines of ``tenant``'s audit log: actor and details."""
    with client.app.state.store.transaction() as session:  # type: ignore[attr-defined]
        return [{"actor": line.actor, **line.details}
                for line in store.list_audit(session, tenant, actions=["access.refused"])]


def stored_plan(client: TestClient, headers: dict[str, str], problem: dict[str, Any]) -> dict[str, Any]:
    """A person's plan stored with ``headers``: the answer."""
    answer = client.post("/api/v1/plans", json={**problem, "routes": TODAYS_ROUNDS}, headers=headers)
    assert answer.status_code == 201, answer.text
    return dict(answer.json())


def test_every_closed_operation_names_its_role(keyed_client: TestClient) -> None:
    """Walking the OpenAPI document: each operation but the open paths carries x-required-role (one of the
    four) and a documented 403, so a route added without require() fails here."""
    document = keyed_client.get("/openapi.json").json()
    opened = open_paths(keyed_client.app)  # type: ignore[arg-type]
    closed = {f"{method.upper()} {path}": operation for path, operations in document["paths"].items()
              if not is_open(path, opened) for method, operation in operations.items()}
    assert len(closed) >= 30
    missing = [name for name, operation in closed.items() if operation.get("x-required-role") not in
               ("viewer", "planner", "approver", "admin")]
    assert missing == []
    assert all("403" in operation["responses"] for operation in closed.values())
    assert closed["POST /api/v1/plans/{plan_id}/approve"]["x-required-role"] == "approver"
    assert closed["POST /api/v1/uploads/bins"]["x-required-role"] == "planner"
    assert closed["POST /api/v1/users"]["x-required-role"] == "admin"
    assert closed["GET /api/v1/plans"]["x-required-role"] == "viewer"


def test_me_answers_who_and_which_roles(keyed_client: TestClient) -> None:
    """GET /api/v1/me names the key's person, tenant and roles; a tenant key is no person and cannot approve."""
    me = keyed_client.get("/api/v1/me", headers=person(keyed_client, "north", "Ann Approver", "approver")).json()
    assert me["name"] == "Ann Approver" and me["tenant"] == "north" and me["roles"] == ["approver"]
    assert me["user_id"] and me["via"] == "api_key" and me["four_eyes"] is True
    with keyed_client.app.state.store.transaction() as session:  # type: ignore[attr-defined]
        _, tenant_key = store.create_api_key(session, "north", name="old")
    tenant_me = keyed_client.get("/api/v1/me", headers={"Authorization": f"Bearer {tenant_key}"}).json()
    assert tenant_me["user_id"] is None and tenant_me["roles"] == ["viewer", "planner"]


def test_planner_cannot_approve_and_approver_can(keyed_client: TestClient, problem: dict[str, Any]) -> None:
    """A planner's approval is 403 naming the role (recorded); an approver's sets approved_by to their name."""
    planner = person(keyed_client, "east", "Pat Planner", "planner")
    plan = stored_plan(keyed_client, planner, problem)
    refused = keyed_client.post(f"/api/v1/plans/{plan['id']}/approve", headers=planner)
    assert refused.status_code == 403, refused.text
    [item] = refused.json()["detail"]
    assert item["type"] == "role_required" and "'approver'" in item["msg"]
    [line] = refusals(keyed_client, "east")
    assert line["actor"] == "Pat Planner" and line["status"] == 403 and line["method"] == "POST"
    assert line["path"] == f"/api/v1/plans/{plan['id']}/approve"
    approver = person(keyed_client, "east", "Ann Approver", "approver")
    approved = keyed_client.post(f"/api/v1/plans/{plan['id']}/approve", headers=approver).json()
    assert approved["status"] == "approved" and approved["approved_by"] == "Ann Approver"
    assert approved["approved_by_user_id"] and approved["approved_by_user_id"] != approved["created_by_user_id"]
    assert len(approved["approved_hash"]) == 64


def test_by_in_the_body_is_refused(keyed_client: TestClient, problem: dict[str, Any]) -> None:
    """A typed-in approver name is refused with 422 naming ``by``; the plan stays a draft."""
    plan = stored_plan(keyed_client, person(keyed_client, "west", "Pat", "planner"), problem)
    approver = person(keyed_client, "west", "Ann", "approver")
    answer = keyed_client.post(f"/api/v1/plans/{plan['id']}/approve", json={"by": "Someone Else"}, headers=approver)
    assert answer.status_code == 422 and answer.json()["detail"][0]["field"] == "by"
    assert keyed_client.get(f"/api/v1/plans/{plan['id']}", headers=approver).json()["status"] == "draft"


def test_creator_cannot_approve_own_plan(keyed_client: TestClient, problem: dict[str, Any]) -> None:
    """Four eyes: a planner-approver who stored the plan gets 403 (type four_eyes, recorded)."""
    both = person(keyed_client, "south", "Sam Both", "planner", "approver")
    plan = stored_plan(keyed_client, both, problem)
    answer = keyed_client.post(f"/api/v1/plans/{plan['id']}/approve", headers=both)
    assert answer.status_code == 403 and answer.json()["detail"][0]["type"] == "four_eyes"
    assert [line["status"] for line in refusals(keyed_client, "south")] == [403]


def test_viewer_cannot_upload(keyed_client: TestClient) -> None:
    """A viewer's upload is 403 naming the role planner, before the file is read."""
    viewer = person(keyed_client, "viewers", "Vic Viewer", "viewer")
    answer = keyed_client.post("/api/v1/uploads/bins", files={"file": ("bins.csv", b"id,lon,lat\n")},
                               headers=viewer)
    assert answer.status_code == 403 and "'planner'" in answer.json()["detail"][0]["msg"]
    assert keyed_client.get("/api/v1/plans", headers=viewer).status_code == 200


def test_another_tenants_plan_is_404_and_recorded(keyed_client: TestClient, problem: dict[str, Any]) -> None:
    """Another council's key on this council's plan id answers 404, recorded in the prober's tenant."""
    plan = stored_plan(keyed_client, person(keyed_client, "home", "Pat", "planner"), problem)
    prober = person(keyed_client, "away", "Mallory", "viewer", "approver")
    assert keyed_client.get(f"/api/v1/plans/{plan['id']}", headers=prober).status_code == 404
    assert keyed_client.post(f"/api/v1/plans/{plan['id']}/approve", headers=prober).status_code == 404
    assert keyed_client.get("/api/v1/plans/no-such-plan", headers=prober).status_code == 404
    lines = refusals(keyed_client, "away")
    assert [(line["status"], line["actor"]) for line in lines] == [(404, "Mallory"), (404, "Mallory")]
    assert "another tenant" in lines[0]["reason"]


def test_disabled_users_key_is_401(keyed_client: TestClient) -> None:
    """An admin disables a user through the API; the user's key answers 401 at once (and is counted)."""
    admin = person(keyed_client, "admins", "Ada Admin", "admin")
    user = keyed_client.post("/api/v1/users", json={"name": "Leaver", "roles": ["viewer"]}, headers=admin).json()
    made = keyed_client.post(f"/api/v1/users/{user['id']}/keys", json={}, headers=admin)
    assert made.status_code == 201
    leaver = {"Authorization": f"Bearer {made.json()['api_key']}"}
    assert keyed_client.get("/api/v1/me", headers=leaver).status_code == 200
    assert keyed_client.post(f"/api/v1/users/{user['id']}/disable", headers=admin).json()["disabled_at"]
    before = REFUSED_401["invalid_api_key"]
    answer = keyed_client.get("/api/v1/me", headers=leaver)
    assert answer.status_code == 401 and "disabled" in answer.json()["detail"][0]["msg"]
    assert REFUSED_401["invalid_api_key"] == before + 1


def test_no_role_escalation(keyed_client: TestClient) -> None:
    """A planner granting itself approver through the admin API gets 403 (recorded); unknown roles 422 naming
    the field; an admin cannot see or change another tenant's users (404)."""
    planner = person(keyed_client, "climb", "Pat Planner", "planner")
    me = keyed_client.get("/api/v1/me", headers=planner).json()
    answer = keyed_client.post(f"/api/v1/users/{me['user_id']}/roles", json={"grant": ["approver"]}, headers=planner)
    assert answer.status_code == 403 and "'admin'" in answer.json()["detail"][0]["msg"]
    assert keyed_client.get("/api/v1/me", headers=planner).json()["roles"] == ["planner"]
    assert refusals(keyed_client, "climb")[0]["path"] == f"/api/v1/users/{me['user_id']}/roles"
    admin = person(keyed_client, "climb", "Ada Admin", "admin")
    bad = keyed_client.post("/api/v1/users", json={"name": "X", "roles": ["superuser"]}, headers=admin)
    assert bad.status_code == 422 and bad.json()["detail"][0]["field"] == "roles[0]"
    other_admin = person(keyed_client, "elsewhere", "Eve Admin", "admin")
    assert keyed_client.post(f"/api/v1/users/{me['user_id']}/roles", json={"grant": ["admin"]},
                             headers=other_admin).status_code == 404
    assert keyed_client.post(f"/api/v1/users/{me['user_id']}/keys", json={}, headers=other_admin).status_code == 404
    assert [line["status"] for line in refusals(keyed_client, "elsewhere")] == [404, 404]
    assert all(user["tenant"] == "elsewhere"
               for user in keyed_client.get("/api/v1/users", headers=other_admin).json()["users"])


def test_admin_manages_roles_and_keys(keyed_client: TestClient) -> None:
    """An admin grants and revokes roles, lists a user's keys (never the key) and revokes one (then 401)."""
    admin = person(keyed_client, "staff", "Ada Admin", "admin")
    user = keyed_client.post("/api/v1/users", json={"name": "Jo Bloggs", "email": "jo@example.org",
                                                    "roles": ["viewer"]}, headers=admin)
    assert user.status_code == 201 and user.json()["roles"] == ["viewer"]
    user_id = user.json()["id"]
    changed = keyed_client.post(f"/api/v1/users/{user_id}/roles", json={"grant": ["planner"], "revoke": ["viewer"]},
                                headers=admin).json()
    assert changed["roles"] == ["planner"]
    made = keyed_client.post(f"/api/v1/users/{user_id}/keys", json={"name": "laptop"}, headers=admin).json()
    jo = {"Authorization": f"Bearer {made['api_key']}"}
    assert keyed_client.get("/api/v1/me", headers=jo).json()["name"] == "Jo Bloggs"
    [listed] = keyed_client.get(f"/api/v1/users/{user_id}/keys", headers=admin).json()["keys"]
    assert listed["id"] == made["id"] and listed["api_key"] is None and listed["prefix"] == made["api_key"][:8]
    revoked = keyed_client.delete(f"/api/v1/users/{user_id}/keys/{made['id']}", headers=admin)
    assert revoked.status_code == 200 and revoked.json()["revoked_at"]
    assert keyed_client.get("/api/v1/me", headers=jo).status_code == 401
    with keyed_client.app.state.store.transaction() as session:  # type: ignore[attr-defined]
        actions = [(line.actor, line.action) for line in store.list_audit(session, "staff")
                   if line.subject_id == user_id or line.action.startswith("api_key")]
    assert ("Ada Admin", "user.create") in actions and ("Ada Admin", "user.roles") in actions
    assert ("Ada Admin", "api_key.revoke") in actions


class _As:
    """A client that sends one person's key with every GET (for the job waiter)."""

    def __init__(self, client: TestClient, headers: dict[str, str]) -> None:
        self.client, self.headers = client, headers

    def get(self, url: str) -> Any:
        """GET with the person's key."""
        return self.client.get(url, headers=self.headers)


def test_a_jobs_plan_is_its_askers_for_the_four_eyes_rule(keyed_client: TestClient, problem: dict[str, Any],
                                                          wait_for_job: JobWaiter) -> None:
    """The plan an optimisation job stores is created by whoever asked for the job (created_by_user_id, named in
    the audit log), so the four-eyes rule refuses them its approval too."""
    both = person(keyed_client, "jobs", "Sam Both", "planner", "approver")
    accepted = keyed_client.post("/api/v1/jobs", json=problem, headers=both)
    assert accepted.status_code == 202, accepted.text
    job = wait_for_job(_As(keyed_client, both), accepted.json()["id"])
    assert job["status"] == "succeeded", job
    plan = keyed_client.get(f"/api/v1/plans/{job['plan_id']}", headers=both).json()
    me = keyed_client.get("/api/v1/me", headers=both).json()
    assert plan["created_by_user_id"] == me["user_id"]
    answer = keyed_client.post(f"/api/v1/plans/{job['plan_id']}/approve", headers=both)
    assert answer.status_code == 403 and answer.json()["detail"][0]["type"] == "four_eyes"
    with keyed_client.app.state.store.transaction() as session:  # type: ignore[attr-defined]
        [created] = store.list_audit(session, "jobs", subject_id=job["plan_id"], actions=["plan.create"])
    assert created.actor == "Sam Both"
