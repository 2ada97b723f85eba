"""compose.yaml and the proxy's deploy/Caddyfile, checked without a Docker engine (none runs on these
machines).

The file parses; two replicas of the service stand behind a reverse proxy that balances them on
their readiness and keeps /metrics to itself; every service has an image or a build, a health check, and
dependencies on services that exist and report health; every ``WASTEROUTE_*``
variable is a real setting and its value one :class:`app.core.config.Settings` accepts;
the database URL reaches the PostgreSQL service with its own credentials; the Dask
address reaches the scheduler. The scheduler's and workers' commands are run
directly (on free loopback ports) and pass their own health checks, and the worker
joins the scheduler.
"""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
import yaml
from distributed import Client
from sqlalchemy.engine import make_url

from app.api.auth import READY_PATH, open_paths
from app.core.config import Settings
from app.main import create_app

REPO = Path(__file__).resolve().parents[1]
CADDYFILE = REPO / "deploy" / "Caddyfile"
REPLICAS = ("wasteroute-1", "wasteroute-2")
POOL_CONNECTIONS = 15
"""Connections one SQLAlchemy engine may hold (its default pool of 5 plus 10 overflow)."""
BIN = Path(sys.executable).parent
PASSWORD = "s3cret-for-tests"

#: variables that another part of the project adds to Settings; accepted until it lands
PENDING_SETTINGS = {"WASTEROUTE_DASK_SCHEDULER"}

_VARIABLE = re.compile(r"\$\{(?P<name>\w+)(?:(?P<op>:-|:\?)(?P<arg>[^}]*))?\}")


def _interpolate(text: str, env: Mapping[str, str]) -> str:
    """Compose's ``${NAME}``, ``${NAME:-default}`` and ``${NAME:?error}`` substitution."""
    def one(match: re.Match[str]) -> str:
        name, op, arg = match["name"], match["op"], match["arg"]
        if env.get(name):
            return env[name]
        if op == ":?":
            raise KeyError(f"{name} must be set: {arg}")
        return (arg or "") if op == ":-" else ""
    return _VARIABLE.sub(one, text)


@pytest.fixture(scope="module")
def compose() -> dict[str, Any]:
    """compose.yaml, interpolated as Compose would with POSTGRES_PASSWORD set, then parsed."""
    text = (REPO / "compose.yaml").read_text(encoding="utf-8")
    parsed: dict[str, Any] = yaml.safe_load(_interpolate(text, {"POSTGRES_PASSWORD": PASSWORD}))
    return parsed


def _services(compose: dict[str, Any]) -> dict[str, dict[str, Any]]:
    services: dict[str, dict[str, Any]] = compose["services"]
    return services


def _env(service: dict[str, Any]) -> dict[str, str]:
    env = service.get("environment", {})
    if isinstance(env, list):
        env = dict(item.split("=", 1) for item in env)
    return {name: str(value) for name, value in env.items()}


def _uses_image(service: dict[str, Any]) -> bool:
    return service.get("image") == "wasteroute:latest"


def _option(command: list[str], flag: str) -> str:
    return command[command.index(flag) + 1]


def test_the_password_is_required() -> None:
    """Without POSTGRES_PASSWORD, interpolation fails instead of starting a database with none."""
    with pytest.raises(KeyError, match="POSTGRES_PASSWORD"):
        _interpolate((REPO / "compose.yaml").read_text(encoding="utf-8"), {})


def test_the_scaled_setup_has_its_six_services(compose: dict[str, Any]) -> None:
    """Two replicas of the service, a reverse proxy, PostgreSQL, a Dask scheduler and Dask workers (more
    than one)."""
    services = _services(compose)
    assert set(services) == {*REPLICAS, "proxy", "db", "scheduler", "worker"}
    assert services["db"]["image"].startswith("postgres:")
    assert services["worker"]["deploy"]["replicas"] >= 2


def test_every_service_has_an_image_or_a_build(compose: dict[str, Any]) -> None:
    """Compose can start each service: it names an image or how to build one (the repository's Dockerfile)."""
    for name, service in _services(compose).items():
        assert "image" in service or "build" in service, name
        if "build" in service:
            assert (REPO / service["build"] / "Dockerfile").is_file(), name


def test_wasteroute_variables_are_real_settings(compose: dict[str, Any]) -> None:
    """Every WASTEROUTE_* name set anywhere is a field of Settings (a typo would be ignored silently)."""
    fields = {f"WASTEROUTE_{name.upper()}" for name in Settings.model_fields}
    for name, service in _services(compose).items():
        unknown = {v for v in _env(service) if v.startswith("WASTEROUTE_")} - fields - PENDING_SETTINGS
        assert not unknown, f"{name}: {sorted(unknown)}"


def test_wasteroute_values_are_valid_settings(compose: dict[str, Any], monkeypatch: pytest.MonkeyPatch) -> None:
    """Settings read from each wasteroute container's environment validate, with the values given."""
    for service in filter(_uses_image, _services(compose).values()):
        with monkeypatch.context() as patch:
            for variable, value in _env(service).items():
                patch.setenv(variable, value)
            settings = Settings()
        assert str(settings.data_dir) == "/srv/wasteroute/var"
        assert str(settings.network_file) == "/srv/wasteroute/data/monaco.osm.pbf"


