// What a card asks of the server: a transition or an assignment, one request per card at a time, and
// what went wrong, on the card. How the inbox shows a request under way, an alert the server sent
// again and an alert that is gone is the controller's (alerts.js), given once to `showRequestsWith`.

import { HttpError, api } from './session.js';
import { BASE, inbox, unauthorized } from './alert-state.js';

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

/** POSTs `body` to the alert's `path`: the alert's detail, or null (the error is shown on the card). */
async function send(node, busyKey, path, body) {
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
    const detail = await api(`${BASE}/${id}/${path}`, { method: 'POST', body });
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
  const message = err instanceof HttpError ? err.message : `Could not reach the server (${err.message}); try again.`;
  if (err.status === 404) {
    inbox.alerts.delete(id);
    inbox.ctx.notify(`Alert ${id}: ${message}`);
    shown.gone(id);
    return;
  }
  const sentence = `${message.charAt(0).toUpperCase()}${message.slice(1)}${/[.!?]$/.test(message) ? '' : '.'}`;
  if (node) node.error.textContent = err.status === 409 ? `${sentence} It is shown as it is now.` : sentence;
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
