// Calls to the wasteroute service. Every function resolves to parsed JSON or throws an
// ApiError carrying the HTTP status and the list of messages the service gave.

const KEY_STORE = 'wasteroute.apiKey';

/** The API key of this browser tab (sessionStorage: forgotten when the tab closes). */
export function apiKey() {
  return sessionStorage.getItem(KEY_STORE) || '';
}

export function setApiKey(key) {
  if (key) sessionStorage.setItem(KEY_STORE, key);
  else sessionStorage.removeItem(KEY_STORE);
}

const TOKEN_STORE = 'wasteroute.bearerToken';

/** The access token of a sign-in with the council's account (signin-oidc.js), in this tab only. */
export function bearerToken() {
  return sessionStorage.getItem(TOKEN_STORE) || '';
}

export function setBearerToken(token) {
  if (token) sessionStorage.setItem(TOKEN_STORE, token);
  else sessionStorage.removeItem(TOKEN_STORE);
}

/** Headers of every call: `extra` plus the API key, when there is one, else the signed-in person's token. */
function withKey(extra = {}) {
  const key = apiKey();
  if (key) return { ...extra, 'X-API-Key': key };
  const token = bearerToken();
  return token ? { ...extra, Authorization: `Bearer ${token}` } : extra;
}

export class ApiError extends Error {
  constructor(status, messages) {
    super(messages.join('; '));
    this.status = status;
    this.messages = messages;
  }
}

/** The messages of an error answer: each 422 item's msg, or the detail text. */
function messagesOf(status, body) {
  if (body && Array.isArray(body.detail)) {
    const messages = body.detail.map((item) => item.msg || JSON.stringify(item));
    // An upload's answer lists at most 100 rows; say how many faults there are in all.
    if (body.truncated) messages.push(`${body.fault_count} faults in all: the rows not listed are counted above.`);
    return messages;
  }
  if (body && typeof body.detail === 'string') return [body.detail];
  return [`the service answered ${status}`];
}

async function parse(response) {
  const text = await response.text();
  let body = null;
  try { body = text ? JSON.parse(text) : null; } catch { body = null; }
  if (!response.ok) throw new ApiError(response.status, messagesOf(response.status, body));
  return body;
}

const MAX_RETRY_AFTER_S = 15;

/**
 * fetch, retried once when the service answers 503 with a short Retry-After (it is starting,
 * or replacing a solver worker), as the answer asks.
 */
async function call(url, init) {
  const response = await fetch(url, init);
  const wait = Number(response.headers.get('Retry-After'));
  if (response.status !== 503 || !(wait > 0 && wait <= MAX_RETRY_AFTER_S)) return response;
  await new Promise((resolve) => { setTimeout(resolve, wait * 1000); });
  return fetch(url, init);
}

export async function getJson(url) {
  return parse(await call(url, { headers: withKey({ Accept: 'application/json' }) }));
}

export async function postJson(url, payload) {
  return parse(await call(url, {
    method: 'POST',
    headers: withKey({ 'Content-Type': 'application/json', Accept: 'application/json' }),
    body: JSON.stringify(payload),
  }));
}

/** DELETE `url` (a job: cancel it) and resolve to the answer's JSON. */
export async function deleteJson(url) {
  return parse(await call(url, { method: 'DELETE', headers: withKey({ Accept: 'application/json' }) }));
}

/** GET `url` as text (a CSV), with the API key that a plain link could not send. */
export async function getText(url) {
  const response = await call(url, { headers: withKey() });
  if (!response.ok) await parse(response);
  return response.text();
}

/** POST a file as multipart form data under the field name "file". */
export async function postFile(url, file, fields = {}) {
  const form = new FormData();
  form.append('file', file, file.name);
  for (const [name, value] of Object.entries(fields)) form.append(name, value);
  return parse(await call(url, { method: 'POST', body: form, headers: withKey() }));
}

/** POST JSON and save the answer as a file download (name from Content-Disposition). */
export async function downloadPost(url, payload, fallbackName) {
  const response = await call(url, {
    method: 'POST',
    headers: withKey({ 'Content-Type': 'application/json' }),
    body: JSON.stringify(payload),
  });
  if (!response.ok) await parse(response);
  const disposition = response.headers.get('Content-Disposition') || '';
  const match = /filename="([^"]+)"/.exec(disposition);
  const blob = await response.blob();
  const link = document.createElement('a');
  link.href = URL.createObjectURL(blob);
  link.download = match ? match[1] : fallbackName;
  document.body.appendChild(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(link.href), 10000);
}

/**
 * Fetch a file (with the API key, which a plain link could not send) and open it in a new tab:
 * a page to print, such as a round book. ``payload``, when given, is POSTed as JSON. When the service
 * queues the work instead (202 with a job), ``followJob(jobId)`` resolves to the URL of the job's file.
 */
export async function openFile(url, payload = undefined, followJob = undefined) {
  const tab = window.open('', '_blank');
  const init = payload === undefined ? { headers: withKey() } : {
    method: 'POST', headers: withKey({ 'Content-Type': 'application/json' }), body: JSON.stringify(payload),
  };
  let response = await call(url, init);
  // too large to answer at once (a report of a council's day): the job's file goes in the same tab
  if (response.status === 202 && followJob) {
    try {
      response = await call(await followJob((await response.json()).id), { headers: withKey() });
    } catch (error) {
      if (tab) tab.close();
      throw error;
    }
  }
  if (!response.ok) {
    if (tab) tab.close();
    await parse(response);
  }
  const blob = await response.blob();
  const href = URL.createObjectURL(blob);
  if (tab) tab.location.href = href; else window.location.assign(href);
  setTimeout(() => URL.revokeObjectURL(href), 60000);
}

/** Whether the service refused the call for want of a (valid) API key. */
export function isUnauthorised(error) {
  return error instanceof ApiError && error.status === 401;
}

/** Whether an endpoint exists on this service (false for 404 and 405 answers). */
export function isMissing(error) {
  return error instanceof ApiError && (error.status === 404 || error.status === 405);
}