def test_database_url_reaches_the_postgres_service(compose: dict[str, Any]) -> None:
    """The URL names the db service, its database, user and password, with the installed psycopg driver."""
    services = _services(compose)
    db = _env(services["db"])
    for name in (*REPLICAS, "scheduler", "worker"):
        url = make_url(_env(services[name])["WASTEROUTE_DATABASE_URL"])
        assert url.host in services and url.host == "db", name
        assert (url.database, url.username, url.password) == (db["POSTGRES_DB"], db["POSTGRES_USER"], PASSWORD)
        assert url.get_dialect().driver == "psycopg"


def test_dask_address_reaches_the_scheduler_service(compose: dict[str, Any]) -> None:
    """WASTEROUTE_DASK_SCHEDULER and the workers' command name the scheduler service at its port."""
    services = _services(compose)
    port = int(_option(services["scheduler"]["command"], "--port"))
    addresses = {_env(services[name])["WASTEROUTE_DASK_SCHEDULER"] for name in (*REPLICAS, "worker")}
    addresses.add(services["worker"]["command"][2])
    for address in addresses:
        parts = urlsplit(address)
        assert (parts.scheme, parts.hostname, parts.port) == ("tcp", "scheduler", port)


def test_dependencies_are_real_services_that_report_health(compose: dict[str, Any]) -> None:
    """depends_on names services of the file, and waiting for health is possible (they have checks)."""
    services = _services(compose)
    for name, service in services.items():
        for target, rule in service.get("depends_on", {}).items():
            assert target in services and target != name, f"{name} -> {target}"
            assert rule["condition"] == "service_healthy"
            assert "healthcheck" in services[target], target


def test_every_service_has_a_health_check(compose: dict[str, Any]) -> None:
    """Each service says how to tell it is healthy, as an exec-form or shell command."""
    for name, service in _services(compose).items():
        test = service["healthcheck"]["test"]
        assert test[0] in ("CMD", "CMD-SHELL") and len(test) > 1, name


def test_published_ports_reach_what_each_service_listens_on(compose: dict[str, Any]) -> None:
    """host_ip:host:container entries, on loopback, whose container port the service listens on and probes."""
    services = _services(compose)
    listening = {"proxy": _caddy_site_port(_caddyfile()),
                 "scheduler": int(_option(services["scheduler"]["command"], "--dashboard-address").lstrip(":"))}
    for name, service in services.items():
        for entry in service.get("ports", []):
            host_ip, host_port, container_port = str(entry).split(":")
            assert host_ip == "127.0.0.1" and 0 < int(host_port) < 65536, entry
            assert int(container_port) == listening[name], name
            assert f"127.0.0.1:{container_port}/" in " ".join(service["healthcheck"]["test"]), name


def _caddyfile() -> list[list[str]]:
    """deploy/Caddyfile as lines of tokens, comments and blank lines left out."""
    lines = []
    for line in CADDYFILE.read_text(encoding="utf-8").splitlines():
        tokens = line.split("#", 1)[0].split() if not line.lstrip().startswith("#") else []
        if tokens:
            lines.append(tokens)
    return lines


def _caddy_site_port(lines: list[list[str]]) -> int:
    """The port of the Caddyfile's one site block (``:80 {``)."""
    sites = [tokens[0] for tokens in lines if tokens[-1] == "{" and tokens[0].startswith(":")]
    assert len(sites) == 1, sites
    return int(sites[0].lstrip(":"))


def _directive(lines: list[list[str]], name: str) -> list[str]:
    """The arguments of the one directive ``name`` (without a block's opening brace)."""
    found = [tokens[1:] for tokens in lines if tokens[0] == name]
    assert len(found) == 1, f"{name}: {found}"
    return [token for token in found[0] if token != "{"]


def test_the_replicas_are_one_definition_behind_the_proxy(compose: dict[str, Any]) -> None:
    """Both replicas are the same service (one YAML anchor: image, command, settings, volumes, checks),
    reachable on the compose network only: no host port, the port they listen on exposed."""
    services = _services(compose)
    first, second = (services[name] for name in REPLICAS)
    assert first == second
    assert "ports" not in first
    assert first["expose"] == [_env(first)["WASTEROUTE_PORT"]]


def test_the_proxy_balances_the_replicas_on_their_readiness(compose: dict[str, Any]) -> None:
    """Caddy's upstreams are exactly the replicas at the port they listen on; its active probe is the
    readiness path, which the app serves without a key; it waits for both replicas' health and reads
    the Caddyfile of the repository."""
    services = _services(compose)
    proxy, lines = services["proxy"], _caddyfile()
    assert proxy["image"].startswith("caddy:")
    assert "./deploy/Caddyfile:/etc/caddy/Caddyfile:ro" in proxy["volumes"]
    ports = {_env(services[name])["WASTEROUTE_PORT"] for name in REPLICAS}
    assert sorted(_directive(lines, "reverse_proxy")) == sorted(f"{name}:{port}" for name in REPLICAS for port in ports)
    assert _directive(lines, "health_uri") == [READY_PATH]
    assert READY_PATH in open_paths(create_app(Settings()))
    assert set(proxy["depends_on"]) == set(REPLICAS)


