// A card's details: the customer's contact, for the manager who calls them back (revealed by
// GET /alerts/{id}, never by live events), the customer's other alerts of the case, and the alert's
// history.

import { contactLine, el, own, quoted, setTime, timeOf } from './dom.js';
import { N_, formatDate, formatNumber, t } from './i18n.js';
import { api } from './session.js';
import { renderActions } from './alert-card.js';
import {
  BASE, callbacks, humanize, inbox, isAlert, outcomeName, personName, rootCauseName, ruleName, severityName, stateName,
  unauthorized,
} from './alert-state.js';

// The steps of an alert's history that say no more than their name (app/alertdesk, app/notifications.py).
const STEP = {
  escalated: N_('escalated'), notified: N_('notified'), notify_failed: N_('notification failed'),
  reopened: N_('reopened'), assigned: N_('assigned'), taken: N_('taken'), contacted: N_('called'),
};

/** Shows the details, loaded again; `quiet` keeps what is shown until they arrive. */
export async function openDetails(node, quiet = false) {
  const id = node.view.id, run = inbox.run;
  inbox.ui.set(id, { ...(inbox.ui.get(id) ?? {}), details: true });
  node.details.hidden = false;
  if (!quiet) node.details.replaceChildren(el('p', 'alert-muted', t('Loading details…')));
  renderActions(node);
  try {
    const detail = await api(`${BASE}/${id}`);
    if (run !== inbox.run || inbox.nodes.get(id) !== node || !(inbox.ui.get(id) ?? {}).details) return;
    renderDetails(node, detail);
  } catch (err) {
    if (run !== inbox.run || unauthorized(err)) return;
    node.details.replaceChildren(el('p', 'alert-error', t('Could not load the details ({error}).', { error: err.message })));
  }
}

export function closeDetails(node) {
  inbox.ui.set(node.view.id, { ...(inbox.ui.get(node.view.id) ?? {}), details: false });
  node.details.hidden = true;
  node.details.replaceChildren();
  renderActions(node);
}

export function renderDetails(node, detail) {
  const parts = [];
  const r = detail.alert?.response;
  // Frontline staff see the contact on the card, once they took the callback.
  if (r && !callbacks()) {
    parts.push(contactLine(r.contact_masked === false ? r.contact : null, { prefix: 'alert-', mailLink: true }));
  }
  const others = (Array.isArray(detail.case) ? detail.case : []).filter(isAlert);
  if (others.length) parts.push(...caseList(node, others));
  const steps = Array.isArray(detail.history) ? detail.history : [];
  const heading = el('h4', 'alert-history-title', t('History'));
  const list = el('ol', 'alert-history');
  for (const step of steps) {
    const item = el('li');
    const when = el('time', 'alert-muted');
    const at = timeOf(step.at);
    when.dateTime = at ? new Date(at).toISOString() : '';
    when.textContent = at ? formatDate(at, { dateStyle: 'short', timeStyle: 'short' }) : '—';
    const actor = step.actor && step.actor !== 'system' ? step.actor : t('system'); // the server's own steps
    item.append(when, el('span', null, ` ${actor} · ${stepText(step)}`));
    const d = step.detail ?? {};
    if (typeof d.root_cause === 'string') {
      item.append(el('span', null, ` · ${t('root cause: {cause}', { cause: rootCauseName(d.root_cause) })}`));
    }
    if (typeof d.note === 'string' && d.note) item.append(el('p', 'alert-note', d.note));
    list.append(item);
  }
  if (!steps.length) list.append(el('li', 'alert-muted', t('No changes yet.')));
  parts.push(heading, list);
  node.details.replaceChildren(...parts);
}

// The customer's other alerts of the case, oldest first: what they said each time and where it stands.
function caseList(node, others) {
  const title = t("This customer's other alerts ({n})", { n: formatNumber(others.length) });
  const heading = el('h4', 'alert-history-title', title);
  heading.id = `alert-${node.view.id}-case`;
  const list = el('ol', 'alert-case-list');
  list.setAttribute('aria-labelledby', heading.id);
  for (const v of others) {
    const item = el('li', 'alert-case-item');
    item.dataset.alertId = String(v.id);
    const when = el('time', 'alert-muted');
    setTime(when, v.created_at);
    const rules = (Array.isArray(v.rules) ? v.rules : []).map(ruleName).join(', ');
    item.append(when, el('span', null, ` · ${severityName(v)} · ${stateName(v.state)}`));
    if (rules) item.append(el('span', 'alert-muted', ` · ${rules}`));
    if (v.response?.comment) item.append(el('p', 'alert-note', quoted(v.response.comment)));
    list.append(item);
  }
  return [heading, list];
}

function stepText(step) {
  const d = step.detail ?? {};
  if (step.action === 'assigned' && typeof d.assignee === 'string') {
    return t('assigned to {name}', { name: personName(d.assignee) });
  }
  if (step.action === 'taken' && typeof d.assignee === 'string') {
    return t('taken by {name}', { name: personName(d.assignee) });
  }
  if (step.action === 'contacted' && typeof d.outcome === 'string') {
    return t('call: {outcome}', { outcome: outcomeName(d.outcome).toLocaleLowerCase() });
  }
  if (step.to_state && step.from_state && step.from_state !== step.to_state) {
    return `${stateName(step.from_state)} → ${stateName(step.to_state)}`;
  }
  const named = own(STEP, step.action);
  if (named) return t(named);
  return step.action ? humanize(step.action).toLocaleLowerCase() : t('changed');
}
