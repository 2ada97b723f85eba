"""The web map's server side: the page and Leaflet served by the service, the base layer's
configuration, the road network as GeoJSON lines, and the demo problem."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
from fastapi.testclient import TestClient

from app.core.config import Settings

REPO = Path(__file__).resolve().parents[3]


def test_index_page_is_served_at_root(app_client: TestClient) -> None:
    """GET / is the map page, loading Leaflet from the service, never a CDN."""
    response = app_client.get("/")
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/html")
    assert "/static/leaflet/leaflet.js" in response.text
    assert "unpkg" not in response.text and "cdn" not in response.text.lower()


def test_leaflet_comes_from_the_xstatic_package(app_client: TestClient) -> None:
    """Leaflet's script, style and marker images are served from xstatic-leaflet."""
    import xstatic.pkg.leaflet

    script = app_client.get("/static/leaflet/leaflet.js")
    assert script.status_code == 200
    assert script.content == (Path(xstatic.pkg.leaflet.BASE_DIR) / "leaflet.js").read_bytes()
    assert app_client.get("/static/leaflet/leaflet.css").status_code == 200
    assert app_client.get("/static/leaflet/images/marker-icon.png").status_code == 200


def test_static_files_cannot_escape_their_folder(app_client: TestClient) -> None:
    """A path climbing out of the static folder answers 404."""
    assert app_client.get("/static/web/..%2F..%2Fconfig.py").status_code == 404
    assert app_client.get("/static/leaflet/../../../../../../etc/passwd").status_code == 404


def test_every_script_of_the_page_is_served(app_client: TestClient) -> None:
    """Each module the page imports exists (a missing one would break the page)."""
    for name in ("main.js", "api.js", "basemap.js", "plan-layer.js", "panel.js", "format.js", "jobs.js", "week.js",
                 "week-request.js"):
        response = app_client.get(f"/static/web/js/{name}")
        assert response.status_code == 200, name
        assert "javascript" in response.headers["content-type"]


def test_tile_layer_defaults_to_openstreetmap_with_attribution(app_client: TestClient) -> None:
    """By default the base layer is OpenStreetMap's tiles, credited to its contributors."""
    config = app_client.get("/api/v1/web/config").json()
    assert config["tile_url"] == Settings.model_fields["tile_url"].default
    assert config["tile_url"].startswith("https://tile.openstreetmap.org/")
    assert "OpenStreetMap" in config["tile_attribution"]
    assert config["osm_credit"] == "© OpenStreetMap contributors"


def test_tile_url_is_configurable(settings: Settings) -> None:
    """WASTEROUTE_TILE_URL sets the tile server (here a council's own)."""
    from app.main import create_app

    custom = settings.model_copy(update={"tile_url": "https://tiles.example.gov.uk/{z}/{x}/{y}.png"})
    client = TestClient(create_app(custom))  # the configuration needs no startup
    assert client.get("/api/v1/web/config").json()["tile_url"] == custom.tile_url


def test_network_is_served_as_simplified_lines(client: TestClient) -> None:
    """GET /api/v1/network gives the loaded network as one MultiLineString, each street once,
    within the network's bounding box."""
    response = client.get("/api/v1/network")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/geo+json")
    document = response.json()
    (feature,) = document["features"]
    lines = feature["geometry"]["coordinates"]
    registry = client.app.state.network_registry  # type: ignore[attr-defined]
    network = registry.get()
    n_streets = int(((network.edge_twin < 0) | (np.arange(network.n_edges) < network.edge_twin)).sum())
    assert len(lines) == n_streets
    west, south, east, north = document["bbox"]
    assert all(west <= lon <= east and south <= lat <= north for line in lines for lon, lat in line)
    assert 7.3 < west < east < 7.6 and 43.6 < south < north < 43.8  # Monaco


def test_network_before_loading_is_503(app_client: TestClient) -> None:
    """Before the network is loaded the endpoint answers 503, not 500."""
    assert app_client.get("/api/v1/network").status_code == 503


def test_demo_problem_is_the_embedded_one(app_client: TestClient) -> None:
    """GET /api/v1/demo gives data/demo_problem.json."""
    response = app_client.get("/api/v1/demo")
    assert response.status_code == 200
    assert response.json() == json.loads((REPO / "data" / "demo_problem.json").read_text(encoding="utf-8"))


def test_config_tells_the_page_that_jobs_and_plans_exist(app_client: TestClient) -> None:
    """The page learns from the configuration that this service runs jobs and stores plans."""
    config = app_client.get("/api/v1/web/config").json()
    assert (config["jobs"], config["plans"]) == (True, True)
