"""Approving a reviewed week as a whole (``POST /api/v1/round-reviews/{id}/approve``).

Who approves it, which date starts week A of the cycle (the nightly batch needs it to tell week A
from week B on a given night), and optionally the area the week covers (several depots' weeks live
side by side as round sets ``week/<area>/<day>/<week>``; without one, ``week/<day>/<week>``).
"""

from __future__ import annotations

from datetime import date
from typing import Annotated

from pydantic import Field

from app.schemas.jobs import RefusedBy
from app.schemas.requests import InputModel

AreaName = Annotated[str, Field(min_length=1, max_length=100, pattern=r"^[A-Za-z0-9_.-]+$")]
"""An area's name: letters, digits, ``_ . -`` (it is a segment of the round sets' keys)."""


class WeekApprovalIn(InputModel):
    """From which date the week's cycle runs, and for which area; the approver is the person signed in."""

    by: RefusedBy = None
    week_a_starts: date | None = Field(
        default=None,
        description="A Monday that starts a week A (YYYY-MM-DD): week A, B, ... follow from it, one calendar week "
                    "each, round and round. Required when the review's calendar has more than one week.")
    area: AreaName | None = Field(
        default=None,
        description="The area the week covers (say a depot): its days become the round sets "
                    "`week/<area>/<day>/<week>`, so that several areas' weeks live side by side; absent: "
                    "`week/<day>/<week>`. A later week approved for the same area supersedes this one.")
