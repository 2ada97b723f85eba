// The planners' map page: wires the controls of the side panel to the service and the map.
// State lives in `state`; window.wasteroute exposes it read-only for the browser tests.

import {
  ApiError, downloadPost, getJson, isMissing, isUnauthorised, openFile, postFile, postJson, setApiKey,
} from './api.js';
import { addBaseLayer } from './basemap.js';
import { when } from './format.js';
import { addLegend, drawBins, drawPlan, setRoundVisible, undrawPlan } from './plan-layer.js';
import { addAreasControl, hasAreas, setAreasShown } from './round-areas.js';
import { showDeltas, showRounds, showUnassigned } from './panel.js';
import { pollJob, postFollowingJob } from './jobs.js';
import { checkPlaces, withUploadedVehicles } from './problem-places.js';
import { loadStoredPlan, planLine } from './stored-plans.js';
import { plannedVsActualLegend, showPlannedVsActual } from './planned-vs-actual.js';
import { collectionsNote, roundSetQuery } from './round-set.js';
import { initWeek } from './week.js';
import { forgetToken, initSignIn, signedInWithToken } from './signin-oidc.js';
import { initAudit, showAuditIfAllowed } from './audit.js';
import { canApprove, loadMe, ownPlan, signedIn, signOut } from './signin.js';

const $ = (selector) => document.querySelector(selector);

const state = {
  problem: null,
  plan: null, // the optimised plan (an optimisation answer), or an opened stored plan
  planId: null,
  baseline: null, // today's rounds, evaluated
  baselineBody: null, // today's rounds as an evaluation body (problem and routes), to store them
  baselineId: null, // today's rounds once stored: the savings report's baseline
  view: 'optimised',
  jobsAvailable: false,
  plansAvailable: false,
  jobHistory: [], // status and progress of each poll of the last job (shown by the progress bar)
  areasShown: false, // the rounds' areas drawn (the "Show round areas" button)
};

const map = L.map('map', { preferCanvas: false, zoomControl: true });
map.setView([43.735, 7.42], 14);
let binsLayer = null;
let drawnPlan = null;
let drawnBaseline = null;
// the browser tests read how the stops are drawn and move the map as a planner would
window.wasteroute = {
  state,
  map,
  stopsShown: () => ({ plan: drawnPlan?.stopsShown ?? null, baseline: drawnBaseline?.stopsShown ?? null }),
};

function showErrors(list, messages) {
  list.replaceChildren(...messages.map((m) => {
    const item = document.createElement('li');
    item.textContent = m;
    return item;
  }));
}

function messagesOf(error) {
  return error instanceof ApiError ? error.messages : [String(error.message || error)];
}

/** Vehicle ids in colour order: the problem's fleet, then any other vehicle of `plans`. */
function vehicleIds(...plans) {
  const ids = (state.problem?.vehicles || []).map((v) => v.id);
  for (const plan of plans) {
    for (const f of plan.features) {
      if (f.properties.kind === 'route' && !ids.includes(f.properties.vehicle_id)) ids.push(f.properties.vehicle_id);
    }
  }
  return ids;
}

function binsById() {
  return new Map((state.problem?.bins || []).map((b) => [b.id, b]));
}

// ------------------------------------------------------------------ the problem

function setProblem(problem, origin) {
  state.problem = problem;
  if (binsLayer) binsLayer.remove();
  binsLayer = drawBins(map, problem.bins, problem.disposal_sites || []);
  const limit = problem.options?.time_limit_s;
  if (limit) $('#time-limit').value = Math.min(300, Math.max(1, Math.round(limit)));
  $('#problem-status').textContent = `${origin}: ${problem.bins.length} bins, ${problem.vehicles.length} vehicles, `
    + `${problem.depots.length} depot(s), ${(problem.disposal_sites || []).length} tip(s).`;
  $('#problem-status').dataset.bins = String(problem.bins.length);
  showCollections();
  if (problem.bins.length) map.fitBounds(L.latLngBounds(problem.bins.map((b) => [b.lat, b.lon])), { padding: [20, 20] });
}

