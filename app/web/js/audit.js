// The audit trail on the map (section 6): who created, changed, approved, exported or deleted what,
// and when, newest first, with the filters of GET /api/v1/audit (period, user, action, object), older
// lines a page at a time, and the same lines as a CSV download. The CSV is fetched with the API key
// (a plain link could not send it) and offered as a file, as the week's letters are.

import { ApiError, getJson, getText, isMissing } from './api.js';
import { when } from './format.js';
import { signedIn } from './signin.js';

/** The roles that may read the audit trail (the service's `GET /api/v1/audit` needs one). */
const AUDIT_ROLES = ['approver', 'admin'];

const $ = (selector) => document.querySelector(selector);

/** Lines per page. */
const PAGE = 50;

/** The form's inputs and the query parameter each fills. */
const FILTERS = [
  ['from', '#audit-from'], ['to', '#audit-to'], ['user', '#audit-user'], ['action', '#audit-action'],
  ['subject_type', '#audit-type'], ['subject_id', '#audit-id'],
];

/** What the panel shows, read-only for the browser tests (window.wasteroute.audit). */
const audit = { lines: [], nextCursor: null, downloaded: null };

function messagesOf(error) {
  return error instanceof ApiError ? error.messages : [String(error.message || error)];
}

function showErrors(messages) {
  $('#audit-errors').replaceChildren(...messages.map((message) => {
    const item = document.createElement('li');
    item.textContent = message;
    return item;
  }));
}

/** The filters typed in the form, as query parameters. */
function filters() {
  const params = new URLSearchParams();
  for (const [name, selector] of FILTERS) {
    const value = $(selector).value.trim();
    if (value) params.set(name, value);
  }
  return params;
}

/** One line as a table row: time, user, action, object; its details on hover. */
function row(line) {
  const tr = document.createElement('tr');
  tr.className = 'audit-line';
  tr.dataset.id = String(line.id);
  tr.title = JSON.stringify(line.details);
  for (const text of [when(line.time), line.user, line.action, line.object]) {
    const td = document.createElement('td');
    td.textContent = text;
    tr.append(td);
  }
  return tr;
}

/** Show the newest lines the filters ask for, or with `older` the next page after those shown. */
async function show(older = false) {
  const params = filters();
  params.set('limit', String(PAGE));
  if (older && audit.nextCursor) params.set('cursor', String(audit.nextCursor));
  try {
    const page = await getJson(`/api/v1/audit?${params}`);
    audit.lines = older ? [...audit.lines, ...page.entries] : page.entries;
    audit.nextCursor = page.next_cursor;
    const body = $('#audit-lines tbody');
    if (older) body.append(...page.entries.map(row));
    else body.replaceChildren(...page.entries.map(row));
    $('#audit-older').hidden = !page.next_cursor;
    $('#audit-count').textContent = audit.lines.length
      ? `${audit.lines.length} line(s) shown${page.next_cursor ? '; older ones follow' : ''}`
      : 'No line matches these filters.';
    showErrors([]);
  } catch (error) {
    showErrors(messagesOf(error));
  }
}

/** The lines the filters ask for, as the service's CSV, saved as a file. */
async function downloadCsv() {
  const params = filters();
  params.set('format', 'csv');
  try {
    const csv = await getText(`/api/v1/audit?${params}`);
    const stamp = new Date().toISOString().slice(0, 19).replace(/[-:]/g, '').replace('T', '-');
    const link = document.createElement('a');
    link.href = URL.createObjectURL(new Blob([csv], { type: 'text/csv' }));
    link.download = `audit-${stamp}.csv`;
    document.body.append(link);
    link.click();
    link.remove();
    setTimeout(() => URL.revokeObjectURL(link.href), 10000);
    audit.downloaded = link.download;
    showErrors([]);
  } catch (error) {
    showErrors(messagesOf(error));
  }
}

/**
 * Show the audit section, with the newest lines, when the signed-in person may read the trail; hide it
 * otherwise (a service without the trail, or roles that may not read it). Called again whenever
 * someone else signs in on the page.
 */
export async function showAuditIfAllowed() {
  const section = $('#audit-section');
  const me = signedIn();
  if (me && !AUDIT_ROLES.some((role) => me.roles.includes(role))) {
    // the service would refuse (403): not asking keeps the refusal out of the log and the console
    section.hidden = true;
    return;
  }
  try {
    await getJson('/api/v1/audit?limit=1');
  } catch (error) {
    if (isMissing(error) || (error instanceof ApiError && (error.status === 403 || error.status === 401))) {
      section.hidden = true;
      return;
    }
  }
  section.hidden = false;
  await show();
}

/** Wire the audit section, then show it to those who may read the trail. */
export async function initAudit() {
  if (window.wasteroute) window.wasteroute.audit = audit;
  $('#audit-form').addEventListener('submit', (event) => {
    event.preventDefault();
    show();
  });
  $('#audit-older').addEventListener('click', () => show(true));
  $('#audit-csv').addEventListener('click', downloadCsv);
  await showAuditIfAllowed();
}
