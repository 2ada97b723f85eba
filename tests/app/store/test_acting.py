"""Who an audit line names (app/store/acting.py): the person bound to the context when the caller names
nobody or the request placeholder, with their user id; an explicit actor otherwise; ``system`` when no one
is bound."""

from __future__ import annotations

import asyncio
from pathlib import Path

from app import store
from app.store import Store
from app.store.acting import Actor, acting, acting_as, resolve


def test_nobody_bound_gives_system_or_the_name_given() -> None:
    """Outside any request: ``None`` is ``system``, the placeholder stays ``api``, a name stays itself."""
    assert resolve(None) == ("system", None)
    assert resolve("api") == ("api", None)
    assert resolve("nightly batch") == ("nightly batch", None)


def test_a_bound_person_fills_in_for_nobody_and_the_placeholder() -> None:
    """Bound to Jo (user u-1): ``None`` and ``api`` are Jo with u-1; Jo by name also gets u-1; another name
    keeps its own and no user id; the binding ends with the block."""
    with acting_as(Actor("Jo Bloggs", "u-1")):
        assert resolve(None) == resolve("api") == resolve("Jo Bloggs") == ("Jo Bloggs", "u-1")
        assert resolve("Ann Approver") == ("Ann Approver", None)
    assert acting() is None


def test_append_audit_records_the_bound_person_and_their_user_id(tmp_path: Path) -> None:
    """A line written with no actor while Jo is bound names Jo and carries ``user_id`` in its details,
    beside the details given; a store call run in a thread (as ``Store.run`` does) sees the binding too."""
    db = Store(f"sqlite:///{tmp_path / 'store.sqlite3'}")
    db.migrate()

    async def write() -> None:
        with acting_as(Actor("Jo Bloggs", "u-1")):
            await db.run(lambda s: store.append_audit(s, "north", actor=None, action="upload.bins",
                                                      subject_type="upload", subject_id="abc", details={"bins": 2}))

    asyncio.run(write())
    with db.transaction() as session:
        [line] = store.list_audit(session, "north")
        assert (line.actor, line.details) == ("Jo Bloggs", {"bins": 2, "user_id": "u-1"})
    db.dispose()
