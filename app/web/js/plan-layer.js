// A plan on the map: each round a street-following line in its own colour (Okabe-Ito,
// safe for colour-blind readers) with arrows giving the direction of travel (every 350 m,
// farther apart when zoomed out), its stops numbered in driving order when zoomed in and
// dots in its colour when zoomed out (stops-layer.js; depot, tips and breaks always
// marked apart), popups with the bin, arrival and load, its area on demand
// (round-areas.js), and the unassigned bins with their reasons.

import { escapeHtml, kg } from './format.js';
import { roundArea, setAreasShown } from './round-areas.js';
import { refreshStops, roundStops } from './stops-layer.js';

/** Okabe & Ito's colour-blind-safe palette (yellow last: weak on a light map). */
export const PALETTE = ['#0072B2', '#D55E00', '#009E73', '#CC79A7', '#E69F00', '#56B4E9', '#000000', '#F0E442'];

const ARROW_SPACING_M = 350;
/** Zoomed out, arrows are at least this far apart on the screen: closer, a town's rounds are a carpet of them. */
const ARROW_SPACING_PX = 90;
const EARTH_CIRCUMFERENCE_M = 40075016.686;
const STOP_LABEL = { depot: 'D', disposal: 'T', break: 'B' };

/** Colour of a vehicle: by its place in the problem's fleet, so both plans agree. */
export function colourOf(vehicleId, vehicleIds) {
  const index = vehicleIds.indexOf(vehicleId);
  return PALETTE[(index < 0 ? vehicleIds.length : index) % PALETTE.length];
}

export function routesOf(plan) {
  return plan.features.filter((f) => f.properties.kind === 'route');
}

export function visitsOf(plan, vehicleId) {
  return plan.features
    .filter((f) => f.properties.kind === 'visit' && f.properties.vehicle_id === vehicleId)
    .sort((a, b) => a.properties.sequence - b.properties.sequence);
}

function latLngs(coordinates) {
  return coordinates.map(([lon, lat]) => L.latLng(lat, lon));
}

/** Compass bearing, degrees clockwise from north, from `a` to `b`. */
function bearing(a, b) {
  const toRad = Math.PI / 180;
  const y = Math.sin((b.lng - a.lng) * toRad) * Math.cos(b.lat * toRad);
  const x = Math.cos(a.lat * toRad) * Math.sin(b.lat * toRad)
    - Math.sin(a.lat * toRad) * Math.cos(b.lat * toRad) * Math.cos((b.lng - a.lng) * toRad);
  return (Math.atan2(y, x) / toRad + 360) % 360;
}

/**
 * Metres between arrows at `zoom` for a plan at latitude `lat`: ARROW_SPACING_M, or more
 * when that is under ARROW_SPACING_PX on the screen (Web Mercator: 256-px tiles).
 */
export function arrowSpacingM(zoom, lat) {
  const metresPerPixel = (EARTH_CIRCUMFERENCE_M * Math.cos((lat * Math.PI) / 180)) / 2 ** (zoom + 8);
  return Math.max(ARROW_SPACING_M, ARROW_SPACING_PX * metresPerPixel);
}

/** Arrow markers every `spacing` metres along the line, pointing the way driven. */
function arrows(points, colour, pane, spacing) {
  const markers = [];
  let next = spacing / 2;
  let travelled = 0;
  for (let i = 1; i < points.length; i += 1) {
    const a = points[i - 1];
    const b = points[i];
    const length = a.distanceTo(b);
    while (length > 0 && travelled + length >= next) {
      const t = (next - travelled) / length;
      const at = L.latLng(a.lat + (b.lat - a.lat) * t, a.lng + (b.lng - a.lng) * t);
      const html = `<svg width="12" height="12" viewBox="0 0 10 10" style="transform: rotate(${bearing(a, b).toFixed(0)}deg)">`
        + `<path d="M5 0 L10 10 L5 7 L0 10 Z" fill="${colour}" stroke="#fff" stroke-width="0.8"/></svg>`;
      markers.push(L.marker(at, {
        pane,
        interactive: false,
        keyboard: false,
        icon: L.divIcon({ className: 'direction-arrow', html, iconSize: [12, 12], iconAnchor: [6, 6] }),
      }));
      next += spacing;
    }
    travelled += length;
  }
  return markers;
}

/** A bin's attributes from the council's file (address first), as popup lines. */
function attributeLines(bin) {
  const attributes = bin?.attributes || {};
  const names = Object.keys(attributes).sort((a, b) => (a === 'address' ? -1 : b === 'address' ? 1 : 0));
  return names.map((name) => `<br><span class="attribute">${escapeHtml(name)}: `
    + `${escapeHtml(String(attributes[name]))}</span>`).join('');
}