/** The round set's note: how often its rounds run a year, and where that figure comes from. */
function showCollections() {
  $('#collections-note').textContent = collectionsNote($('#round-set').value.trim(), state.problem?.bins);
}

async function loadDemo() {
  setProblem(await getJson('/api/v1/demo'), 'Demo problem (Monaco)');
  showErrors($('#upload-errors'), []);
  $('#optimise').disabled = false;
}

/** The upload options the planner set: the CRS of the positions, and (for bins) the bin size table. */
function uploadOptions(kind) {
  const fields = {};
  if ($('#upload-crs').value.trim()) fields.crs = $('#upload-crs').value.trim();
  if (kind === 'bins' && $('#upload-bin-sizes').value.trim()) fields.bin_sizes = $('#upload-bin-sizes').value.trim();
  return fields;
}

async function uploadInto(kind, file) {
  const errors = $('#upload-errors');
  showErrors(errors, []);
  try {
    const answer = await postFile(`/api/v1/uploads/${kind}`, file, uploadOptions(kind));
    let problem = { ...state.problem };
    let missing = [];
    if (kind === 'bins') problem.bins = answer.bins;
    if (kind === 'sites') problem.disposal_sites = answer.disposal_sites;
    if (kind === 'vehicles') ({ problem, missing } = withUploadedVehicles(problem, answer));
    const checked = checkPlaces(problem);
    setProblem(checked.problem, `Uploaded ${file.name}`);
    const blocking = [...missing, ...checked.blocking];
    showErrors(errors, [...checked.notices, ...blocking]);
    $('#optimise').disabled = blocking.length > 0;
  } catch (error) {
    showErrors(errors, [`${file.name} was not loaded:`, ...messagesOf(error)]);
  }
}

// ------------------------------------------------------------------ plans on the map

function applyView() {
  const showPlan = state.view !== 'today';
  const showBaseline = state.view !== 'optimised';
  if (drawnPlan) {
    if (showPlan) drawnPlan.group.addTo(map); else drawnPlan.group.remove();
  }
  if (drawnBaseline) {
    if (showBaseline) drawnBaseline.group.addTo(map); else drawnBaseline.group.remove();
  }
}

/** Draw `plan` as the plan; `colourOrder` (vehicle ids) colours its rounds as other plans' (a week's days). */
function showPlan(plan, { id = null, meta = '', colourOrder = null } = {}) {
  state.plan = plan;
  state.planId = id;
  if (drawnPlan) undrawPlan(map, drawnPlan);
  hidePlannedVsActual();
  if (binsLayer) binsLayer.remove();
  drawnPlan = drawPlan(map, plan, {
    vehicleIds: colourOrder || vehicleIds(plan), binsById: binsById(), areas: state.areasShown,
  });
  showRounds($('#rounds-table'), plan, drawnPlan, {
    onToggle: (vehicleId, visible) => setRoundVisible(drawnPlan, vehicleId, visible),
    onZoom: (vehicleId) => map.fitBounds(drawnPlan.rounds.get(vehicleId).bounds, { padding: [30, 30] }),
  });
  showUnassigned($('#unassigned'), plan);
  showAreasButton();
  $('#plan-section').hidden = false;
  $('#plan-meta').textContent = meta;
  showApproval(plan);
  showReportButton();
  const all = L.latLngBounds([]);
  for (const round of drawnPlan.rounds.values()) all.extend(round.bounds);
  const bins = binsById();
  for (const item of plan.unassigned || []) {
    const bin = bins.get(item.bin_id);
    if (bin) all.extend(L.latLng(bin.lat, bin.lon)); // bins left out are in view too
  }
  if (all.isValid()) map.fitBounds(all, { padding: [20, 20] });
  if (state.baseline) showDeltas($('#deltas'), state.plan, state.baseline);
  applyView();
  document.body.dataset.plan = 'shown';
}

/** The areas button: its words follow the state; it is off for a plan stored before areas were measured. */
function showAreasButton() {
  const button = $('#toggle-areas');
  const available = (drawnPlan && hasAreas(drawnPlan)) || (drawnBaseline && hasAreas(drawnBaseline));
  button.disabled = !available;
  button.title = available
    ? 'Each round\'s territory: the streets it serves, shaded in its colour'
    : 'This plan was stored before rounds\' areas were measured.';
  button.textContent = state.areasShown ? 'Hide round areas' : 'Show round areas';
  button.setAttribute('aria-pressed', String(state.areasShown));
}

