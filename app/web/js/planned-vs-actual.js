// Planned against actual on the map (issue 18): a day's rounds as the lorries drove them (a stored
// plan of source `actual`, POST /api/v1/actuals with `plan`) beside the plan the crews were meant to
// follow. Per round: the planned line (thin, dashed), the line driven (the matched trace, solid), the
// stretches driven on streets the planned round did not use (thick, red), each in the round's colour,
// and, white dots over them, the stretches no fix shows (filled in by the matcher: a tunnel, a dropout,
// a bin the crew collected off the matched drive), so a planner can tell what the trace shows from
// what was inferred; with a small legend saying which is which.

import { getJson } from './api.js';
import { escapeHtml } from './format.js';
import { colourOf, routesOf } from './plan-layer.js';

const OFF_PLAN_COLOUR = '#C00000';
const FILLED_IN_COLOUR = '#FFFFFF';

/** Why a stretch was filled in, in a planner's words, by the bridge's `reason`. */
const FILLED_IN_WHY = {
  bin: 'filled in: laid through a bin the crew collected, no fix shows it',
  gap: 'filled in: no fixes (tunnel or dropout)',
  jump: 'filled in: no fixes (tunnel or dropout)',
  no_match: 'filled in: the fixes fit no street',
};

/** What a filled-in stretch's tooltip says for `reason` (a reason this page does not know: the gist). */
function filledInWhy(reason) {
  return FILLED_IN_WHY[reason] || 'filled in: no fix shows it';
}

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
 * The stretches of a round `round` (one of `driven_lines`) no fix shows, drawn into `group` as white
 * dots above its line driven, each with a tooltip saying why; their count. Days stored before these
 * were kept have no `filled_in`: none drawn.
 */
function drawFilledIn(group, vehicleId, round) {
  const stretches = (round.filled_in || []).filter((stretch) => stretch.line.length >= 2);
  for (const stretch of stretches) {
    L.polyline(latLngs(stretch.line), {
      pane: 'actualPane', color: FILLED_IN_COLOUR, weight: 3, opacity: 1, dashArray: '1 7', lineCap: 'round',
      className: 'filled-in-line',
    }).bindTooltip(`Round ${vehicleId}: ${filledInWhy(stretch.reason)}`, { sticky: true }).addTo(group);
  }
  return stretches.length;
}

/**
 * The layers of `actual` (a stored plan of source `actual`, with `parameters.driven_lines`) beside
 * `planned` (the plan named when it was posted), on `map`: `{group, bounds, rounds}`, `bounds` those
 * of the lines driven, `rounds` what each round drew (vehicle id -> {driven: points of its line,
 * offPlan: stretches off the plan, filledIn: stretches no fix shows}).
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
    const filledIn = drawFilledIn(group, vehicleId, round);
    rounds.set(vehicleId, { driven: round.line.length, offPlan: round.off_plan.length, filledIn });
  }
  return { group, bounds, rounds };
}

/** The legend's HTML: the four kinds of line, and the plan compared with. */
export function plannedVsActualLegend(plannedId) {
  return '<div class="planned-vs-actual-legend"><strong>Planned against actual</strong>'
    + `<div><span class="key" style="border-top:3px dashed #555"></span> planned (plan ${escapeHtml(plannedId)})</div>`
    + '<div><span class="key" style="border-top:4px solid #555"></span> driven (the lorry\'s trace)</div>'
    + `<div><span class="key" style="border-top:8px solid ${OFF_PLAN_COLOUR}"></span> driven, not in the plan</div>`
    + '<div class="filled-in-key"><span class="key" style="height:4px;background:repeating-linear-gradient(90deg,'
    + `#555 0 4px,${FILLED_IN_COLOUR} 4px 6px)"></span> filled in: no fix shows it (tunnel, dropout, a bin collected)</div>`
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
