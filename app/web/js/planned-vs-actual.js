// Planned against actual on the map (issue 18): a day's rounds as the lorries drove them (a stored
// plan of source `actual`, POST /api/v1/actuals with `plan`) beside the plan the crews were meant to
// follow. Per round: the planned line (thin, dashed), the line driven (the matched trace, solid) and
// the stretches driven on streets the planned round did not use (thick, red), each in the round's
// colour, with a small legend saying which is which.

import { getJson } from './api.js';
import { escapeHtml } from './format.js';
import { colourOf, routesOf } from './plan-layer.js';

const OFF_PLAN_COLOUR = '#C00000';

/** Leaflet's [lat, lon] of GeoJSON's [lon, lat] points. */
function latLngs(coords) {
  return coords.map(([lon, lat]) => [lat, lon]);
}

/** The planned round lines of `planned` (a stored plan's GeoJSON answer), by vehicle id. */
function plannedLines(planned) {
  const out = new Map();
  for (const route of routesOf(planned)) {
    const geometry = route.geometry;
    const lines = geometry.type === 'MultiLineString' ? geometry.coordinates : [geometry.coordinates];
    out.set(route.properties.vehicle_id, lines);
  }
  return out;
}

/**
 * The layers of `actual` (a stored plan of source `actual`, with `parameters.driven_lines`) beside
 * `planned` (the plan named when it was posted), on `map`: `{group, bounds, rounds}`, `bounds` those
 * of the lines driven, `rounds` what each round drew (vehicle id -> {driven: points of its line,
 * offPlan: stretches off the plan}).
 */
export function drawPlannedVsActual(map, actual, planned) {
  if (!map.getPane('actualPane')) {
    map.createPane('actualPane');
    map.getPane('actualPane').style.zIndex = 450; // above the plan's own lines, below its stops
  }
  const driven = (actual.parameters && actual.parameters.driven_lines) || {};
  const meant = plannedLines(planned);
  const vehicleIds = [...new Set([...meant.keys(), ...Object.keys(driven)])].sort();
  const group = L.layerGroup().addTo(map);
  const bounds = L.latLngBounds([]);
  const rounds = new Map();
  for (const vehicleId of vehicleIds) {
    const colour = colourOf(vehicleId, vehicleIds);
    for (const line of meant.get(vehicleId) || []) {
      L.polyline(latLngs(line), {
        pane: 'actualPane', color: colour, weight: 3, opacity: 0.7, dashArray: '6 6', className: 'planned-line',
      }).bindTooltip(`Round ${vehicleId} as planned`, { sticky: true }).addTo(group);
    }
    const round = driven[vehicleId];
    if (!round || round.line.length < 2) continue;
    const line = L.polyline(latLngs(round.line), {
      pane: 'actualPane', color: colour, weight: 4, opacity: 0.9, className: 'driven-line',
    }).bindTooltip(`Round ${vehicleId} as driven`, { sticky: true }).addTo(group);
    bounds.extend(line.getBounds());
    for (const stretch of round.off_plan) {
      L.polyline(latLngs(stretch), {
        pane: 'actualPane', color: OFF_PLAN_COLOUR, weight: 8, opacity: 0.8, className: 'off-plan-line',
      }).bindTooltip(`Round ${vehicleId}: driven, not in the plan`, { sticky: true }).addTo(group);
    }
    rounds.set(vehicleId, { driven: round.line.length, offPlan: round.off_plan.length });
  }
  return { group, bounds, rounds };
}

/** The legend's HTML: the three kinds of line, and the plan compared with. */
export function plannedVsActualLegend(plannedId) {
  return '<div class="planned-vs-actual-legend"><strong>Planned against actual</strong>'
    + `<div><span class="key" style="border-top:3px dashed #555"></span> planned (plan ${escapeHtml(plannedId)})</div>`
    + '<div><span class="key" style="border-top:4px solid #555"></span> driven (the lorry\'s trace)</div>'
    + `<div><span class="key" style="border-top:8px solid ${OFF_PLAN_COLOUR}"></span> driven, not in the plan</div>`
    + '</div>';
}

/**
 * For a stored plan `plan` of source `actual` that names the plan its crews were meant to follow
 * (`parameters.planned_plan_id`), that plan fetched and both drawn on `map`: `{drawn, plannedId}`;
 * null for any other plan.
 */
export async function showPlannedVsActual(map, plan) {
  const plannedId = plan.source === 'actual' && plan.parameters ? plan.parameters.planned_plan_id : null;
  if (!plannedId) return null;
  const planned = await getJson(`/api/v1/plans/${encodeURIComponent(plannedId)}`);
  return { drawn: drawPlannedVsActual(map, plan, planned), plannedId };
}
