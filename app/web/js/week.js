// The week on the map (section 5): a round review of the loaded problem started and followed
// (progress, cancel) or a finished one opened by id; then a day-and-week selector whose choice
// draws that day's stored rounds (plan section and map, the rounds' areas shaded from the
// review's opening, a round's colour the same on every day), the week's summary table and the day changes as a CSV for the
// letters. The map's URL keeps the review and the day shown (?review=ID&day=tue-A), so a day
// can be bookmarked, sent, or pictured by scripts/screenshot_week_day.py.

import {
  ApiError, deleteJson, getJson, getText, isMissing, postJson,
} from './api.js';
import { escapeHtml, hoursMinutes, km, when } from './format.js';
import { pollJob } from './jobs.js';
import { colourOf, routesOf } from './plan-layer.js';
import { WEEKDAYS, reviewBody } from './week-request.js';

const $ = (selector) => document.querySelector(selector);

const DAY_NAMES = {
  mon: 'Monday', tue: 'Tuesday', wed: 'Wednesday', thu: 'Thursday', fri: 'Friday', sat: 'Saturday', sun: 'Sunday',
};

/** What the week section shows, read-only for the browser tests (window.wasteroute.week). */
const week = {
  reviewId: null,
  review: null, // the review's answer (GET /api/v1/round-reviews/{id})
  colourOrder: [], // every round of the review, in the order that gives each its colour on every day
  day: null, // the day shown, "tue A"
  plan: null, // its stored plan
  jobId: null, // the review job being followed
  jobHistory: [], // status and progress of each poll of that job
};

let hooks = null;
let shownToken = 0;

function showErrors(messages) {
  $('#review-errors').replaceChildren(...messages.map((m) => {
    const item = document.createElement('li');
    item.textContent = m;
    return item;
  }));
}

function messagesOf(error) {
  return error instanceof ApiError ? error.messages : [String(error.message || error)];
}

function setProgress(fraction, text) {
  $('#review-progress').value = Math.round(100 * fraction);
  $('#review-status').textContent = text;
}

const key = (day, label) => `${day} ${label}`;
const percent = (share) => (typeof share === 'number' ? `${(100 * share).toFixed(0)} %` : '–');

// ------------------------------------------------------------------ starting and following a review

/**
 * The table of the vehicles' working days: a row per vehicle of the loaded problem, a box per
 * weekday, all ticked at first (a vehicle works every day of the calendar). Built again when the
 * fleet has changed; the boxes of a fleet already shown keep the planner's choice.
 */
function showVehicleDays() {
  const vehicles = (hooks.problem()?.vehicles || []).map((v) => v.id);
  const table = $('#week-vehicle-days');
  const shown = [...table.tBodies[0].rows].map((row) => row.dataset.vehicle);
  if (shown.length === vehicles.length && shown.every((id, i) => id === vehicles[i])) return;
  const days = WEEKDAYS.slice(0, 6); // the days the calendar's boxes offer
  table.tHead.innerHTML = `<tr><th>Vehicle</th>${days.map((d) => `<th>${DAY_NAMES[d].slice(0, 3)}</th>`).join('')}</tr>`;
  table.tBodies[0].innerHTML = vehicles.map((id) => `<tr data-vehicle="${escapeHtml(id)}"><td>${escapeHtml(id)}</td>`
    + days.map((d) => `<td><input type="checkbox" value="${d}" checked `
      + `aria-label="${escapeHtml(id)} works on ${DAY_NAMES[d]}"></td>`).join('')
    + '</tr>').join('');
}

/** Each vehicle's working days among the calendar's `days`, where the planner left out some. */
function vehicleDays(days) {
  showVehicleDays();
  const chosen = new Map();
  for (const row of $('#week-vehicle-days').tBodies[0].rows) {
    const ticked = [...row.querySelectorAll('input:checked')].map((box) => box.value).filter((d) => days.includes(d));
    if (ticked.length < days.length) chosen.set(row.dataset.vehicle, ticked);
  }
  return chosen;
}

/** The calendar and options the planner chose in the section's form. */
function chosenCalendar() {
  const days = WEEKDAYS.filter((d) => document.querySelector(`input[name="week-day"][value="${d}"]`)?.checked);
  const weeks = $('#week-weeks').value.split(',');
  return {
    calendar: { days, weeks },
    options: {
      time_limit_s: Number($('#week-time-limit').value) || 20,
      day_change_cost: Number($('#week-day-change-cost').value) || 0,
      keep_current_days: $('#week-keep-days').checked,
    },
  };
}

