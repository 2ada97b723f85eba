"""The service's configuration: one :class:`Settings` class read from the environment.

Every variable carries the prefix ``WASTEROUTE_`` (``WASTEROUTE_NETWORK_FILE``,
``WASTEROUTE_DATA_DIR``, ...). Nothing here touches the disk or reads the
environment at import time: a :class:`Settings` is built by :func:`app.main.create_app`
or by the command line, and reaches request handlers through :func:`get_settings`.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Annotated, Any, Literal, Self

from pydantic import Field, PositiveInt, SecretStr, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict
from starlette.requests import Request

from solver.problem import DEFAULT_BUSY_HIGHWAYS
from solver.savings import Factors

_SAVINGS = Factors()
"""The savings report's default factors (stated and sourced in solver/savings.py)."""


def _savings_factor(default: float, description: str) -> Any:  # pydantic types Field Any: it stands for a default
    """A savings report factor: a finite number >= 0."""
    return Field(default=default, ge=0, allow_inf_nan=False, description=f"Savings reports: {description}")

EMBEDDED_NETWORK_NAME = "monaco.osm.pbf"
"""File name of the small real road network shipped in the repository's ``data/``."""

LogLevel = Literal["critical", "error", "warning", "info", "debug"]


def usable_cores() -> int:
    """CPU cores this process may run on (its affinity where the platform tells, else every core)."""
    affinity = getattr(os, "sched_getaffinity", None)
    return len(affinity(0)) if affinity is not None else os.cpu_count() or 1


def default_network_file() -> Path:
    """Locate the embedded road network ``data/monaco.osm.pbf``.

    Looks beside the source tree first (``<repo>/data``, which is where an editable
    install and a checkout find it), then under the current directory's ``data/``.
    When neither exists the source-tree path is returned, so that the error raised
    when the network is loaded names the place it was expected.
    """
    source_tree = Path(__file__).resolve().parents[2] / "data" / EMBEDDED_NETWORK_NAME
    candidates = (source_tree, Path.cwd() / "data" / EMBEDDED_NETWORK_NAME)
    for candidate in candidates:
        if candidate.is_file():
            return candidate
    return source_tree


def _default_cache_dir(data: dict[str, Any]) -> Path:
    """``<data_dir>/cache``."""
    return Path(data["data_dir"]) / "cache"


def _default_database_url(data: dict[str, Any]) -> str:
    """A SQLite file in ``data_dir``."""
    return f"sqlite:///{Path(data['data_dir']) / 'wasteroute.sqlite3'}"


