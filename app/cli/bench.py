"""``wasteroute bench``: benchmark runs from the command line.

- ``wasteroute bench cvrp FILE.vrp... --time-limit-s T [--engine E] [--seed S] [--processes P] [--balance]
  [--compact] [--json]``
- ``wasteroute bench wcvrptw FILE_stop.txt... --time-limit-s T [--engine E] [--seed S] [--processes P] [--balance]
  [--compact] [--json]``
- ``wasteroute bench pvrpif FILE.geojson... --time-limit-s T [--engine E] [--seed S] [--days-from-best] [--json]``
- ``wasteroute bench matrix [--network FILE] --n N [--n N2 ...] [--graph both] [--turns both] [--repeat R] [--json]``
- ``wasteroute bench api [--network FILE] [--bins N] [--time-limit-s T] [--json]``

Without ``--json`` each prints a header (machine, versions, commit, settings) and a
Markdown table, row by row as instances finish, to stdout. With ``--json`` stdout gets
one ``{"meta": {...}}`` line and then one JSON object per line per instance (or per
matrix, per request); the table goes to stderr, with the logs. The solving and
scoring is in :mod:`solver.bench`; the end-to-end API run is here, because it starts
the service.
"""

from __future__ import annotations

import json
import logging
import math
import os
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, BinaryIO, TextIO

import typer

from app.cli.setup import set_up

if TYPE_CHECKING:
    from solver.network import RoadNetwork

log = logging.getLogger(__name__)

REPO = Path(__file__).resolve().parents[2]

Row = dict[str, Any]

bench_cli = typer.Typer(
    name="bench",
    help="Benchmarks: CVRPLIB and waste instances against the best known, matrices, the API end to end.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)


# --- output -----------------------------------------------------------------------------------

@dataclass(frozen=True)
class Column:
    """A table column: the row key, its heading, and how a value is written."""

    key: str
    heading: str
    digits: int | None = None


def format_value(value: object, digits: int | None = None) -> str:
    """A cell: ``-`` for none, ``yes``/``no``, numbers to ``digits`` decimals, ``k:v`` lists."""
    if value is None:
        return "-"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float) and digits is not None:
        return f"{value:.{digits}f}"
    if isinstance(value, dict):
        return ", ".join(f"{k}: {v}" for k, v in value.items()) or "-"
    return str(value)


class Report:
    """Writes a benchmark's header, rows and footer: JSON lines and/or a Markdown table.

    With ``as_json`` the meta line and the rows go to ``out`` as JSON lines and the
    table to ``err``; otherwise the header and the table go to ``out``.
    """

    def __init__(self, columns: Sequence[Column], *, as_json: bool, out: TextIO | None = None,
                 err: TextIO | None = None) -> None:
        self.columns = tuple(columns)
        self.as_json = as_json
        self.out = out if out is not None else sys.stdout
        self.table = (err if err is not None else sys.stderr) if as_json else self.out
        self.rows: list[Row] = []

    def _table_line(self, cells: Iterable[str]) -> None:
        print("| " + " | ".join(cells) + " |", file=self.table, flush=True)

    def start(self, meta: dict[str, Any]) -> None:
        """Write the meta line (JSON) or header lines, then the table's heading."""
        if self.as_json:
            print(json.dumps({"meta": meta}), file=self.out, flush=True)
        for line in header_lines(meta):
            print(line, file=self.table)
        print(file=self.table)
        self._table_line(c.heading for c in self.columns)
        self._table_line("---" for _ in self.columns)

    def row(self, row: Row) -> None:
        """Write one result (as soon as it is known)."""
        self.rows.append(row)
        if self.as_json:
            print(json.dumps(row), file=self.out, flush=True)
        self._table_line(format_value(row.get(c.key), c.digits) for c in self.columns)

    def footer(self, lines: Iterable[str]) -> None:
        """Lines under the table (summaries)."""
        print(file=self.table)
        for line in lines:
            print(line, file=self.table, flush=True)


