"""Travel-time and distance matrices between snapped points (placeholder: being written)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class TravelMatrices:
    """Asymmetric matrices between locations, row = from, column = to.

    ``duration_s`` in seconds and ``distance_m`` in metres, both ``float64`` of shape
    ``(n, n)``, with ``inf`` where no path exists (or a location could not be
    snapped). The distance is the length of the quickest path, so that the two
    matrices describe the same drive.
    """

    duration_s: np.ndarray
    distance_m: np.ndarray

    @property
    def size(self) -> int:
        """Number of locations (rows)."""
        return int(self.duration_s.shape[0])
