"""Which streets a vehicle may drive: access profiles and the edges open to each.

An :class:`AccessProfile` is a vehicle's size (kg, metres) and whether it is a heavy
goods vehicle; :func:`allowed_edges` compares it with the network's per-edge limits
(:mod:`solver.network.tags`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

import numpy as np

from solver.network.tags import NO_LIMIT

if TYPE_CHECKING:
    from solver.network.build import RoadNetwork

#: the weight above which a vehicle is a heavy goods vehicle (kg).
HGV_THRESHOLD_KG = 3500.0


class SizedVehicle(Protocol):
    """What :meth:`AccessProfile.of` reads of a vehicle (a :class:`solver.problem.Vehicle`)."""

    @property
    def gross_weight_kg(self) -> float | None: ...
    @property
    def width_m(self) -> float | None: ...
    @property
    def height_m(self) -> float | None: ...
    @property
    def length_m(self) -> float | None: ...
    @property
    def hgv(self) -> bool: ...


#: key of the profile with no size: it drives every street of the network.
UNRESTRICTED_KEY = "unrestricted"


def _fmt(value: float) -> str:
    return format(round(float(value), 3), "g")


@dataclass(frozen=True, slots=True)
class AccessProfile:
    """What decides which streets a vehicle may drive: its laden weight (kg), width,
    height and length (m), ``None`` where unknown (no limit of that kind applies), and
    whether it is a heavy goods vehicle (``hgv=no`` streets, ``maxweight:hgv``).

    Vehicles with equal profiles share one road graph and one set of matrices;
    :attr:`key` is a stable text naming the profile.
    """

    gross_weight_kg: float | None = None
    width_m: float | None = None
    height_m: float | None = None
    length_m: float | None = None
    hgv: bool = False

    @classmethod
    def of(cls, vehicle: SizedVehicle) -> AccessProfile:
        """A vehicle's profile. A vehicle whose weight is given is a heavy goods vehicle
        when it weighs more than 3.5 t (whatever its ``hgv`` flag says); without a
        weight its ``hgv`` flag decides."""
        weight = vehicle.gross_weight_kg
        hgv = bool(vehicle.hgv) if weight is None else float(weight) > HGV_THRESHOLD_KG
        return cls(gross_weight_kg=weight, width_m=vehicle.width_m, height_m=vehicle.height_m,
                   length_m=vehicle.length_m, hgv=hgv)

    @property
    def key(self) -> str:
        """``unrestricted``, or e.g. ``hgv,weight=26000kg,width=2.55m,height=3.7m``."""
        parts = ["hgv"] if self.hgv else []
        for label, value, unit in (("weight", self.gross_weight_kg, "kg"), ("width", self.width_m, "m"),
                                   ("height", self.height_m, "m"), ("length", self.length_m, "m")):
            if value is not None:
                parts.append(f"{label}={_fmt(value)}{unit}")
        return ",".join(parts) or UNRESTRICTED_KEY

    @property
    def unrestricted(self) -> bool:
        """Whether no access rule can apply to this profile."""
        return self.key == UNRESTRICTED_KEY


#: the profile of a vehicle of unknown size, which drives every street.
UNRESTRICTED = AccessProfile()


def _within(size: float | None, limit: np.ndarray) -> np.ndarray:
    """Edges whose ``limit`` lets a vehicle of ``size`` pass (an unknown limit does not)."""
    if size is None:
        return np.ones(limit.shape[0], dtype=bool)
    return ~np.isnan(limit) & (float(size) <= limit + 1e-9)


def allowed_edges(network: RoadNetwork, profile: AccessProfile) -> np.ndarray:
    """Read-only bool array over the edges: those a vehicle of ``profile`` may drive.

    A street is closed when a limit (``maxweight``/``maxweightrating``, ``maxweight:hgv``
    for a heavy goods vehicle, ``maxwidth``, ``maxheight``, ``maxlength``) is below the
    vehicle's size or unknown (``below_default``), or when ``hgv`` closes it to a heavy
    goods vehicle. Cached on the network per profile.
    """
    key = ("allowed", profile.key)
    cached = network._cached.get(key)
    if cached is None:
        weight_limit = network.edge_maxweight_hgv_kg if profile.hgv else network.edge_maxweight_kg
        cached = (_within(profile.gross_weight_kg, weight_limit) & _within(profile.width_m, network.edge_maxwidth_m)
                  & _within(profile.height_m, network.edge_maxheight_m)
                  & _within(profile.length_m, network.edge_maxlength_m))
        if profile.hgv:
            cached &= ~network.edge_hgv_forbidden
        cached.setflags(write=False)
        network._cached[key] = cached
    return cached


def access_counts(network: RoadNetwork) -> dict[str, int]:
    """How many directed edges carry each kind of access limit (a two-way street counts twice)."""
    def limited(limit: np.ndarray) -> int:  # a finite or unknown (NaN) limit
        return int(np.count_nonzero(limit != NO_LIMIT))

    return {"maxweight": limited(network.edge_maxweight_kg), "maxweight_hgv": limited(network.edge_maxweight_hgv_kg),
            "maxwidth": limited(network.edge_maxwidth_m), "maxheight": limited(network.edge_maxheight_m),
            "maxlength": limited(network.edge_maxlength_m), "hgv_forbidden": int(network.edge_hgv_forbidden.sum())}
