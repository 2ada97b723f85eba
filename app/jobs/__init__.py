"""Solves and jobs run off the event loop: in the server's worker processes or on a cluster.

- :mod:`~app.jobs.pool`: the server's long-lived solver worker processes (synchronous
  solves and evaluations, stored jobs); a dead worker fails only its own work;
- :mod:`~app.jobs.runner`: the server's job runner (queue, dispatch, recovery after a restart);
- :mod:`~app.jobs.execute`: a stored job run to its end inside a worker (:func:`execute_job`);
- :mod:`~app.jobs.cluster`: work units for an executor of :mod:`app.compute.executors`
  (one solve for the nightly batch, a stored job for the runner on a Dask cluster).

The runner hands jobs to the pool or the cluster; both end in :mod:`~app.jobs.execute`,
which imports neither, so the pieces import one way.
"""
