// Sign-in for the cockpit: the form, who is signed in, signing out, and what an ended session means.
// The session token lives in an HttpOnly cookie set by /api/v1/auth/login: this module never sees it,
// and same-origin requests and the websocket carry it by themselves. The page speaks the browser's
// language until someone signs in, then theirs (GET /auth/me and the sign-in answer carry it).

import { N_, language, loadLanguage, t } from './i18n.js';

export const SESSION_ENDED = N_('Your session ended; sign in again.');
const SIGNED_OUT = N_('You signed out.');
const OFFLINE = N_('You are offline: the cockpit will load when the connection is back.');
const OFFLINE_SIGN_IN = N_('You are offline: sign in again once the connection is back.');
const OFFLINE_RETRY_MS = 5000;
const ROLE = { frontline: N_('Frontline'), manager: N_('Manager'), admin: N_('Admin') };

const $ = (id) => document.getElementById(id);

/** An answer other than 2xx; `message` is the server's own when it sent one. */
export class HttpError extends Error {
  /** `body`: the server's JSON answer, e.g. a 422's `errors` or a 409's `taken_by`; null if none. */
  constructor(status, message, body = null) {
    super(message);
    this.status = status;
    this.body = body;
  }
}

/** The URL of `path` on this origin with `query` (a list repeats its key; null and undefined are left out). */
export function apiUrl(path, query = {}) {
  const url = new URL(path, location.origin);
  for (const [key, value] of Object.entries(query)) {
    for (const v of [value].flat()) if (v != null) url.searchParams.append(key, v);
  }
  return url;
}

/** JSON to and from the API on this origin (the session cookie goes along); null for 204. */
export async function api(path, { method = 'GET', query = {}, body } = {}) {
  const url = apiUrl(path, query);
  const init = { method, headers: { Accept: 'application/json' }, cache: 'no-store', credentials: 'same-origin' };
  // The server's messages in the language the page shows, which may be the user's own choice
  // rather than the browser's. Not when asking which language to show: following the browser
  // again must be answered from the browser's own languages.
  if (!path.endsWith('/me/language')) init.headers['Accept-Language'] = language();
  if (body !== undefined) {
    init.headers['Content-Type'] = 'application/json';
    init.body = JSON.stringify(body);
  }
  const res = await fetch(url, init);
  if (res.status === 204) return null;
  const data = await res.json().catch(() => null);
  if (!res.ok) {
    const given = typeof data?.message === 'string' && data.message !== '';
    throw new HttpError(res.status, given ? data.message : t('{path} answered HTTP {status}', { path, status: res.status }), data);
  }
  return data;
}

// What the cockpit does when someone signs in (start, given the user) or the session ends (stop),
// how it tells the user something went wrong (notify), and how it draws itself again in another
// language (redraw, given the user).
let hooks = { start() {}, stop() {}, notify() {}, redraw() {} };
// Who is signed in on this page; null on the sign-in form.
let signedIn = null;

/** Wires the form and the sign-out button, then asks the server who is signed in. */
export async function initSession(cockpit) {
  hooks = cockpit;
  $('signin-form').addEventListener('submit', onSubmit);
  $('sign-out').addEventListener('click', signOut);
  const answer = await whoIsSignedIn();
  if (answer.user) {
    await enter(answer.user);
    return;
  }
  await loadLanguage(); // the browser's, else the organisation's; English if it cannot load
  showSignIn(answer.offline ? { note: t(OFFLINE) } : { error: answer.error });
  if (answer.offline) goOffline();
}

/** The signed-in reader chose another language (settings): the cockpit is drawn again in it. */
export async function speak(chosen) {
  const before = language();
  await loadLanguage(chosen);
  if (!signedIn || language() === before || document.body.dataset.view !== 'cockpit') return;
  signedIn = { ...signedIn, language: language() };
  showUser(signedIn);
  hooks.redraw(signedIn);
}

/** What the server says about this browser: {user}, {error} ('' when nobody is signed in), or
 *  {offline: true} when it cannot be reached at all (no answer, not an HTTP error). */
async function whoIsSignedIn() {
  try {
    return { user: await api('/api/v1/auth/me') };
  } catch (err) {
    if (!(err instanceof HttpError)) return { offline: true };
    return { error: err.status === 401 ? '' : unreachable(err) };
  }
}

// Offline: the page (from the service worker's cache) cannot reach the server. It says so, marks
// <body data-offline="true">, and asks again every few seconds and when the browser reports the
// network back; the first answer ends it, and the page carries on as if it had just opened.
const isOffline = () => document.body.dataset.offline === 'true';
const offline = { timer: 0, asking: false };