function toggleAreas() {
  state.areasShown = !state.areasShown;
  for (const drawn of [drawnPlan, drawnBaseline]) if (drawn) setAreasShown(drawn, state.areasShown);
  showAreasButton();
}

/** Why the signed-in person may not approve `plan` (null: they may), in words. */
function approvalBar(plan) {
  const person = signedIn();
  if (!canApprove()) {
    const who = person ? `${person.name} (${person.roles.join(', ') || 'no role'})` : 'nobody';
    return `Only an approver can approve plans: you are signed in as ${who}.`;
  }
  if (ownPlan(plan)) return 'You stored this plan: another approver must approve it (the four-eyes rule).';
  return null;
}

function showApproval(plan) {
  const status = $('#approval-status');
  const form = $('#approve-form');
  const note = $('#approve-note');
  note.hidden = true;
  if (!state.planId) {
    status.textContent = state.plansAvailable
      ? 'This plan is not stored, so it cannot be approved.'
      : 'Plans are approved once they are stored.';
    status.classList.remove('approved');
    form.hidden = true;
    return;
  }
  const bar = plan.approved_by ? null : approvalBar(plan);
  form.hidden = Boolean(plan.approved_by) || bar !== null;
  if (bar !== null) {
    note.textContent = bar;
    note.hidden = false;
  }
  if (plan.approved_by) {
    status.textContent = `Plan ${state.planId} approved by ${plan.approved_by} on ${when(plan.approved_at)}.`;
    status.classList.add('approved');
  } else {
    status.textContent = `Plan ${state.planId}: ${plan.status || 'not approved yet'}.`;
    status.classList.remove('approved');
  }
}

// ------------------------------------------------------------------ optimising

function optimisationBody() {
  const limit = Number($('#time-limit').value) || 5;
  return { ...state.problem, options: { ...(state.problem.options || {}), time_limit_s: limit } };
}

function setProgress(fraction, text) {
  $('#job-progress').value = Math.round(100 * fraction);
  $('#job-status').textContent = text;
}

async function optimise() {
  const button = $('#optimise');
  button.disabled = true;
  showErrors($('#optimise-errors'), []);
  setProgress(0, 'Starting…');
  try {
    const body = optimisationBody();
    let answer = null;
    if (state.jobsAvailable) {
      try {
        const job = await postJson(`/api/v1/jobs${roundSetQuery($('#round-set').value.trim(), '?')}`, body);
        state.jobHistory = [];
        answer = await pollJob(job.id, (update) => {
          state.jobHistory.push({ status: update.status, progress: update.progress });
          setProgress(update.progress || 0, `${update.status}… ${Math.round(100 * (update.progress || 0))}%`);
        });
      } catch (error) {
        if (!isMissing(error)) throw error;
        state.jobsAvailable = false;
      }
    }
    if (answer === null) {
      $('#job-progress').removeAttribute('value'); // indeterminate while the solve runs
      $('#job-status').textContent = 'optimising…';
      answer = await postJson('/api/v1/optimisations', body);
    }
    setProgress(1, 'succeeded');
    const id = answer.plan_id || null;
    let plan = answer;
    if (id && state.plansAvailable) plan = { ...answer, ...(await getJson(`/api/v1/plans/${encodeURIComponent(id)}`)) };
    showPlan(plan, { id, meta: id ? `Stored as plan ${id}.` : 'Optimised just now (not stored).' });
    refreshPlans();
  } catch (error) {
    setProgress(0, 'failed');
    showErrors($('#optimise-errors'), messagesOf(error));
  } finally {
    button.disabled = false;
  }
}

// ------------------------------------------------------------------ today's rounds

