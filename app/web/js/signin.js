// Who is signed in: the person an API key names (GET /api/v1/me), shown with their roles, and signing out.
// The key stays in this tab's sessionStorage (api.js); signing out forgets it and asks for another.

import { getJson, isMissing, isUnauthorised, setApiKey } from './api.js';

const $ = (selector) => document.querySelector(selector);

/** The signed-in person ({tenant, user_id, name, roles, four_eyes}), or null before anyone is. */
let me = null;

export function signedIn() {
  return me;
}

/** Whether the signed-in person may approve plans. */
export function canApprove() {
  return Boolean(me && me.roles.includes('approver'));
}

/** Whether the four-eyes rule stops the signed-in person approving `plan` (they stored it). */
export function ownPlan(plan) {
  return Boolean(me && me.four_eyes && me.user_id && plan && plan.created_by_user_id === me.user_id);
}

function showWho() {
  const who = $('#who');
  if (!me) {
    who.hidden = true;
    return;
  }
  const person = me.user_id ? me.name : `${me.name} (a council key, not a person)`;
  $('#who-name').textContent = `Signed in as ${person}, ${me.tenant}`;
  $('#who-roles').textContent = `roles: ${me.roles.join(', ') || 'none'}`;
  $('#sign-out').hidden = me.via === 'open';
  who.hidden = false;
}

/** Ask the service who the key names; a service without /me (or keys off) signs in an unnamed reader. */
export async function loadMe() {
  try {
    me = await getJson('/api/v1/me');
  } catch (error) {
    if (isUnauthorised(error)) throw error;
    if (!isMissing(error)) throw error;
    me = null;
  }
  showWho();
  return me;
}

/** Forget the key and the person: the sign-in form asks for another key. */
export function signOut() {
  setApiKey('');
  me = null;
  showWho();
  $('#key-form').hidden = false;
  $('#api-key').value = '';
  $('#api-key').focus();
}