def git_commit() -> str | None:
    """The repository's commit (short), with ``+dirty`` when files differ from it; ``None`` outside git."""
    try:
        head = subprocess.run(["git", "-C", str(REPO), "rev-parse", "--short", "HEAD"], capture_output=True,
                              text=True, timeout=10, check=True).stdout.strip()
        dirty = subprocess.run(["git", "-C", str(REPO), "status", "--porcelain", "--untracked-files=no"],
                               capture_output=True, text=True, timeout=10, check=True).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return None
    return head + ("+dirty" if dirty else "")


def command_line() -> str | None:
    """The ``wasteroute ...`` command being run, or ``None`` when not run as the ``wasteroute`` script."""
    if not sys.argv or Path(sys.argv[0]).name != "wasteroute":
        return None
    return " ".join(["wasteroute", *sys.argv[1:]])


def meta_record(bench: str, **settings: Any) -> dict[str, Any]:
    """Machine, versions, commit, time and the run's settings, for the meta line."""
    from solver.bench import machine_info, package_versions

    return {"bench": bench, "started_at": datetime.now(UTC).isoformat(timespec="seconds"),
            "command": command_line(),
            "commit": git_commit(), "machine": machine_info(), "versions": package_versions(), **settings}


def header_lines(meta: dict[str, Any]) -> list[str]:
    """The human header of a table: machine, versions, commit and settings."""
    m = meta.get("machine", {})
    versions = ", ".join(f"{k} {v}" for k, v in meta.get("versions", {}).items())
    settings = ", ".join(f"{k} {v}" for k, v in meta.items()
                         if k not in ("bench", "machine", "versions", "commit", "started_at", "command"))
    return [f"wasteroute bench {meta.get('bench')} at {meta.get('started_at')}, commit {meta.get('commit')}",
            f"machine: {m.get('cpu')}, {m.get('cpus_usable')} of {m.get('cpu_count')} CPUs, "
            f"{m.get('memory_gb')} GB, {m.get('platform')}, python {m.get('python')}",
            f"versions: {versions}",
            f"settings: {settings}"]


def _gap_footer(rows: Sequence[Row]) -> list[str]:
    from solver.bench import mean_gap

    gap = mean_gap(rows)
    feasible = sum(1 for r in rows if r.get("feasible"))
    return [f"mean gap {format_value(gap, 2)}% over {sum(1 for r in rows if r.get('gap_pct') is not None)} "
            f"instances; feasible {feasible} of {len(rows)}"]


# --- instance benchmarks ----------------------------------------------------------------------

VrpFiles = Annotated[list[Path], typer.Argument(metavar="FILE.vrp...", exists=True, dir_okay=False, readable=True,
                                                help="VRPLIB CVRP files (a .sol beside each gives its BKS).")]
StopFiles = Annotated[list[Path], typer.Argument(metavar="FILE_stop.txt...", exists=True, dir_okay=False,
                                                 readable=True, help="Kim et al. (2006) instance files.")]
TimeLimitOption = Annotated[float, typer.Option("--time-limit-s", min=0.001,
                                                help="Solver time limit per instance, seconds.")]
EngineOption = Annotated[str, typer.Option("--engine", help="Engine name (see solver.engines).")]
SeedOption = Annotated[int, typer.Option("--seed", min=0, help="Seed of the search.")]
JsonOption = Annotated[bool, typer.Option("--json", help="JSON lines on stdout (table on stderr).")]
ProcessesOption = Annotated[int, typer.Option("--processes", min=1, help="Searches raced at once, one process "
                                              "(core) each; the best plan kept (solver.engines.race).")]
BalanceOption = Annotated[bool, typer.Option("--balance", help="Keep the rounds within 10 % of the mean in duration "
                                             "and load (off: the instance scored as published).")]
CompactOption = Annotated[bool, typer.Option("--compact", help="Keep each round to its own territory (off: the "
                                             "instance scored as published).")]

