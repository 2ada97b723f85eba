"""What a council's gazetteer costs the uploads: a county's day read, and the answer to a wrong one.

Usage::

    .venv/bin/python benchmarks/uploads.py [--households N] [--seed S]

Writes a gazetteer-style CSV of ``--households`` properties (2,603 by default: the county
case of issue 17) around Oakham in British National Grid, with the columns an LLPG export
has (UPRN, address, street, town, postcode, easting, northing, bin size, stream, frequency,
day, week, round, assisted, notes) and five more the service never heard of; the same as a
GeoPackage; the same with its eastings under LON/LAT headers (every row wrong, the issue's
17 MB answer); and an in-cab export of today's rounds. Posts each through the real API (an
in-process app, no network loaded) and prints one line each: status, seconds (wall-clock on
a shared machine: read them as rough), bytes in and out, bins or items. Nothing is asserted.
"""

from __future__ import annotations

import argparse
import json
import random
import tempfile
import time
from pathlib import Path

import geopandas as gpd
from fastapi.testclient import TestClient
from shapely.geometry import Point

from app.core.config import Settings
from app.main import create_app

COLUMNS = ("UPRN,ADDRESS,STREET,TOWN,POSTCODE,EASTING,NORTHING,BIN_SIZE,STREAM,FREQUENCY,DAY,WEEK,ROUND,"
           "ASSISTED,NOTES,LPI_STATUS,USRN,WARD,PARISH,CLASS")
OAKHAM_BOX = (484_000.0, 307_000.0, 489_000.0, 311_000.0)
"""Eastings and northings (metres) of a box around Oakham, Rutland."""


def gazetteer(households: int, seed: int) -> tuple[str, list[tuple[float, float]]]:
    """The CSV text and each property's (easting, northing)."""
    rng = random.Random(seed)
    min_e, min_n, max_e, max_n = OAKHAM_BOX
    places = [(round(rng.uniform(min_e, max_e), 2), round(rng.uniform(min_n, max_n), 2)) for _ in range(households)]
    rows = [f'{100030000000 + i},"{i + 1} Burley Road, Oakham",Burley Road,Oakham,LE15 6AA,{e},{n},240,Residual,'
            f'Fortnightly,MON,1,R{i % 4 + 1},{"Y" if i % 50 == 0 else "N"},,Approved,3200{i % 300},Oakham North,'
            "Oakham,RD04" for i, (e, n) in enumerate(places)]
    return COLUMNS + "\n" + "\n".join(rows) + "\n", places


def post(client: TestClient, kind: str, name: str, content: bytes, **form: str) -> tuple[int, float, bytes]:
    """Status, seconds and body of one upload."""
    start = time.perf_counter()
    response = client.post(f"/api/v1/uploads/{kind}", files={"file": (name, content, "application/octet-stream")},
                           data=form)
    return response.status_code, time.perf_counter() - start, response.content


def main() -> None:
    """Post each file and print what it cost."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--households", type=int, default=2603)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="wasteroute-uploads-bench-") as folder:
        client = TestClient(create_app(Settings(data_dir=Path(folder), auth_required=False)))
        text, places = gazetteer(args.households, args.seed)
        good = text.encode()
        status, seconds, body = post(client, "bins", "gazetteer.csv", good)
        print(f"gazetteer CSV, British National Grid: {status} in {seconds:.2f} s, {len(good):,} bytes in, "
              f"{len(body):,} bytes out, {len(json.loads(body)['bins']):,} bins")
        properties = gpd.GeoDataFrame({"UPRN": [100030000000 + i for i in range(len(places))], "BIN_SIZE": 240},
                                      geometry=[Point(e, n) for e, n in places], crs="EPSG:27700")
        properties.to_file(Path(folder) / "gazetteer.gpkg", driver="GPKG")
        package = (Path(folder) / "gazetteer.gpkg").read_bytes()
        status, seconds, body = post(client, "bins", "gazetteer.gpkg", package)
        print(f"gazetteer GeoPackage: {status} in {seconds:.2f} s, {len(package):,} bytes in, "
              f"{len(json.loads(body)['bins']):,} bins")
        wrong = good.replace(b"EASTING,NORTHING", b"LON,LAT")
        status, seconds, body = post(client, "bins", "gazetteer.csv", wrong)
        answer = json.loads(body)
        print(f"eastings under LON/LAT: {status} in {seconds:.2f} s, {len(body):,} bytes out, "
              f"{len(answer['detail'])} items, fault_count {answer['fault_count']:,}, truncated {answer['truncated']}")
        rounds = "ROUND,DAY,WEEK,SEQUENCE,UPRN,ADDRESS\n" + "".join(
            f"R{i % 4 + 1},MON,1,{i // 4 + 1},{100030000000 + i},{i + 1} Burley Road\n" for i in range(len(places)))
        ids = json.dumps([str(100030000000 + i) for i in range(len(places))])
        status, seconds, body = post(client, "rounds", "today.csv", rounds.encode(), bin_ids=ids)
        print(f"in-cab rounds: {status} in {seconds:.2f} s, stops per round "
              f"{[len(r['stops']) for r in json.loads(body)['routes']]}")


if __name__ == "__main__":
    main()
