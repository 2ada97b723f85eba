"""Fixtures of the browser tests: a real ``uvicorn`` server of the service on a free
loopback port, Debian's headless Chromium driven by Playwright, and a page that fails
the test on any request leaving the machine.

The tile URL points at a closed loopback port, so tiles fail as they do behind a
firewall and the page draws the road network from the service instead. Screenshots
go to ``var/test-artifacts/web/`` (and the demo's to ``docs/images/``).
"""

from __future__ import annotations

import ipaddress
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from types import SimpleNamespace
from urllib.parse import urlsplit

import pytest
from playwright.sync_api import Browser, ConsoleMessage, Page, Playwright, Request, Route, sync_playwright

from solver.network import RoadNetwork

REPO = Path(__file__).resolve().parents[2]
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
ARTIFACTS = REPO / "var" / "test-artifacts" / "web"
STARTUP_S = 120
TENANT = "web-tests"
"""The tenant of the keys and people the web tests make."""
MAX_SYNC_BINS = "10"
"""The synchronous limit of :func:`small_limit_server`: fewer bins than the demo problem has, so that
every evaluation, plan and report of it goes through a job."""


def is_loopback(url: str) -> bool:
    """Whether ``url`` stays on this machine (loopback host, or a data:/blob: URL)."""
    parts = urlsplit(url)
    if parts.scheme in ("data", "blob", "about"):
        return True
    host = parts.hostname or ""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


@dataclass(frozen=True)
class Server:
    """A running service: its base URL, the tile URL template it was configured with, and
    an API key of a tenant (``headers`` carry it for calls made by the tests themselves: a tenant key,
    which plans but cannot approve; :meth:`new_person` makes a person with their own key)."""

    base: str
    tile_url: str
    key: str
    env: dict[str, str] = field(default_factory=dict, repr=False)
    data_dir: Path = Path()

    @property
    def headers(self) -> dict[str, str]:
        """Headers of an API call with the key."""
        return {"X-API-Key": self.key}

    def new_person(self, name: str, *roles: str) -> str:
        """A new user of the tests' tenant holding ``roles``, from ``wasteroute users create``: their key."""
        role_args = [arg for role in roles for arg in ("--role", role)]
        done = subprocess.run([sys.executable, "-m", "app.cli", "users", "create", "--tenant", TENANT, "--name", name,
                               *role_args], env=self.env, cwd=self.data_dir, capture_output=True, text=True,
                              check=False, timeout=120)
        assert done.returncode == 0, done.stderr
        return done.stdout.split()[-1]


def sign_in(page: Page, key: str, name: str) -> None:
    """Sign the page out and in again with ``key`` (the map's Sign out, then Sign in), until it names ``name``."""
    page.click("#sign-out")
    page.fill("#api-key", key)
    page.click("#sign-in")
    page.locator("#who-name").get_by_text(name).wait_for()


def create_api_key(env: dict[str, str], cwd: Path) -> str:
    """A new API key from ``wasteroute keys create`` (printed last on its stdout)."""
    done = subprocess.run([sys.executable, "-m", "app.cli", "keys", "create", "--tenant", TENANT],
                          env=env, cwd=cwd, capture_output=True, text=True, check=False, timeout=120)
    assert done.returncode == 0, done.stderr
    return done.stdout.strip().splitlines()[-1]


@contextmanager
def served(data_dir: Path, tools: SimpleNamespace, network_cache_dir: Path, **settings: str) -> Iterator[Server]:
    """``uvicorn --factory app.main:create_app`` in a subprocess on a free loopback port, its data in
    ``data_dir``, its built networks read from (or written to) ``network_cache_dir``, with ``settings``
    (``WASTEROUTE_*`` variables) over the web tests' own.

    Tiles are configured on a closed loopback port: unreachable, like a tile server
    behind a council firewall, and no request leaves the machine. API keys are required,
    as in production; the page and the tests use a key made by ``wasteroute keys create``.
    """
    port, dead_port = tools.free_port(), tools.free_port()
    tile_url = f"http://127.0.0.1:{dead_port}/tiles/{{z}}/{{x}}/{{y}}.png"
    # the caller's own network or database never leaks in from the shell; a test names its own in settings
    inherited = {k: v for k, v in os.environ.items()
                 if k not in ("WASTEROUTE_NETWORK_FILE", "WASTEROUTE_DATABASE_URL")}
    env = {**inherited, "WASTEROUTE_DATA_DIR": str(data_dir), "WASTEROUTE_CACHE_DIR": str(network_cache_dir),
           "WASTEROUTE_LOG_LEVEL": "warning", "WASTEROUTE_MAX_CONCURRENT_SOLVES": "1",
           "WASTEROUTE_TILE_URL": tile_url, "WASTEROUTE_DEFAULT_TIME_LIMIT_S": "2",
           "WASTEROUTE_AUTH_REQUIRED": "true", **settings}
    command = [sys.executable, "-m", "uvicorn", "--factory", "app.main:create_app", "--host", "127.0.0.1",
               "--port", str(port)]
    with tools.running_server(command, base=f"http://127.0.0.1:{port}", env=env, cwd=data_dir,
                              log_path=data_dir / "server.log", startup_s=STARTUP_S) as base:
        yield Server(base=base, tile_url=tile_url, key=create_api_key(env, data_dir), env=env, data_dir=data_dir)


