"""A publishable case study: a council's realised savings in a form another council can check.

:func:`case_study` turns a :class:`~solver.realised.RealisedReport` (actual days before a change
against after it, scored by the one evaluator) into one JSON document: the method in words, the
library versions, the factors and their sources, the periods, every figure before and after with
its spread, per year, per tonne and per household, the modelled promise beside, what got worse
and why, and the SHA-256 of every input (each actual day's problem and trace files, the plan
and baseline). It holds **no personal data**: no address, UPRN, position, trace, file name or
person's name, only aggregated figures and hashes (whoever holds the inputs can check a hash;
nobody can read an input back from one).

The document follows :data:`CASE_STUDY_SCHEMA` (JSON Schema 2020-12, also in
``docs/case_study.schema.json``); :func:`check` validates one (another council's file, say) and
:func:`to_html` prints one or several side by side.
"""

from __future__ import annotations

import html
import json
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from jsonschema import Draft202012Validator

from solver.realised import RESAMPLES, RealisedReport
from solver.savings import Factors

SCHEMA_ID = "wasteroute-case-study/1"
"""The ``schema`` of a case study document (its version: a change that breaks readers makes a /2)."""

METHOD = (
    "Each actual day is a day's rounds as the lorries drove them, from their GPS traces matched to the "
    "OpenStreetMap road network (and in-cab lift records where given), stored with the hashes of its files. "
    "Every day, before and after the change, is scored again by the same evaluator that scores every plan "
    "(distance and time on the network, tip trips, shifts; fuel, CO2e and cost by the stated factors). "
    "Figures are means per collection day; the change is after minus before; its interval comes from "
    f"resampling the days of each period independently ({RESAMPLES} bootstrap resamples, BCa, seeded); "
    "a year is the change times the collection days a year. Figures per tonne and per household divide each "
    "period's totals by the waste collected and the households served. The modelled change is the approved "
    "plan against the baseline it was compared with, scored by the same evaluator."
)
"""How the figures were made, in words, for readers who do not read code."""

_NUMBER = {"type": "number"}
_OPTIONAL_NUMBER = {"type": ["number", "null"]}
_INTERVAL = {"oneOf": [{"type": "null"}, {"type": "object", "required": ["low", "high", "confidence"],
                                          "additionalProperties": False,
                                          "properties": {"low": _NUMBER, "high": _NUMBER, "confidence": _NUMBER}}]}
_PERIOD = {"type": "object", "required": ["first", "last", "days"], "additionalProperties": False,
           "properties": {"first": {"type": "string", "format": "date"}, "last": {"type": "string", "format": "date"},
                          "days": {"type": "integer", "minimum": 1}}}
_HASH = {"type": "string", "pattern": "^[0-9a-f]{64}$"}

