// Stored plans on the map: their line in the list (round set, day, date, km, vehicles, who approved
// them and when), and a plan reopened as it was made: its own problem (bins, depots, tips, vehicles
// from the store, not the problem loaded), and today's rounds of its round set to compare it with.

import { getJson } from './api.js';
import { escapeHtml, km, when } from './format.js';

const WEEKDAYS = ['Monday', 'Tuesday', 'Wednesday', 'Thursday', 'Friday', 'Saturday', 'Sunday'];

/** The weekday a plan is for, as its round set or its name says ("oakham/refuse/tuesday", "Today's
 * rounds, Tuesday, week 1"); null when neither names one. */
export function dayOf(plan) {
  const words = `${plan.round_set || ''} ${plan.name || ''}`.toLowerCase().split(/[^a-z]+/);
  return WEEKDAYS.find((day) => words.includes(day.toLowerCase())) || null;
}

/** The list's line of plan `p` (a GET /api/v1/plans item), with its Open button, as HTML. */
export function planLine(p) {
  const s = p.summary;
  const facts = [p.source, p.round_set && `round set ${p.round_set}`, dayOf(p),
    p.created_at && `made ${when(p.created_at)}`];
  if (s) {
    facts.push(`${km(s.distance_m)} km, ${s.vehicles_used} vehicle${s.vehicles_used === 1 ? '' : 's'}, `
      + `${s.bins_served} bins`);
  }
  facts.push(p.status);
  if (p.approved_by) facts.push(`approved by ${p.approved_by} on ${when(p.approved_at)}`);
  const title = p.name ? `${p.name} (${p.id})` : p.id;
  return `<button type="button" class="open-plan" data-id="${escapeHtml(p.id)}">Open</button> ${escapeHtml(title)}`
    + facts.filter(Boolean).map((f) => ` · ${escapeHtml(f)}`).join('');
}

/** Person's plans (source manual) other than `plan`, newest first, those stored before it first. */
function candidates(plans, plan) {
  const manual = plans.filter((p) => p.source === 'manual' && p.id !== plan.id);
  return [...manual.filter((p) => p.created_at <= plan.created_at), ...manual.filter((p) => p.created_at > plan.created_at)];
}

/** Whether two problems have the same bins (by id). */
function sameBins(a, b) {
  const ids = (problem) => (problem.bins || []).map((bin) => bin.id).sort().join('\n');
  return ids(a) === ids(b);
}

/** How many person's plans of no round set are looked into for the same bins (each costs a request). */
const UNNAMED_LOOKS = 5;

/**
 * The id of today's rounds for `plan` (of `problem`): the person's plans of its round set other than
 * itself, the newest one stored before it if any, else the newest. A plan of no round set (or whose
 * round set has no person's plan: today's rounds stored before the round set was typed) takes the
 * newest person's plan of no round set (of the last few) on the same bins. Null for a person's plan,
 * or when none is found.
 */
async function todaysRoundsId(plan, problem) {
  if (plan.source === 'manual') return null;
  if (plan.round_set) {
    const answer = await getJson(`/api/v1/plans?round_set=${encodeURIComponent(plan.round_set)}&limit=1000`);
    const found = (candidates(answer.plans, plan)[0] || {}).id;
    if (found) return found;
  }
  const answer = await getJson('/api/v1/plans?limit=100');
  for (const other of candidates(answer.plans, plan).filter((p) => !p.round_set).slice(0, UNNAMED_LOOKS)) {
    if (sameBins(problem, await getJson(`/api/v1/plans/${encodeURIComponent(other.id)}/problem`))) return other.id;
  }
  return null;
}

/**
 * Stored plan `id` with what the map shows it with: `{plan, problem, today, todayId}`: the plan
 * (GeoJSON answer and store fields), its own problem (GET /api/v1/plans/{id}/problem), and today's
 * rounds of its round set (or, without one, on its bins) as stored (an evaluation answer) with their
 * plan id, or nulls.
 */
export async function loadStoredPlan(id) {
  const path = `/api/v1/plans/${encodeURIComponent(id)}`;
  const [plan, problem] = await Promise.all([getJson(path), getJson(`${path}/problem`)]);
  const todayId = await todaysRoundsId(plan, problem);
  const today = todayId ? await getJson(`/api/v1/plans/${encodeURIComponent(todayId)}`) : null;
  return { plan, problem, today, todayId };
}
