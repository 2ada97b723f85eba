"""Tests of solver.problem's checks on SolveOptions' road rules (the side of the road traffic keeps
to, the busy road types), which name the option they refuse."""

from __future__ import annotations

import pytest

from solver.problem import DEFAULT_BUSY_HIGHWAYS, ProblemError, SolveOptions


def test_road_rules_default_to_the_uk() -> None:
    """By default traffic keeps left and motorways, trunk and primary roads (with links) are busy."""
    options = SolveOptions()
    assert options.drives_on == "left"
    assert options.busy_highways == DEFAULT_BUSY_HIGHWAYS
    assert "secondary" not in DEFAULT_BUSY_HIGHWAYS


@pytest.mark.parametrize(("field", "value"), [("drives_on", "middle"), ("busy_highways", "primary"),
                                              ("busy_highways", ("primary", "")), ("busy_highways", (3,))])
def test_bad_road_rules_are_refused_naming_the_option(field: str, value: object) -> None:
    """A side other than left or right, a lone string, a blank or a non-text highway value is refused."""
    with pytest.raises(ProblemError, match=f"options.{field}") as caught:
        SolveOptions(**{field: value})  # type: ignore[arg-type]
    assert caught.value.field == f"options.{field}"
