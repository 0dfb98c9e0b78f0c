// The managers' alerts inbox: alerts of the watched units, most urgent first, acknowledged, assigned
// and resolved in a tap or two; the closed-loop figures; a browser notification for each new alert.
// This module starts and stops it, builds its screen, loads it, applies live events and wires the
// other alert-*.js modules: what a card's buttons and forms do, and what the inbox shows of a request.
// Server text (comments, notes, names) reaches the DOM only via textContent.

import { $, el, own, relTime } from './dom.js';
import { api } from './session.js';
import { assign, showRequestsWith, transition } from './alert-actions.js';
import { createCard, renderActions, updateCard, updateSla } from './alert-card.js';
import { closeDetails, openDetails, renderDetails } from './alert-details.js';
import { fetchFigures, requestFigures } from './alert-figures.js';
import { closePanel, openPanel, setPanelBusy } from './alert-forms.js';
import { renderList, setFilter, updateBadge } from './alert-list.js';
import { announceNew, renderNotifyControl, say } from './alert-notify.js';
import {
  BASE, RESOLVED_KEPT, STATE, UNRESOLVED, inbox, isAlert, personName, unauthorized, upsert,
} from './alert-state.js';

const TICK_MS = 30000;
const LIST_PAGE = 200;
const LIST_PAGES_MAX = 5;
const FILTERS = [['unresolved', 'To do'], ['open', 'Open'], ['resolved', 'Resolved']];

showRequestsWith({ busy: showBusy, detail: applyDetail, gone: () => showList() });

/** Starts the inbox; `reveal`: the id of an alert to show open, in view, once the inbox has loaded. */
export function startAlerts({
  user, orgUnits = [], unitName = (id) => id, notify = () => {}, onUnauthorized = () => {}, reveal = null,
}) {
  stopAlerts();
  inbox.run++;
  inbox.running = true;
  inbox.ctx = { user, orgUnits: [...orgUnits], unitName, notify, onUnauthorized, reveal };
  if (user?.username) inbox.people.set(user.username, user.display_name || user.username);
  inbox.dom = buildScreen();
  inbox.tick = setInterval(onTick, TICK_MS);
  loadRules(); // the inbox itself loads on reloadAlerts(), once the page's comments are in
}

export function stopAlerts() {
  inbox.run++;
  inbox.running = false;
  clearInterval(inbox.tick);
  clearTimeout(inbox.figuresTimer);
  Object.assign(inbox, {
    tick: null, figuresTimer: null, figuresLast: 0, ctx: null, dom: null, loaded: false, buffer: null,
  });
  for (const table of [inbox.alerts, inbox.seen, inbox.nodes, inbox.ui, inbox.busy, inbox.people, inbox.ruleText]) {
    table.clear();
  }
  inbox.rootCauses = null;
  inbox.filter = 'unresolved';
  $('alerts-root')?.replaceChildren();
  updateBadge(0);
  $('tab-alerts')?.removeAttribute('aria-label');
}

export function reloadAlerts() {
  if (inbox.running) load();
}

export function onAlertEvent(view) {
  if (!inbox.running || !isAlert(view)) return;
  if (inbox.buffer) { inbox.buffer.push(view); return; } // applied once the load under way lands
  const fresh = !inbox.seen.has(view.id);
  inbox.seen.add(view.id);
  upsert(view, { arrived: fresh });
  if (fresh && view.state === 'open') announceNew(view);
  showList();
}

export function onLoopEvent(figures) {
  if (!inbox.running || !figures || typeof figures !== 'object') return;
  // The event holds the figures of the alert's own unit; the page shows those of the watched units
  // and the units below them, which the server computes again from the alerts (never an average).
  // The websocket only sends the watched units' events, so each one means the figures moved.
  requestFigures();
}