function stopPopup(visit, binsById = new Map()) {
  const p = visit.properties;
  const title = {
    bin: `Bin <b>${escapeHtml(p.bin_id)}</b>`,
    depot: `Depot <b>${escapeHtml(p.depot_id || '')}</b>`,
    disposal: `Tip <b>${escapeHtml(p.site_id || '')}</b> (unload)`,
    break: 'Crew break',
  }[p.type] || escapeHtml(p.type);
  return `${title}<br>Round ${escapeHtml(p.vehicle_id)}, stop ${p.sequence}`
    + `<br>Arrival <b>${escapeHtml(p.arrival)}</b><br>Load after the stop ${kg(p.load_kg)} kg`
    + (p.type === 'bin' ? attributeLines(binsById.get(p.bin_id)) : '');
}

function stopMarker(visit, colour, { baseline, pane, binsById = new Map() }) {
  const p = visit.properties;
  const label = STOP_LABEL[p.type] || String(p.sequence);
  const classes = ['stop-marker', `stop-${p.type}`, baseline ? 'baseline' : 'optimised'].join(' ');
  const [lon, lat] = visit.geometry.coordinates;
  return L.marker([lat, lon], {
    pane,
    title: p.bin_id || p.site_id || p.depot_id || p.type,
    icon: L.divIcon({
      className: classes,
      html: `<span style="background:${colour}" data-vehicle="${escapeHtml(p.vehicle_id)}"><b>${label}</b></span>`,
      iconSize: [20, 20],
      iconAnchor: [10, 10],
    }),
  }).bindPopup(stopPopup(visit, binsById));
}

/**
 * Draw `plan` on `map`. `vehicleIds` orders the colours; `baseline` draws dashed lines and
 * hollow stops (today's rounds); `areas` draws each round's area at once. Returns
 * {group, rounds: Map(vehicleId -> {layer, bounds, colour, visible, stops, area}), stopsShown,
 * areasShown}; the stops follow the view until :func:`undrawPlan`.
 */
export function drawPlan(map, plan, { vehicleIds, baseline = false, binsById = new Map(), areas = false }) {
  // Lines and their stops in panes of their own, stops above every line, so that a stop is
  // always clickable even where a round's line passes over it.
  const pane = baseline ? 'baselinePane' : 'planPane';
  const stopPane = baseline ? 'baselineStopsPane' : 'planStopsPane';
  for (const [name, zIndex] of [[pane, baseline ? 410 : 420], [stopPane, baseline ? 430 : 440]]) {
    if (!map.getPane(name)) {
      map.createPane(name);
      map.getPane(name).style.zIndex = zIndex;
    }
  }
  // one canvas for every dot of the plan: thousands of them cost one element, not thousands
  const renderer = L.canvas({ pane: stopPane, padding: 0.25 });
  const group = L.layerGroup().addTo(map);
  const rounds = new Map();
  for (const route of routesOf(plan)) {
    const vehicleId = route.properties.vehicle_id;
    const colour = colourOf(vehicleId, vehicleIds);
    const points = latLngs(route.geometry.coordinates);
    const kind = baseline ? 'baseline' : 'optimised';
    const line = L.polyline(points, {
      pane,
      color: colour,
      weight: baseline ? 3 : 4,
      opacity: 0.85,
      dashArray: baseline ? '8 7' : null,
      className: `route-line ${kind}-route`,
    }).bindTooltip(`${baseline ? "Today's round" : 'Round'} ${vehicleId}`, { sticky: true });
    const arrowLayer = L.layerGroup();
    const layer = L.layerGroup([line, arrowLayer]);
    const visits = visitsOf(plan, vehicleId);
    for (const visit of visits.filter((v) => v.properties.type !== 'bin')) {
      layer.addLayer(stopMarker(visit, colour, { baseline, pane: stopPane, binsById }));
    }
    const stops = roundStops(visits.filter((v) => v.properties.type === 'bin'), colour, {
      baseline,
      renderer,
      markerOf: (visit) => stopMarker(visit, colour, { baseline, pane: stopPane, binsById }),
      popupOf: (visit) => stopPopup(visit, binsById),
    });
    layer.addTo(group);
    rounds.set(vehicleId, {
      layer,
      bounds: line.getBounds(),
      colour,
      visible: true,
      stops,
      area: roundArea(map, route, colour, { baseline }),
      arrows: { layer: arrowLayer, draw: (spacing) => arrows(points, colour, pane, spacing) },
    });
  }
  for (const item of plan.unassigned || []) {
    const bin = binsById.get(item.bin_id);
    if (!bin) continue;
    L.circleMarker([bin.lat, bin.lon], {
      pane,
      radius: 7,
      color: '#a40000',
      weight: 2.5,
      fillColor: '#fff',
      fillOpacity: 1,
      className: `unassigned-marker ${baseline ? 'baseline' : 'optimised'}`,
    }).bindPopup(`Bin <b>${escapeHtml(item.bin_id)}</b> not collected<br>Reason: <b>${escapeHtml(item.reason)}</b>`
      + `<br>${escapeHtml(item.detail)}`).addTo(group);
  }
  const drawn = { group, rounds, stopsShown: null, areasShown: false, arrowSpacingM: null };
  const lat = routesOf(plan).length ? L.latLngBounds([...rounds.values()].map((r) => r.bounds)).getCenter().lat : 0;
  drawn.follow = () => {
    refreshArrows(drawn, arrowSpacingM(map.getZoom(), lat));
    refreshStops(map, drawn);
  };
  map.on('moveend', drawn.follow);
  setAreasShown(drawn, areas);
  drawn.follow();
  return drawn;
}

