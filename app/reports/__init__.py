"""Savings reports: a plan against a baseline, as printable HTML, JSON and CSV.

:mod:`app.reports.inputs` scores both plans with the one evaluator,
:mod:`app.reports.charts` draws the bars and the map, :mod:`app.reports.render`
builds the report and renders it. The figures come from :mod:`solver.savings`.
"""