CVRP_COLUMNS = (Column("instance", "instance"), Column("n", "n"), Column("cost", "cost", 0),
                Column("bks", "BKS", 0), Column("gap_pct", "gap %", 2), Column("vehicles", "vehicles"),
                Column("feasible", "feasible"), Column("seconds", "seconds", 1), Column("violations", "violations"),
                Column("load_spread", "load spread", 3), Column("relaxed", "relaxed"), Column("error", "error"))

WCVRPTW_COLUMNS = (Column("instance", "instance"), Column("n", "stops"), Column("cost", "miles", 1),
                   Column("bks", "best known miles", 1), Column("gap_pct", "gap %", 2),
                   Column("vehicles", "vehicles"), Column("bks_vehicles", "best known vehicles"),
                   Column("trips", "tips"), Column("feasible", "feasible"), Column("seconds", "seconds", 1),
                   Column("violations", "violations"), Column("duration_spread", "duration spread", 3),
                   Column("load_spread", "load spread", 3), Column("relaxed", "relaxed"), Column("error", "error"))


def _run_instances(bench: str, files: Sequence[Path], run: Callable[..., Row], columns: Sequence[Column], *,
                   time_limit_s: float, engine: str, seed: int, processes: int, as_json: bool,
                   balance: bool = False, compact: bool = False) -> list[Row]:
    from solver.engines import engine_choices

    if engine not in engine_choices():
        raise typer.BadParameter(f"unknown engine {engine!r}; choose from {', '.join(engine_choices())}",
                                 param_hint="--engine")
    set_up()
    report = Report(columns, as_json=as_json)
    report.start(meta_record(bench, engine=engine, time_limit_s=time_limit_s, seed=seed, processes=processes,
                             balance=balance, compact=compact))
    for path in files:
        report.row(run(path, time_limit_s=time_limit_s, engine=engine, seed=seed, processes=processes,
                       balance=balance, compact=compact))
    report.footer(_gap_footer(report.rows))
    return report.rows


@bench_cli.command("cvrp")
def bench_cvrp(files: VrpFiles, time_limit_s: TimeLimitOption, engine: EngineOption = "ortools",
               seed: SeedOption = 0, processes: ProcessesOption = 1, as_json: JsonOption = False,
               balance: BalanceOption = False, compact: CompactOption = False) -> None:
    """Solve VRPLIB CVRP instances; cost (CVRPLIB rounded Euclidean) against the .sol beside each file."""
    from solver.bench import run_cvrp

    _run_instances("cvrp", files, run_cvrp, CVRP_COLUMNS, time_limit_s=time_limit_s, engine=engine, seed=seed,
                   processes=processes, as_json=as_json, balance=balance, compact=compact)


@bench_cli.command("wcvrptw")
def bench_wcvrptw(files: StopFiles, time_limit_s: TimeLimitOption, engine: EngineOption = "ortools",
                  seed: SeedOption = 0, processes: ProcessesOption = 1, as_json: JsonOption = False,
                  balance: BalanceOption = False, compact: CompactOption = False) -> None:
    """Solve Kim et al. (2006) waste instances; miles and vehicles against the best known."""
    from solver.bench import run_wcvrptw

    _run_instances("wcvrptw", files, run_wcvrptw, WCVRPTW_COLUMNS, time_limit_s=time_limit_s, engine=engine,
                   seed=seed, processes=processes, as_json=as_json, balance=balance, compact=compact)


GeojsonFiles = Annotated[list[Path], typer.Argument(metavar="FILE.geojson...", exists=True, dir_okay=False,
                                                    readable=True, help="PVRP-IF instance files (their solution "
                                                    "reports in ../solutions/ give the best reported cost).")]

