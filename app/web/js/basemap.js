// The base layer: map tiles from the configured server (OpenStreetMap by default), and,
// when tiles cannot be loaded (no internet, a council firewall), the road network drawn
// from the service itself, so that the map is never blank. The OpenStreetMap credit is
// always shown.

import { getJson } from './api.js';

const OSM_CREDIT_HTML = '© <a href="https://www.openstreetmap.org/copyright">OpenStreetMap</a> contributors';

function textOf(html) {
  const div = document.createElement('div');
  div.innerHTML = html;
  return div.textContent || '';
}

/**
 * Add the base layer to `map` as `config` (from /api/v1/web/config) says. Resolves once
 * the tile layer is added; the network layer follows on the first tile error.
 * Returns a promise-bearing object: `networkDrawn` resolves when the fallback is drawn.
 */
export function addBaseLayer(map, config, statusElement) {
  map.attributionControl.addAttribution(OSM_CREDIT_HTML);
  let drawing = null;
  const drawNetwork = () => {
    if (drawing) return drawing;
    statusElement.hidden = false;
    statusElement.textContent = 'Map tiles unreachable: drawing the road network from the service.';
    map.createPane('networkPane');
    map.getPane('networkPane').style.zIndex = 250;
    drawing = getJson('/api/v1/network').then((network) => {
      L.geoJSON(network, {
        pane: 'networkPane',
        interactive: false,
        style: { color: '#8a8f98', weight: 1.4, opacity: 0.9, className: 'network-line' },
      }).addTo(map);
      statusElement.textContent = 'Map tiles unreachable: showing the road network from the service.';
      return network;
    });
    return drawing;
  };
  if (config.tile_url) {
    // The OSM credit is on the map already; a tile attribution saying the same is not repeated.
    const repeatsCredit = textOf(config.tile_attribution).includes('OpenStreetMap contributors');
    const tiles = L.tileLayer(config.tile_url, {
      maxZoom: 19,
      attribution: repeatsCredit ? '' : config.tile_attribution,
    });
    tiles.once('tileerror', drawNetwork);
    tiles.addTo(map);
  } else {
    drawNetwork();
  }
  return { drawNetwork };
}