function goOffline() {
  document.body.dataset.offline = 'true';
  if (offline.timer) return;
  offline.timer = setInterval(askAgain, OFFLINE_RETRY_MS);
  window.addEventListener('online', askAgain);
}

function backOnline() {
  delete document.body.dataset.offline;
  clearInterval(offline.timer);
  offline.timer = 0;
  window.removeEventListener('online', askAgain);
  if ($('signin-note').textContent === t(OFFLINE)) $('signin-note').textContent = '';
  if ($('signin-error').textContent === t(OFFLINE_SIGN_IN)) setError('');
}

async function askAgain() {
  if (offline.asking) return;
  offline.asking = true;
  const answer = await whoIsSignedIn();
  offline.asking = false;
  // Still unreachable, or signed in through the form meanwhile.
  if (answer.offline || !isOffline()) return;
  backOnline();
  if (answer.user) await enter(answer.user);
  else if (answer.error) setError(answer.error);
}

/** After a 401 or a 4401 close: stop the cockpit and ask for the password again (`note`: a message). */
export function endSession(note = SESSION_ENDED) {
  if (document.body.dataset.view === 'signin') return;
  signedIn = null;
  hooks.stop();
  showSignIn({ note: t(note) });
}

function setView(view) {
  document.body.dataset.view = view;
  $('signin').hidden = view !== 'signin';
  $('cockpit').hidden = view !== 'cockpit';
}

// The cockpit in the user's own language, which the server chose: theirs, else their browser's.
async function enter(user) {
  signedIn = user;
  await loadLanguage(user.language);
  if (signedIn !== user) return; // signed out meanwhile
  showUser(user);
  setView('cockpit');
  hooks.start(user);
}

function showUser(user) {
  $('who-name').textContent = user.display_name || user.username;
  $('who-role').textContent = Object.hasOwn(ROLE, user.role) ? t(ROLE[user.role]) : user.role;
}

function showSignIn({ note = '', error = '' } = {}) {
  $('signin-password').value = '';
  setView('signin');
  // Set once the form is shown, so the live regions announce them.
  $('signin-note').textContent = note;
  setError(error);
  ($('signin-username').value ? $('signin-password') : $('signin-username')).focus();
}

function setError(message, invalid = []) {
  $('signin-error').textContent = message;
  for (const id of ['signin-username', 'signin-password']) {
    if (invalid.includes(id)) $(id).setAttribute('aria-invalid', 'true');
    else $(id).removeAttribute('aria-invalid');
  }
}

const unreachable = (err) => t('Could not reach the cockpit ({problem}); try again.', { problem: err.message });

async function onSubmit(event) {
  event.preventDefault();
  const username = $('signin-username').value.trim();
  const password = $('signin-password').value;
  $('signin-note').textContent = '';
  if (!username || !password) {
    const missing = username ? 'signin-password' : 'signin-username';
    setError(username ? t('Enter your password.') : t('Enter your username.'), [missing]);
    $(missing).focus();
    return;
  }
  setBusy(true);
  let user = null;
  try {
    user = await api('/api/v1/auth/login', { method: 'POST', body: { username, password } });
  } catch (err) {
    if (err instanceof HttpError) {
      backOnline();
      setError(err.message, err.status === 401 ? ['signin-username', 'signin-password'] : []);
    } else {
      setError(t(OFFLINE_SIGN_IN));
      goOffline();
    }
    if (err.status === 401) $('signin-password').value = '';
    $('signin-password').focus();
    return;
  } finally {
    setBusy(false);
  }
  $('signin-password').value = '';
  backOnline();
  setError('');
  await enter(user);
}

function setBusy(busy) {
  $('signin-form').setAttribute('aria-busy', String(busy));
  $('signin-submit').disabled = busy;
  $('signin-submit').textContent = busy ? t('Signing in…') : t('Sign in');
}

async function signOut() {
  const button = $('sign-out');
  button.disabled = true;
  try {
    await api('/api/v1/auth/logout', { method: 'POST' });
  } catch (err) {
    // The session lives in an HttpOnly cookie only the server can end: say plainly it is still on.
    hooks.notify(err instanceof HttpError ? t('Could not sign out ({problem}); try again.', { problem: err.message })
      : t('You are offline and still signed in: sign out again once the connection is back.'));
    return;
  } finally {
    button.disabled = false;
  }
  $('signin-username').value = ''; // a shared phone: the next person types their own
  signedIn = null;
  hooks.stop();
  await loadLanguage(); // the next person reads the browser's language until they sign in
  showSignIn({ note: t(SIGNED_OUT) });
}
