// What a card asks of the server: a transition, an assignment, taking a callback or recording a
// call, one request per card at a time, and what went wrong, on the card. How the inbox shows a
// request under way, an alert the server sent again and an alert that is gone is the controller's
// (alerts.js), given once to `showRequestsWith`.

import { t } from './i18n.js';
import { HttpError, api } from './session.js';
import { BASE, inbox, sentence, unauthorized } from './alert-state.js';

const shown = {
  busy: (node) => {}, // a request of the card started or ended (`inbox.busy` says which)
  detail: (detail) => {}, // the server's answer about an alert, to hold and show
  gone: (id) => {}, // the alert no longer exists and has left `inbox.alerts`
};

export function showRequestsWith({ busy, detail, gone }) {
  Object.assign(shown, { busy, detail, gone });
}

/** Moves the alert to another state (`body.to`): the alert's detail, or null (see `send`). */
export const transition = (node, body, busyKey) => send(node, busyKey, 'transition', body);

/** Gives the alert to `username`: the alert's detail, or null (see `send`). */
export const assign = (node, username) => send(node, 'assign', 'assign', { username });

/** "I'll call": the callback becomes this user's; the loser of a race is told who won. */
export const take = (node) => send(node, 'take', 'take', undefined, postTake);

/** How the call went (`body`: outcome, note, root_cause): the alert's detail, or null. */
export const recordCall = (node, body) => send(node, 'contact', 'contact', body);

// A 409 names the person who took the callback first (`taken_by`).
async function postTake(path) {
  try {
    return await api(path, { method: 'POST' });
  } catch (err) {
    const who = err instanceof HttpError && err.status === 409 ? err.body?.taken_by : null;
    if (typeof who?.username !== 'string') throw err;
    const name = who.display_name || who.username;
    inbox.people.set(who.username, name);
    throw Object.assign(new HttpError(409, t('{name} took this callback.', { name }), err.body), { takenBy: who });
  }
}

/** POSTs `body` to the alert's `path`: the alert's detail, or null (the error is shown on the card). */
async function send(node, busyKey, path, body, post = (url) => api(url, { method: 'POST', body })) {
  const id = node.view.id, run = inbox.run;
  if (inbox.busy.has(id)) return null;
  if (node.li.contains(document.activeElement)) {
    node.refocus = (inbox.ui.get(id) ?? {}).panel ?? busyKey;
    node.li.focus();
  }
  inbox.busy.set(id, busyKey);
  node.error.textContent = '';
  shown.busy(node);
  try {
    const detail = await post(`${BASE}/${id}/${path}`);
    if (run !== inbox.run) return null;
    return detail;
  } catch (err) {
    if (run !== inbox.run || unauthorized(err)) return null;
    showCardError(id, err);
    return null;
  } finally {
    if (run === inbox.run) {
      inbox.busy.delete(id);
      const current = inbox.nodes.get(id);
      if (current) shown.busy(current);
    }
  }
}

function showCardError(id, err) {
  const node = inbox.nodes.get(id);
  const message = err instanceof HttpError
    ? err.message
    : t('Could not reach the server ({error}); try again.', { error: err.message });
  if (err.status === 404) {
    inbox.alerts.delete(id);
    inbox.ctx.notify(t('Alert {id}: {error}', { id, error: message }));
    shown.gone(id);
    return;
  }
  const said = sentence(message);
  const stale = err.status === 409 && !err.takenBy;
  if (node) node.error.textContent = stale ? t('{error} It is shown as it is now.', { error: said }) : said;
  if (err.status === 409) refreshAlert(id); // changed meanwhile: show what it is now
}

async function refreshAlert(id) {
  const run = inbox.run;
  try {
    const detail = await api(`${BASE}/${id}`);
    if (run === inbox.run) shown.detail(detail);
  } catch (err) {
    if (run === inbox.run && !unauthorized(err) && err.status === 404) showCardError(id, err);
  }
}
