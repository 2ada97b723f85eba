// The side panel's figures: each round's distance, duration, load, bins and trips with
// the totals; the unassigned bins; and the KPI deltas of the optimised plan against
// today's rounds, saying what got better and what got worse.

import { escapeHtml, hoursMinutes, kg, km } from './format.js';
import { routesOf } from './plan-layer.js';

/** Totals of a plan: the summary's figures and the load and trips summed over rounds. */
export function totals(plan) {
  const routes = routesOf(plan).map((r) => r.properties);
  return {
    distance_m: plan.summary.distance_m,
    duration_s: plan.summary.duration_s,
    vehicles: plan.summary.vehicles_used,
    trips: routes.reduce((sum, r) => sum + r.trips, 0),
    load_kg: routes.reduce((sum, r) => sum + r.load_kg, 0),
    bins: plan.summary.bins_served,
    violations: plan.summary.violations || 0,
  };
}

/**
 * Fill the rounds table. `onToggle(vehicleId, visible)` and `onZoom(vehicleId)` are called
 * from each row's checkbox and zoom button.
 */
export function showRounds(table, plan, drawn, { onToggle, onZoom }) {
  table.tHead.innerHTML = '<tr><th></th><th>Round</th><th>km</th><th>Time</th><th>kg</th><th>Bins</th>'
    + '<th>Trips</th><th></th></tr>';
  const body = table.tBodies[0];
  body.replaceChildren();
  for (const route of routesOf(plan)) {
    const p = route.properties;
    const colour = drawn.rounds.get(p.vehicle_id).colour;
    const row = body.insertRow();
    row.className = 'round-row';
    row.dataset.vehicle = p.vehicle_id;
    const violations = (p.violations || []).length
      ? `<div class="violations">${p.violations.length} rule(s) broken: ${escapeHtml(p.violations.map((v) => v.type).join(', '))}</div>`
      : '';
    row.innerHTML = `
      <td><input type="checkbox" class="toggle-round" checked aria-label="Show round ${escapeHtml(p.vehicle_id)}"></td>
      <td><span class="swatch" style="background:${colour}"></span> ${escapeHtml(p.vehicle_id)}${violations}</td>
      <td>${km(p.distance_m)}</td><td>${hoursMinutes(p.duration_s)}</td><td>${kg(p.load_kg)}</td>
      <td>${p.n_bins}</td><td>${p.trips}</td>
      <td><button type="button" class="zoom-round" title="Zoom to round ${escapeHtml(p.vehicle_id)}">Zoom</button></td>`;
    row.querySelector('.toggle-round').addEventListener('change', (event) => {
      row.classList.toggle('hidden-round', !event.target.checked);
      onToggle(p.vehicle_id, event.target.checked);
    });
    row.querySelector('.zoom-round').addEventListener('click', () => onZoom(p.vehicle_id));
  }
  const t = totals(plan);
  table.tFoot.innerHTML = `<tr class="totals-row"><td></td><td>Total (${t.vehicles} vehicles)</td>
    <td>${km(t.distance_m)}</td><td>${hoursMinutes(t.duration_s)}</td><td>${kg(t.load_kg)}</td>
    <td>${t.bins}</td><td>${t.trips}</td><td></td></tr>`;
}

export function showUnassigned(element, plan) {
  const items = plan.unassigned || [];
  if (!items.length) {
    element.innerHTML = '<p class="muted">Every bin is collected.</p>';
    return;
  }
  const rows = items.map((u) => `<li><b>${escapeHtml(u.bin_id)}</b>: ${escapeHtml(u.reason)}`
    + ` <span class="muted">(${escapeHtml(u.detail)})</span></li>`).join('');
  element.innerHTML = `<p><b>${items.length}</b> bin(s) not collected:</p><ul>${rows}</ul>`;
}

const KPIS = [
  { key: 'distance_m', label: 'Distance, km', show: km },
  { key: 'duration_s', label: 'Time, h:mm', show: hoursMinutes },
  { key: 'vehicles', label: 'Vehicles', show: String },
  { key: 'trips', label: 'Trips to the tip', show: String },
];

/** KPI deltas, optimised minus today: lower is better for every one of them. */
export function deltas(optimised, today) {
  const a = totals(optimised);
  const b = totals(today);
  return KPIS.map((kpi) => {
    const change = a[kpi.key] - b[kpi.key];
    const tolerance = kpi.key === 'distance_m' ? 1 : (kpi.key === 'duration_s' ? 1 : 0);
    let verdict = 'same';
    if (change < -tolerance) verdict = 'better';
    else if (change > tolerance) verdict = 'worse';
    return { ...kpi, today: b[kpi.key], optimised: a[kpi.key], change, verdict };
  });
}

export function showDeltas(table, optimised, today) {
  const body = table.tBodies[0];
  body.replaceChildren();
  for (const d of deltas(optimised, today)) {
    const row = body.insertRow();
    row.dataset.kpi = d.key;
    const sign = d.change > 0 ? '+' : (d.change < 0 ? '−' : '±');
    const magnitude = d.show(Math.abs(d.change)).replace(/^−/, '');
    const pct = d.today ? ` (${sign}${Math.abs((100 * d.change) / d.today).toFixed(1)}%)` : '';
    row.innerHTML = `<td>${d.label}</td><td>${d.show(d.today)}</td><td>${d.show(d.optimised)}</td>
      <td class="change">${sign}${magnitude}${pct}</td><td class="verdict ${d.verdict}">${d.verdict}</td>`;
  }
  table.hidden = false;
}
