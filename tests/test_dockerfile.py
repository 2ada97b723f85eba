"""The Dockerfile, checked without a Docker engine (none runs on these machines): its
instructions pass hadolint and say what the image promises, and the commands it runs
(the cache warm-up of the build stage, the service, the health check) work when run
directly with the image's environment."""

from __future__ import annotations

import json
import os
import shlex
import shutil
import socket
import subprocess
import sys
import time
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from dockerfile_parse import DockerfileParser

REPO = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent


@pytest.fixture(scope="module")
def dockerfile() -> DockerfileParser:
    """The project's Dockerfile, parsed."""
    return DockerfileParser(str(REPO / "Dockerfile"))


def _instructions(parsed: DockerfileParser, name: str) -> list[str]:
    return [i["value"] for i in parsed.structure if i["instruction"] == name]


def _runtime_env(parsed: DockerfileParser) -> dict[str, str]:
    """The final stage's ENV, the image paths mapped onto this checkout."""
    env = dict(parsed.envs)
    env.pop("PATH", None)
    return env


@pytest.mark.spawns
def test_hadolint_finds_nothing() -> None:
    """hadolint (the Dockerfile linter) passes the file with no finding at all."""
    result = subprocess.run([str(BIN / "hadolint"), "--no-color", str(REPO / "Dockerfile")],
                            capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stdout + result.stderr


def test_build_is_multi_stage_on_a_slim_base(dockerfile: DockerfileParser) -> None:
    """Two stages, both on a slim Python base; the runtime copies from the build stage."""
    froms = _instructions(dockerfile, "FROM")
    assert len(froms) == 2
    assert "slim" in dockerfile.baseimage
    assert any(v.startswith("--from=build") for v in _instructions(dockerfile, "COPY"))


def test_image_runs_as_a_non_root_user(dockerfile: DockerfileParser) -> None:
    """The last USER is a numeric, non-zero uid."""
    user = _instructions(dockerfile, "USER")[-1].split(":")[0]
    assert user.isdigit() and int(user) != 0


def test_image_bakes_in_the_embedded_network(dockerfile: DockerfileParser) -> None:
    """The embedded network is copied into the image and is the network the service plans on."""
    assert any("data" in v for v in _instructions(dockerfile, "COPY"))
    assert dockerfile.envs["WASTEROUTE_NETWORK_FILE"].endswith("/data/monaco.osm.pbf")


def test_image_has_a_health_check_and_serves(dockerfile: DockerfileParser) -> None:
    """A HEALTHCHECK probes /api/v1/health and the command is the service."""
    [check] = _instructions(dockerfile, "HEALTHCHECK")
    assert "/api/v1/health" in check
    assert json.loads(_instructions(dockerfile, "CMD")[-1]) == ["wasteroute", "serve"]


def test_data_folder_belongs_to_the_service_user(dockerfile: DockerfileParser) -> None:
    """WASTEROUTE_DATA_DIR is created owned by the runtime user, so the store (and a volume
    mounted there, see compose.yaml) is writable without root."""
    data_dir = dockerfile.envs["WASTEROUTE_DATA_DIR"]
    uid = _instructions(dockerfile, "USER")[-1].split(":")[0]
    [setup] = [v for v in _instructions(dockerfile, "RUN") if "useradd" in v]
    assert f"--uid {uid}" in setup
    assert "install -d -o wasteroute -g wasteroute" in setup and data_dir in shlex.split(setup)


@pytest.mark.slow
@pytest.mark.spawns
def test_build_stage_installs_every_file_of_the_packages(dockerfile: DockerfileParser, tmp_path: Path) -> None:
    """What the build stage copies before ``pip install .`` builds a wheel holding every file of
    app/ and solver/ (the web map's scripts and styles, templates, migrations), not just the
    Python modules: a non-editable install serves from the wheel's files alone."""
    context = tmp_path / "context"
    context.mkdir()
    for value in _instructions(dockerfile, "COPY"):
        if value.startswith("--from"):
            continue
        parts = shlex.split(value)
        for source in parts[:-1]:
            if source != "data":  # copied after the install, not part of the package
                target = context / source
                copy = shutil.copytree if (REPO / source).is_dir() else shutil.copy2
                copy(REPO / source, target)
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--quiet", "--wheel-dir", str(tmp_path),
                    str(context)], check=True, capture_output=True)
    [wheel] = tmp_path.glob("wasteroute-*.whl")
    packaged = set(zipfile.ZipFile(wheel).namelist())
    expected = {path.relative_to(REPO).as_posix() for package in ("app", "solver")
                for path in (REPO / package).rglob("*")
                if path.is_file() and "__pycache__" not in path.parts and path.suffix != ".pyc"}
    assert expected - packaged == set()


def test_copied_sources_exist(dockerfile: DockerfileParser) -> None:
    """Every path the build stage copies from the context exists in the repository."""
    for value in _instructions(dockerfile, "COPY"):
        parts = [p for p in shlex.split(value) if not p.startswith("--")]
        if value.startswith("--from"):
            continue
        for source in parts[:-1]:
            assert (REPO / source).exists(), source


@pytest.mark.spawns
def test_build_stage_cache_warm_up_runs(dockerfile: DockerfileParser, tmp_path: Path) -> None:
    """The build stage's network warm-up command runs and leaves a cache file."""
    [warm] = [v for v in _instructions(dockerfile, "RUN") if "load_network" in v]
    command = warm.replace("/opt/wasteroute/bin/python", sys.executable)
    command = command.replace("/src/data", str(REPO / "data")).replace("/srv/wasteroute/cache", str(tmp_path))
    subprocess.run(command, shell=True, check=True, cwd=REPO)  # the Dockerfile's own RUN line
    assert list(tmp_path.glob("monaco.osm.pbf-*.pkl"))


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def served(dockerfile: DockerfileParser, tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, str]]:
    """The image's CMD run directly, with the image's environment mapped onto this checkout."""
    data_dir = tmp_path_factory.mktemp("srv")
    env = {**os.environ, **_runtime_env(dockerfile)}
    env.update(WASTEROUTE_NETWORK_FILE=str(REPO / "data" / "monaco.osm.pbf"), WASTEROUTE_DATA_DIR=str(data_dir),
               WASTEROUTE_CACHE_DIR=str(data_dir / "cache"), WASTEROUTE_HOST="127.0.0.1",
               WASTEROUTE_PORT=str(_free_port()), WASTEROUTE_MAX_CONCURRENT_SOLVES="1",
               PATH=f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}")
    command = json.loads(_instructions(dockerfile, "CMD")[-1])
    with (data_dir / "serve.log").open("wb") as log:
        process = subprocess.Popen(command, env=env, cwd=data_dir, stdout=log, stderr=subprocess.STDOUT)
        try:
            yield env
        finally:
            process.terminate()
            process.wait(timeout=30)


def test_health_check_passes_against_the_running_command(dockerfile: DockerfileParser,
                                                         served: dict[str, str]) -> None:
    """The HEALTHCHECK's own command succeeds against the service started by CMD."""
    [check] = _instructions(dockerfile, "HEALTHCHECK")
    probe = json.loads(check[check.index("CMD") + len("CMD"):].strip())
    probe[0] = sys.executable
    deadline = time.monotonic() + 90
    while True:
        result = subprocess.run(probe, env=served, capture_output=True, text=True, check=False)
        if result.returncode == 0 or time.monotonic() > deadline:
            break
        time.sleep(0.5)
    assert result.returncode == 0, result.stderr