async function startReview() {
  const problem = hooks.problem();
  if (!problem) return;
  const { calendar, options } = chosenCalendar();
  if (!calendar.days.length) {
    showErrors(['Choose at least one working day for the calendar.']);
    return;
  }
  showErrors([]);
  $('#start-review').disabled = true;
  setProgress(0, 'Starting…');
  try {
    const body = reviewBody(problem, calendar, options, vehicleDays(calendar.days));
    const job = await postJson('/api/v1/round-reviews', body);
    $('#review-id').value = job.id;
    await followAndOpen(job.id);
  } catch (error) {
    setProgress(0, 'failed');
    showErrors(messagesOf(error));
  } finally {
    $('#start-review').disabled = false;
  }
}

/** Follow the review job `id` to its end (progress bar, the Cancel button); its review, or null when cancelled. */
async function follow(id) {
  week.jobId = id;
  week.jobHistory = [];
  $('#cancel-review').hidden = false;
  $('#cancel-review').disabled = false;
  try {
    const review = await pollJob(id, (job) => {
      week.jobHistory.push({ status: job.status, progress: job.progress });
      setProgress(job.progress || 0, `Review ${id}: ${job.status}… ${Math.round(100 * (job.progress || 0))}%`);
    });
    setProgress(1, `Review ${id}: succeeded`);
    return review;
  } catch (error) {
    const cancelled = /cancelled/.test(messagesOf(error).join(' '));
    setProgress(0, cancelled ? `Review ${id} cancelled: nothing was stored.` : `Review ${id} failed.`);
    if (cancelled) return null;
    throw error;
  } finally {
    $('#cancel-review').hidden = true;
    week.jobId = null;
    listReviews().catch((error) => showErrors(messagesOf(error)));
  }
}

async function followAndOpen(id) {
  const review = await follow(id);
  if (review) await showReview(id, review);
}

async function cancelReview() {
  if (!week.jobId) return;
  $('#cancel-review').disabled = true;
  $('#review-status').textContent = 'Cancelling…';
  try {
    await deleteJson(`/api/v1/jobs/${encodeURIComponent(week.jobId)}`);
  } catch (error) {
    showErrors(messagesOf(error));
  }
}

// ------------------------------------------------------------------ opening a review

/**
 * Open review `id` (its job: GET /api/v1/jobs/{id}, whose result is the review once it has
 * succeeded), followed first while it still runs; `dayWanted` ("tue A") shown, else the busiest day.
 */
async function openReview(id, dayWanted = null) {
  showErrors([]);
  const job = await getJson(`/api/v1/jobs/${encodeURIComponent(id)}`);
  if (job.kind !== 'review') throw new Error(`${id} is not a round review but a job of kind ${job.kind}`);
  let review = job.result;
  if (job.status === 'queued' || job.status === 'running') review = await follow(id);
  else if (job.status !== 'succeeded') throw new Error(`round review ${id} ${job.status}: ${job.error || 'no reason given'}`);
  if (review) await showReview(id, review, dayWanted);
}

/** Show `review`: the day selector, the week's summary, the letters' link, and a day's rounds. */
async function showReview(id, review, dayWanted = null) {
  week.reviewId = id;
  week.review = review;
  week.colourOrder = roundsOf(review);
  $('#review-id').value = id;
  $('#week-result').hidden = false;
  $('#week-meta').textContent = weekMeta(review);
  showDaySelector(review);
  showSummary(review);
  showUnassigned(review);
  await showLetters(id, review);
  const days = review.days.filter((d) => d.plan_id);
  const wanted = days.find((d) => key(d.day, d.week) === dayWanted) || busiestDay(days);
  hooks.showAreas(); // a week is read by its crews' patches; the map's button hides them again
  if (wanted) await showDay(wanted.day, wanted.week);
  else $('#week-day-rounds').replaceChildren();
}

/** The tenant's succeeded reviews, newest first, offered as the id field's suggestions. */
async function listReviews() {
  try {
    const { jobs } = await getJson('/api/v1/jobs?limit=200');
    $('#review-ids').replaceChildren(...jobs.filter((j) => j.kind === 'review' && j.status === 'succeeded')
      .map((j) => {
        const option = document.createElement('option');
        option.value = j.id;
        option.label = `made ${when(j.created_at)}`;
        return option;
      }));
  } catch (error) {
    if (!isMissing(error)) throw error; // a service without jobs has no reviews to list
  }
}

/** Every round of the review (its vehicles), in a fixed order: a round keeps its colour from day to day. */
function roundsOf(review) {
  const rounds = new Set(review.assignments.map((a) => a.round).filter(Boolean));
  return [...rounds].sort((a, b) => a.localeCompare(b, 'en', { numeric: true }));
}

function busiestDay(days) {
  return days.reduce((best, d) => (!best || d.vehicles_used > best.vehicles_used ? d : best), null);
}

