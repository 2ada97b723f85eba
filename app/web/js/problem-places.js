// Where the problem's depots and tips are, against its bins: a council's bins uploaded over the
// demo must not be planned from the demo's depot (issue 17: "depot 'depot' is 1151643 m from the
// nearest street"). Pure functions of the problem; main.js shows what they say.

const EARTH_RADIUS_M = 6_371_000;
/** A depot or tip further than this from every bin (metres) is taken for someone else's place. */
export const FAR_M = 50_000;

function metresBetween(a, b) {
  const rad = Math.PI / 180;
  const dLat = (b.lat - a.lat) * rad;
  const dLon = (b.lon - a.lon) * rad;
  const h = Math.sin(dLat / 2) ** 2 + Math.cos(a.lat * rad) * Math.cos(b.lat * rad) * Math.sin(dLon / 2) ** 2;
  return 2 * EARTH_RADIUS_M * Math.asin(Math.min(1, Math.sqrt(h)));
}

/** Metres from `place` to the nearest of `bins` (Infinity without bins). */
function nearestBinM(place, bins) {
  let best = Infinity;
  for (const bin of bins) best = Math.min(best, metresBetween(place, bin));
  return best;
}

const km = (metres) => Math.round(metres / 1000).toLocaleString('en-GB');

/**
 * The problem after a vehicles upload: the uploaded vehicles, the depots they declare, and
 * of the depots already there only those an uploaded vehicle still names (the demo's go).
 * `missing` names each vehicle whose depot has no position at all.
 */
export function withUploadedVehicles(problem, answer) {
  const declared = new Map(answer.depots.map((d) => [d.id, d]));
  for (const depot of problem.depots) {
    if (!declared.has(depot.id) && answer.vehicles.some((v) => v.depot === depot.id)) declared.set(depot.id, depot);
  }
  const missing = answer.vehicles.filter((v) => !declared.has(v.depot)).map(
    (v) => `Vehicle ${v.id}: its depot '${v.depot}' has no position; give depot_lon/depot_lat or `
      + 'depot_easting/depot_northing in the vehicles file.');
  return { problem: { ...problem, vehicles: answer.vehicles, depots: [...declared.values()] }, missing };
}

/**
 * The problem without the tips far from every bin (another place's, such as the demo's), and
 * what to tell the planner: each tip left out, and each depot far from the bins (which blocks
 * optimising until the vehicles file gives the council's own depot).
 */
export function checkPlaces(problem) {
  if (!problem.bins.length) return { problem, notices: [], blocking: [] };
  const sites = problem.disposal_sites || [];
  const far = sites.filter((s) => nearestBinM(s, problem.bins) > FAR_M);
  const notices = far.map((s) => `Tip ${s.id} is ${km(nearestBinM(s, problem.bins))} km from the nearest bin: `
    + 'left out (upload your tips).');
  const blocking = problem.depots.filter((d) => nearestBinM(d, problem.bins) > FAR_M).map(
    (d) => `Depot ${d.id} is ${km(nearestBinM(d, problem.bins))} km from the nearest bin: upload your vehicles `
      + 'with their depot (depot_easting/depot_northing or depot_lon/depot_lat) before optimising.');
  const kept = far.length ? { ...problem, disposal_sites: sites.filter((s) => !far.includes(s)) } : problem;
  return { problem: kept, notices, blocking };
}
