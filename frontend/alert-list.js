// The inbox list: which alerts the chosen filter shows, in which order, the count beside each filter
// and the badge on the Alerts tab. The cards themselves come from the caller's `cardFor`.

import { $, el, timeOf } from './dom.js';
import { UNRESOLVED, inbox, rankOf } from './alert-state.js';

const EMPTY = {
  unresolved: 'No open alerts in your units.',
  open: 'Every alert in your units is acknowledged.',
  resolved: 'No recently resolved alerts.',
};

function shown(v) {
  if (inbox.filter === 'resolved') return v.state === 'resolved';
  if (inbox.filter === 'open') return v.state === 'open';
  return UNRESOLVED.includes(v.state);
}

// Most severe first, then oldest first; resolved ones newest resolution first.
function order(a, b) {
  if (inbox.filter === 'resolved') return timeOf(b.resolved_at) - timeOf(a.resolved_at) || b.id - a.id;
  return rankOf(b) - rankOf(a) || timeOf(a.created_at) - timeOf(b.created_at) || a.id - b.id;
}

export function setFilter(value, cardFor) {
  inbox.filter = value;
  for (const id of [...inbox.nodes.keys()]) dropNode(id);
  renderList(cardFor);
}

/**
 * Puts the cards of the current filter in order, dropping those it no longer shows. `cardFor(v, all)`
 * gives the card of `v`, created or brought up to date; `all`: draw every card again (the rule names
 * arrived).
 */
export function renderList(cardFor, all = false) {
  if (!inbox.dom) return;
  const views = [...inbox.alerts.values()].filter(shown).sort(order);
  const keep = new Set(views.map((v) => v.id));
  for (const id of [...inbox.nodes.keys()]) if (!keep.has(id)) dropNode(id);
  let before = inbox.dom.list.firstElementChild;
  for (const v of views) {
    const node = cardFor(v, all);
    if (node.li !== before) inbox.dom.list.insertBefore(node.li, before);
    else before = before.nextElementSibling;
  }
  if (inbox.loaded && inbox.dom.status.dataset.kind !== 'error') {
    const empty = views.length ? [] : [el('p', 'alerts-empty', EMPTY[inbox.filter])];
    inbox.dom.status.replaceChildren(...empty);
  }
  const held = [...inbox.alerts.values()];
  const n = {
    unresolved: held.filter((v) => UNRESOLVED.includes(v.state)).length,
    open: held.filter((v) => v.state === 'open').length,
    resolved: held.filter((v) => v.state === 'resolved').length,
  };
  for (const [key, node] of inbox.dom.filters) node.textContent = inbox.loaded ? String(n[key]) : '';
  updateBadge(n.open);
}

function dropNode(id) {
  const node = inbox.nodes.get(id);
  if (!node) return;
  // Focus inside a card that leaves goes to the next card (or the one before), not to the page top.
  if (node.li.contains(document.activeElement)) {
    const next = node.li.nextElementSibling ?? node.li.previousElementSibling;
    const target = next ?? inbox.dom.list;
    target.tabIndex = -1;
    target.focus();
  }
  node.li.remove();
  inbox.nodes.delete(id);
  const ui = inbox.ui.get(id);
  if (ui) inbox.ui.set(id, { ...ui, panel: null, details: false });
}

export function updateBadge(open) {
  const badge = $('alerts-badge');
  const tab = $('tab-alerts');
  if (badge) {
    badge.textContent = open ? String(open) : '';
    badge.hidden = !open;
    badge.setAttribute('aria-hidden', 'true'); // the tab's label says it
  }
  if (tab && inbox.running) tab.setAttribute('aria-label', open ? `Alerts, ${open} open` : 'Alerts, none open');
}
