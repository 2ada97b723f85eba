"""Actual rounds from GPS traces (issue 18): what the lorries drove, matched onto the road network
and read as the round it was. :mod:`~solver.traces.fixes` the input, :mod:`~solver.traces.clean`
its checks, :mod:`~solver.traces.matching` the map matching, :mod:`~solver.traces.driven` the round
as driven, :mod:`~solver.traces.actuals` the one call for a day, :mod:`~solver.traces.simulate`
traces with known truth (docs/actuals.md)."""
