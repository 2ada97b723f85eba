"""What is wrong with an uploaded file, said once per problem: faults, their 422 items, the cap.

A fault names where it is as a planner's spreadsheet shows it: the **row** (the CSV
line, the header being row 1; in GeoJSON, GeoPackage and Shapefile the feature's
number, from 1), the **column** and the id of the row when it has one. A file's
faults are all found before answering (nothing of a wrong file is imported), but
the answer stays short: first one item per column and kind of fault with its count
(``row`` null, ``count`` the number of rows), then the rows, at most
:data:`MAX_ROW_ITEMS` of them.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from app.core.json_types import ErrorItemDict

MAX_ROW_ITEMS = 100
"""Most per-row items in one answer; the column summaries give the counts of the rest."""

SUMMARY_ROWS_NAMED = 5
"""Rows a column summary names as examples."""


class UploadErrorItem(ErrorItemDict):
    """A 422 item of an upload: the API's item plus the file's ``row``, ``column`` and ``count``."""

    row: int | None
    column: str | None
    count: int


@dataclass(frozen=True, slots=True)
class UploadFault:
    """One wrong cell (or row, or column, or file): where it is and what is wrong, in words."""

    row: int | None
    column: str | None
    item_id: str | None
    msg: str
    type: str

    def as_item(self, *, fmt: str, count: int = 1) -> UploadErrorItem:
        """The fault in the shape of the API's 422 items, plus ``row``, ``column`` and ``count``."""
        unit = "row" if fmt == "csv" else "feature"
        where = [f"{unit} {self.row}"] if self.row is not None else []
        if self.column is not None:
            where.append(f"column {self.column!r}")
        prefix = ", ".join(where)
        if self.item_id is not None:
            prefix += f" (id {self.item_id!r})"
        loc: list[str | int] = ["file"]
        if self.row is not None:
            loc.append(self.row)
        if self.column is not None:
            loc.append(self.column)
        return {"loc": loc, "field": prefix or "file", "id": self.item_id, "row": self.row,
                "column": self.column, "msg": f"{prefix}: {self.msg}" if prefix else self.msg,
                "type": self.type, "count": count}


class UploadError(ValueError):
    """A file that could not be read into models: its faults, all of them (the answer shows a capped few)."""

    def __init__(self, faults: list[UploadFault], *, fmt: str) -> None:
        """Keep the faults; the message lists the first few."""
        self.faults = faults
        self.fmt = fmt
        super().__init__("; ".join(item["msg"] for item in self.items()[:5]))

    def items(self) -> list[UploadErrorItem]:
        """The 422 items: one summary per (column, kind) repeated on several rows, then rows, capped."""
        groups = Counter((f.column, f.type) for f in self.faults if f.row is not None)
        summaries: list[UploadErrorItem] = []
        for (column, kind), count in groups.items():
            if count < 2:
                continue
            alike = [f for f in self.faults if f.row is not None and (f.column, f.type) == (column, kind)]
            first = alike[0].as_item(fmt=self.fmt)["msg"]
            unit = "rows" if self.fmt == "csv" else "features"
            named = ", ".join(str(f.row) for f in alike[:SUMMARY_ROWS_NAMED])
            more = ", ..." if count > SUMMARY_ROWS_NAMED else ""
            summary = UploadFault(None, column, None, f"{count} {unit} ({named}{more}) have this fault; "
                                  f"the first: {first}", kind)
            summaries.append(summary.as_item(fmt=self.fmt, count=count))
        whole_file = [f.as_item(fmt=self.fmt) for f in self.faults if f.row is None]
        rows = [f.as_item(fmt=self.fmt) for f in self.faults if f.row is not None][:MAX_ROW_ITEMS]
        return whole_file + summaries + rows

    def body(self) -> dict[str, Any]:
        """The 422 answer: the items, how many faults there are, and whether rows were left out."""
        rows = sum(1 for f in self.faults if f.row is not None)
        return {"detail": self.items(), "fault_count": len(self.faults), "truncated": rows > MAX_ROW_ITEMS}


@dataclass
class Record:
    """One row (CSV) or feature: its number, its non-empty cells by normalised column name, and the
    names as the file writes them (kept for the bin's attributes)."""

    row: int
    cells: dict[str, Any]  # JSON values or CSV text, duck-typed here and checked by the models they feed
    headers: dict[str, str] = field(default_factory=dict)
    point: tuple[float, float] | None = None
    """The feature's point geometry (x, y in the file's CRS), for files that have geometries."""
    faults: list[UploadFault] = field(default_factory=list)

    @property
    def item_id(self) -> str | None:
        """The row's ``id`` cell, if it has one."""
        value = self.cells.get("id")
        return str(value) if value not in (None, "") else None

    def fault(self, column: str | None, msg: str, type_: str = "value_error") -> None:
        """Note a fault of this row."""
        self.faults.append(UploadFault(self.row, column, self.item_id, msg, type_))
