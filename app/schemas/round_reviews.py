"""The round review's request (``POST /api/v1/round-reviews``, ``../shared/API.md`` "round reviews").

A review body is an optimisation body (depots, disposal sites, vehicles, bins, options) with what
the week adds: a ``calendar``; the ``days`` each vehicle works and each tip opens; each bin's
``frequency``, ``property``, ``current`` day, ``allowed_days`` and ``address``; and the options
``day_change_cost`` and ``keep_current_days``. The field checks are the schema's; the checks
between the week's fields (a frequency the calendar cannot hold, a day no tip opens, ...) are
:class:`solver.week.WeekProblem`'s, whose :class:`~solver.week.WeekError` answers 422 as well.
"""

from __future__ import annotations

from typing import Literal, Self

from pydantic import Field, model_validator

from app.core.json_types import Fault
from app.schemas.fields import Id, Money
from app.schemas.requests import (
    BinIn,
    DepotIn,
    DisposalSiteIn,
    InputModel,
    OptimisationRequest,
    OptionsIn,
    VehicleIn,
    raise_faults,
    reference_faults,
)

WeekdayName = Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
"""A day of the week, as a calendar names it."""

WORKING_WEEK: tuple[WeekdayName, ...] = ("mon", "tue", "wed", "thu", "fri")
"""The calendar's days when a review names none."""

FrequencyName = Literal["weekly", "fortnightly", "twice_weekly"]
"""The council frequencies that have a name (``{"visits": k}`` is the other form)."""

WEEK_FIELDS = {"bins": ("frequency", "property", "current", "allowed_days", "address"),
               "vehicles": ("days",), "disposal_sites": ("days",),
               "options": ("day_change_cost", "keep_current_days")}
"""The fields a review body adds to an optimisation body, per part (left out of each day's body)."""


class CalendarIn(InputModel):
    """The working days of the week and the weeks of the cycle (``["A", "B"]``: a fortnight)."""

    days: list[WeekdayName] = Field(default_factory=lambda: list(WORKING_WEEK), min_length=1,
                                    description="Working days, in order.")
    weeks: list[Id] = Field(default_factory=lambda: ["A"], min_length=1, max_length=4,
                            description='Labels of the weeks of the cycle, ["A"] or ["A", "B"].')


class VisitsIn(InputModel):
    """``{"visits": k}``: ``k`` evenly spaced collections over the calendar's days."""

    visits: int = Field(ge=1, le=28, description="Collections over the whole calendar.")


class CurrentIn(InputModel):
    """Where a bin is collected today."""

    day: str = Field(min_length=1, max_length=20, description="Today's collection day (a day of the calendar).")
    week: str | None = Field(default=None, max_length=200, description="Today's week (absent: every week).")
    round: str | None = Field(default=None, max_length=200, description="Today's round, if known.")
    sequence: int | None = Field(default=None, ge=1, le=1_000_000,
                                 description="Its place in today's round (1, 2, ...), as an in-cab export gives "
                                             "it; when every bin of a vehicle's rounds that day has one, today's "
                                             "week drives them in that order, else the engine orders them.")


class ReviewBinIn(BinIn):
    """A bin of the week: a bin of the day and how often, for which household, on which day today."""

    frequency: FrequencyName | VisitsIn = Field(default="weekly", description="How often it is collected.")
    property: Id | None = Field(default=None,
                                description="The household it belongs to (its bins share one weekday); "
                                            "absent: a household of its own.")
    current: CurrentIn | None = Field(default=None, description="Today's day, week and round, if known.")
    allowed_days: list[str] | None = Field(default=None, min_length=1,
                                           description="Days it may be collected on (absent: every day).")
    address: str | None = Field(default=None, max_length=500, description="Postal address, for the letters.")


class ReviewVehicleIn(VehicleIn):
    """A vehicle of the week and the days it works."""

    days: list[str] | None = Field(default=None, description="Days it works (absent: every day of the calendar).")


class ReviewSiteIn(DisposalSiteIn):
    """A tip of the week and the days it opens."""

    days: list[str] | None = Field(default=None, description="Days it opens (absent: every day of the calendar).")


class ReviewOptionsIn(OptionsIn):
    """The search's options (``time_limit_s`` is the whole review's) and the week's."""

    day_change_cost: Money = Field(default=0.0, description="Cost of telling one household its day changes.")
    keep_current_days: bool = Field(default=False,
                                    description="Keep every household on today's day where that day can still be.")


class ReviewRequest(InputModel):
    """A council's week to review (see the module docstring).

    Besides an optimisation body's checks: ``options.initial_routes`` and
    ``options.territories_plan_id`` are refused (they name one day's rounds, a week has many).
    """

    calendar: CalendarIn = Field(default_factory=CalendarIn)
    depots: list[DepotIn] = Field(min_length=1)
    disposal_sites: list[ReviewSiteIn] = Field(default_factory=list)
    vehicles: list[ReviewVehicleIn] = Field(min_length=1)
    bins: list[ReviewBinIn] = Field(min_length=1)
    options: ReviewOptionsIn = Field(default_factory=ReviewOptionsIn)

    def faults(self) -> list[Fault]:
        """The faults between fields an optimisation body would have, and the day-only options."""
        daily = OptimisationRequest.model_construct(depots=self.depots, disposal_sites=self.disposal_sites,
                                                    vehicles=self.vehicles, bins=self.bins, options=self.options)
        faults = reference_faults(daily)
        if self.options.initial_routes:
            faults.append({"type": "not_for_a_week", "loc": ("options", "initial_routes"), "id": None,
                           "msg": "initial_routes name one day's rounds: a review plans every day afresh"})
        if self.options.territories_plan_id is not None:
            faults.append({"type": "not_for_a_week", "loc": ("options", "territories_plan_id"),
                           "id": self.options.territories_plan_id,
                           "msg": "territories_plan_id fixes one day's rounds: a review plans every day afresh"})
        return faults

    @model_validator(mode="after")
    def _references_hold(self) -> Self:
        """Report every fault between fields at once (as an optimisation body does)."""
        raise_faults(self.faults())
        return self