// Events arriving while a load is under way are kept and applied after it: nothing is lost.
async function load() {
  const run = inbox.run, seq = ++inbox.loadSeq;
  inbox.buffer = inbox.buffer ?? [];
  if (!inbox.loaded) setStatus('loading');
  inbox.dom.list.setAttribute('aria-busy', 'true');
  fetchFigures();
  let unresolved, resolved;
  try {
    [unresolved, resolved] = await Promise.all([
      listAll({ state: UNRESOLVED }),
      api(BASE, { query: { org_unit: inbox.ctx.orgUnits, state: 'resolved', limit: RESOLVED_KEPT } }),
    ]);
  } catch (err) {
    if (run !== inbox.run || seq !== inbox.loadSeq) return;
    if (unauthorized(err)) return;
    inbox.dom.list.setAttribute('aria-busy', 'false');
    setStatus('error', `Could not load the alerts (${err.message}).`);
    const buffered = inbox.buffer ?? [];
    inbox.buffer = null;
    for (const v of buffered) onAlertEvent(v);
    return;
  }
  if (run !== inbox.run || seq !== inbox.loadSeq) return;
  const loaded = [...unresolved, ...(Array.isArray(resolved?.items) ? resolved.items : [])].filter(isAlert);
  const known = new Set(loaded.map((v) => v.id));
  inbox.alerts.clear();
  for (const v of loaded) inbox.alerts.set(v.id, v);
  for (const id of known) inbox.seen.add(id);
  const buffered = inbox.buffer ?? [];
  inbox.buffer = null;
  inbox.loaded = true;
  inbox.dom.list.setAttribute('aria-busy', 'false');
  setStatus('ok');
  showList();
  for (const v of buffered) onAlertEvent(v);
  if (inbox.ctx.reveal != null) {
    const id = inbox.ctx.reveal;
    inbox.ctx.reveal = null; // once: a later reload must not pull the manager back to it
    revealAlert(id);
  }
}

// The alert a link opened: its card under a filter that lists it, details open, scrolled to and
// focused. One the inbox does not hold (resolved long ago, or of a unit not watched) is asked for.
async function revealAlert(id) {
  const run = inbox.run;
  let v = inbox.alerts.get(id);
  if (!v) {
    try {
      v = (await api(`${BASE}/${id}`))?.alert;
    } catch (err) {
      if (run !== inbox.run || unauthorized(err)) return;
      inbox.ctx.notify(`Alert ${id} cannot be shown: ${err.message.replace(/\.$/, '')}.`);
      return;
    }
    if (run !== inbox.run || !isAlert(v)) return;
    if (v.state === 'closed') {
      inbox.ctx.notify(`Alert ${id} is closed: the inbox no longer lists it.`, { kind: 'refused' });
      return;
    }
    inbox.seen.add(v.id);
    inbox.alerts.set(v.id, v);
  }
  // The filter shown if it lists the alert, else one that does.
  let filter = v.state === 'resolved' ? 'resolved' : 'unresolved';
  if (inbox.filter === 'open' && v.state === 'open') filter = 'open';
  if (filter !== inbox.filter) {
    inbox.dom.root.querySelector(`input[name="alerts-filter"][value="${filter}"]`).checked = true;
    setFilter(filter, cardFor);
  } else {
    showList();
  }
  const node = inbox.nodes.get(id);
  if (!node) return;
  if (!(inbox.ui.get(id) ?? {}).details) openDetails(node);
  // Below the sticky top bar, not under it.
  node.li.style.scrollMarginTop = `${(document.querySelector('.topbar')?.offsetHeight ?? 0) + 10}px`;
  node.li.classList.add('is-linked');
  node.li.scrollIntoView({ block: 'start' });
  node.li.focus({ preventScroll: true });
}

async function listAll(query) {
  const items = [];
  let before;
  for (let page = 0; page < LIST_PAGES_MAX; page++) {
    const answer = await api(BASE, { query: { org_unit: inbox.ctx.orgUnits, limit: LIST_PAGE, before, ...query } });
    items.push(...(Array.isArray(answer?.items) ? answer.items : []));
    before = answer?.next_before;
    if (before == null) break;
  }
  return items;
}

async function loadRules() {
  const run = inbox.run;
  try {
    const book = await api(`${BASE}/rules`);
    if (run !== inbox.run || !Array.isArray(book?.rules)) return;
    for (const rule of book.rules) {
      if (typeof rule?.id === 'string') inbox.ruleText.set(rule.id, String(rule.description ?? ''));
    }
    showList(true);
  } catch (err) {
    if (run === inbox.run) unauthorized(err); // otherwise the rules keep their built-in names
  }
}

