"""What a lorry's tracker and its in-cab system record: GPS fixes and bin lifts, as plain data.

Times are seconds since midnight of the day the trace covers (a fix after midnight is past
86,400); coordinates WGS84 degrees; speeds metres per second.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal


@dataclass(frozen=True, slots=True)
class Fix:
    """One GPS position of ``vehicle_id`` at ``time_s``: ``lon``/``lat`` degrees, ``speed_mps`` the
    tracker's own speed when it gives one (the matcher does not need it)."""

    vehicle_id: str
    time_s: float
    lon: float
    lat: float
    speed_mps: float | None = None


@dataclass(frozen=True, slots=True)
class Lift:
    """A bin lifted into ``vehicle_id`` at ``time_s``, as an in-cab system records it (``bin_id``:
    the problem's bin id, which the caller has looked up from a UPRN where the file gives one)."""

    vehicle_id: str
    time_s: float
    bin_id: str


IssueKind = Literal["out_of_order", "duplicate_time", "invalid", "off_network", "jump", "gap", "outlier",
                    "no_match", "unknown_bin", "unknown_vehicle"]
"""What was wrong with a trace, each said in a :class:`TraceIssue`:

* ``out_of_order``: fixes whose time is earlier than a fix before them in the file (they are sorted, kept);
* ``duplicate_time``: fixes at the same time as an earlier fix of the vehicle (the first is kept);
* ``invalid``: a coordinate or time that is not a finite number, or lies outside lon/lat's range (dropped);
* ``off_network``: fixes farther from every street than the matcher looks (dropped; all of a trace's
  fixes so: a trace of another network's area);
* ``jump``: a move of kilometres faster than a lorry drives (the trace is broken into pieces there);
* ``gap``: no fix for longer than :attr:`~solver.traces.clean.CleanOptions.max_gap_s` (a break in the match);
* ``outlier``: pieces too short to match (a few fixes cut off by jumps: dropped), and single fixes no
  drive on the network reaches from the fixes before them (left out by the matcher);
* ``no_match``: fixes between which no drive on the network fits (the match breaks there);
* ``unknown_bin``: lift events naming a bin the problem does not hold (left out);
* ``unknown_vehicle``: lift events of a vehicle no trace shows (left out).
"""


@dataclass(frozen=True, slots=True)
class TraceIssue:
    """Something wrong with the input, and what was done about it: ``kind`` (:data:`IssueKind`), the
    ``vehicle_id`` it concerns, how many fixes (or lifts) it touched (``count``) and a sentence
    (``detail``)."""

    kind: IssueKind
    vehicle_id: str
    count: int
    detail: str
