"""Solves and jobs run off the event loop: in the server's worker processes or on a cluster.

- :mod:`~app.jobs.pool`: the server's long-lived solver worker processes (synchronous
  solves and evaluations, stored jobs); a dead worker fails only its own work;
- :mod:`~app.jobs.runner`: the server's job runner, one per replica: claims from the one queue in
  the store (:mod:`app.store.job_queue`), leases renewed while jobs run, expired ones released;
  ``JobRunner.replica_id``, ``.claiming`` and ``.snapshot()`` (jobs by tenant and state over every
  replica, each tenant's oldest queued job, the jobs this replica runs) for health and metrics;
- :mod:`~app.jobs.replica`: the replica's id; the one-process lock of a SQLite file's queue;
- :mod:`~app.jobs.priority`: a job's priority from its kind and size;
- :mod:`~app.jobs.execute`: a stored job run to its end inside a worker (:func:`execute_job`);
- :mod:`~app.jobs.cluster`: work units for an executor of :mod:`app.compute.executors`
  (one solve for the nightly batch, a stored job for the runner on a Dask cluster).

The runner hands jobs to the pool or the cluster; both end in :mod:`~app.jobs.execute`,
which imports neither, so the pieces import one way.
"""
