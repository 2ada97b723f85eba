"""People in the store (app/store/people.py) on a real SQLite file and PostgreSQL: users, roles, their
keys, and tenants kept apart; each change in the audit log."""

from __future__ import annotations

import pytest

from app import store
from app.store import Store


@pytest.fixture
def db(empty_store: Store) -> Store:
    """The store of the test (see conftest.py)."""
    return empty_store


def test_user_with_roles_and_a_key_that_names_them(db: Store) -> None:
    """A user holds the roles given (in the list's order, no repeats) and a key made for them resolves to them."""
    with db.transaction() as session:
        user = store.create_user(session, "north", name="Jo Bloggs", roles=["approver", "viewer", "approver"])
        made = store.create_user_key(session, "north", user.id)
        assert made is not None
        record, key = made
        user_id = user.id
    with db.transaction() as session:
        found = store.find_api_key(session, key)
        assert found is not None and found.user_id == user_id and found.id == record.id
        person = store.key_user(session, found)
        assert person is not None and person.name == "Jo Bloggs" and person.roles == ["viewer", "approver"]
        actions = [entry.action for entry in store.list_audit(session, "north")]
    assert actions == ["user.create", "api_key.create"]


def test_unknown_role_is_refused_by_name(db: Store) -> None:
    """A role that is not one of the four raises UnknownRoleError naming it, and nothing is stored."""
    with pytest.raises(store.UnknownRoleError, match="'superuser'"), db.transaction() as session:
        store.create_user(session, "north", name="Al", roles=["planner", "superuser"])
    with db.transaction() as session:
        assert store.list_users(session, "north") == []


def test_roles_granted_and_revoked_are_logged(db: Store) -> None:
    """change_roles grants and revokes, and the audit line keeps the roles before and after."""
    with db.transaction() as session:
        user_id = store.create_user(session, "north", name="Al", roles=["planner"]).id
    with db.transaction() as session:
        user = store.change_roles(session, "north", user_id, grant=["approver"], revoke=["planner"], actor="admin A")
        assert user is not None and user.roles == ["approver"]
        [line] = store.list_audit(session, "north", actions=["user.roles"])
    assert line.actor == "admin A" and line.details["before"] == ["planner"] and line.details["after"] == ["approver"]


def test_another_tenants_user_is_not_found(db: Store) -> None:
    """Every function of a tenant sees only its own users: another tenant's user id gives None."""
    with db.transaction() as session:
        user_id = store.create_user(session, "north", name="Al", roles=["viewer"]).id
    with db.transaction() as session:
        assert store.get_user(session, "south", user_id) is None
        assert store.change_roles(session, "south", user_id, grant=["admin"]) is None
        assert store.disable_user(session, "south", user_id) is None
        assert store.create_user_key(session, "south", user_id) is None
        assert store.list_users(session, "south") == []
        assert store.get_user(session, "north", user_id) is not None


def test_disabled_user_and_revoked_user_key(db: Store) -> None:
    """Disabling stamps the user (once, logged); revoking a user's key needs the right user and tenant."""
    with db.transaction() as session:
        user_id = store.create_user(session, "north", name="Al", roles=["viewer"]).id
        made = store.create_user_key(session, "north", user_id)
        assert made is not None
        key_id = made[0].id
    with db.transaction() as session:
        assert store.revoke_user_key(session, "north", "someone-else", key_id) is None
        assert store.revoke_user_key(session, "south", user_id, key_id) is None
        revoked = store.revoke_user_key(session, "north", user_id, key_id)
        assert revoked is not None and revoked.revoked_at is not None
        first = store.disable_user(session, "north", user_id)
        assert first is not None and first.disabled_at is not None
        store.disable_user(session, "north", user_id)
        assert len(store.list_audit(session, "north", actions=["user.disable"])) == 1
