"""Tests of app/reports/charts.py's titles of the map panels."""

from __future__ import annotations

from app.reports.charts import PANEL_TITLE_CHARS, panel_title


def test_a_named_plans_long_label_is_wrapped_and_kept_whole() -> None:
    """A stored plan's label with its name (longer than a panel is wide) is broken into lines of at most
    PANEL_TITLE_CHARS characters, every word kept; a short title is left as it is."""
    label = ("Baseline: Today's rounds, Tuesday, week 1: 4b961a51fad144ddbdb2cbbde3f2b05f "
             "(v1, manual)")
    wrapped = panel_title(label)
    lines = wrapped.split("\n")
    assert len(lines) > 1 and all(len(line) <= PANEL_TITLE_CHARS for line in lines)
    assert wrapped.split() == label.split()
    assert panel_title("Plan") == "Plan"