CASE_STUDY_SCHEMA: dict[str, Any] = {
    "$schema": "https://json-schema.org/draft/2020-12/schema",
    "$id": SCHEMA_ID,
    "title": "wasteroute case study: realised savings of a change of rounds",
    "type": "object",
    "required": ["schema", "title", "council", "made_at", "method", "versions", "factors", "periods",
                 "collection_days_per_year", "figures", "worse", "better", "notes", "inputs"],
    "additionalProperties": False,
    "properties": {
        "schema": {"const": SCHEMA_ID},
        "title": {"type": "string", "maxLength": 300},
        "council": {"type": "string", "maxLength": 300},
        "round_set": {"type": ["string", "null"], "maxLength": 200},
        "made_at": {"type": "string", "format": "date-time"},
        "method": {"type": "string"},
        "versions": {"type": "object", "additionalProperties": {"type": "string"}},
        "factors": {"type": "object", "additionalProperties": {"type": ["number", "string"]}},
        "periods": {"type": "object", "required": ["before", "after"], "additionalProperties": False,
                    "properties": {"before": _PERIOD, "after": _PERIOD}},
        "collection_days_per_year": {"type": "number", "exclusiveMinimum": 0},
        "figures": {"type": "array", "minItems": 1, "items": {
            "type": "object", "additionalProperties": False,
            "required": ["figure", "label", "unit", "before", "after", "delta", "verdict", "interval", "per_year",
                         "per_tonne", "per_household", "modelled", "gap"],
            "properties": {
                "figure": {"type": "string"}, "label": {"type": "string"}, "unit": {"type": "string"},
                "before": _NUMBER, "after": _NUMBER, "delta": _NUMBER, "pct": _OPTIONAL_NUMBER,
                "verdict": {"enum": ["better", "worse", "same"]}, "interval": _INTERVAL,
                "per_year": _OPTIONAL_NUMBER, "per_year_interval": _INTERVAL,
                "per_tonne": {"type": "array", "items": _OPTIONAL_NUMBER, "minItems": 2, "maxItems": 2},
                "per_household": {"type": "array", "items": _OPTIONAL_NUMBER, "minItems": 2, "maxItems": 2},
                "modelled": _OPTIONAL_NUMBER, "gap": _OPTIONAL_NUMBER}}},
        "worse": {"type": "array", "items": {"type": "string"}},
        "better": {"type": "array", "items": {"type": "string"}},
        "notes": {"type": "array", "items": {"type": "string"}},
        "inputs": {"type": "object", "required": ["actual_days"], "additionalProperties": False, "properties": {
            "actual_days": {"type": "array", "items": {
                "type": "object", "required": ["day", "period", "problem", "files"], "additionalProperties": False,
                "properties": {"day": {"type": "string", "format": "date"}, "period": {"enum": ["before", "after"]},
                               "problem": _HASH, "files": {"type": "array", "items": _HASH}}}},
            "plan": {"oneOf": [{"type": "null"}, _HASH]},
            "baseline": {"oneOf": [{"type": "null"}, _HASH]}}},
    },
}
"""The JSON Schema of a case study document (see the module docstring)."""


def _factors(factors: Factors) -> dict[str, float | str]:
    """The factors and their sources."""
    return {k: v for k, v in factors.as_dict().items() if isinstance(v, int | float | str)}


def case_study(report: RealisedReport, *, title: str, council: str, round_set: str | None, factors: Factors,
               versions: Mapping[str, str], days: Sequence[tuple[str, str, str, Sequence[str]]],
               plan_hash: str | None = None, baseline_hash: str | None = None,
               made_at: datetime | None = None) -> dict[str, Any]:
    """The case study of ``report`` (see the module docstring). ``days``: each actual day's ISO date,
    period (``before``/``after``), problem hash and trace files' hashes; ``plan_hash``/``baseline_hash``
    the inputs hashes of the plan and baseline whose modelled saving is set beside."""
    figures = [{"figure": f.figure, "label": f.label, "unit": f.unit, "before": f.before, "after": f.after,
                "delta": f.delta, "pct": f.pct, "verdict": f.verdict,
                "interval": None if f.delta_interval is None else
                {"low": f.delta_interval.low, "high": f.delta_interval.high, "confidence": f.delta_interval.confidence},
                "per_year": f.per_year,
                "per_year_interval": None if f.per_year_interval is None else
                {"low": f.per_year_interval.low, "high": f.per_year_interval.high,
                 "confidence": f.per_year_interval.confidence},
                "per_tonne": [f.per_tonne_before, f.per_tonne_after],
                "per_household": [f.per_household_before, f.per_household_after],
                "modelled": f.modelled, "gap": f.gap} for f in report.figures]
    return {
        "schema": SCHEMA_ID, "title": title, "council": council, "round_set": round_set,
        "made_at": (made_at or datetime.now(UTC)).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "method": METHOD, "versions": dict(versions), "factors": _factors(factors),
        "periods": {name: {"first": first.isoformat(), "last": last.isoformat(), "days": n}
                    for name, (first, last), n in (("before", report.before_period, report.before_days),
                                                   ("after", report.after_period, report.after_days))},
        "collection_days_per_year": report.collection_days_per_year,
        "figures": figures, "worse": [f.figure for f in report.worse], "better": [f.figure for f in report.better],
        "notes": list(report.notes),
        "inputs": {"actual_days": [{"day": d, "period": p, "problem": h, "files": sorted(files)}
                                   for d, p, h, files in days],
                   "plan": plan_hash, "baseline": baseline_hash},
    }