def test_the_proxy_keeps_metrics_to_the_private_network() -> None:
    """``/metrics`` is answered 404 by the proxy itself, before the proxying directive (Prometheus
    scrapes each replica directly), and the replicas' token comes from the environment, empty if unset."""
    lines = _caddyfile()
    respond = lines.index(["respond", "/metrics", "404"])
    proxying = next(i for i, tokens in enumerate(lines) if tokens[0] == "reverse_proxy")
    assert respond < proxying
    assert "WASTEROUTE_METRICS_TOKEN: ${WASTEROUTE_METRICS_TOKEN:-}" in (REPO / "compose.yaml").read_text()


def test_postgres_takes_the_connections_of_every_pool(compose: dict[str, Any]) -> None:
    """``max_connections`` covers each replica's server process and solver workers, each with a full
    pool, with room left for the batch and an operator."""
    services = _services(compose)
    processes = sum(1 + int(_env(services[name])["WASTEROUTE_MAX_CONCURRENT_SOLVES"]) for name in REPLICAS)
    command = services["db"]["command"]
    settings = dict(command[i + 1].split("=", 1) for i, token in enumerate(command) if token == "-c")
    assert int(settings["max_connections"]) >= processes * POOL_CONNECTIONS + 2 * POOL_CONNECTIONS


def test_named_volumes_are_declared(compose: dict[str, Any]) -> None:
    """Every named volume a service mounts is declared at the top level; bind mounts are relative paths."""
    declared = set(compose.get("volumes") or {})
    for name, service in _services(compose).items():
        for volume in service.get("volumes", []):
            source = volume.split(":")[0]
            if not source.startswith((".", "/")):
                assert source in declared, f"{name}: {source}"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _probe(healthcheck: list[str], port: int, original: int) -> list[str]:
    """The exec-form health check, run by this interpreter against ``port`` instead of ``original``."""
    assert healthcheck[:2] == ["CMD", "python"]
    return [sys.executable, *(a.replace(f":{original}/", f":{port}/") for a in healthcheck[2:])]


def _wait_healthy(probe: list[str], timeout_s: float = 60.0) -> subprocess.CompletedProcess[str]:
    deadline = time.monotonic() + timeout_s
    while True:
        result = subprocess.run(probe, capture_output=True, text=True, check=False)
        if result.returncode == 0 or time.monotonic() > deadline:
            return result
        time.sleep(0.5)


@pytest.fixture(scope="module")
def cluster(compose: dict[str, Any], tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Any]]:
    """The scheduler's and a worker's compose commands run directly, on free loopback ports."""
    services = _services(compose)
    logs = tmp_path_factory.mktemp("dask")
    env = {**os.environ, "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}"}
    ports = {"scheduler": _free_port(), "dashboard": _free_port(), "worker": _free_port()}
    scheduler = [a.replace("8786", str(ports["scheduler"])).replace(":8787", f":{ports['dashboard']}")
                 for a in services["scheduler"]["command"]]
    worker = [a.replace("tcp://scheduler:8786", f"tcp://127.0.0.1:{ports['scheduler']}")
              .replace(":8789", f":{ports['worker']}") for a in services["worker"]["command"]]
    processes = []
    try:
        for name, command in (("scheduler", scheduler), ("worker", worker)):
            log = (logs / f"{name}.log").open("wb")
            processes.append(subprocess.Popen(command, env=env, cwd=logs, stdout=log, stderr=subprocess.STDOUT))
        yield {"services": services, "ports": ports, "logs": logs}
    finally:
        for process in reversed(processes):
            process.terminate()
            process.wait(timeout=30)


@pytest.mark.slow
def test_scheduler_command_passes_its_health_check(cluster: dict[str, Any]) -> None:
    """The scheduler started by its compose command answers its compose health check."""
    probe = _probe(cluster["services"]["scheduler"]["healthcheck"]["test"], cluster["ports"]["dashboard"], 8787)
    result = _wait_healthy(probe)
    assert result.returncode == 0, result.stderr + (cluster["logs"] / "scheduler.log").read_text()


@pytest.mark.slow
def test_worker_command_joins_the_scheduler_and_passes_its_health_check(cluster: dict[str, Any]) -> None:
    """The worker started by its compose command registers with the scheduler and answers its health check."""
    probe = _probe(cluster["services"]["worker"]["healthcheck"]["test"], cluster["ports"]["worker"], 8789)
    result = _wait_healthy(probe)
    assert result.returncode == 0, result.stderr + (cluster["logs"] / "worker.log").read_text()
    with Client(f"tcp://127.0.0.1:{cluster['ports']['scheduler']}", timeout=30) as client:
        client.wait_for_workers(1, timeout=60)
        assert client.submit(sum, [1, 2, 3]).result(timeout=30) == 6
