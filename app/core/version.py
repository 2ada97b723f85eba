"""The installed package's version."""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version


def service_version() -> str:
    """Version of the installed ``wasteroute`` distribution (``"0+unknown"`` if not installed)."""
    try:
        return version("wasteroute")
    except PackageNotFoundError:
        return "0+unknown"
