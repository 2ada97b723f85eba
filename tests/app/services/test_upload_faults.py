"""An upload's faults said once per problem: a summary per column with its count, then rows, capped."""

from __future__ import annotations

from app.services.upload_faults import MAX_ROW_ITEMS, UploadError, UploadFault


def test_one_fault_is_one_item() -> None:
    """A single wrong cell is one item naming row, column and id, count 1."""
    (item,) = UploadError([UploadFault(3, "BIN_SIZE", "u1", "unknown bin size '200'", "unknown_bin_size")],
                          fmt="csv").items()
    assert (item["row"], item["column"], item["count"], item["loc"]) == (3, "BIN_SIZE", 1, ["file", 3, "BIN_SIZE"])
    assert item["msg"] == "row 3, column 'BIN_SIZE' (id 'u1'): unknown bin size '200'"


def test_many_rows_are_summarised_then_listed_up_to_the_cap() -> None:
    """250 rows with one fault: one summary counting 250, naming the first rows, then 100 rows."""
    faults = [UploadFault(row, "STREAM", f"u{row}", "unknown stream 'purple'", "unknown_stream")
              for row in range(2, 252)]
    faults.append(UploadFault(None, "crs", None, "crs 'x' is unknown", "option"))
    error = UploadError(faults, fmt="gpkg")
    items = error.items()
    assert items[0]["column"] == "crs" and items[0]["row"] is None
    summary = items[1]
    assert (summary["row"], summary["count"], summary["type"]) == (None, 250, "unknown_stream")
    assert summary["msg"].startswith("column 'STREAM': 250 features (2, 3, 4, 5, 6, ...) have this fault")
    assert len(items) == 2 + MAX_ROW_ITEMS
    assert error.body()["fault_count"] == 251 and error.body()["truncated"] is True