PVRPIF_COLUMNS = (Column("instance", "instance"), Column("n", "customers"), Column("cost", "cost", 0),
                  Column("bks", "best reported", 0), Column("gap_pct", "gap %", 2),
                  Column("vehicles_per_day", "vehicles per day"), Column("feasible", "feasible"),
                  Column("seconds", "seconds", 1), Column("starts", "starts"), Column("moves_kept", "moves kept"),
                  Column("error", "error"))


@bench_cli.command("pvrpif")
def bench_pvrpif(files: GeojsonFiles, time_limit_s: TimeLimitOption, engine: EngineOption = "pyvrp",
                 seed: SeedOption = 0, as_json: JsonOption = False,
                 days_from_best: Annotated[bool, typer.Option(
                     "--days-from-best", help="Keep each customer on its days in the best report and route the "
                                              "days only: the daily engine's share of the gap.")] = False) -> None:
    """Plan periodic waste instances (PVRP-IF, Univ. of Udine) week by week; travel cost against the best
    reported, each plan re-checked from the instance file alone."""
    from solver.bench import run_pvrpif
    from solver.engines import engine_choices

    if engine not in engine_choices():
        raise typer.BadParameter(f"unknown engine {engine!r}; choose from {', '.join(engine_choices())}",
                                 param_hint="--engine")
    set_up()
    report = Report(PVRPIF_COLUMNS, as_json=as_json)
    report.start(meta_record("pvrpif", engine=engine, time_limit_s=time_limit_s, seed=seed,
                             days_from="best reported" if days_from_best else "searched"))
    for path in files:
        report.row(run_pvrpif(path, time_limit_s=time_limit_s, engine=engine, seed=seed,
                              days_from_best=days_from_best))
    report.footer([*_gap_footer(report.rows),
                   "cost: travel time of every route of every day (service excluded), from the instance's own "
                   "duration matrix; feasible: re-checked by the README's rules from the instance file alone"])


# --- matrices ---------------------------------------------------------------------------------

MATRIX_COLUMNS = (Column("simplified", "simplified"), Column("turns", "turns"), Column("nodes", "nodes"),
                  Column("n", "n"),
                  Column("backend", "auto"), Column("scipy_seconds", "scipy s", 3), Column("ch_seconds", "CH s", 3),
                  Column("speedup", "x faster", 1), Column("scipy_cpu_s", "scipy CPU s", 3),
                  Column("ch_cpu_s", "CH CPU s", 3), Column("scipy_legs_s", "scipy legs s", 3),
                  Column("ch_legs_s", "CH legs s", 3), Column("scipy_peak_mb", "scipy peak MB", 1),
                  Column("ch_peak_mb", "CH peak MB", 1), Column("scipy_rss_mb", "scipy RSS MB", 1),
                  Column("ch_rss_mb", "CH RSS MB", 1), Column("ch_prep_s", "CH build s", 3),
                  Column("scipy_node_s", "nodes scipy s", 3), Column("ch_node_s", "nodes CH s", 3),
                  Column("node_speedup", "nodes x faster", 1), Column("max_dt_s", "max |dt| s", 4),
                  Column("p99_dd_pct", "p99 |dd| %", 3), Column("load_s", "load s", 2))

GRAPHS = {"simplified": (True,), "unsimplified": (False,), "both": (True, False)}
TURNS = {"on": (True,), "off": (False,), "both": (True, False)}

NetworkOption = Annotated[Path | None, typer.Option(
    "--network", metavar="FILE", exists=True, dir_okay=False,
    help="Road network file (default: WASTEROUTE_NETWORK_FILE or the embedded one).")]