@pytest.fixture(scope="session")
def server(tmp_path_factory: pytest.TempPathFactory, tools: SimpleNamespace, network_cache_dir: Path,
           monaco: RoadNetwork) -> Iterator[Server]:
    """The service as the web tests use it (see :func:`served`), on the tests' shared network cache,
    where ``monaco`` has built the embedded network once (the server reads it instead of building it)."""
    with served(tmp_path_factory.mktemp("web-var"), tools, network_cache_dir) as running:
        yield running


@pytest.fixture(scope="session")
def small_limit_server(tmp_path_factory: pytest.TempPathFactory, tools: SimpleNamespace, network_cache_dir: Path,
                       monaco: RoadNetwork) -> Iterator[Server]:
    """The web tests' server taking only :data:`MAX_SYNC_BINS` bins per synchronous request, shared by
    the modules that drive the page through jobs (each test tells its own jobs from the others')."""
    with served(tmp_path_factory.mktemp("web-small-limit-var"), tools, network_cache_dir,
                WASTEROUTE_MAX_SYNC_BINS=MAX_SYNC_BINS) as running:
        yield running


@pytest.fixture(scope="session")
def playwright() -> Iterator[Playwright]:
    """Playwright's driver."""
    with sync_playwright() as driver:
        yield driver


@pytest.fixture(scope="session")
def browser(playwright: Playwright) -> Iterator[Browser]:
    """Debian's Chromium, headless (Playwright's own browser download cannot work here)."""
    if not CHROMIUM.is_file():
        pytest.fail(f"{CHROMIUM} is missing: run `make system` (scripts/install_system_packages.sh)")
    chromium = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS)
    yield chromium
    chromium.close()


@dataclass
class PageLog:
    """What a page did: console errors, outside requests (blocked) and failed requests."""

    console_errors: list[ConsoleMessage] = field(default_factory=list)
    page_errors: list[str] = field(default_factory=list)
    outside_requests: list[str] = field(default_factory=list)
    failed_requests: list[str] = field(default_factory=list)


@pytest.fixture
def page_log() -> PageLog:
    """An empty log, filled by :func:`page`."""
    return PageLog()


@pytest.fixture
def page(browser: Browser, server: Server, page_log: PageLog) -> Iterator[Page]:
    """A fresh page (1400 x 900) holding the server's API key, whose requests to anywhere but
    this machine are aborted and logged."""
    context = browser.new_context(viewport={"width": 1400, "height": 900}, accept_downloads=True)
    context.add_init_script(f"sessionStorage.setItem('wasteroute.apiKey', {json.dumps(server.key)})")
    tab = context.new_page()

    def guard(route: Route, request: Request) -> None:
        """Let loopback requests through; abort and log any other."""
        if is_loopback(request.url):
            route.continue_()
        else:
            page_log.outside_requests.append(request.url)
            route.abort()

    tab.route("**/*", guard)
    tab.on("console", lambda message: page_log.console_errors.append(message) if message.type == "error" else None)
    tab.on("pageerror", lambda error: page_log.page_errors.append(str(error)))
    tab.on("requestfailed", lambda request: page_log.failed_requests.append(request.url))
    tab.set_default_timeout(60_000)
    yield tab
    context.close()
    assert page_log.outside_requests == [], f"requests left the machine: {page_log.outside_requests}"


@pytest.fixture(scope="session")
def artifacts() -> Path:
    """Folder of the screenshots the browser tests save."""
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    return ARTIFACTS