function weekMeta(review) {
  const s = review.summary;
  return `Review ${week.reviewId}: ${s.max_vehicles_per_day} vehicle(s) on the busiest day, `
    + `${km(s.distance_m)} km and ${hoursMinutes(s.duration_s)} h over the week, `
    + `${s.properties_changing_day} household(s) change day.`;
}

// ------------------------------------------------------------------ the day selector and a day

/** The calendar as a grid, a row per week and a column per day: each day a button giving its vehicles. */
function showDaySelector(review) {
  const days = [...new Set(review.days.map((d) => d.day))];
  const weeks = [...new Set(review.days.map((d) => d.week))];
  const byKey = new Map(review.days.map((d) => [key(d.day, d.week), d]));
  const table = $('#week-days');
  table.tHead.innerHTML = `<tr><th>Week</th>${days.map((d) => `<th>${escapeHtml(DAY_NAMES[d] || d).slice(0, 3)}</th>`).join('')}</tr>`;
  table.tBodies[0].replaceChildren(...weeks.map((label) => {
    const row = document.createElement('tr');
    row.innerHTML = `<th>${escapeHtml(label)}</th>`;
    for (const d of days) {
      const day = byKey.get(key(d, label));
      const cell = row.insertCell();
      const button = document.createElement('button');
      button.type = 'button';
      button.className = 'week-day';
      button.dataset.day = key(d, label);
      button.setAttribute('aria-pressed', 'false');
      if (day?.plan_id) {
        button.textContent = String(day.vehicles_used);
        button.title = `${DAY_NAMES[d] || d}, week ${label}: ${day.vehicles_used} round(s), ${km(day.distance_m)} km`;
        button.setAttribute('aria-label', button.title);
        button.addEventListener('click', () => showDay(d, label).catch((e) => showErrors(messagesOf(e))));
      } else {
        button.textContent = '–';
        button.disabled = true;
        button.title = `${DAY_NAMES[d] || d}, week ${label}: nothing to collect`;
      }
      cell.append(button);
    }
    return row;
  }));
}

/** Draw the rounds of `day` of week `label`: its stored plan in the plan section and on the map, areas shaded. */
async function showDay(day, label) {
  const entry = week.review.days.find((d) => d.day === day && d.week === label);
  if (!entry?.plan_id) return;
  const token = ++shownToken;
  const plan = await getJson(`/api/v1/plans/${encodeURIComponent(entry.plan_id)}`);
  if (token !== shownToken) return; // the planner chose another day meanwhile
  week.day = key(day, label);
  week.plan = plan;
  hooks.showPlan(plan, {
    id: entry.plan_id,
    meta: `Round review ${week.reviewId}: ${DAY_NAMES[day] || day}, week ${label} (stored plan ${entry.plan_id}).`,
    colourOrder: week.colourOrder,
  });
  for (const button of document.querySelectorAll('#week-days button.week-day')) {
    button.setAttribute('aria-pressed', String(button.dataset.day === week.day));
  }
  showDayRounds(plan, day, label);
  const address = new URL(window.location.href);
  address.searchParams.set('review', week.reviewId);
  address.searchParams.set('day', `${day}-${label}`);
  window.history.replaceState(null, '', address);
  document.body.dataset.week = week.day;
}

/** The day's rounds in their colours: bins, km, time, area and how far each reaches into the others'. */
function showDayRounds(plan, day, label) {
  const rows = routesOf(plan).map((route) => {
    const p = route.properties;
    const c = p.compactness || {};
    const area = typeof c.area_m2 === 'number' ? (c.area_m2 / 1e6).toFixed(2) : '–';
    return `<tr data-vehicle="${escapeHtml(p.vehicle_id)}">`
      + `<td><span class="swatch" style="background:${colourOf(p.vehicle_id, week.colourOrder)}"></span> `
      + `${escapeHtml(p.vehicle_id)}</td><td>${p.n_bins}</td><td>${km(p.distance_m)}</td>`
      + `<td>${hoursMinutes(p.duration_s)}</td><td>${area}</td><td>${percent(c.overlap_share)}</td></tr>`;
  });
  $('#week-day-rounds').innerHTML = `<table class="figures week-figures">`
    + `<caption>${escapeHtml(DAY_NAMES[day] || day)}, week ${escapeHtml(label)}: its rounds</caption>`
    + '<thead><tr><th>Round</th><th>Bins</th><th>km</th><th>Time</th><th>Area km²</th>'
    + '<th title="Share of the round\'s street length inside other rounds\' areas">Overlap</th></tr></thead>'
    + `<tbody>${rows.join('')}</tbody></table>`;
}

// ------------------------------------------------------------------ the week's figures