@bench_cli.command("matrix")
def bench_matrix(
    n: Annotated[list[int], typer.Option("--n", min=1, help="Points: an N x N matrix (repeat for several).")],
    network: NetworkOption = None,
    graph: Annotated[str, typer.Option(help="Which graph: simplified, unsimplified or both.")] = "both",
    seed: SeedOption = 0,
    as_json: JsonOption = False,
    backend: Annotated[list[str] | None, typer.Option(
        "--backend", help="Matrix backend to measure, scipy or ch (repeat; default every available one).")] = None,
    repeat: Annotated[int, typer.Option("--repeat", min=1, help="Timed runs per backend; the median is shown.")] = 3,
    turns: Annotated[str, typer.Option(help="Turn-aware matrix (on, the service's), free turns (off) or both.")
                     ] = "both",
) -> None:
    """Time an N x N travel-time matrix between random points of a road network by each backend, side by side."""
    if graph not in GRAPHS:
        raise typer.BadParameter(f"must be one of {', '.join(GRAPHS)}", param_hint="--graph")
    if turns not in TURNS:
        raise typer.BadParameter(f"must be one of {', '.join(TURNS)}", param_hint="--turns")
    from solver.bench import run_matrix
    from solver.matrix import choose_backend
    from solver.network import load_network

    for name in backend or []:
        try:
            choose_backend(name, 1, 1)
        except ValueError as exc:
            raise typer.BadParameter(str(exc), param_hint="--backend") from exc

    settings = set_up()
    network_file = network or settings.network_file
    settings.cache_dir.mkdir(parents=True, exist_ok=True)
    report = Report(MATRIX_COLUMNS, as_json=as_json)
    report.start(meta_record("matrix", network=str(network_file), seed=seed, graph=graph, turns=turns,
                             repeat=repeat))
    for simplify in GRAPHS[graph]:
        started = time.perf_counter()
        road_network = load_network(network_file, simplify=simplify, cache_dir=settings.cache_dir)
        load_s = time.perf_counter() - started
        for size in n:
            for aware in TURNS[turns]:
                report.row({**run_matrix(road_network, size, seed=seed, backends=backend, repeat=repeat,
                                         turns=aware), "load_s": round(load_s, 2)})
    report.footer([f"s: the whole N x N point-to-point matrix, snapping excluded (median of {repeat} runs, all in "
                   "the JSON's runs_s), of which legs s the node-to-node paths, CPU s its CPU seconds (all threads); "
                   "turns: on the turn-aware graph (the service's matrices) or with free turns; "
                   "auto: the backend 'auto' picks (its figures are the JSON's seconds and peak_mb); "
                   "peak MB: tracemalloc peak of another run; RSS MB: growth of the resident peak in one more "
                   "(memory C libraries allocate included); CH build s: the one-off hierarchy build kept on the "
                   "network; nodes s: an N x N matrix between random nodes; max |dt| s and p99 |dd| %: the CH's "
                   "durations and distances against scipy's (the reference); load s: reading the network"])


# --- the API end to end -------------------------------------------------------------------------

API_COLUMNS = (Column("network", "network"), Column("bins", "bins"), Column("run", "run"),
               Column("time_limit_s", "time limit s", 1), Column("wall_s", "wall s", 2),
               Column("overhead_s", "overhead s", 2), Column("status", "HTTP"), Column("bins_served", "served"),
               Column("unassigned_reasons", "unassigned"), Column("vehicles_used", "vehicles"),
               Column("violations", "violations"),
               Column("startup_s", "startup s", 1))

DEFAULT_CAPACITY_KG = 2000.0
"""Payload of each vehicle of the generated problem (a small refuse vehicle's kerbside round)."""


