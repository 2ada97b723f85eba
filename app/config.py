"""The service's configuration: one :class:`Settings` class read from the environment.

Every variable carries the prefix ``WASTEROUTE_`` (``WASTEROUTE_NETWORK_FILE``,
``WASTEROUTE_DATA_DIR``, ...). Nothing here touches the disk or reads the
environment at import time: a :class:`Settings` is built by :func:`app.main.create_app`
or by the command line, and reaches request handlers through :func:`get_settings`.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal, Self

from pydantic import Field, PositiveInt, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict
from starlette.requests import Request

EMBEDDED_NETWORK_NAME = "monaco.osm.pbf"
"""File name of the small real road network shipped in the repository's ``data/``."""

LogLevel = Literal["critical", "error", "warning", "info", "debug"]


def default_network_file() -> Path:
    """Locate the embedded road network ``data/monaco.osm.pbf``.

    Looks beside the source tree first (``<repo>/data``, which is where an editable
    install and a checkout find it), then under the current directory's ``data/``.
    When neither exists the source-tree path is returned, so that the error raised
    when the network is loaded names the place it was expected.
    """
    source_tree = Path(__file__).resolve().parent.parent / "data" / EMBEDDED_NETWORK_NAME
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
        description="SQLAlchemy URL of the store (default: a SQLite file in data_dir); not used yet.",
    )
    snap_limit_m: float = Field(
        default=200.0, gt=0, allow_inf_nan=False,
        description="Metres a bin or depot may lie from the nearest street before it is reported off-network.",
    )
    default_time_limit_s: float = Field(
        default=5.0, gt=0, allow_inf_nan=False,
        description="Solver time limit in seconds when a request gives none.",
    )
    max_time_limit_s: float = Field(
        default=300.0, gt=0, allow_inf_nan=False,
        description="Largest solver time limit in seconds a request may ask for.",
    )
    max_concurrent_solves: PositiveInt = Field(
        default=2, description="Solver worker processes: solves that run at once; further requests wait their turn.",
    )
    host: str = Field(default="127.0.0.1", description="Interface `wasteroute serve` listens on.")
    port: int = Field(default=8000, ge=0, le=65535, description="Port `wasteroute serve` listens on.")
    log_level: LogLevel = Field(default="info", description="Logging level of the service.")

    @field_validator("log_level", mode="before")
    @classmethod
    def _lower_case_level(cls, value: object) -> object:
        """Accept ``INFO`` as well as ``info``."""
        return value.lower() if isinstance(value, str) else value

    @model_validator(mode="after")
    def _time_limits_agree(self) -> Self:
        """The default time limit must lie within the maximum."""
        if self.default_time_limit_s > self.max_time_limit_s:
            raise ValueError(
                f"default_time_limit_s ({self.default_time_limit_s}) must not exceed "
                f"max_time_limit_s ({self.max_time_limit_s})"
            )
        return self


def get_settings(request: Request) -> Settings:
    """FastAPI dependency: the :class:`Settings` the running application was built with."""
    settings: Settings = request.app.state.settings
    return settings