function buildScreen() {
  const root = $('alerts-root');
  const dom = {
    root,
    notify: el('div', 'alerts-notify'),
    live: el('p', 'alerts-sr'),
    status: el('div', 'alerts-status'),
    list: el('ul', 'alerts-list'),
    loop: el('section', 'alerts-loop'),
    loopNote: el('p', 'loop-note'),
    loopBody: el('div', 'loop-body'),
    filters: new Map(),
  };
  dom.live.setAttribute('role', 'status');
  dom.live.setAttribute('aria-live', 'polite');
  dom.list.setAttribute('aria-label', 'Alerts, most urgent first');
  dom.list.setAttribute('aria-busy', 'true');

  const filter = el('fieldset', 'alerts-filter');
  filter.append(el('legend', 'alerts-sr', 'Show'));
  for (const [value, text] of FILTERS) {
    const label = el('label', 'alerts-filter-option');
    const input = Object.assign(el('input'), {
      type: 'radio', name: 'alerts-filter', value, checked: value === inbox.filter,
    });
    const name = el('span', null, text);
    const n = el('span', 'alerts-filter-count');
    input.addEventListener('change', () => input.checked && setFilter(value, cardFor));
    label.append(input, name, n);
    dom.filters.set(value, n);
    filter.append(label);
  }

  const loopTitle = el('h3', 'loop-title', 'Closing the loop');
  loopTitle.id = 'alerts-loop-title';
  dom.loop.setAttribute('aria-labelledby', loopTitle.id);
  dom.loop.append(loopTitle, dom.loopNote, dom.loopBody);
  dom.loopNote.textContent = 'Loading the figures…';

  root.replaceChildren(dom.notify, filter, dom.live, dom.status, dom.list, dom.loop);
  renderNotifyControl(dom.notify);
  return dom;
}

function setStatus(kind, text = '') {
  const box = inbox.dom.status;
  box.dataset.kind = kind;
  if (kind === 'loading') box.replaceChildren(el('p', 'alerts-loading', 'Loading alerts…'));
  else if (kind === 'error') {
    const retry = el('button', 'alerts-button', 'Try again');
    retry.type = 'button';
    retry.addEventListener('click', () => { setStatus('loading'); load(); });
    box.replaceChildren(el('p', 'alerts-error-text', text), retry);
  } else box.replaceChildren();
}

function onTick() {
  if (!inbox.running) return;
  for (const node of inbox.nodes.values()) {
    updateSla(node);
    for (const time of node.li.querySelectorAll('time[data-ts]')) {
      if (time.dataset.ts) time.textContent = relTime(Number(time.dataset.ts));
    }
  }
  renderNotifyControl(inbox.dom.notify);
}

function showList(all = false) {
  renderList(cardFor, all);
}

// The card of `v` for the list: a new one, or the one shown brought up to date.
function cardFor(v, all) {
  const node = inbox.nodes.get(v.id);
  if (!node) return createCard(v, onAction);
  if (!all && node.view === v) return node;
  const old = node.view;
  updateCard(node, v);
  const ui = inbox.ui.get(v.id) ?? {};
  // A form that no longer fits the state (resolved meanwhile by someone else) closes.
  if (ui.panel && !UNRESOLVED.includes(v.state)) closePanel(node);
  if (old.state !== v.state && ui.details) openDetails(node, true);
  return node;
}

// What a card's button does: open or close a form or the details, or move the alert on at once.
function onAction(node, action) {
  const ui = inbox.ui.get(node.view.id) ?? {};
  if (action === 'resolve' || action === 'assign') {
    if (ui.panel === action) closePanel(node, true);
    else openPanel(node, action, (filled) => submitted(node, action, filled));
  } else if (action === 'details') {
    if (ui.details) closeDetails(node);
    else openDetails(node);
  } else {
    move(node, { to: action }, action);
  }
}

function submitted(node, form, filled) {
  if (form === 'resolve') move(node, { to: 'resolved', ...filled }, 'resolved');
  else give(node, filled.username);
}

async function move(node, body, busyKey) {
  const detail = await transition(node, body, busyKey);
  if (!detail) return;
  const state = detail.alert?.state;
  done(node, detail, `Alert ${own(STATE, state)?.toLowerCase() ?? state}: ${inbox.ctx.unitName(detail.alert?.org_unit)}.`);
}

async function give(node, username) {
  const detail = await assign(node, username);
  if (detail) done(node, detail, `Alert assigned to ${personName(username)}.`);
}

function done(node, detail, sentence) {
  closePanel(node);
  applyDetail(detail);
  say(sentence);
}

function showBusy(node) {
  renderActions(node);
  setPanelBusy(node, inbox.busy.has(node.view.id));
}

/** Holds and shows the alert of a server's answer (GET or POST /alerts/{id}…). */
function applyDetail(detail) {
  if (!isAlert(detail?.alert)) return;
  const v = detail.alert;
  inbox.seen.add(v.id);
  upsert(v);
  const node = inbox.nodes.get(v.id);
  showList();
  if (node && (inbox.ui.get(v.id) ?? {}).details && inbox.nodes.has(v.id)) renderDetails(node, detail);
}
