"""Order followed: how much of a round the crew collected in the order the plan set.

The share of a round's bins collected in the planned order is the longest run of the bins collected
(not necessarily together) that keeps the plan's order, over the bins both the plan and the day
hold: 1.0 when the crew followed the plan, lower the more it reordered. Bins the plan did not hold
(collected from another round) and bins planned but not collected are left out of both sides: they
are counted apart, as bins collected and missed. The longest such run is the longest increasing
run of the collected bins' places in the plan (patience sorting, ``n log n``).
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Sequence


def in_planned_order(planned: Sequence[str], collected: Sequence[str]) -> int:
    """How many of ``collected`` (bin ids in the order collected) lie in ``planned``'s order at most:
    the longest run of them, in collecting order, whose places in ``planned`` increase. A bin
    collected twice counts once (its first collection)."""
    place = {b: k for k, b in enumerate(planned)}
    seen: set[str] = set()
    tails: list[int] = []  # tails[n]: the least last place of an increasing run of n + 1 bins
    for b in collected:
        if b in seen or b not in place:
            continue
        seen.add(b)
        k = bisect_left(tails, place[b])
        if k == len(tails):
            tails.append(place[b])
        else:
            tails[k] = place[b]
    return len(tails)


def order_followed(planned: Sequence[str], collected: Sequence[str]) -> float | None:
    """The share (0..1) of the bins both ``planned`` and ``collected`` hold that were collected in the
    planned order (see the module's docstring); ``None`` when they hold none in common."""
    common = set(planned) & set(collected)
    if not common:
        return None
    return in_planned_order(planned, collected) / len(common)
