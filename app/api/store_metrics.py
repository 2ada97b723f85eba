"""Metric families read at scrape time: the jobs in the store, and this process's solver workers.

The job figures come from the store (:mod:`app.store.job_figures`), so every replica answers
the same totals and a job counts once whichever replica ran it: scrape any one replica for
them (or all, and take the max rather than the sum). Queue wait and solve seconds are
histograms built from every started job's timestamps at each scrape: cumulative over the
jobs the store keeps, as a Prometheus histogram's counts are, so ``rate()`` and
``histogram_quantile()`` work on them as on any other.
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Iterable, Iterator, Sequence

from prometheus_client.core import GaugeMetricFamily, HistogramMetricFamily, Metric
from prometheus_client.registry import Collector

from app.jobs.pool import SolverPool
from app.store import JOB_STATUSES, Store
from app.store.job_figures import job_counts, job_times

logger = logging.getLogger(__name__)

QUEUE_WAIT_BUCKETS_S = (0.1, 0.5, 1.0, 2.0, 5.0, 10.0, 30.0, 60.0, 120.0, 300.0, 600.0, 1800.0, 3600.0)
"""Upper bounds (s) of the queue wait histogram: a job started at once to one waiting an hour."""
SOLVE_BUCKETS_S = (0.5, 1.0, 2.0, 5.0, 10.0, 30.0, 60.0, 120.0, 300.0, 600.0, 1200.0, 1800.0, 3600.0)
"""Upper bounds (s) of the solve seconds histogram: a small evaluation to a district's round review."""


def histogram(name: str, documentation: str, label_names: Sequence[str],
              observations: dict[tuple[str, ...], list[float]], bounds: Sequence[float]) -> HistogramMetricFamily:
    """A histogram family of ``observations`` (seconds) per label values, cumulative over ``bounds`` and +Inf."""
    family = HistogramMetricFamily(name, documentation, labels=list(label_names))
    for labels, values in sorted(observations.items()):
        buckets = [(f"{bound:g}", float(sum(1 for v in values if v <= bound))) for bound in bounds]
        buckets.append(("+Inf", float(len(values))))
        family.add_metric(list(labels), buckets, sum_value=sum(values))
    return family


class StoreCollector(Collector):
    """Jobs by tenant and state, queue wait per tenant and solve seconds per kind and engine, from the store.

    A store that cannot be read gives ``wasteroute_store_up 0`` and no job families (the
    scrape itself still succeeds, with the request counters), and the reason in the log.
    """

    def __init__(self, db: Store) -> None:
        self.db = db

    def collect(self) -> Iterator[Metric]:
        """The families, read in one transaction (blocking: scrape in a thread)."""
        up = GaugeMetricFamily("wasteroute_store_up", "1 when the store answered this scrape's queries, else 0.")
        try:
            with self.db.transaction() as session:
                counts, times = job_counts(session), job_times(session)
        except Exception:  # a scrape reports the store as down rather than failing whole
            logger.warning("metrics: the store cannot be read", exc_info=True)
            up.add_metric([], 0.0)
            yield up
            return
        up.add_metric([], 1.0)
        yield up
        jobs = GaugeMetricFamily("wasteroute_jobs", "Jobs in the store by tenant and state (every replica "
                                 "reports the same totals).", labels=["tenant", "state"])
        tenants = sorted({tenant for tenant, _ in counts})
        states = list(JOB_STATUSES) + sorted({state for _, state in counts} - set(JOB_STATUSES))
        for tenant in tenants:
            for state in states:
                jobs.add_metric([tenant, state], float(counts[(tenant, state)]))
        yield jobs
        waits: dict[tuple[str, ...], list[float]] = defaultdict(list)
        solves: dict[tuple[str, ...], list[float]] = defaultdict(list)
        for job in times:
            waits[(job.tenant,)].append(job.wait_s)
            if job.run_s is not None:
                solves[(job.kind, job.engine)].append(job.run_s)
        yield histogram("wasteroute_job_queue_wait_seconds", "Seconds each started job waited in the queue "
                        "(started_at - created_at), by tenant.", ["tenant"], waits, QUEUE_WAIT_BUCKETS_S)
        yield histogram("wasteroute_job_solve_seconds", "Seconds each finished job ran (finished_at - "
                        "started_at), by kind and the engine of the plan it stored ('none': no plan).",
                        ["kind", "engine"], solves, SOLVE_BUCKETS_S)


class WorkerCollector(Collector):
    """This process's solver workers: alive of those configured, and solves running and waiting."""

    def __init__(self, pool: SolverPool) -> None:
        self.pool = pool

    def collect(self) -> Iterable[Metric]:
        """Three gauges, read from the pool's counters (no I/O)."""
        alive = GaugeMetricFamily("wasteroute_solver_workers", "Solver worker processes of this replica, "
                                  "alive and configured.", labels=["state"])
        alive.add_metric(["alive"], float(len(self.pool.worker_pids)))
        alive.add_metric(["configured"], float(self.pool.workers))
        solves = GaugeMetricFamily("wasteroute_solves", "Solves (synchronous and jobs) of this replica, "
                                   "running in a worker or waiting for one.", labels=["state"])
        solves.add_metric(["running"], float(self.pool.running))
        solves.add_metric(["waiting"], float(self.pool.queued))
        return [alive, solves]
