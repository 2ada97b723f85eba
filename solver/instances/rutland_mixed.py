"""The 1,000-bin mixed-stream Rutland case: two streams, two tips, time windows, a lunch break.

Built on a loaded Rutland :class:`~solver.network.RoadNetwork` and deterministic: 1,000
kerbside bins (:func:`solver.synthetic.kerbside_bins`, seed 11) anywhere on the county's
streets, half refuse and half recycling (seeded), a tenth with a time window (07:00-11:00 or
12:00-15:00, in seconds of the day); a depot in Oakham; a transfer station near Cottesmore
taking both streams and a recycling centre near Uppingham taking recycling only (open
06:00-17:00, 600 s to unload); twelve lorries, six per stream (26 t refuse, 18 t recycling;
2,500 kg and 16,000 litres a load), shift 06:00-16:00, a 30-minute lunch starting between
11:00 and 13:00.

It is the case tests/solver/test_pipeline.py plans at 15 s (``rutland_rounds``) and
benchmarks/directed_default.py measures: many stops per second of search, so it shows what a
short time limit leaves of each stage.
"""

from __future__ import annotations

import numpy as np

from solver.network import RoadNetwork
from solver.problem import Bin, Break, Depot, DisposalSite, Problem, Vehicle
from solver.synthetic import kerbside_bins

REFUSE, RECYCLING = "refuse", "recycling"


def rutland_mixed_problem(network: RoadNetwork) -> Problem:
    """The case described in the module docstring, on ``network`` (Rutland's streets)."""
    rng = np.random.default_rng(11)
    kerb = kerbside_bins(network, 1000, seed=11)
    streams = np.where(rng.random(len(kerb)) < 0.5, REFUSE, RECYCLING)
    windowed = set(rng.choice(len(kerb), size=100, replace=False).tolist())
    windows = ((7 * 3600, 11 * 3600), (12 * 3600, 15 * 3600))
    bins = tuple(Bin(b.id, b.lon, b.lat, demand_kg=b.demand_kg, volume_l=240.0, stream=str(streams[i]),
                     time_windows=(windows[i % 2],) if i in windowed else ())
                 for i, b in enumerate(kerb))
    sites = (DisposalSite("tip-cottesmore", -0.6660, 52.7130, unload_s=600, opening=(6 * 3600, 17 * 3600)),
             DisposalSite("recycling-uppingham", -0.7230, 52.5870, unload_s=600, opening=(6 * 3600, 17 * 3600),
                          streams=(RECYCLING,)))
    lunch = (Break(duration_s=1800, window=(11 * 3600, 13 * 3600)),)

    def lorry(vehicle_id: str, stream: str, gross_weight_kg: float) -> Vehicle:
        return Vehicle(vehicle_id, "oakham", capacity_kg=2500.0, capacity_l=16_000.0, shift_start_s=6 * 3600,
                       shift_end_s=16 * 3600, breaks=lunch, width_m=2.55, height_m=3.7, streams=(stream,),
                       gross_weight_kg=gross_weight_kg)

    vehicles = (tuple(lorry(f"rcv-{k + 1}", REFUSE, 26_000) for k in range(6))
                + tuple(lorry(f"rec-{k + 1}", RECYCLING, 18_000) for k in range(6)))
    return Problem(depots=(Depot("oakham", -0.7260, 52.6690),), vehicles=vehicles, bins=bins,
                   disposal_sites=sites)