/** What the rounds upload checks today's stops against (the problem's bins and tips), and the day chosen. */
function roundsUploadFields() {
  const fields = {
    bin_ids: JSON.stringify(state.problem.bins.map((b) => b.id)),
    site_ids: JSON.stringify((state.problem.disposal_sites || []).map((s) => s.id)),
  };
  if ($('#rounds-day').value) fields.day = $('#rounds-day').value;
  if ($('#rounds-week').value.trim()) fields.week = $('#rounds-week').value.trim();
  return fields;
}

async function compareWithToday(file) {
  const errors = $('#compare-errors');
  showErrors(errors, []);
  try {
    const { routes } = await postFile('/api/v1/uploads/rounds', file, roundsUploadFields());
    const { options, ...problem } = state.problem;
    // over the service's synchronous limit (a council's whole day) the evaluation is a job to follow
    const evaluated = await postFollowingJob('/api/v1/evaluations', { ...problem, routes });
    state.baselineBody = { ...problem, routes };
    showToday(evaluated, null);
  } catch (error) {
    showErrors(errors, [`${file.name} was not evaluated:`, ...messagesOf(error)]);
  }
}

/** Today's rounds on the map and in their table: `evaluated` (an evaluation answer), stored as plan
 * `id` (null: not stored yet, which the store button offers). */
function showToday(evaluated, id) {
  state.baseline = evaluated;
  state.baselineId = id;
  $('#store-today-row').hidden = !state.plansAvailable;
  $('#store-today').disabled = Boolean(id);
  $('#store-today-status').textContent = id ? `Stored as plan ${id}.`
    : 'Not stored: store them to report the savings against them.';
  showReportButton();
  if (drawnBaseline) undrawPlan(map, drawnBaseline);
  drawnBaseline = drawPlan(map, state.baseline, {
    vehicleIds: vehicleIds(state.baseline), baseline: true, binsById: binsById(), areas: state.areasShown,
  });
  showRounds($('#today-table'), state.baseline, drawnBaseline, {
    onToggle: (vehicleId, visible) => setRoundVisible(drawnBaseline, vehicleId, visible),
    onZoom: (vehicleId) => map.fitBounds(drawnBaseline.rounds.get(vehicleId).bounds, { padding: [30, 30] }),
  });
  $('#today-table').hidden = false;
  showAreasButton();
  $('#view-choice').hidden = false;
  if (state.plan) showDeltas($('#deltas'), state.plan, state.baseline);
  setView('today');
}

/** No today's rounds (a reopened plan whose round set has none): off the map, out of the panel. */
function clearToday() {
  if (drawnBaseline) undrawPlan(map, drawnBaseline);
  drawnBaseline = null;
  Object.assign(state, { baseline: null, baselineBody: null, baselineId: null });
  for (const id of ['#today-table', '#view-choice', '#deltas', '#store-today-row']) $(id).hidden = true;
  setView('optimised');
}

function setView(view) {
  state.view = view;
  const radio = document.querySelector(`input[name="view"][value="${view}"]`);
  if (radio) radio.checked = true;
  applyView();
}

// ------------------------------------------------------------------ stored plans, approval, exports

async function refreshPlans() {
  if (!state.plansAvailable) return;
  const answer = await getJson('/api/v1/plans');
  const plans = Array.isArray(answer) ? answer : (answer.plans || answer.items || []);
  const list = $('#plans-list');
  list.replaceChildren(...plans.map((p) => {
    const item = document.createElement('li');
    item.innerHTML = planLine(p);
    item.querySelector('button').addEventListener('click', () => openPlan(p.id).catch((error) => {
      showErrors($('#optimise-errors'), [`Plan ${p.id} could not be opened:`, ...messagesOf(error)]);
    }));
    return item;
  }));
}

/** Today's rounds stored as a person's plan (named after the day and week chosen), the savings report's baseline. */
async function storeToday() {
  const button = $('#store-today');
  button.disabled = true;
  const day = [$('#rounds-day').value, $('#rounds-week').value.trim() && `week ${$('#rounds-week').value.trim()}`]
    .filter(Boolean).join(', ');
  const name = `Today's rounds${day ? `, ${day}` : ''}`;
  try {
    const answer = await postFollowingJob(`/api/v1/plans?name=${encodeURIComponent(name)}`
      + `${roundSetQuery($('#round-set').value.trim(), '&')}`, state.baselineBody);
    state.baselineId = answer.plan_id || answer.id;
    $('#store-today-status').textContent = `Stored as plan ${state.baselineId} ("${name}").`;
    showReportButton();
    refreshPlans();
  } catch (error) {
    button.disabled = false;
    showErrors($('#compare-errors'), messagesOf(error));
  }
}