class Settings(BaseSettings):
    """Everything the service can be told from outside, with defaults that run as is.

    Paths may be relative; they are taken relative to the directory the service is
    started from. Derived defaults (``cache_dir``, ``database_url``) follow
    ``data_dir`` unless set themselves.
    """

    model_config = SettingsConfigDict(env_prefix="WASTEROUTE_", extra="ignore", frozen=True)

    network_file: Path = Field(
        default_factory=default_network_file,
        description="Road network the service plans on: .osm, .osm.pbf, .osm.bz2 or an osmnx .graphml.",
    )
    data_dir: Path = Field(default=Path("var"), description="Working data folder.")
    cache_dir: Path = Field(
        default_factory=_default_cache_dir,
        description="Where built road graphs are cached (default: <data_dir>/cache).",
    )
    database_url: str = Field(
        default_factory=_default_database_url,
        description="SQLAlchemy URL of the store (default: a SQLite file in data_dir); "
                    "PostgreSQL as postgresql+psycopg://user:password@host/database.",
    )
    snap_limit_m: float = Field(
        default=200.0, gt=0, allow_inf_nan=False,
        description="Metres a bin or depot may lie from the nearest street before it is reported off-network.",
    )
    drives_on: Literal["left", "right"] = Field(
        default="left",
        description="Side of the road traffic keeps to, for requests that do not say (options.drives_on): "
                    "`left` (UK) or `right`.",
    )
    busy_highways: Annotated[list[str], NoDecode] = Field(
        default_factory=lambda: list(DEFAULT_BUSY_HIGHWAYS),
        description="OpenStreetMap highway values of busy roads, where bins are collected from the nearside "
                    "only, for requests that do not say (options.busy_highways); comma-separated or a JSON list "
                    f"(default: {','.join(DEFAULT_BUSY_HIGHWAYS)}).",
    )
    default_time_limit_s: float = Field(
        default=5.0, gt=0, allow_inf_nan=False,
        description="Solver time limit in seconds when a request gives none.",
    )
    default_time_per_bin_s: float = Field(
        default=0.05, ge=0, allow_inf_nan=False,
        description="Seconds of search per bin for a request that gives no time limit: it gets the larger of "
                    "default_time_limit_s and this times its bins, up to max_time_limit_s (rounds that drive past "
                    "each bin one way need about 0.05 s a bin: docs/crew_rounds.md).",
    )
    max_time_limit_s: float = Field(
        default=300.0, gt=0, allow_inf_nan=False,
        description="Largest solver time limit in seconds a request may ask for.",
    )
    max_concurrent_solves: PositiveInt = Field(
        default=2, description="Solver worker processes: solves that run at once; further requests wait their turn.",
    )
    search_processes: PositiveInt | None = Field(
        default=None,
        description="Searches raced per solve, one process (core) each, the best plan kept "
                    "(solver/engines/race.py); unset: the machine's cores shared among max_concurrent_solves.",
    )
    dask_scheduler: str | None = Field(
        default=None,
        description="Address of a Dask distributed scheduler (tcp://host:8786) that runs the batch's solves and "
                    "the parts of decomposed problems; unset: a local process pool (see app/compute/executors.py).",
    )
    max_body_bytes: PositiveInt = Field(
        default=8 * 1024 * 1024,
        description="Largest request body in bytes; a larger one answers 413 before it is read in full.",
    )
    max_sync_bins: PositiveInt = Field(
        default=1000,
        description="Most bins a synchronous optimisation or evaluation may hold; a larger problem answers 413 "
                    "(optimise it as a job, POST /api/v1/jobs).",
    )
    district_review_from_bins: PositiveInt = Field(
        default=5000,
        description="Round reviews of at least this many bins take the district path (street clusters assigned to "
                    "days, each day's stream planned on its own, solver/week/district.py) instead of one travel "
                    "matrix of every bin, whose memory grows with the square of the bins (docs/performance.md).",
    )
    district_review_workers: PositiveInt = Field(
        default=2,
        description="Processes a district-sized round review plans its days in at once (a local pool started "
                    "for the review; the Dask cluster when dask_scheduler is set); 1: in the review's own worker.",
    )
    default_tenant: str = Field(
        default="default", min_length=1, max_length=100,
        description="Tenant (council) every request acts for when WASTEROUTE_AUTH_REQUIRED is false.",
    )
    auth_required: bool = Field(
        default=True,
        description="Whether every /api/v1 request but health needs an API key (`wasteroute keys create`), "
                    "which names its tenant; false: no key is asked for and every request acts for "
                    "default_tenant (one council on a trusted machine only: docs/security.md).",
    )
    four_eyes: bool = Field(
        default=True,
        description="The four-eyes rule: the person who stored a plan (or asked for the job that stored it) cannot "
                    "approve it (403); another approver must (docs/security.md).",
    )
    cors_origins: Annotated[list[str], NoDecode] = Field(
        default_factory=list,
        description="Origins (https://host[:port]) whose web pages may call the API from a browser, "
                    "comma-separated or a JSON list; empty: cross-origin calls are refused (no CORS headers).",
    )
    oidc_issuer: str | None = Field(
        default=None,
        description="Issuer URL of the council's OpenID Connect identity provider (Entra ID: "
                    "https://login.microsoftonline.com/DIRECTORY-ID/v2.0); set, a bearer JWT it signed is "
                    "accepted besides API keys (docs/security.md). Unset: API keys only.",
    )
    oidc_audience: Annotated[list[str], NoDecode] = Field(
        default_factory=list,
        description="The `aud` a token must carry, one of these (comma-separated): the API's application "
                    "(client) id or its Application ID URI. Required with oidc_issuer.",
    )
    oidc_jwks_url: str | None = Field(
        default=None,
        description="URL of the identity provider's signing keys (JWKS); unset: the jwks_uri of "
                    "the issuer's /.well-known/openid-configuration.",
    )
    oidc_roles_claim: str = Field(
        default="roles", min_length=1,
        description="Claim listing the person's roles or groups (Entra ID app roles: `roles`; a dotted "
                    "path reaches inside an object, as Keycloak's `realm_access.roles`).",
    )
    oidc_role_map: Annotated[dict[str, str], NoDecode] = Field(
        default_factory=dict,
        description="Identity provider role or group -> wasteroute role (viewer, planner, approver, admin), "
                    "as `Waste.Planner=planner,Waste.Approver=approver` or a JSON object.",
    )
    oidc_tenant_claim: str = Field(
        default="tid", min_length=1,
        description="Claim naming the person's organisation (Entra ID: `tid`, the directory id; `iss` for an "
                    "identity provider that serves one council).",
    )
    oidc_tenant_map: Annotated[dict[str, str], NoDecode] = Field(
        default_factory=dict,
        description="Value of the tenant claim -> wasteroute tenant (council), as `DIRECTORY-ID=rutland` or "
                    "a JSON object; a token of any other organisation is refused (unknown_tenant).",
    )
    oidc_name_claim: str = Field(
        default="name", min_length=1,
        description="Claim holding the person's display name (else `preferred_username`, else `sub`).",
    )
    oidc_client_id: str | None = Field(
        default=None,
        description="Client id of the web map in the identity provider (a single-page application with "
                    "PKCE, no secret); set with oidc_issuer, the map offers 'Sign in with your council account'.",
    )
    oidc_scopes: str = Field(
        default="openid profile",
        description="Scopes the map asks for, space-separated; include the API's own scope (Entra ID: "
                    "`api://API-CLIENT-ID/SCOPE`) so that the access token is issued for this API.",
    )
    oidc_leeway_s: float = Field(
        default=60.0, ge=0, le=600, allow_inf_nan=False,
        description="Seconds of clock difference allowed when checking a token's exp and nbf.",
    )
    oidc_jwks_refresh_s: float = Field(
        default=60.0, ge=0, allow_inf_nan=False,
        description="Least seconds between two fetches of the signing keys caused by a token naming an unknown "
                    "key id (a key rotation); tokens naming unknown keys in between are refused unfetched.",
    )
    oidc_jwks_max_age_s: float = Field(
        default=3600.0, gt=0, allow_inf_nan=False,
        description="Seconds the signing keys (and the discovery document) are kept before being fetched again.",
    )
    job_queue_size: PositiveInt = Field(
        default=100, description="Jobs that may wait in the queue; beyond it POST /api/v1/jobs answers 429.",
    )
    job_max_attempts: PositiveInt = Field(
        default=2, description="Runs a job gets when the service stops or its solver worker dies while it runs "
                               "(2: retried once, then failed with the reason).",
    )
    max_queued_jobs_per_tenant: PositiveInt = Field(
        default=20, description="Jobs one tenant may have waiting; beyond it POST /api/v1/jobs answers 429 "
                                "(job_queue_size still bounds all tenants together).",
    )
    max_running_jobs_per_tenant: PositiveInt = Field(
        default=4, description="Jobs one tenant may have running at once over every replica; its further jobs wait "
                               "while other tenants' jobs are claimed (fair shares between councils).",
    )
    replica_id: str | None = Field(
        default=None, min_length=1, max_length=200,
        description="Name of this server process among the service's replicas, written on the jobs it runs "
                    "(lease_owner); unset: host:pid:four random hex digits (e.g. web-1:7:3f9a).",
    )
    job_lease_s: float = Field(
        default=30.0, gt=0, allow_inf_nan=False,
        description="Seconds a replica's claim on a running job lasts unless renewed; a replica that dies loses "
                    "its jobs to the others this long after its last renewal.",
    )
    job_heartbeat_s: float = Field(
        default=10.0, gt=0, allow_inf_nan=False,
        description="Seconds between a replica's renewals of the leases of the jobs it runs (below job_lease_s).",
    )
    job_poll_interval_s: float = Field(
        default=1.0, gt=0, allow_inf_nan=False,
        description="Seconds an idle replica waits between looks at the queue for jobs posted to other replicas "
                    "and leases that have expired (a job posted to it is claimed at once).",
    )
    database_timeout_s: float = Field(
        default=10.0, gt=0, allow_inf_nan=False,
        description="Seconds a database operation waits for a lock (SQLite busy timeout, PostgreSQL lock_timeout) "
                    "or a connection before giving up: a request then answers 503 with Retry-After.",
    )
    database_retry_s: float = Field(
        default=120.0, ge=0, allow_inf_nan=False,
        description="Seconds a solver worker keeps retrying a job's store writes (outcome, plan) while the "
                    "database is locked or unreachable, before handing the job back to be retried.",
    )
    job_progress_interval_s: float = Field(
        default=0.5, gt=0, allow_inf_nan=False,
        description="Seconds between a running job's progress writes to the store.",
    )
    metrics_token: SecretStr | None = Field(
        default=None,
        description="Bearer token a Prometheus scraper presents to GET /metrics (Authorization: Bearer <token>); "
                    "unset or empty: /metrics answers 404 (docs/operations.md, \"Metrics\").",
    )
    host: str = Field(default="127.0.0.1", description="Interface `wasteroute serve` listens on.")
    port: int = Field(default=8000, ge=0, le=65535, description="Port `wasteroute serve` listens on.")
    log_level: LogLevel = Field(default="info", description="Logging level of the service.")
    savings_fuel_l_per_km: float = _savings_factor(
        _SAVINGS.fuel_l_per_km, "litres of diesel a refuse collection vehicle burns per km (docs/savings.md).")
    savings_co2e_kg_per_l: float = _savings_factor(
        _SAVINGS.co2e_kg_per_l, "kg CO2e per litre of diesel (default: DESNZ 2025, average biofuel blend).")
    savings_co2e_source: str = Field(
        default=_SAVINGS.co2e_source, description="Savings reports: where the CO2e factor comes from.")
    savings_cost_fixed_per_vehicle: float = _savings_factor(
        _SAVINGS.cost_fixed_per_vehicle, "GBP per vehicle per collection day.")
    savings_cost_per_km: float = _savings_factor(_SAVINGS.cost_per_km, "GBP per km.")
    savings_cost_per_hour: float = _savings_factor(_SAVINGS.cost_per_hour, "GBP per hour of round.")
    savings_collections_per_year: float = Field(
        default=_SAVINGS.collections_per_year, gt=0, allow_inf_nan=False,
        description="Savings reports: how often the rounds run a year (52 weekly, 26 fortnightly).")
    tile_url: str = Field(
        default="https://tile.openstreetmap.org/{z}/{x}/{y}.png",
        description="Map tile URL template ({z}/{x}/{y}) of the web map's base layer; when its tiles "
                    "cannot be loaded the map draws the road network from the service instead.",
    )
    tile_attribution: str = Field(
        default='&copy; <a href="https://www.openstreetmap.org/copyright">OpenStreetMap</a> contributors',
        description="Attribution (HTML) of the tile layer, shown on the web map.",
    )
    retention_days: PositiveInt = Field(
        default=400,
        description="Days a council's traces (actual days) and problems that no approved plan answers are kept "
                    "before `wasteroute purge` removes them (docs/privacy.md); 400 keeps a year and its "
                    "comparison month.",
    )

    @field_validator("log_level", mode="before")
    @classmethod
    def _lower_case_level(cls, value: object) -> object:
        """Accept ``INFO`` as well as ``info``."""
        return value.lower() if isinstance(value, str) else value

    @field_validator("metrics_token", mode="before")
    @classmethod
    def _empty_token_is_none(cls, value: object) -> object:
        """An empty or blank token (compose's ``${WASTEROUTE_METRICS_TOKEN:-}``) leaves metrics off."""
        return None if isinstance(value, str) and not value.strip() else value

    @field_validator("cors_origins", "busy_highways", "oidc_audience", mode="before")
    @classmethod
    def _split_origins(cls, value: object) -> object:
        """Accept ``a,b`` and ``["a", "b"]`` (JSON) as well as a list; blanks are dropped."""
        if isinstance(value, str):
            text = value.strip()
            if text.startswith("["):
                return json.loads(text)
            return [part.strip() for part in text.split(",") if part.strip()]
        return value

    @field_validator("oidc_role_map", "oidc_tenant_map", mode="before")
    @classmethod
    def _split_pairs(cls, value: object) -> object:
        """Accept ``a=b,c=d`` and ``{"a": "b"}`` (JSON) as well as a mapping."""
        if isinstance(value, str):
            text = value.strip()
            if text.startswith("{"):
                return json.loads(text)
            pairs: dict[str, str] = {}
            for part in (piece.strip() for piece in text.split(",")):
                name, equals, mapped = part.partition("=")
                if not part:
                    continue
                if not equals or not name.strip() or not mapped.strip():
                    raise ValueError(f"{part!r} is not of the form name=value")
                pairs[name.strip()] = mapped.strip()
            return pairs
        return value

    @property
    def searches_per_solve(self) -> int:
        """``search_processes``, or when unset the usable cores shared among ``max_concurrent_solves`` (at least 1)."""
        if self.search_processes is not None:
            return self.search_processes
        return max(1, usable_cores() // self.max_concurrent_solves)

    @model_validator(mode="after")
    def _time_limits_agree(self) -> Self:
        """The default time limit must lie within the maximum."""
        if self.default_time_limit_s > self.max_time_limit_s:
            raise ValueError(
                f"default_time_limit_s ({self.default_time_limit_s}) must not exceed "
                f"max_time_limit_s ({self.max_time_limit_s})"
            )
        if self.job_heartbeat_s >= self.job_lease_s:
            raise ValueError(f"job_heartbeat_s ({self.job_heartbeat_s}) must be less than job_lease_s "
                             f"({self.job_lease_s}): a lease must be renewed before it expires")
        return self

    @model_validator(mode="after")
    def _oidc_complete(self) -> Self:
        """An identity provider needs the audience its tokens are issued for."""
        if self.oidc_issuer and not self.oidc_audience:
            raise ValueError("oidc_audience (WASTEROUTE_OIDC_AUDIENCE) is required when oidc_issuer is set")
        return self


def get_settings(request: Request) -> Settings:
    """FastAPI dependency: the :class:`Settings` the running application was built with."""
    settings: Settings = request.app.state.settings
    return settings
