"""Where solves run, free of the service's own work: the road network and the executors.

- :mod:`~app.compute.network_registry`: the road network, loaded once per process (the
  server's copy for the map and reports; each worker loads its own from the cache);
- :mod:`~app.compute.executors`: the executor for independent solves (a Dask cluster or a
  local process pool) and the network each of its workers keeps.

The work that runs there (solves, stored jobs) and the server's own solver worker
processes are in :mod:`app.jobs`: they call the translators of :mod:`app.services`,
which lie above this package.
"""
