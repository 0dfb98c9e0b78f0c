// A card's details: the customer's contact, for the manager who calls them back (revealed by
// GET /alerts/{id}, never by live events), the customer's other alerts of the case, and the alert's
// history.

import { contactLine, el, own, quoted, setTime, timeOf } from './dom.js';
import { api } from './session.js';
import { renderActions } from './alert-card.js';
import {
  BASE, OUTCOME, SEVERITY, STATE, callbacks, humanize, inbox, isAlert, personName, ruleName, severityOf, unauthorized,
} from './alert-state.js';

/** Shows the details, loaded again; `quiet` keeps what is shown until they arrive. */
export async function openDetails(node, quiet = false) {
  const id = node.view.id, run = inbox.run;
  inbox.ui.set(id, { ...(inbox.ui.get(id) ?? {}), details: true });
  node.details.hidden = false;
  if (!quiet) node.details.replaceChildren(el('p', 'alert-muted', 'Loading details…'));
  renderActions(node);
  try {
    const detail = await api(`${BASE}/${id}`);
    if (run !== inbox.run || inbox.nodes.get(id) !== node || !(inbox.ui.get(id) ?? {}).details) return;
    renderDetails(node, detail);
  } catch (err) {
    if (run !== inbox.run || unauthorized(err)) return;
    node.details.replaceChildren(el('p', 'alert-error', `Could not load the details (${err.message}).`));
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
  const heading = el('h4', 'alert-history-title', 'History');
  const list = el('ol', 'alert-history');
  for (const step of steps) {
    const item = el('li');
    const when = el('time', 'alert-muted');
    const t = timeOf(step.at);
    when.dateTime = t ? new Date(t).toISOString() : '';
    when.textContent = t ? new Date(t).toLocaleString([], { dateStyle: 'short', timeStyle: 'short' }) : '—';
    item.append(when, el('span', null, ` ${step.actor ?? 'system'} · ${stepText(step)}`));
    const d = step.detail ?? {};
    if (typeof d.root_cause === 'string') item.append(el('span', null, ` · root cause: ${humanize(d.root_cause)}`));
    if (typeof d.note === 'string' && d.note) item.append(el('p', 'alert-note', d.note));
    list.append(item);
  }
  if (!steps.length) list.append(el('li', 'alert-muted', 'No changes yet.'));
  parts.push(heading, list);
  node.details.replaceChildren(...parts);
}

// The customer's other alerts of the case, oldest first: what they said each time and where it stands.
function caseList(node, others) {
  const heading = el('h4', 'alert-history-title', `This customer's other alerts (${others.length})`);
  heading.id = `alert-${node.view.id}-case`;
  const list = el('ol', 'alert-case-list');
  list.setAttribute('aria-labelledby', heading.id);
  for (const v of others) {
    const item = el('li', 'alert-case-item');
    item.dataset.alertId = String(v.id);
    const when = el('time', 'alert-muted');
    setTime(when, v.created_at);
    const rules = (Array.isArray(v.rules) ? v.rules : []).map(ruleName).join(', ');
    item.append(when, el('span', null, ` · ${SEVERITY[severityOf(v)]} · ${own(STATE, v.state) ?? v.state}`));
    if (rules) item.append(el('span', 'alert-muted', ` · ${rules}`));
    if (v.response?.comment) item.append(el('p', 'alert-note', quoted(v.response.comment)));
    list.append(item);
  }
  return [heading, list];
}

function stepText(step) {
  const d = step.detail ?? {};
  if (step.action === 'assigned' && typeof d.assignee === 'string') return `assigned to ${personName(d.assignee)}`;
  if (step.action === 'taken' && typeof d.assignee === 'string') return `taken by ${personName(d.assignee)}`;
  if (step.action === 'contacted' && typeof d.outcome === 'string') {
    return `call: ${(own(OUTCOME, d.outcome) ?? humanize(d.outcome)).toLowerCase()}`;
  }
  if (step.to_state && step.from_state && step.from_state !== step.to_state) {
    return `${own(STATE, step.from_state) ?? step.from_state} → ${own(STATE, step.to_state) ?? step.to_state}`;
  }
  return humanize(step.action ?? 'changed').toLowerCase();
}