def free_port() -> int:
    """A TCP port on the loopback interface that nothing listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def kerbside_request(network: RoadNetwork, n_bins: int, *, time_limit_s: float, seed: int,
                     capacity_kg: float = DEFAULT_CAPACITY_KG) -> dict[str, Any]:
    """An optimisation body: ``n_bins`` kerbside bins on ``network``, a depot at the bin nearest
    their middle, and vehicles of ``capacity_kg`` enough for a quarter more than the load."""
    from solver.synthetic import kerbside_bins

    bins = kerbside_bins(network, n_bins, seed=seed)
    mid_lon = sorted(b.lon for b in bins)[n_bins // 2]
    mid_lat = sorted(b.lat for b in bins)[n_bins // 2]
    centre = min(bins, key=lambda b: (b.lon - mid_lon) ** 2 + (b.lat - mid_lat) ** 2)
    n_vehicles = max(2, math.ceil(sum(b.demand_kg for b in bins) / capacity_kg * 1.25))
    return {
        "depots": [{"id": "depot", "lon": centre.lon, "lat": centre.lat}],
        "vehicles": [{"id": f"rcv-{k + 1}", "depot": "depot", "capacity_kg": capacity_kg,
                      "shift": ["06:00", "16:00"]} for k in range(n_vehicles)],
        "bins": [{"id": b.id, "lon": b.lon, "lat": b.lat, "demand_kg": b.demand_kg, "service_s": b.service_s}
                 for b in bins],
        "options": {"time_limit_s": time_limit_s, "seed": seed},
    }


def _http(method: str, url: str, body: dict[str, Any] | None = None, *, timeout_s: float) -> tuple[int, Any]:
    """Status and decoded JSON answer of one request (errors answered by the server included)."""
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(url, data=data, method=method, headers={"Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(request, timeout=timeout_s) as response:
            return int(response.status), json.loads(response.read() or b"null")
    except urllib.error.HTTPError as exc:
        text = exc.read()
        try:
            return int(exc.code), json.loads(text)
        except ValueError:
            return int(exc.code), text.decode(errors="replace")


class Service:
    """The real service (``wasteroute serve``) in a subprocess on a loopback port.

    Used as a context manager: starts the server and waits until
    ``GET /api/v1/health`` answers (the network is loaded by then), and stops it on exit.
    """

    def __init__(self, network_file: Path, *, cache_dir: Path, data_dir: Path, max_time_limit_s: float,
                 startup_timeout_s: float = 900.0) -> None:
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.log_path = data_dir / "server.log"
        self.env = {**os.environ, "WASTEROUTE_NETWORK_FILE": str(network_file),
                    "WASTEROUTE_CACHE_DIR": str(cache_dir), "WASTEROUTE_DATA_DIR": str(data_dir),
                    "WASTEROUTE_LOG_LEVEL": "warning", "WASTEROUTE_MAX_TIME_LIMIT_S": str(max_time_limit_s),
                    "WASTEROUTE_AUTH_REQUIRED": "false"}  # a throwaway loopback server: no API keys
        self.startup_timeout_s = startup_timeout_s
        self.startup_s: float | None = None
        self._process: subprocess.Popen[bytes] | None = None
        self._log: BinaryIO | None = None

    def __enter__(self) -> Service:
        self._log = self.log_path.open("wb")
        started = time.perf_counter()
        self._process = subprocess.Popen(
            [sys.executable, "-m", "app.cli", "serve", "--host", "127.0.0.1", "--port", str(self.port)],
            env=self.env, stdout=self._log, stderr=subprocess.STDOUT, cwd=str(REPO))
        try:
            while True:
                if self._process.poll() is not None:
                    raise RuntimeError(f"the service exited with status {self._process.returncode}: "
                                       f"{self.log_tail()}")
                if time.perf_counter() - started > self.startup_timeout_s:
                    raise RuntimeError(f"the service did not answer within {self.startup_timeout_s:.0f} s")
                try:
                    status, _ = _http("GET", f"{self.base}/api/v1/health", timeout_s=5)
                    if status == 200:
                        break
                except OSError:
                    pass
                time.sleep(0.2)
        except BaseException:
            self.__exit__(None, None, None)
            raise
        self.startup_s = time.perf_counter() - started
        return self

    def log_tail(self, n_chars: int = 2000) -> str:
        """The end of the server's log."""
        try:
            return self.log_path.read_text(errors="replace")[-n_chars:]
        except OSError:
            return ""

    def __exit__(self, *exc: object) -> None:
        if self._process is not None and self._process.poll() is None:
            self._process.terminate()
            try:
                self._process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self._process.kill()
                self._process.wait(timeout=30)
        if self._log is not None:
            self._log.close()

    def post(self, path: str, body: dict[str, Any], *, timeout_s: float) -> tuple[int, Any, float]:
        """Status, answer and wall seconds of ``POST path``."""
        started = time.perf_counter()
        status, answer = _http("POST", f"{self.base}{path}", body, timeout_s=timeout_s)
        return status, answer, time.perf_counter() - started


