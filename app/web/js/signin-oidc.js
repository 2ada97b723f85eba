// Sign-in with the council's identity provider: OpenID Connect's authorization code flow with PKCE,
// the map being a public client (docs/security.md says why). The browser goes to the provider, comes
// back to this page with a one-time code, trades it (with the PKCE verifier only this tab knows) for
// tokens at the provider's token endpoint, and keeps the access token in this tab's sessionStorage;
// api.js sends it as `Authorization: Bearer` when no API key was typed in.

import { apiKey, bearerToken, getJson, setBearerToken } from './api.js';

const FLOW_STORE = 'wasteroute.oidcFlow'; // state, nonce and PKCE verifier of a sign-in under way
const NAME_STORE = 'wasteroute.oidcName'; // who signed in, from the ID token, to show
const EXPIRY_MARGIN_S = 30;

function base64url(bytes) {
  let text = '';
  for (const byte of new Uint8Array(bytes)) text += String.fromCharCode(byte);
  return btoa(text).replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, '');
}

/** A fresh random string of `bytes` random bytes (base64url): states, nonces, PKCE verifiers. */
function randomString(bytes = 32) {
  return base64url(crypto.getRandomValues(new Uint8Array(bytes)));
}

/** The PKCE S256 challenge of `verifier` (RFC 7636). */
async function challengeOf(verifier) {
  return base64url(await crypto.subtle.digest('SHA-256', new TextEncoder().encode(verifier)));
}

/** The claims of a JWT, read without checking it (only to show a name and know an expiry), or null. */
function claimsOf(token) {
  try {
    const part = token.split('.')[1].replace(/-/g, '+').replace(/_/g, '/');
    return JSON.parse(new TextDecoder().decode(Uint8Array.from(atob(part), (c) => c.charCodeAt(0))));
  } catch {
    return null;
  }
}

/** This page's address as the provider must send the browser back to it (registered there). */
function redirectUri() {
  return `${window.location.origin}${window.location.pathname}`;
}

async function signIn(config) {
  const flow = { state: randomString(), nonce: randomString(), verifier: randomString(), redirectUri: redirectUri(),
    clientId: config.client_id, tokenEndpoint: config.token_endpoint };
  sessionStorage.setItem(FLOW_STORE, JSON.stringify(flow));
  const url = new URL(config.authorization_endpoint);
  url.search = new URLSearchParams({
    response_type: 'code', client_id: flow.clientId, redirect_uri: flow.redirectUri, scope: config.scopes.join(' '),
    state: flow.state, nonce: flow.nonce, code_challenge: await challengeOf(flow.verifier),
    code_challenge_method: 'S256',
  }).toString();
  window.location.assign(url.toString());
}

/**
 * When the provider has just sent the browser back (?code=...&state=...), trade the code for tokens and
 * keep the access token. Resolves to false when there was nothing to finish; throws when sign-in failed.
 */
async function finishSignIn() {
  const answer = new URLSearchParams(window.location.search);
  if (!answer.has('code') && !answer.has('error')) return false;
  const flow = JSON.parse(sessionStorage.getItem(FLOW_STORE) || 'null');
  sessionStorage.removeItem(FLOW_STORE);
  // the one-time code leaves the address bar and the history
  window.history.replaceState(null, '', window.location.pathname);
  if (answer.has('error')) throw new Error(answer.get('error_description') || answer.get('error'));
  if (!flow || answer.get('state') !== flow.state) throw new Error('the answer does not match this tab\'s request');
  const response = await fetch(flow.tokenEndpoint, {
    method: 'POST',
    headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
    body: new URLSearchParams({
      grant_type: 'authorization_code', code: answer.get('code'), redirect_uri: flow.redirectUri,
      client_id: flow.clientId, code_verifier: flow.verifier,
    }),
  });
  const tokens = await response.json().catch(() => ({}));
  if (!response.ok || !tokens.access_token) {
    throw new Error(tokens.error_description || tokens.error || `the token endpoint answered ${response.status}`);
  }
  const idClaims = tokens.id_token ? claimsOf(tokens.id_token) : null;
  if (idClaims && idClaims.nonce !== flow.nonce) throw new Error('the ID token was not issued for this sign-in');
  setBearerToken(tokens.access_token);
  const name = idClaims?.name || idClaims?.preferred_username || claimsOf(tokens.access_token)?.name || '';
  sessionStorage.setItem(NAME_STORE, name);
  return true;
}

/** Whether this tab is signed in with the provider's token (and no typed API key, which would win). */
export function signedInWithToken() {
  return Boolean(bearerToken() && !apiKey());
}

/** Sign out of the map: forget the token in this tab and start again (the provider's session is left alone). */
export function forgetToken() {
  setBearerToken('');
  sessionStorage.removeItem(NAME_STORE);
  window.location.reload();
}

/** Forget a token that has expired (or is about to), so that the page offers to sign in again. */
function dropExpiredToken() {
  const token = bearerToken();
  const exp = token ? claimsOf(token)?.exp : undefined;
  if (typeof exp === 'number' && exp - EXPIRY_MARGIN_S < Date.now() / 1000) {
    setBearerToken('');
    sessionStorage.removeItem(NAME_STORE);
  }
}

function signedInLine() {
  // the page's one "Sign out" (beside who is signed in) forgets the token: see forgetToken
  const line = document.createElement('p');
  line.id = 'signed-in-as';
  line.textContent = `Signed in as ${sessionStorage.getItem(NAME_STORE) || 'your council account'} with your council account`;
  return line;
}

function signInButton(config) {
  const button = document.createElement('button');
  button.type = 'button';
  button.id = 'oidc-sign-in';
  button.className = 'primary';
  button.textContent = 'Sign in with your council account';
  button.addEventListener('click', () => {
    button.disabled = true;
    signIn(config).catch(() => { button.disabled = false; });
  });
  return button;
}

/**
 * Finish a sign-in under way, then, when the service trusts an identity provider, show who is signed
 * in (with "Sign out") or the "Sign in with your council account" button before `anchor`.
 * Never throws: a failed sign-in is said in the box, and the page goes on (an API key still works).
 */
export async function initSignIn(anchor) {
  const box = document.createElement('div');
  box.id = 'oidc-signin';
  anchor.before(box);
  try {
    await finishSignIn();
  } catch (error) {
    const failed = document.createElement('p');
    failed.className = 'errors';
    failed.textContent = `Sign-in failed: ${error.message || error}`;
    box.append(failed);
  }
  dropExpiredToken();
  let config;
  try {
    config = await getJson('/api/v1/auth/config');
  } catch {
    return; // a service without sign-in: API keys only
  }
  if (!config.oidc) return;
  box.append(signedInWithToken() ? signedInLine() : signInButton(config));
}
