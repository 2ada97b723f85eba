"""The nightly batch and what feeds and follows it.

- :mod:`~app.batch.nightly`: ``wasteroute batch``, every round set re-optimised into drafts;
- :mod:`~app.batch.round_sets`: ``wasteroute round-set``, a plan stored under a round-set key;
- :mod:`~app.batch.report`: the batch's report (bins added, removed and moved, KPI deltas).
"""
