"""Quickest drives between many exits and entries, kept as the small table they expand from.

A turn-aware matrix between the points' edges is a table between junction nodes plus sums
(:mod:`solver.matrix_chains`): the drive from edge ``i`` to edge ``j`` is::

    core[row_of[i], col_of[j]] + col_add[j] + row_add[i]

except for a few pairs (on one stretch of street, an edge to itself, a figure floored at 0),
whose figures are given whole. :class:`NodeDrives` keeps it that way (2,029 x 2,145 entries and
7,046 pairs for 2,000 points on unsimplified Rutland, instead of 3,411 x 3,411), so that
:func:`solver.matrix.travel_matrices` can assemble the point matrix straight from the small table;
:attr:`NodeDrives.times` and :attr:`NodeDrives.lengths` expand the whole table for whoever wants it.
A plain table is the case without sums (:meth:`NodeDrives.table`). Every figure is in the core's
dtype (float64 from scipy, float32 from the CCH), summed in the order written above, so that the
expanded table is the one the sums gave before it was kept factored.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from functools import cached_property

import numpy as np

#: how far below 0 s (or m) a junction-table entry plus its least sums may lie and still not be
#: looked at for a floor: far more than float rounding of figures up to a day or 3,000 km
_FLOOR_MARGIN = 1.0


@dataclass(frozen=True, eq=False)
class NodeDrives:
    """Times (s) and lengths (m) from each of ``len(row_of)`` exits to each of ``len(col_of)``
    entries (see the module's docstring): ``core_t``/``core_l`` expanded by ``row_of``/``col_of`` and
    the sums ``row_add``/``col_add`` (each a pair: seconds, metres); ``pair_key`` (sorted keys
    ``i * len(col_of) + j``) lists the pairs whose figures are ``pair_t``/``pair_l`` instead.
    ``plain``: the core is the whole table (:meth:`table`)."""

    core_t: np.ndarray
    core_l: np.ndarray
    row_of: np.ndarray
    col_of: np.ndarray
    row_add: tuple[np.ndarray, np.ndarray]
    col_add: tuple[np.ndarray, np.ndarray]
    pair_key: np.ndarray
    pair_t: np.ndarray
    pair_l: np.ndarray
    plain: bool = False

    @classmethod
    def table(cls, times: np.ndarray, lengths: np.ndarray) -> NodeDrives:
        """A plain table: entry ``(i, j)`` is ``times[i, j]`` seconds and ``lengths[i, j]`` metres."""
        rows, columns = times.shape
        zero_rows, zero_columns = np.zeros(rows, dtype=times.dtype), np.zeros(columns, dtype=times.dtype)
        none = np.zeros(0, dtype=times.dtype)
        return cls(core_t=times, core_l=lengths, row_of=np.arange(rows), col_of=np.arange(columns),
                   row_add=(zero_rows, zero_rows), col_add=(zero_columns, zero_columns),
                   pair_key=np.zeros(0, dtype=np.int64), pair_t=none, pair_l=none, plain=True)

    @classmethod
    def factored(cls, core_t: np.ndarray, core_l: np.ndarray, row_of: np.ndarray, col_of: np.ndarray,
                 row_add: tuple[np.ndarray, np.ndarray], col_add: tuple[np.ndarray, np.ndarray]) -> NodeDrives:
        """Entry ``(i, j)`` is ``core[row_of[i], col_of[j]] + col_add[j] + row_add[i]`` (each ``add`` a
        pair of seconds and metres), no pair excepted yet (:meth:`with_pairs`)."""
        dtype = core_t.dtype
        none = np.zeros(0, dtype=dtype)
        return cls(core_t=core_t, core_l=core_l,
                   row_of=np.asarray(row_of, dtype=np.int64), col_of=np.asarray(col_of, dtype=np.int64),
                   row_add=(np.asarray(row_add[0]).astype(dtype), np.asarray(row_add[1]).astype(dtype)),
                   col_add=(np.asarray(col_add[0]).astype(dtype), np.asarray(col_add[1]).astype(dtype)),
                   pair_key=np.zeros(0, dtype=np.int64), pair_t=none, pair_l=none)

    @property
    def shape(self) -> tuple[int, int]:
        """Exits by entries."""
        return len(self.row_of), len(self.col_of)

    @property
    def dtype(self) -> np.dtype:
        """The figures' dtype (the core's)."""
        return self.core_t.dtype

    def _keys(self, i: np.ndarray, j: np.ndarray) -> np.ndarray:
        return np.asarray(i, dtype=np.int64) * len(self.col_of) + np.asarray(j, dtype=np.int64)

    def pairs(self) -> tuple[np.ndarray, np.ndarray]:
        """Rows and columns of the excepted pairs."""
        return np.divmod(self.pair_key, len(self.col_of))

    def with_pairs(self, i: np.ndarray, j: np.ndarray, times: np.ndarray, lengths: np.ndarray) -> NodeDrives:
        """These drives with the figures of pairs ``(i[k], j[k])`` set to ``times[k]`` s and ``lengths[k]``
        m (cast to the core's dtype); a pair given again, here or before, takes its last figures."""
        if self.plain:
            raise ValueError("a plain table takes no excepted pairs")
        key = np.concatenate([self.pair_key, self._keys(i, j)])
        t = np.concatenate([self.pair_t, np.asarray(times).astype(self.dtype)])
        m = np.concatenate([self.pair_l, np.asarray(lengths).astype(self.dtype)])
        key, last = np.unique(key[::-1], return_index=True)  # the first of the reversed: the last given
        return replace(self, pair_key=key, pair_t=t[::-1][last], pair_l=m[::-1][last])

    def _sums(self, i: np.ndarray, j: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """The expanded figures of pairs ``(i, j)``, as if none were excepted."""
        if self.plain:
            return self.core_t[i, j], self.core_l[i, j]
        x, y = self.row_of[i], self.col_of[j]
        t = self.core_t[x, y] + self.col_add[0][j]
        t += self.row_add[0][i]
        m = self.core_l[x, y] + self.col_add[1][j]
        m += self.row_add[1][i]
        return t, m

    def at(self, i: np.ndarray, j: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Times (s) and lengths (m) from exits ``i`` to entries ``j`` (index arrays of one shape), as
        :attr:`times` and :attr:`lengths` hold them, without expanding the table."""
        i = np.asarray(i, dtype=np.int64)
        j = np.asarray(j, dtype=np.int64)
        t, m = self._sums(i, j)
        if len(self.pair_key):
            key = self._keys(i, j)
            at = np.minimum(np.searchsorted(self.pair_key, key), len(self.pair_key) - 1)
            hit = self.pair_key[at] == key
            t[hit] = self.pair_t[at[hit]]
            m[hit] = self.pair_l[at[hit]]
        return t, m

    def floored(self) -> NodeDrives:
        """These drives with every figure below 0 raised to 0 (sums of rounded figures may fall a
        little below the 0 s or m of a drive that is nothing but the next edge): the excepted pairs'
        figures, and as excepted pairs those whose sums fall below 0. Those are found on the core
        (an entry whose least sums could take it below 0), so the table is never expanded."""
        if self.plain:
            raise ValueError("floor a plain table with numpy")
        base = replace(self, pair_t=np.maximum(self.pair_t, 0), pair_l=np.maximum(self.pair_l, 0))
        cells = np.zeros(0, dtype=np.int64)
        for core, metric in ((self.core_t, 0), (self.core_l, 1)):
            # one pass over the core: the least sum of any row bounds every row's (0 for drives along runs)
            least_row = min(0.0, float(self.row_add[metric].min(initial=0.0)))
            least_col = np.full(core.shape[1], np.inf)
            np.minimum.at(least_col, self.col_of, self.col_add[metric])
            below = core < (_FLOOR_MARGIN - least_row - least_col).astype(core.dtype)[None, :]
            cells = np.union1d(cells, np.flatnonzero(below))
        x, y = np.divmod(cells, self.core_t.shape[1])
        c, i = equal_pairs(x, self.row_of)
        k, j = equal_pairs(y[c], self.col_of)
        i = i[k]
        t, m = base._sums(i, j)
        below = ((t < 0) | (m < 0)) & ~np.isin(self._keys(i, j), base.pair_key)
        if not below.any():
            return base
        return base.with_pairs(i[below], j[below], np.maximum(t[below], 0), np.maximum(m[below], 0))

    @property
    def times(self) -> np.ndarray:
        """The whole table of times (s), expanded once."""
        return self._expanded[0]

    @property
    def lengths(self) -> np.ndarray:
        """The whole table of lengths (m), expanded once."""
        return self._expanded[1]

    @cached_property
    def _expanded(self) -> tuple[np.ndarray, np.ndarray]:
        if self.plain:
            return self.core_t, self.core_l
        t = expand(self.core_t, self.row_of, self.col_of, self.row_add[0], self.col_add[0])
        m = expand(self.core_l, self.row_of, self.col_of, self.row_add[1], self.col_add[1])
        i, j = self.pairs()
        t[i, j] = self.pair_t
        m[i, j] = self.pair_l
        return t, m


def expand(core: np.ndarray, row_of: np.ndarray, column_of: np.ndarray, add_row: np.ndarray,
           add_column: np.ndarray) -> np.ndarray:
    """``core[row_of[i], column_of[j]] + add_column[j] + add_row[i]``, in ``core``'s dtype: the
    columns gathered on the small table (with their sums), then whole rows copied (quicker than
    gathering columns from the large one)."""
    columns = np.take(core, column_of, axis=1)
    columns += add_column.astype(core.dtype)[None, :]
    out = np.take(columns, row_of, axis=0)
    del columns
    out += add_row.astype(core.dtype)[:, None]
    return out


def equal_pairs(a: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Every ``(i, j)`` with ``a[i] == b[j]``."""
    order = np.argsort(b, kind="stable")
    lo = np.searchsorted(b[order], a, side="left")
    hi = np.searchsorted(b[order], a, side="right")
    count = hi - lo
    i = np.repeat(np.arange(len(a)), count)
    start = np.repeat(lo - (np.cumsum(count) - count), count)
    j = order[start + np.arange(len(i))]
    return i, j
