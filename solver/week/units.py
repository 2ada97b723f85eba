"""What the week's search assigns: units (a property's bins, or a benchmark customer) and the
patterns (days, and the bins collected on each) they may be collected on."""

from __future__ import annotations

from dataclasses import dataclass

from solver.week.calendar import Slot


@dataclass(frozen=True)
class Pattern:
    """One way to collect a unit over the horizon: ``visits`` pairs each slot with the bins collected
    on it; ``change_cost`` is what choosing it costs in day changes (money; 0 when it keeps the unit's
    current days); ``label`` names it for people (``"tue A"``)."""

    visits: tuple[tuple[Slot, tuple[str, ...]], ...]
    change_cost: float = 0.0
    label: str = ""

    @property
    def slots(self) -> frozenset[Slot]:
        """The slots this pattern collects on."""
        return frozenset(s for s, _ in self.visits)


@dataclass(frozen=True)
class Unit:
    """What must share its days: a property's bins, or one benchmark customer. ``patterns`` are the
    ways it may be collected (at least one); ``demand`` its load per collection day (for balance);
    ``location`` the bin id whose place stands for it; ``lon``/``lat`` where it is (for the sweep)."""

    id: str
    patterns: tuple[Pattern, ...]
    demand: float
    location: str
    lon: float = 0.0
    lat: float = 0.0
