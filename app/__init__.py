"""wasteroute's service: HTTP API, web map, jobs, storage, command line, nightly batch.

Imports run one way, ``app -> solver``: nothing in :mod:`solver` imports from here.
Inside ``app`` they run one way too, from the entry points down: :mod:`app.cli` and
:mod:`app.main` > :mod:`app.api` > :mod:`app.batch`, :mod:`app.reports` > :mod:`app.jobs`
> :mod:`app.services` > :mod:`app.compute` > :mod:`app.store` > :mod:`app.schemas` >
:mod:`app.core` (checked by ``lint-imports``; see docs/architecture.md).
"""
