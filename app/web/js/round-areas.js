// Each round's area (the concave hull of the streets it serves, widened a little: see
// docs/api.md, "Balance and compactness"), drawn on demand. Shaded lightly in the round's
// colour under the lines, so that a planner sees where rounds reach into each other's
// territory without losing the streets beneath.

import { escapeHtml } from './format.js';

/** The pane of the areas: above the base map and below every round's line. */
const AREA_PANE = 'areasPane';

/** The area layer of one round, or null when its answer carries no area (plans stored before areas existed). */
export function roundArea(map, route, colour, { baseline }) {
  const area = route.properties.compactness?.area;
  if (!area) return null;
  if (!map.getPane(AREA_PANE)) {
    map.createPane(AREA_PANE);
    map.getPane(AREA_PANE).style.zIndex = 405;
  }
  const km2 = route.properties.compactness.area_m2 / 1e6;
  return L.geoJSON(area, {
    pane: AREA_PANE,
    style: () => ({
      color: colour,
      weight: 2,
      opacity: 0.9,
      dashArray: baseline ? '2 5' : '6 4',
      fillColor: colour,
      fillOpacity: 0.12,
      className: `round-area ${baseline ? 'baseline' : 'optimised'}`,
    }),
  }).bindTooltip(`${baseline ? "Today's round" : 'Round'} ${escapeHtml(route.properties.vehicle_id)}: area `
    + `${km2.toFixed(2)} km²`, { sticky: true });
}

/** Whether any round of `drawn` has an area to draw. */
export function hasAreas(drawn) {
  return [...drawn.rounds.values()].some((round) => round.area);
}

/** Draw (`shown` true) or take away the area of every round of `drawn`; a hidden round's area follows its round. */
export function setAreasShown(drawn, shown) {
  drawn.areasShown = shown;
  for (const round of drawn.rounds.values()) {
    if (!round.area) continue;
    if (shown) round.layer.addLayer(round.area);
    else round.layer.removeLayer(round.area);
  }
}

/**
 * The "Show round areas" button, on the map (top right) so that it serves the optimised
 * plan and today's rounds alike; `onClick` toggles. Disabled until a plan with areas is drawn.
 */
export function addAreasControl(map, onClick) {
  const control = L.control({ position: 'topright' });
  control.onAdd = () => {
    const div = L.DomUtil.create('div', 'areas-control leaflet-bar');
    div.innerHTML = '<button type="button" id="toggle-areas" aria-pressed="false" disabled'
      + ' title="No plan drawn yet">Show round areas</button>';
    L.DomEvent.disableClickPropagation(div);
    div.querySelector('button').addEventListener('click', onClick);
    return div;
  };
  control.addTo(map);
}