/** Households moved onto each day: a change to a day of every week (no week) counts on that day of each week. */
function movedOnto(review) {
  const counts = new Map();
  for (const d of review.days) {
    counts.set(key(d.day, d.week), review.day_changes
      .filter((c) => c.to.day === d.day && (c.to.week === null || c.to.week === undefined || c.to.week === d.week))
      .length);
  }
  return counts;
}

/** The summary table: a row per day (vehicles, km, hours, balance, overlap, households moved), the week's totals below. */
function showSummary(review) {
  const table = $('#week-summary');
  const moved = movedOnto(review);
  table.tBodies[0].innerHTML = review.days.map((d) => {
    const spread = d.balance?.duration_spread;
    const overlap = d.compactness?.mean_overlap_share;
    const name = escapeHtml(key(d.day, d.week));
    const day = d.plan_id ? `<button type="button" class="show-day" title="Draw its rounds">${name}</button>` : name;
    return `<tr data-day="${name}"><td>${day}</td>`
      + `<td>${d.vehicles_used}</td><td>${km(d.distance_m)}</td><td>${hoursMinutes(d.duration_s)}</td>`
      + `<td>${d.plan_id ? percent(spread) : '–'}</td><td>${d.plan_id ? percent(overlap) : '–'}</td>`
      + `<td>${moved.get(key(d.day, d.week))}</td></tr>`;
  }).join('');
  for (const button of table.tBodies[0].querySelectorAll('button.show-day')) {
    const [day, label] = button.closest('tr').dataset.day.split(' ');
    button.addEventListener('click', () => showDay(day, label).catch((e) => showErrors(messagesOf(e))));
  }
  const s = review.summary;
  const worst = s.balance?.duration_spread;
  const worstDay = s.balance?.duration_day ? ` (${escapeHtml(s.balance.duration_day)})` : '';
  table.tFoot.innerHTML = `<tr class="totals-row"><td>Week</td>`
    + `<td title="Vehicles on the busiest day: the fleet to own and crew">${s.max_vehicles_per_day}</td>`
    + `<td>${km(s.distance_m)}</td><td>${hoursMinutes(s.duration_s)}</td>`
    + `<td title="The least balanced day">${percent(worst)}${worstDay}</td><td></td>`
    + `<td title="Households whose collection day changes">${s.properties_changing_day}</td></tr>`;
}

function showUnassigned(review) {
  const list = $('#week-unassigned');
  const items = review.unassigned || [];
  list.replaceChildren(...items.slice(0, 20).map((u) => {
    const item = document.createElement('li');
    const when = u.day ? ` on ${u.day} ${u.week}` : '';
    item.textContent = `Bin ${u.bin_id} not collected${when}: ${u.reason}${u.detail ? ` (${u.detail})` : ''}`;
    return item;
  }));
  if (items.length > 20) {
    const more = document.createElement('li');
    more.textContent = `… and ${items.length - 20} more (GET /api/v1/round-reviews/${week.reviewId} lists them all)`;
    list.append(more);
  }
}

/** The day changes' CSV fetched with the API key and offered as a link (a plain link could not send the key). */
async function showLetters(id, review) {
  const link = $('#week-letters');
  if (link.href.startsWith('blob:')) URL.revokeObjectURL(link.href);
  const csv = await getText(`/api/v1/round-reviews/${encodeURIComponent(id)}/day-changes?format=csv`);
  link.href = URL.createObjectURL(new Blob([csv], { type: 'text/csv' }));
  link.download = `day-changes-${id}.csv`;
  const n = review.day_changes.length;
  $('#week-letters-count').textContent = n
    ? `${n} household(s), one line each: property, address, old and new day and week`
    : 'No household changes day (the file has its header only).';
}

// ------------------------------------------------------------------ start

/**
 * Wire the week section. `context`: `problem()` the loaded problem; `showPlan(plan, {id, meta,
 * colourOrder})` draws a stored plan as the map's plan; `showAreas()` turns the rounds' areas on.
 * Opens the review (and day) the page's URL names, if any.
 */
export async function initWeek(context) {
  hooks = context;
  if (window.wasteroute) window.wasteroute.week = week;
  $('#start-review').addEventListener('click', startReview);
  $('#week-vehicles').addEventListener('toggle', showVehicleDays);
  $('#cancel-review').addEventListener('click', cancelReview);
  $('#open-review-form').addEventListener('submit', (event) => {
    event.preventDefault();
    const id = $('#review-id').value.trim();
    if (id) openReview(id).catch((error) => showErrors(messagesOf(error)));
  });
  await listReviews();
  const params = new URLSearchParams(window.location.search);
  if (params.get('review')) {
    const day = (params.get('day') || '').replace('-', ' ');
    try {
      await openReview(params.get('review'), day || null);
    } catch (error) {
      showErrors(messagesOf(error));
    }
  }
}