def check(document: object) -> list[str]:
    """What is wrong with a case study document against :data:`CASE_STUDY_SCHEMA`, each fault as
    ``path: message`` (an empty list: it is one)."""
    validator = Draft202012Validator(CASE_STUDY_SCHEMA, format_checker=Draft202012Validator.FORMAT_CHECKER)
    faults = sorted(validator.iter_errors(document), key=lambda e: list(e.absolute_path))
    return [f"{'/'.join(str(p) for p in e.absolute_path) or '(document)'}: {e.message}" for e in faults]


def schema_text() -> str:
    """The schema as the JSON file ``docs/case_study.schema.json`` holds it."""
    return json.dumps(CASE_STUDY_SCHEMA, indent=2) + "\n"


def _number(value: object) -> str:
    """A figure as people read it."""
    return f"{value:,.1f}" if isinstance(value, int | float) else "-"


def _column(doc: Mapping[str, Any]) -> str:
    """One case study as a column of the page: who, when, what got worse, the figures, the notes."""
    before, after = doc["periods"]["before"], doc["periods"]["after"]
    rows = []
    for f in sorted(doc["figures"], key=lambda f: f["verdict"] != "worse"):
        span = (f"{_number(f['interval']['low'])} to {_number(f['interval']['high'])}" if f["interval"]
                else "no spread (one day)")
        rows.append(f"<tr class='{html.escape(f['verdict'])}'><td>{html.escape(f['label'])} "
                    f"({html.escape(f['unit'])})</td><td>{_number(f['before'])}</td><td>{_number(f['after'])}</td>"
                    f"<td>{_number(f['delta'])}</td><td>{span}</td><td>{_number(f['per_year'])}</td>"
                    f"<td>{_number(f['modelled'])}</td></tr>")
    worse = ", ".join(html.escape(w) for w in doc["worse"]) or "nothing"
    notes = "".join(f"<li>{html.escape(n)}</li>" for n in doc["notes"]) or "<li>none</li>"
    return (f"<section><h2>{html.escape(doc['council'])}: {html.escape(doc['title'])}</h2>"
            f"<p>{before['days']} actual day(s) {before['first']} to {before['last']} before, {after['days']} "
            f"{after['first']} to {after['last']} after; {doc['collection_days_per_year']:g} collection days a year; "
            f"made {html.escape(doc['made_at'])}.</p><p class='worse'><strong>What got worse:</strong> {worse}.</p>"
            "<table><tr><th>Figure</th><th>Before, a day</th><th>After, a day</th><th>Change</th><th>Interval</th>"
            f"<th>A year</th><th>Modelled</th></tr>{''.join(rows)}</table><h3>Notes</h3><ul>{notes}</ul>"
            f"<details><summary>Method, versions and input hashes</summary><p>{html.escape(doc['method'])}</p>"
            f"<pre>{html.escape(json.dumps({'versions': doc['versions'], 'factors': doc['factors'], 'inputs': doc['inputs']}, indent=1))}</pre>"  # noqa: E501
            "</details></section>")


def to_html(documents: Sequence[Mapping[str, Any]]) -> str:
    """A printable page of one case study, or of several side by side (one's own first)."""
    columns = "".join(_column(d) for d in documents)
    return ("<!doctype html><html lang='en'><head><meta charset='utf-8'><title>Case study</title><style>"
            "body{font-family:sans-serif;margin:1.5em}main{display:flex;gap:2em;align-items:flex-start}"
            "section{flex:1}table{border-collapse:collapse}td,th{border:1px solid #999;padding:.25em .5em;"
            "text-align:right}td:first-child{text-align:left}tr.worse{background:#fde2e2}tr.better{background:#e3f4e3}"
            "@media print{body{margin:0}details{display:block}}</style></head><body>"
            f"<h1>Realised savings: {'case studies side by side' if len(documents) > 1 else 'case study'}</h1>"
            f"<main>{columns}</main></body></html>")
