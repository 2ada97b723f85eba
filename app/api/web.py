"""The planners' web map: ``GET /``, its static files (Leaflet from the ``xstatic-leaflet``
package, no CDN), and what the page needs from the service besides the v1 API:

- ``GET /api/v1/web/config``: the base layer's tile URL template and attribution;
- ``GET /api/v1/network``: the loaded road network as simplified GeoJSON lines, drawn
  as the base layer when no tile server is reachable (computed once, then cached);
- ``GET /api/v1/demo``: the embedded demo problem (``data/demo_problem.json``).

:data:`router` holds the page and its files at their own paths; :data:`api_router` holds
the three calls above, included under ``/api/v1`` by :mod:`app.api` (which lists the
uploads and exports, the map's other calls, under "web map" too).
"""

from __future__ import annotations

import json
import threading
from pathlib import Path
from typing import TYPE_CHECKING

import anyio
import numpy as np
import shapely
import xstatic.pkg.leaflet
from fastapi import APIRouter, HTTPException
from fastapi.responses import FileResponse, Response
from pydantic import BaseModel
from starlette.requests import Request
from starlette.routing import NoMatchFound

from app.api.deps import NetworkRegistryDep, SettingsDep
from app.api.principal import VIEWER
from app.api.roles import needs
from app.schemas import OSM_ATTRIBUTION

if TYPE_CHECKING:
    from solver.network import RoadNetwork

WEB_DIR = Path(__file__).resolve().parent.parent / "web"
"""The page's own files: ``index.html``, ``js/``, ``css/``."""

LEAFLET_DIR = Path(xstatic.pkg.leaflet.BASE_DIR)
"""Leaflet as shipped by the ``xstatic-leaflet`` package."""

DEMO_PROBLEM = Path(__file__).resolve().parent.parent.parent / "data" / "demo_problem.json"
"""The demo problem on the embedded Monaco network."""

SIMPLIFY_M = 2.0
"""Tolerance, metres, of the simplification of street lines for the fallback base layer."""

COORDINATE_DECIMALS = 6
"""Decimals kept in the network's positions: 1e-6 degree is about 0.1 m."""

OSM_CREDIT = "© OpenStreetMap contributors"
"""Shown on the map at all times: the road data is OpenStreetMap's (ODbL)."""

router = APIRouter(tags=["web map"])
api_router = APIRouter(tags=["web map"])

_network_lock = threading.Lock()


class WebConfig(BaseModel):
    """What the map page is configured with."""

    tile_url: str
    tile_attribution: str
    osm_credit: str
    attribution: str
    jobs: bool
    plans: bool


def _file_in(folder: Path, relative: str) -> FileResponse:
    """The file ``relative`` inside ``folder``; 404 for anything else (no escaping the folder)."""
    path = (folder / relative).resolve()
    if not path.is_relative_to(folder.resolve()) or not path.is_file():
        raise HTTPException(status_code=404, detail=f"no file {relative!r}")
    return FileResponse(path)


@router.get("/", include_in_schema=False)
async def index() -> FileResponse:
    """The map page."""
    return _file_in(WEB_DIR, "index.html")


@router.get("/static/web/{path:path}", include_in_schema=False)
async def web_file(path: str) -> FileResponse:
    """The page's scripts and styles."""
    return _file_in(WEB_DIR, path)


@router.get("/static/leaflet/{path:path}", include_in_schema=False)
async def leaflet_file(path: str) -> FileResponse:
    """Leaflet's script, style sheet and images, from the ``xstatic-leaflet`` package."""
    return _file_in(LEAFLET_DIR, path)


@api_router.get("/web/config", response_model=WebConfig, summary="The web map's configuration",
                **needs(VIEWER))
async def read_web_config(settings: SettingsDep, request: Request) -> WebConfig:
    """Tile URL template and attribution of the base layer (``WASTEROUTE_TILE_URL``,
    ``WASTEROUTE_TILE_ATTRIBUTION``), the OpenStreetMap credit always shown, and whether
    this service runs optimisation jobs (``/api/v1/jobs``) and stores plans (``/api/v1/plans``)."""
    return WebConfig(tile_url=settings.tile_url, tile_attribution=settings.tile_attribution,
                     osm_credit=OSM_CREDIT, attribution=OSM_ATTRIBUTION,
                     jobs=_has_route(request, "create_job"), plans=_has_route(request, "list_plans"))


def _has_route(request: Request, name: str) -> bool:
    """Whether the application has a route whose endpoint is named ``name``."""
    try:
        request.app.url_path_for(name)
    except NoMatchFound:
        return False
    return True


def network_lines(network: RoadNetwork) -> dict[str, object]:
    """The street network as one GeoJSON MultiLineString feature, each street once, simplified.

    A two-way street is drawn once (its twin edge is skipped); lines are simplified to
    :data:`SIMPLIFY_M` metres in the network's metric projection, then written in WGS84.
    """
    indices = np.arange(network.n_edges)
    keep = (network.edge_twin < 0) | (indices < network.edge_twin)
    lines = shapely.simplify(network.edge_xy[keep], SIMPLIFY_M, preserve_topology=False)
    coords, owner = shapely.get_coordinates(lines, return_index=True)
    lon, lat = network.to_lonlat().transform(coords[:, 0], coords[:, 1])
    positions = np.round(np.column_stack([lon, lat]), COORDINATE_DECIMALS)
    starts = np.flatnonzero(np.r_[True, owner[1:] != owner[:-1]])
    parts = [part.tolist() for part in np.split(positions, starts[1:]) if len(part) >= 2]
    west, south = positions.min(axis=0).tolist()
    east, north = positions.max(axis=0).tolist()
    return {
        "type": "FeatureCollection",
        "bbox": [west, south, east, north],
        "features": [{"type": "Feature", "geometry": {"type": "MultiLineString", "coordinates": parts},
                      "properties": {"name": network.name, "streets": len(parts)}}],
        "attribution": OSM_ATTRIBUTION,
    }


_network_json: dict[int, tuple[RoadNetwork, bytes]] = {}
"""Network lines as JSON, by ``id`` of the network (which the entry keeps alive)."""


def _cached_network_json(network: RoadNetwork) -> bytes:
    """The network's lines as JSON bytes, computed at the first call for this network."""
    with _network_lock:
        entry = _network_json.get(id(network))
        if entry is None:
            entry = (network, json.dumps(network_lines(network), separators=(",", ":")).encode())
            _network_json[id(network)] = entry
        return entry[1]


@api_router.get("/network", summary="The road network as GeoJSON lines",
            responses={200: {"content": {"application/geo+json": {}}}}, **needs(VIEWER))
async def read_network(registry: NetworkRegistryDep) -> Response:
    """The loaded road network as a GeoJSON FeatureCollection of one MultiLineString, each
    street once, simplified to a couple of metres; the web map's base layer when no tile
    server is reachable. 503 until the network is loaded."""
    body = await anyio.to_thread.run_sync(_cached_network_json, registry.get())
    return Response(content=body, media_type="application/geo+json",
                    headers={"Cache-Control": "public, max-age=3600"})


@api_router.get("/demo", summary="The demo problem", **needs(VIEWER))
async def read_demo() -> Response:
    """The embedded demo problem: an optimisation body for the Monaco network (4 vehicles, 320 bins)."""
    if not DEMO_PROBLEM.is_file():
        raise HTTPException(status_code=404, detail=f"the demo problem {DEMO_PROBLEM.name} is not installed")
    return Response(content=DEMO_PROBLEM.read_bytes(), media_type="application/json")