def run_api(network_file: Path, *, n_bins: int, time_limit_s: float, seed: int, cache_dir: Path,
            repeat: int = 1) -> list[Row]:
    """Post a generated kerbside problem to the real service ``repeat`` times; one row per request.

    ``wall_s`` is from sending the request to the whole answer received; ``overhead_s``
    is ``wall_s - time_limit_s`` (what the service adds to the search: snapping,
    matrix, model, evaluation, geometry, HTTP). The network is loaded (and cached)
    before the service starts, so the service reads it from the cache at startup.
    """
    from app.compute.network_registry import load_road_network

    network = load_road_network(network_file, cache_dir=cache_dir)
    body = kerbside_request(network, n_bins, time_limit_s=time_limit_s, seed=seed)
    rows = []
    with tempfile.TemporaryDirectory(prefix="wasteroute-bench-api-") as data_dir, \
            Service(network_file, cache_dir=cache_dir, data_dir=Path(data_dir),
                    max_time_limit_s=max(300.0, time_limit_s)) as service:
        for run in range(1, repeat + 1):
            status, answer, wall_s = service.post("/api/v1/optimisations", body, timeout_s=time_limit_s + 900)
            summary = answer.get("summary", {}) if isinstance(answer, dict) else {}
            unassigned = answer.get("unassigned", []) if isinstance(answer, dict) else []
            reasons: dict[str, int] = {}
            for item in unassigned:
                reasons[item.get("reason", "?")] = reasons.get(item.get("reason", "?"), 0) + 1
            rows.append({"network": network.name, "nodes": network.n_nodes, "bins": n_bins,
                         "fleet": len(body["vehicles"]), "run": run, "time_limit_s": time_limit_s, "seed": seed,
                         "wall_s": round(wall_s, 3), "overhead_s": round(wall_s - time_limit_s, 3),
                         "status": status, "bins_served": summary.get("bins_served"),
                         "bins_unassigned": summary.get("bins_unassigned"), "unassigned_reasons": reasons,
                         "vehicles_used": summary.get("vehicles_used"), "distance_m": summary.get("distance_m"),
                         "violations": summary.get("violations"), "startup_s": round(service.startup_s or 0.0, 2),
                         "error": None if status == 200 else str(answer)[:500]})
    return rows


@bench_cli.command("api")
def bench_api(
    network: NetworkOption = None,
    bins: Annotated[int, typer.Option("--bins", min=1, help="Kerbside bins in the generated problem.")] = 1000,
    time_limit_s: Annotated[float, typer.Option("--time-limit-s", min=0.001,
                                                help="Solver time limit of the request, seconds.")] = 10.0,
    seed: SeedOption = 0,
    repeat: Annotated[int, typer.Option("--repeat", min=1, help="Requests to time, one after another.")] = 1,
    as_json: JsonOption = False,
) -> None:
    """Start the service on a loopback port, post a generated kerbside problem, time the answer."""
    settings = set_up()
    network_file = network or settings.network_file
    report = Report(API_COLUMNS, as_json=as_json)
    report.start(meta_record("api", network=str(network_file), bins=bins, time_limit_s=time_limit_s, seed=seed,
                             workers=settings.max_concurrent_solves))
    for row in run_api(network_file, n_bins=bins, time_limit_s=time_limit_s, seed=seed,
                       cache_dir=settings.cache_dir, repeat=repeat):
        report.row(row)
    report.footer(["wall s: request sent to answer received; overhead s: wall s minus the solver time limit"])
