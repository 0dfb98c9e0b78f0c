// The page of the inbox on screen: its items in the server's order (an alert or a case as a card, an
// incident as one line), the line that says how many match, the pager, the "N new alerts · show"
// button that keeps live alerts from moving the list under the user's finger, and the tab's badge.

import { $, el } from './dom.js';
import { formatNumber, t, tn } from './i18n.js';
import { matchingAlerts, narrowed } from './alert-query.js';
import { callbacks, inbox } from './alert-state.js';

// "60 alerts to do": whole messages, as the state agrees with the count in French and Italian.
const MATCHING = {
  todo: (n) => tn('{n} alert to do', '{n} alerts to do', n),
  open: (n) => tn('{n} alert open', '{n} alerts open', n),
  acknowledged: (n) => tn('{n} alert acknowledged', '{n} alerts acknowledged', n),
  in_progress: (n) => tn('{n} alert in progress', '{n} alerts in progress', n),
  resolved: (n) => tn('{n} alert resolved', '{n} alerts resolved', n),
  closed: (n) => tn('{n} alert closed', '{n} alerts closed', n),
};

/**
 * Shows the page's items, in order: `cardFor(view, item)` gives an alert's or a case's card (created
 * or brought up to date), `incidentFor(item)` an incident's line. Cards no longer on the page leave.
 */
export function renderPage(cardFor, incidentFor) {
  if (!inbox.dom) return;
  const rows = [];
  const keep = new Set();
  for (const item of inbox.items) {
    if (item.kind === 'incident') {
      rows.push(incidentFor(item));
      continue;
    }
    if (item.alert.id === inbox.pinned) unpin();
    const node = cardFor(item.alert, item);
    keep.add(item.alert.id);
    rows.push(node.li);
  }
  for (const id of [...inbox.nodes.keys()]) if (!keep.has(id) && id !== inbox.pinned) dropCard(id);
  // In order, moving only what moved: a card that stays keeps its focus.
  const { list } = inbox.dom;
  let at = list.firstElementChild;
  for (const row of rows) {
    if (row === at) at = at.nextElementSibling;
    else list.insertBefore(row, at);
  }
  while (at) {
    const next = at.nextElementSibling;
    at.remove();
    at = next;
  }
  renderSummaryLine();
  renderEmpty();
  renderPager();
  renderFresh();
}

/** Takes the card of alert `id` off the screen; focus inside it goes to the next card, not the page top. */
export function dropCard(id) {
  const node = inbox.nodes.get(id);
  if (!node) return;
  if (node.li.contains(document.activeElement)) {
    const next = node.li.nextElementSibling ?? node.li.previousElementSibling;
    const target = next ?? inbox.dom.summary;
    target.tabIndex = -1;
    target.focus();
  }
  node.li.remove();
  inbox.nodes.delete(id);
  inbox.alerts.delete(id);
  const ui = inbox.ui.get(id);
  if (ui) inbox.ui.set(id, { ...ui, panel: null, details: false });
  if (id === inbox.pinned) unpin();
}

function unpin() {
  inbox.pinned = null;
  if (!inbox.dom) return;
  inbox.dom.pinned.hidden = true;
  inbox.dom.pinnedList.replaceChildren();
}

export function renderSummaryLine() {
  const line = inbox.dom?.summary;
  if (!line) return;
  if (!inbox.loaded) {
    line.textContent = '';
    return;
  }
  const n = matchingAlerts(inbox.counts, inbox.filters);
  const state = inbox.filters.state;
  // Callbacks are always those to do: the screen has no other states.
  const words = [callbacks() ? tn('{n} callback to do', '{n} callbacks to do', n)
    : Object.hasOwn(MATCHING, state) ? MATCHING[state](n) : tn('{n} alert', '{n} alerts', n)];
  if (inbox.total !== n) {
    words.push(tn('{n} line, cases and incidents grouped', '{n} lines, cases and incidents grouped', inbox.total));
  }
  line.textContent = words.join(' · ');
}

function renderEmpty() {
  const box = inbox.dom.status;
  if (!inbox.loaded || box.dataset.kind === 'error') return;
  let text = '';
  if (!inbox.items.length) {
    const f = inbox.filters;
    if (callbacks()) {
      text = f.assignee === 'mine' ? t('You are calling nobody back right now.') : t('No callbacks waiting in your units.');
    } else if (narrowed(f) || f.state !== 'todo') text = t('No alerts match these filters.');
    else text = t('No open alerts in your units.');
  }
  box.replaceChildren(...(text ? [el('p', 'alerts-empty', text)] : []));
}

function renderPager() {
  const { pager, pageText, previous, next } = inbox.dom;
  pager.hidden = !inbox.loaded || inbox.pages <= 1;
  pageText.textContent = t('Page {page} of {pages}', { page: formatNumber(inbox.page), pages: formatNumber(inbox.pages) });
  previous.disabled = inbox.page <= 1;
  next.disabled = inbox.page >= inbox.pages;
}

/** The button that brings in the new alerts waiting: shown only when some are. */
export function renderFresh() {
  const button = inbox.dom?.fresh;
  if (!button) return;
  const n = inbox.fresh.size;
  button.hidden = n === 0;
  button.textContent = callbacks() ? tn('{n} new callback · show', '{n} new callbacks · show', n)
    : tn('{n} new alert · show', '{n} new alerts · show', n);
}

/** The tab's badge: open alerts, or for frontline staff the callbacks nobody took yet. */
export function updateBadge(n) {
  const badge = $('alerts-badge');
  const tab = $('tab-alerts');
  if (badge) {
    badge.textContent = n ? formatNumber(n) : '';
    badge.hidden = !n;
    badge.setAttribute('aria-hidden', 'true'); // the tab's label says it
  }
  if (!tab || !inbox.running) return;
  if (callbacks()) {
    const label = n ? tn('Callbacks, {n} to call', 'Callbacks, {n} to call', n) : t('Callbacks, none to call');
    tab.setAttribute('aria-label', label);
  } else tab.setAttribute('aria-label', n ? tn('Alerts, {n} open', 'Alerts, {n} open', n) : t('Alerts, none open'));
}
