// A round's bin stops, drawn so that a planner can read them at any zoom. Thousands of
// numbered markers at town zoom overlap into blobs and slow the page, so below
// NUMBERED_MIN_ZOOM the stops are light dots in the round's colour on one canvas (a
// round reads as a coloured territory); once zoomed in, or when few stops are in view,
// they are numbered markers in driving order, and only those in view are in the page.
// Depot, tip and break markers are few and always drawn (see plan-layer.js).

/** From this zoom (about 0.4 m a pixel in Britain) every stop in view is numbered. */
export const NUMBERED_MIN_ZOOM = 18;
/** Below it, stops are numbered while at most this many are in view: their 20-px markers then rarely overlap. */
export const NUMBERED_MAX_IN_VIEW = 150;
/** Share of the view's size added on each side, so that a short pan shows markers already drawn. */
const VIEW_PADDING = 0.25;

const DOT_RADIUS_PX = 4;

/**
 * The stops of one round. `visits` are its bin visits; `markerOf(visit)` makes a visit's
 * numbered marker (made when first needed); `popupOf(visit)` gives a dot's popup HTML;
 * `renderer` is the plan's canvas renderer. Returns {dots, numbered, stops}: two layer
 * groups (at most one of them in the round's layer at a time) and the stops themselves.
 */
export function roundStops(visits, colour, { baseline, renderer, markerOf, popupOf }) {
  const stops = visits.map((visit) => {
    const [lon, lat] = visit.geometry.coordinates;
    return { visit, latLng: L.latLng(lat, lon), marker: null };
  });
  // today's rounds keep their hollow look: a white dot ringed in the round's colour
  const dots = L.layerGroup(stops.map(({ visit, latLng }) => L.circleMarker(latLng, {
    renderer,
    radius: DOT_RADIUS_PX,
    color: baseline ? colour : '#fff',
    weight: baseline ? 2 : 1,
    fillColor: baseline ? '#fff' : colour,
    fillOpacity: 1,
  }).bindPopup(() => popupOf(visit))));
  return { dots, numbered: L.layerGroup(), stops, markerOf };
}

/** How the stops of `drawn` should be shown in `map`'s current view: 'numbered' or 'dots'. */
export function stopsMode(map, drawn) {
  if (map.getZoom() >= NUMBERED_MIN_ZOOM) return 'numbered';
  const view = map.getBounds();
  let inView = 0;
  for (const round of drawn.rounds.values()) {
    if (!round.visible) continue;
    for (const stop of round.stops.stops) {
      if (view.contains(stop.latLng)) {
        inView += 1;
        if (inView > NUMBERED_MAX_IN_VIEW) return 'dots';
      }
    }
  }
  return 'numbered';
}

/**
 * Show the stops of every round of `drawn` as dots or numbered markers, as the view asks
 * (see the module comment). Called after each move and zoom and when a round is shown.
 */
export function refreshStops(map, drawn) {
  const mode = stopsMode(map, drawn);
  const near = map.getBounds().pad(VIEW_PADDING);
  let numbered = 0;
  let dots = 0;
  for (const round of drawn.rounds.values()) {
    const { layer } = round;
    const { dots: dotLayer, numbered: markers, stops, markerOf } = round.stops;
    if (mode === 'dots') {
      markers.clearLayers();
      if (!layer.hasLayer(dotLayer)) layer.addLayer(dotLayer);
      if (round.visible) dots += stops.length;
      continue;
    }
    if (layer.hasLayer(dotLayer)) layer.removeLayer(dotLayer);
    if (!layer.hasLayer(markers)) layer.addLayer(markers);
    for (const stop of stops) {
      const wanted = near.contains(stop.latLng);
      if (wanted && !stop.marker) stop.marker = markerOf(stop.visit);
      if (wanted && !markers.hasLayer(stop.marker)) markers.addLayer(stop.marker);
      if (!wanted && stop.marker && markers.hasLayer(stop.marker)) markers.removeLayer(stop.marker);
    }
    if (round.visible) numbered += markers.getLayers().length;
  }
  drawn.stopsShown = { mode, numbered, dots };
  return drawn.stopsShown;
}
