"""Case study documents: made from a realised-savings report of hand-made days, checked against their
JSON Schema (the one in docs/ too), faults named by path, printed side by side."""

from __future__ import annotations

import copy
import json
from datetime import date, timedelta
from pathlib import Path

from app.reports.case_study import SCHEMA_ID, case_study, check, schema_text, to_html
from solver.realised import ScoredDay, realised_savings
from solver.savings import Factors, Figures

DOCS = Path(__file__).resolve().parents[3] / "docs"


def _day(day: date, km: float) -> ScoredDay:
    """A day of ``km`` driven in 6 h by two lorries, 10 t from 1,000 households."""
    figures = Figures(distance_m=km * 1000, drive_s=10_800, duration_s=21_600, working_hours=6, paid_hours=6,
                      vehicles_used=2, trips=2, fuel_l=0.6 * km, co2e_kg=1.5 * km, cost_gbp=km, cost=km,
                      bins_served=1000, violations=0, bins_unassigned=0)
    return ScoredDay(day, figures, 10_000.0, 1000)


def document() -> dict[str, object]:
    """A case study of three days at 100, 104, 96 km before and three at 90, 92, 88 after."""
    start, later = date(2026, 10, 6), date(2026, 11, 10)
    report = realised_savings([_day(start + timedelta(weeks=k), km) for k, km in enumerate((100, 104, 96))],
                              [_day(later + timedelta(weeks=k), km) for k, km in enumerate((90, 92, 88))],
                              collection_days_per_year=52)
    days = [(d.isoformat(), p, "a" * 64, ["b" * 64]) for d, p in ((start, "before"), (later, "after"))]
    return case_study(report, title="New Tuesday rounds", council="Rutland County Council", round_set="tue-refuse",
                      factors=Factors(), versions={"wasteroute": "0.1.0"}, days=days)


def test_a_case_study_follows_its_schema_and_says_what_changed() -> None:
    """The document is valid against the schema, names its schema, and carries the realised change:
    -10 km a day, -520 km a year, better."""
    doc = document()
    assert check(doc) == [] and doc["schema"] == SCHEMA_ID
    km = next(f for f in doc["figures"] if f["figure"] == "distance_m")  # type: ignore[attr-defined]
    assert (km["delta"], km["per_year"], km["verdict"]) == (-10_000, -520_000, "better")


def test_the_schema_in_the_docs_is_the_one_checked() -> None:
    """docs/case_study.schema.json is the schema the service checks documents against."""
    assert (DOCS / "case_study.schema.json").read_text(encoding="utf-8") == schema_text()


def test_a_document_that_is_not_a_case_study_is_told_by_path() -> None:
    """A missing council, a verdict that is no verdict and an unknown field are each named by path."""
    doc = copy.deepcopy(document())
    del doc["council"]
    doc["figures"][0]["verdict"] = "fine"  # type: ignore[index]
    doc["addresses"] = ["1 High Street"]
    faults = check(doc)
    assert any(f.startswith("(document): 'council' is a required property") for f in faults)
    assert any(f.startswith("figures/0/verdict:") for f in faults)
    assert any("'addresses' was unexpected" in f for f in faults)


def test_case_studies_print_side_by_side() -> None:
    """Two councils' documents on one page, each with what got worse before its table."""
    own, other = document(), copy.deepcopy(document())
    other["council"] = "Another District Council"
    page = to_html([own, other])
    assert page.count("<section>") == 2 and "Another District Council" in page and "Rutland County Council" in page
    assert page.index("What got worse") < page.index("<table>")
    assert json.loads(json.dumps(own)) == own  # plain JSON, as published
