"""The week: periodic planning of a council's collection rounds (issue 16's planning core).

A council's rounds are a week, or a fortnight of weeks A/B, of daily rounds, each household on a
fixed collection day. This package assigns every bin its day(s) and builds each day's rounds with
the daily engine; it is pure (no web, no store) like the rest of :mod:`solver`.

- :mod:`solver.week.calendar`: the calendar, frequencies and their visiting schemes, :class:`WeekError`;
- :mod:`solver.week.model`: the council's week (properties, current days, allowed days, vehicles'
  working days, tips' opening days), validated, and its units;
- :mod:`solver.week.units`: units and the patterns they may take;
- :mod:`solver.week.day`: one day cut from the daily problem and routed by the daily engine;
- :mod:`solver.week.moves`: moves of units between days on the routes, checked by the evaluator;
- :mod:`solver.week.search`: construction, starts on 1, 2, ... vehicles a day, moves, the objective;
- :mod:`solver.week.review`: a round review (the search with the contract's objectives, day changes);
- :mod:`solver.week.fleet_need`: the vehicles a day would need when its bins do not fit its fleet;
- :mod:`solver.week.today`: today's week, read from the bins' current days and rounds, for the report;
- :mod:`solver.week.pvrpif`: the periodic waste benchmark's instances planned as a week.
"""

from solver.week.calendar import Calendar, Frequency, WeekError, even_schemes, parse_frequency, visiting_schemes
from solver.week.model import CurrentDay, WeekBin, WeekOptions, WeekProblem, week_units
from solver.week.review import DayChange, WeekReview, plan_review

__all__ = [
    "Calendar",
    "CurrentDay",
    "DayChange",
    "Frequency",
    "WeekBin",
    "WeekError",
    "WeekOptions",
    "WeekProblem",
    "WeekReview",
    "even_schemes",
    "parse_frequency",
    "plan_review",
    "visiting_schemes",
    "week_units",
]