/** The savings report button: on for a stored plan once today's rounds are stored too. */
function showReportButton() {
  const button = $('#open-report');
  button.disabled = !(state.planId && state.baselineId && state.planId !== state.baselineId);
  button.title = button.disabled
    ? 'Store today\'s rounds (section 4) to compare this stored plan with them'
    : `Plan ${state.planId} against today's rounds (plan ${state.baselineId}), in a new tab`;
}

/** The savings report of the plan on show against today's rounds stored, in a new tab (docs/savings.md). */
async function openReport() {
  const path = `/api/v1/plans/${encodeURIComponent(state.planId)}/report?baseline=${encodeURIComponent(state.baselineId)}`;
  try {
    await openFile(path, undefined, async (jobId) => {
      await pollJob(jobId, () => {});
      return `/api/v1/jobs/${encodeURIComponent(jobId)}/report?format=html`;
    });
  } catch (error) {
    showErrors($('#optimise-errors'), messagesOf(error));
  }
}

/** A stored plan reopened as it was made: its own problem, today's rounds of its round set, its colours. */
async function openPlan(id) {
  const { plan, problem, today, todayId } = await loadStoredPlan(id);
  $('#round-set').value = plan.round_set || '';
  state.plan = null; // its deltas wait for the plan itself, not the one on show
  setProblem(problem, `Stored plan ${plan.name || id}`);
  showErrors($('#upload-errors'), []);
  $('#optimise').disabled = false;
  if (today) showToday(today, todayId); else clearToday();
  showPlan(plan, { id, meta: `Stored plan ${id}${today ? `, with today's rounds (plan ${todayId})` : ''}.` });
  if (today) setView('both');
  await showActualAgainstPlan(plan);
}

let drawnActual = null; // the lines of a day as driven and of its plan, over an actual day on show

function hidePlannedVsActual() {
  if (drawnActual) drawnActual.group.remove();
  drawnActual = null;
  $('#planned-vs-actual').hidden = true;
  delete document.body.dataset.actual;
}

/** A day as driven (a stored plan of source actual) beside the plan its crews were meant to follow. */
async function showActualAgainstPlan(plan) {
  try {
    const shown = await showPlannedVsActual(map, plan);
    if (!shown) return;
    drawnActual = shown.drawn;
    $('#planned-vs-actual').innerHTML = plannedVsActualLegend(shown.plannedId);
    $('#planned-vs-actual').hidden = false;
    if (drawnActual.bounds.isValid()) map.fitBounds(drawnActual.bounds, { padding: [20, 20] });
    document.body.dataset.actual = 'shown';
  } catch (error) {
    showErrors($('#optimise-errors'), messagesOf(error));
  }
}

/** Approve the stored plan on show as the person signed in (their key names them: no name is typed). */
async function approve(event) {
  event.preventDefault();
  if (!state.planId) return;
  try {
    const answer = await postJson(`/api/v1/plans/${encodeURIComponent(state.planId)}/approve`, {});
    state.plan = { ...state.plan, ...answer, features: state.plan.features };
    showApproval(state.plan);
    refreshPlans();
  } catch (error) {
    // a refusal's message is addressed to the credentials; the person reads the reason alone
    const words = messagesOf(error).map((m) => m.replace(/^header\.Authorization: /, ''));
    $('#approval-status').textContent = error instanceof ApiError && error.status === 403
      ? `Not approved: ${words.join('; ')}` : words.join('; ');
  }
}

/** The round books for crews of the plan on show, opened in a new tab (docs/round_book.md): a stored
 * plan's from the store (its bins' addresses too), else the plan itself posted. */
async function openRoundBooks(format) {
  if (!state.plan) return;
  try {
    if (state.planId) await openFile(`/api/v1/plans/${encodeURIComponent(state.planId)}/book?format=${format}`);
    else await openFile(`/api/v1/round-books?format=${format}`, state.plan);
  } catch (error) {
    showErrors($('#optimise-errors'), messagesOf(error));
  }
}

async function exportPlan(format) {
  if (!state.plan) return;
  try {
    await downloadPost(`/api/v1/exports/${format}`, state.plan, `plan.${format}`);
  } catch (error) {
    showErrors($('#optimise-errors'), messagesOf(error));
  }
}

// ------------------------------------------------------------------ start

function askForKey(message) {
  $('#problem-status').textContent = message;
  $('#key-form').hidden = false;
  $('#api-key').focus();
}

async function useKey(event) {
  event.preventDefault();
  setApiKey($('#api-key').value.trim());
  $('#key-form').hidden = true;
  if (!started) {
    $('#problem-status').textContent = 'Loading the demo problem…';
    begin();
    return;
  }
  // signed in again on a started page (after signing out): the plan on show stays, its approval is re-read
  try {
    await loadMe();
    if (state.plan) showApproval(state.plan);
    if (state.plansAvailable) refreshPlans();
    await showAuditIfAllowed();
  } catch (error) {
    if (!isUnauthorised(error)) throw error;
    askForKey(messagesOf(error).join('; '));
  }
}

function signOutHere() {
  if (signedInWithToken()) {
    forgetToken();
    return;
  }
  signOut();
  $('#audit-section').hidden = true;
  $('#problem-status').textContent = 'Signed out: sign in with an API key to go on.';
  if (state.plan) showApproval(state.plan);
}

async function loadConfig() {
  try {
    return await getJson('/api/v1/web/config');
  } catch (error) {
    if (!isUnauthorised(error)) throw error;
    askForKey(messagesOf(error).join('; '));
    return null;
  }
}

let started = false;

async function start() {
  const config = await loadConfig();
  if (config === null || started) return;
  await loadMe();
  started = true;
  addBaseLayer(map, config, $('#basemap-status'));
  L.control.scale({ imperial: false }).addTo(map);
  addLegend(map);
  $('#bins-file').addEventListener('change', (e) => e.target.files[0] && uploadInto('bins', e.target.files[0]));
  $('#vehicles-file').addEventListener('change', (e) => e.target.files[0] && uploadInto('vehicles', e.target.files[0]));
  $('#sites-file').addEventListener('change', (e) => e.target.files[0] && uploadInto('sites', e.target.files[0]));
  $('#rounds-file').addEventListener('change', (e) => e.target.files[0] && compareWithToday(e.target.files[0]));
  $('#load-demo').addEventListener('click', loadDemo);
  $('#optimise').addEventListener('click', optimise);
  $('#approve-form').addEventListener('submit', approve);
  $('#refresh-plans').addEventListener('click', refreshPlans);
  $('#store-today').addEventListener('click', storeToday);
  $('#open-report').addEventListener('click', openReport);
  $('#round-set').addEventListener('input', showCollections);
  addAreasControl(map, toggleAreas);
  for (const button of document.querySelectorAll('button.round-book')) {
    button.addEventListener('click', () => openRoundBooks(button.dataset.format));
  }
  for (const button of document.querySelectorAll('button.export')) {
    button.addEventListener('click', () => exportPlan(button.dataset.format));
  }
  for (const radio of document.querySelectorAll('input[name="view"]')) {
    radio.addEventListener('change', () => setView(radio.value));
  }
  state.jobsAvailable = config.jobs;
  state.plansAvailable = config.plans;
  await loadDemo();
  if (state.plansAvailable) {
    $('#plans-section').hidden = false;
    await refreshPlans();
  }
  await initWeek({
    problem: () => state.problem,
    showPlan,
    showAreas: () => { if (!state.areasShown) toggleAreas(); },
  });
  await initAudit();
  document.body.dataset.ready = 'true';
}

function begin() {
  start().catch((error) => {
    $('#problem-status').textContent = `The page could not start: ${messagesOf(error).join('; ')}`;
  });
}

$('#key-form').addEventListener('submit', useKey);
$('#sign-out').addEventListener('click', signOutHere);
initSignIn($('#key-form')).then(begin);
