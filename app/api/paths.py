"""The path prefix of the API's first version, stated once."""

from __future__ import annotations

API_V1 = "/api/v1"
"""Every resource of the v1 API lives under this path (:mod:`app.api` applies it)."""
