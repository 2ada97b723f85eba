"""Realised savings of hand-made actual days whose figures are worked out by hand: means, deltas,
spreads by bootstrap, yearly figures, per tonne and per household, the modelled promise, what got worse."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from solver.realised import ScoredDay, realised_savings
from solver.savings import Figures


def figures(km: float, hours: float = 6.0, *, vehicles: int = 2, violations: int = 0, bins: int = 1000) -> Figures:
    """A day's figures: ``km`` driven, ``hours`` worked (and paid), at 0.6 l/km, 2.5 kg CO2e/l, 1 GBP/km."""
    return Figures(distance_m=km * 1000.0, drive_s=hours * 1800.0, duration_s=hours * 3600.0, working_hours=hours,
                   paid_hours=hours, vehicles_used=vehicles, trips=2, fuel_l=0.6 * km, co2e_kg=1.5 * km,
                   cost_gbp=km, cost=km, bins_served=bins, violations=violations, bins_unassigned=0)


def days(kms: list[float], *, start: date, kg: float = 10_000.0, households: int = 1000,
         **kwargs: float) -> list[ScoredDay]:
    """Actual days from ``start``, one a kilometre figure."""
    return [ScoredDay(start + timedelta(days=k), figures(km, **kwargs), kg, households)  # type: ignore[arg-type]
            for k, km in enumerate(kms)]


BEFORE = date(2026, 10, 5)
AFTER = date(2026, 11, 9)


def by_name(report, name: str):  # type: ignore[no-untyped-def]
    """The report's figure called ``name``."""
    return next(f for f in report.figures if f.figure == name)


def test_a_saving_every_day_is_a_delta_whose_spread_excludes_none() -> None:
    """Before 100, 104, 96, 100 km a day (mean 100), after 90, 92, 88, 90 (mean 90): -10 km a day,
    -520 km a year at 52 collection days, an interval around -10 that does not reach 0, better."""
    report = realised_savings(days([100, 104, 96, 100], start=BEFORE), days([90, 92, 88, 90], start=AFTER),
                              collection_days_per_year=52)
    km = by_name(report, "distance_m")
    assert (km.before, km.after, km.delta) == (pytest.approx(100_000), pytest.approx(90_000), pytest.approx(-10_000))
    assert km.per_year == pytest.approx(-520_000) and km.verdict == "better"
    assert km.delta_interval is not None and km.delta_interval.low < -10_000 < km.delta_interval.high < 0
    assert km.per_year_interval is not None and km.per_year_interval.low == pytest.approx(km.delta_interval.low * 52)
    assert report.before_period == (BEFORE, BEFORE + timedelta(days=3))


def test_days_that_do_not_differ_give_no_change_and_one_day_no_spread() -> None:
    """The same 100 km each day: delta 0, 'same', the interval the point; one day a period: no interval."""
    alike = realised_savings(days([100, 100], start=BEFORE), days([100, 100], start=AFTER), collection_days_per_year=52)
    km = by_name(alike, "distance_m")
    assert km.delta == 0 and km.verdict == "same" and km.delta_interval is not None
    assert (km.delta_interval.low, km.delta_interval.high) == (0, 0)
    single = realised_savings(days([100], start=BEFORE), days([90], start=AFTER), collection_days_per_year=52)
    assert by_name(single, "distance_m").delta_interval is None


def test_more_waste_after_is_read_per_tonne_and_said() -> None:
    """The same 100 km a day, but 12 t a day after against 10 t before: 10 km a tonne before, 8.33 after
    (better per tonne though no km were saved), and a note names the 20 % more waste."""
    report = realised_savings(days([100, 100], start=BEFORE), days([100, 100], start=AFTER, kg=12_000.0),
                              collection_days_per_year=52)
    km = by_name(report, "distance_m")
    assert km.per_tonne_before == pytest.approx(10_000) and km.per_tonne_after == pytest.approx(100_000 / 12)
    assert km.per_household_before == pytest.approx(100) and by_name(report, "vehicles_used").per_tonne_after is None
    assert any("+20 % waste a day" in note for note in report.notes)


def test_the_realised_saving_is_set_beside_the_modelled_one() -> None:
    """The plan promised -15 km a day; the lorries saved 10 (a spread of +-2 km): realised less modelled
    is +5 km, short of the promise, and said so."""
    promised = figures(-15.0, 0.0, vehicles=0, bins=0)
    report = realised_savings(days([100, 102, 98], start=BEFORE), days([90, 92, 88], start=AFTER),
                              collection_days_per_year=52, modelled=promised)
    km = by_name(report, "distance_m")
    assert km.modelled == pytest.approx(-15_000) and km.gap == pytest.approx(5_000)
    assert any(note.startswith("Distance: realised -10000.0 m a day, short of the modelled -15000.0")
               for note in report.notes)


def test_what_got_worse_is_listed() -> None:
    """Fewer km but two rules broken a day after none: violations are worse, distance better."""
    report = realised_savings(days([100, 100], start=BEFORE), days([90, 90], start=AFTER, violations=2),
                              collection_days_per_year=52)
    assert [f.figure for f in report.worse] == ["violations"]
    assert "distance_m" in [f.figure for f in report.better]
    assert report.as_dict()["worse"] == ["violations"]


def test_an_empty_period_or_no_collection_days_is_refused() -> None:
    """No day before, or zero collection days a year: a ValueError saying what is missing."""
    with pytest.raises(ValueError, match="at least one actual day before and one after"):
        realised_savings([], days([90], start=AFTER), collection_days_per_year=52)
    with pytest.raises(ValueError, match="collection_days_per_year"):
        realised_savings(days([100], start=BEFORE), days([90], start=AFTER), collection_days_per_year=0)