/** Redraw the arrows of every round `spacing` metres apart, unless they are already. */
function refreshArrows(drawn, spacing) {
  if (drawn.arrowSpacingM === spacing) return;
  drawn.arrowSpacingM = spacing;
  for (const round of drawn.rounds.values()) {
    round.arrows.layer.clearLayers();
    for (const arrow of round.arrows.draw(spacing)) round.arrows.layer.addLayer(arrow);
  }
}

/** Take `drawn` off `map` for good (a new plan replaces it). */
export function undrawPlan(map, drawn) {
  map.off('moveend', drawn.follow);
  drawn.group.remove();
}

/** Show or hide one round of a drawn plan (its line, stops and any area drawn). */
export function setRoundVisible(drawn, vehicleId, visible) {
  const round = drawn.rounds.get(vehicleId);
  if (!round) return;
  round.visible = visible;
  if (visible) drawn.group.addLayer(round.layer);
  else drawn.group.removeLayer(round.layer);
  drawn.follow();
}

/** The bins of the problem as small grey dots and its tips as squares (before any plan is drawn). */
/** A bin's tooltip: its id, address when the council's file gave one, weight and size. */
function binTooltip(bin) {
  const attributes = bin.attributes || {};
  const where = attributes.address ? `, ${escapeHtml(String(attributes.address))}` : '';
  const size = attributes.bin_size ? `, ${escapeHtml(String(attributes.bin_size))} L` : '';
  const assisted = attributes.assisted === true ? ', assisted' : '';
  return `Bin ${escapeHtml(bin.id)}${where}, ${kg(bin.demand_kg)} kg${size}${assisted}`;
}

export function drawBins(map, bins, sites = []) {
  const group = L.layerGroup();
  for (const site of sites) {
    L.marker([site.lat, site.lon], {
      icon: L.divIcon({ className: 'stop-marker stop-disposal site-dot', html: '<span style="background:#555"><b>T</b></span>',
        iconSize: [20, 20], iconAnchor: [10, 10] }),
    }).bindTooltip(`Tip ${escapeHtml(site.id)}`).addTo(group);
  }
  for (const bin of bins) {
    L.circleMarker([bin.lat, bin.lon], {
      radius: 3, color: '#444', weight: 1, fillColor: '#bbb', fillOpacity: 0.9, className: 'bin-dot',
    }).bindTooltip(binTooltip(bin)).addTo(group);
  }
  return group.addTo(map);
}

/** A key to the map's symbols, bottom right. */
export function addLegend(map) {
  const legend = L.control({ position: 'bottomright' });
  legend.onAdd = () => {
    const div = L.DomUtil.create('div', 'legend');
    div.innerHTML = '<div><i style="background:#0072B2"></i>Stop: numbered in driving order,'
      + ' a dot when zoomed out</div>'
      + '<div><i style="background:#222;border-radius:2px"></i>D depot · T tip · B break</div>'
      + '<div><i style="background:#fff;border:2.5px solid #a40000"></i>Bin not collected (click: why)</div>'
      + '<div>▲ direction of travel · dashed: today\'s rounds</div>'
      + '<div><i style="background:rgba(0,114,178,0.15);border:2px dashed #0072B2;border-radius:2px"></i>'
      + 'A round\'s area (button "Show round areas")</div>';
    return div;
  };
  legend.addTo(map);
}
