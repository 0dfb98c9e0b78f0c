// The alerts screen: for managers the inbox (filters, pages, cases and incidents, bulk actions, the
// closed-loop figures), for frontline staff who take callbacks their units' callbacks. The server
// filters, searches, orders and pages; this module starts and stops the screen, builds it, loads a
// page, applies live events without moving the list under the user's finger, and wires the other
// alert-*.js modules. Server text (comments, notes, names) reaches the DOM only via textContent.

import { $, debounced, el, own } from './dom.js';
import { N_, relativeTime, t } from './i18n.js';
import { api } from './session.js';
import { assign, recordCall, showRequestsWith, take, transition } from './alert-actions.js';
import { buildBulk, clearSelection, showSelection, toggleCard } from './alert-bulk.js';
import { isMine, keepContact, resetOutcomeForm, syncOutcomeForm } from './alert-callback.js';
import { createCard, renderActions, renderSummary, updateCard, updateSla } from './alert-card.js';
import { closeDetails, openDetails, renderDetails } from './alert-details.js';
import { loadRootCauses } from './alert-fields.js';
import { buildFilters, renderFilters } from './alert-filters.js';
import { fetchFigures, requestFigures } from './alert-figures.js';
import { closePanel, openPanel, setPanelBusy } from './alert-forms.js';
import { incidentBanner, incidentCard } from './alert-incident.js';
import { dropCard, renderFresh, renderPage, renderSummaryLine, updateBadge } from './alert-list.js';
import { announceNew, renderNotifyControl, say } from './alert-notify.js';
import { defaultFilters, matches, narrowed, toQuery } from './alert-query.js';
import {
  BASE, UNRESOLVED, callbacks, inbox, isAlert, outcomeName, personName, stateName, unauthorized,
} from './alert-state.js';

const TICK_MS = 30000;
// Live events come in bursts: the counts (and a page nobody is looking at) are read again at most
// this often.
const REFRESH_GAP_MS = 1500;

showRequestsWith({ busy: showBusy, detail: (detail) => applyDetail(detail), gone: (id) => dropCard(id) });

/**
 * Starts the screen. `mode`: 'manager' or 'callbacks'; `units`: the user's units ({id, name, parent});
 * `shown()`: whether the screen is on view; `reveal`: an alert to show open, once the first page is in.
 */
export function startAlerts({
  user, mode = 'manager', orgUnits = [], units = [], unitName = (id) => id, notify = () => {},
  onUnauthorized = () => {}, reveal = null, shown = () => true,
}) {
  stopAlerts();
  inbox.run++;
  inbox.running = true;
  inbox.mode = mode;
  const children = new Map();
  for (const u of units) if (u.parent) children.set(u.parent, [...(children.get(u.parent) ?? []), u.id]);
  const below = (id) => new Set([id, ...(children.get(id) ?? []).flatMap((c) => [...below(c)])]);
  inbox.ctx = {
    user, orgUnits: [...orgUnits], units: [...units], unitName, notify, onUnauthorized, reveal, shown, below,
  };
  inbox.filters = defaultFilters();
  if (user?.username) inbox.people.set(user.username, user.display_name || user.username);
  const title = $('alerts-title');
  if (title) {
    const name = callbacks() ? N_('Callbacks') : N_('Alerts');
    title.textContent = t(name);
    if ('i18n' in title.dataset) title.dataset.i18n = name; // the page shown in another language keeps it
  }
  inbox.dom = buildScreen();
  inbox.tick = setInterval(onTick, TICK_MS);
  loadRules(); // the inbox itself loads on reloadAlerts(), once the page's comments are in
  loadCauseNames();
}

export function stopAlerts() {
  inbox.run++;
  inbox.running = false;
  clearInterval(inbox.tick);
  clearTimeout(inbox.figuresTimer);
  reloadSoon.cancel();
  refreshSoon.cancel();
  Object.assign(inbox, {
    tick: null, figuresTimer: null, figuresLast: 0, ctx: null, dom: null, loaded: false, buffer: null, filters: null,
    page: 1, pages: 1, total: 0, counts: {}, items: [], incident: null, pinned: null, rootCauses: null,
    figuresUnit: undefined,
  });
  for (const table of [inbox.alerts, inbox.seen, inbox.fresh, inbox.nodes, inbox.ui, inbox.busy, inbox.contacts,
    inbox.people, inbox.ruleText, inbox.selection.items]) {
    table.clear();
  }
  inbox.selection.all = false;
  $('alerts-root')?.replaceChildren();
  updateBadge(0);
  $('tab-alerts')?.removeAttribute('aria-label');
}

export function reloadAlerts() {
  if (inbox.running) load();
}

/** A new or changed alert pushed live: its card on this page changes in place; a new one waits. */
export function onAlertEvent(view) {
  if (!inbox.running || !isAlert(view)) return;
  if (callbacks() && !view.response_id) return; // a unit's alert has no customer to call
  if (inbox.buffer) { inbox.buffer.push(view); return; } // applied once the load under way lands
  const known = inbox.seen.has(view.id);
  inbox.seen.add(view.id);
  const node = inbox.nodes.get(view.id);
  if (node) {
    inbox.alerts.set(view.id, view);
    refreshCard(node, view);
  } else if (!known && view.state === 'open' && !view.assignee && !view.escalations && matches(view, inbox.filters)) {
    inbox.fresh.add(view.id);
  }
  if (!known && view.state === 'open') announceNew(view);
  // Nobody is looking, or nothing is listed: the page can take the new alerts in at once.
  if (!inbox.ctx.shown() || (inbox.loaded && !inbox.items.length && inbox.fresh.size)) reloadSoon();
  else {
    renderFresh();
    refreshSoon();
  }
}

export function onLoopEvent(figures) {
  if (!inbox.running || callbacks() || !figures || typeof figures !== 'object') return;
  // The event holds the figures of the alert's own unit; the page shows those of the watched units
  // and the units below them, which the server computes again from the alerts (never an average).
  requestFigures();
}

const reloadSoon = debounced(() => inbox.running && load(), REFRESH_GAP_MS);
const refreshSoon = debounced(() => inbox.running && refresh(), REFRESH_GAP_MS);

// The open alerts of the tab's badge, when the inbox's filters do not count them already.
async function badgeCount(answer) {
  if (callbacks()) return Number(answer?.counts?.assignee?.['']) || 0;
  if (!narrowed(inbox.filters)) return Number(answer?.counts?.state?.open) || 0;
  const open = await api(BASE, {
    query: { org_unit: inbox.ctx.orgUnits, state: 'open', group: 'false', limit: 1, counts: 'false' },
  });
  return Number(open?.total) || 0;
}

const validItems = (answer) => (Array.isArray(answer?.items) ? answer.items : [])
  .filter((i) => i && typeof i === 'object' && isAlert(i.alert) && ['alert', 'case', 'incident'].includes(i.kind));

/**
 * Loads page `page` of the inbox with its filters and shows it in place of the one shown. Events
 * arriving meanwhile are kept and applied after it: nothing is lost. `focus`: the user asked for
 * another page (pager, new alerts): focus goes to the line above the list; `announce`: the user
 * changed a filter and stays on it: the line is said.
 */
async function load({ page = inbox.page, focus = false, announce = false, counts = true } = {}) {
  const run = inbox.run, seq = ++inbox.loadSeq;
  inbox.buffer = inbox.buffer ?? [];
  reloadSoon.cancel();
  if (!inbox.loaded) setStatus('loading');
  inbox.dom.list.setAttribute('aria-busy', 'true');
  if (!callbacks() && inbox.figuresUnit !== inbox.filters.org_unit) {
    inbox.figuresUnit = inbox.filters.org_unit;
    fetchFigures();
  }
  let answer, open;
  try {
    answer = await api(BASE, { query: toQuery(inbox.filters, page, { counts }) });
    if (run === inbox.run && seq === inbox.loadSeq) open = await badgeCount(counts ? answer : { counts: inbox.counts });
  } catch (err) {
    if (run !== inbox.run || seq !== inbox.loadSeq) return;
    if (unauthorized(err)) return;
    inbox.dom.list.setAttribute('aria-busy', 'false');
    const error = err.message;
    setStatus('error', callbacks() ? t('Could not load the callbacks ({error}).', { error })
      : t('Could not load the alerts ({error}).', { error }));
    flush();
    return;
  }
  if (run !== inbox.run || seq !== inbox.loadSeq) return;
  const pages = Math.max(1, Number(answer.pages) || 1);
  if (page > pages) { // the last page emptied meanwhile
    inbox.loadSeq++;
    load({ page: pages, focus });
    return;
  }
  inbox.loaded = true;
  inbox.page = page;
  inbox.pages = pages;
  inbox.total = Number(answer.total) || 0;
  if (counts) inbox.counts = answer.counts && typeof answer.counts === 'object' ? answer.counts : {};
  inbox.incidentMinutes = Number(answer.incident_minutes) || 60;
  inbox.items = validItems(answer);
  inbox.fresh.clear();
  for (const item of inbox.items) {
    inbox.seen.add(item.alert.id);
    if (item.kind !== 'incident') inbox.alerts.set(item.alert.id, item.alert);
  }
  inbox.dom.list.setAttribute('aria-busy', 'false');
  setStatus('ok');
  renderPage(cardFor, (item) => incidentCard(item, openIncident));
  renderFilters();
  showSelection();
  updateBadge(open);
  if (callbacks()) for (const item of inbox.items) if (needsContact(item.alert)) loadContact(item.alert.id);
  flush();
  if (focus) focusList();
  else if (announce) say(inbox.dom.summary.textContent);
  if (inbox.ctx.reveal != null) {
    const id = inbox.ctx.reveal;
    inbox.ctx.reveal = null; // once: a later reload must not pull the user back to it
    revealAlert(id);
  }
}

function flush() {
  const buffered = inbox.buffer ?? [];
  inbox.buffer = null;
  for (const v of buffered) onAlertEvent(v);
}

/** The same page asked again: its counts and pages, and the cards on it changed in place; none moves. */
async function refresh() {
  if (!inbox.loaded || inbox.buffer) return;
  const run = inbox.run, seq = inbox.loadSeq;
  let answer, open;
  try {
    answer = await api(BASE, { query: toQuery(inbox.filters, inbox.page) });
    open = await badgeCount(answer);
  } catch (err) {
    if (run === inbox.run) unauthorized(err); // otherwise the counts stay as they were until the next load
    return;
  }
  if (run !== inbox.run || seq !== inbox.loadSeq) return;
  inbox.total = Number(answer.total) || 0;
  inbox.pages = Math.max(1, Number(answer.pages) || 1);
  inbox.counts = answer.counts && typeof answer.counts === 'object' ? answer.counts : {};
  for (const item of validItems(answer)) {
    const node = inbox.nodes.get(item.alert.id);
    if (!node || item.kind === 'incident') continue;
    const held = inbox.items.find((i) => i.alert.id === item.alert.id);
    if (held) Object.assign(held, { kind: item.kind, count: item.count });
    inbox.alerts.set(item.alert.id, item.alert);
    refreshCard(node, item.alert, { kind: item.kind, count: item.count, key: item.key });
  }
  renderFilters();
  renderSummaryLine();
  showSelection();
  updateBadge(open);
  if (!inbox.dom.list.children.length && inbox.total > 0) load(); // the page emptied: the next ones move up
}

function focusList() {
  const line = inbox.dom.summary;
  const top = document.querySelector('.topbar')?.offsetHeight ?? 0;
  line.style.scrollMarginTop = `${top + 10}px`;
  line.scrollIntoView({ block: 'start' });
  line.focus({ preventScroll: true });
  say(line.textContent);
}

function changeFilters() {
  if (inbox.incident && inbox.filters.org_unit !== inbox.incident.unit) {
    // Another unit chosen: the incident's list is left for the inbox, grouped again.
    inbox.incident = null;
    inbox.filters.group = true;
    renderIncident();
  }
  clearSelection();
  inbox.fresh.clear();
  load({ page: 1, announce: true });
}

function openIncident(item) {
  inbox.incident = { unit: item.alert.org_unit, back: { ...inbox.filters }, page: inbox.page };
  Object.assign(inbox.filters, { org_unit: item.alert.org_unit, group: false });
  renderIncident();
  clearSelection();
  inbox.fresh.clear();
  load({ page: 1, focus: true });
}

function closeIncident() {
  const { back, page } = inbox.incident;
  inbox.incident = null;
  inbox.filters = { ...back };
  renderIncident();
  clearSelection();
  load({ page, focus: true });
}

function renderIncident() {
  const box = inbox.dom.incident;
  box.replaceChildren(...(inbox.incident ? [incidentBanner(inbox.incident, closeIncident)] : []));
}

// The alert a link opened: its card open, in view and focused; one the page does not list is shown
// above it, asked for on its own.
async function revealAlert(id) {
  const run = inbox.run;
  let node = inbox.nodes.get(id);
  if (!node) {
    let detail;
    try {
      detail = await api(`${BASE}/${id}`);
    } catch (err) {
      if (run !== inbox.run || unauthorized(err)) return;
      inbox.ctx.notify(t('Alert {id} cannot be shown: {error}.', { id, error: err.message.replace(/\.$/, '') }));
      return;
    }
    if (run !== inbox.run || !isAlert(detail?.alert)) return;
    const v = detail.alert;
    keepContact(v);
    inbox.seen.add(v.id);
    inbox.alerts.set(v.id, v);
    inbox.pinned = v.id;
    node = cardFor(v, { kind: 'alert', count: 1, key: '' });
    inbox.dom.pinnedList.replaceChildren(node.li);
    inbox.dom.pinned.hidden = false;
  }
  if (!(inbox.ui.get(id) ?? {}).details) openDetails(node);
  // Below the sticky top bar, not under it.
  node.li.style.scrollMarginTop = `${(document.querySelector('.topbar')?.offsetHeight ?? 0) + 10}px`;
  node.li.classList.add('is-linked');
  node.li.scrollIntoView({ block: 'start' });
  node.li.focus({ preventScroll: true });
}

async function loadRules() {
  const run = inbox.run;
  try {
    const book = await api(`${BASE}/rules`);
    if (run !== inbox.run || !book || typeof book.titles !== 'object') return;
    for (const rule of Array.isArray(book.rules) ? book.rules : []) {
      if (typeof rule?.id === 'string') inbox.ruleText.set(rule.id, String(own(book.titles, rule.id) ?? rule.id));
    }
    renderFilters();
    for (const node of inbox.nodes.values()) renderSummary(node);
  } catch (err) {
    if (run === inbox.run) unauthorized(err); // otherwise the rules keep their ids in words
  }
}

// The root causes' names, for the resolutions the cards show (their ids in words until they load).
async function loadCauseNames() {
  const run = inbox.run;
  try {
    await loadRootCauses();
  } catch (err) {
    if (run === inbox.run) unauthorized(err);
    return;
  }
  if (run !== inbox.run) return;
  for (const node of inbox.nodes.values()) renderSummary(node);
}

function buildScreen() {
  const root = $('alerts-root');
  const dom = {
    root,
    notify: el('div', 'alerts-notify'),
    live: el('p', 'alerts-sr'),
    incident: el('div', 'alerts-incident-box'),
    summary: el('p', 'alerts-summary'),
    fresh: el('button', 'alerts-button alerts-fresh'),
    status: el('div', 'alerts-status'),
    pinned: el('section', 'alerts-pinned'),
    pinnedList: el('ul', 'alerts-list'),
    list: el('ul', 'alerts-list'),
    pager: el('nav', 'alerts-pager'),
    pageText: el('p', 'alerts-page'),
    previous: el('button', 'alerts-button', t('Previous')),
    next: el('button', 'alerts-button', t('Next')),
    loop: el('section', 'alerts-loop'),
    loopNote: el('p', 'loop-note'),
    loopBody: el('div', 'loop-body'),
  };
  dom.live.setAttribute('role', 'status');
  dom.live.setAttribute('aria-live', 'polite');
  dom.summary.id = 'alerts-summary';
  dom.summary.tabIndex = -1;
  dom.list.setAttribute('aria-label', callbacks() ? t('Callbacks, most urgent first') : t('Alerts'));
  dom.list.setAttribute('aria-busy', 'true');
  dom.fresh.type = 'button';
  dom.fresh.hidden = true;
  dom.fresh.addEventListener('click', () => {
    inbox.fresh.clear();
    load({ page: 1, focus: true });
  });

  const pinnedTitle = el('h3', 'alerts-pinned-title', t('The alert your link opened'));
  pinnedTitle.id = 'alerts-pinned-title';
  const dismiss = el('button', 'alerts-button quiet', t('Dismiss'));
  dismiss.type = 'button';
  dismiss.addEventListener('click', () => {
    const id = inbox.pinned;
    dropCard(id);
    dom.summary.focus();
  });
  const pinnedHead = el('div', 'alerts-pinned-head');
  pinnedHead.append(pinnedTitle, dismiss);
  dom.pinned.setAttribute('aria-labelledby', pinnedTitle.id);
  dom.pinned.append(pinnedHead, dom.pinnedList);
  dom.pinned.hidden = true;

  dom.pager.setAttribute('aria-label', callbacks() ? t('Pages of callbacks') : t('Pages of alerts'));
  for (const [b, step] of [[dom.previous, -1], [dom.next, 1]]) {
    b.type = 'button';
    // Another page of the same filters: their counts are those already shown.
    b.addEventListener('click', () => load({ page: inbox.page + step, focus: true, counts: false }));
  }
  dom.pager.append(dom.previous, dom.pageText, dom.next);
  dom.pager.hidden = true;

  const parts = [dom.notify, buildFilters(changeFilters), dom.live, dom.incident, dom.summary, dom.fresh];
  if (!callbacks()) {
    parts.push(buildBulk({ onDone: () => { load({ page: inbox.page }); requestFigures(); }, say }));
  }
  parts.push(dom.status, dom.pinned, dom.list, dom.pager);
  if (!callbacks()) {
    const loopTitle = el('h3', 'loop-title', t('Closing the loop'));
    loopTitle.id = 'alerts-loop-title';
    dom.loop.setAttribute('aria-labelledby', loopTitle.id);
    dom.loop.append(loopTitle, dom.loopNote, dom.loopBody);
    dom.loopNote.textContent = t('Loading the figures…');
    parts.push(dom.loop);
  }
  root.replaceChildren(...parts);
  renderNotifyControl(dom.notify);
  return dom;
}

function setStatus(kind, text = '') {
  const box = inbox.dom.status;
  box.dataset.kind = kind;
  if (kind === 'loading') {
    box.replaceChildren(el('p', 'alerts-loading', callbacks() ? t('Loading callbacks…') : t('Loading alerts…')));
  }
  else if (kind === 'error') {
    const retry = el('button', 'alerts-button', t('Try again'));
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
      if (time.dataset.ts) time.textContent = relativeTime(Number(time.dataset.ts));
    }
  }
  renderNotifyControl(inbox.dom.notify);
}

// The card of `v` for the list: a new one, or the one shown brought up to date.
function cardFor(v, item) {
  const node = inbox.nodes.get(v.id);
  if (!node) {
    const made = createCard(v, onAction, item);
    if (callbacks()) syncOutcomeForm(made, (filled) => call(made, filled));
    return made;
  }
  if (node.view !== v || node.item.kind !== item.kind || node.item.count !== item.count) refreshCard(node, v, item);
  return node;
}

function refreshCard(node, v, item = node.item) {
  const old = node.view;
  updateCard(node, v, item);
  const ui = inbox.ui.get(v.id) ?? {};
  if (callbacks()) {
    syncOutcomeForm(node, (filled) => call(node, filled));
    if (needsContact(v)) loadContact(v.id);
  } else if (ui.panel && !UNRESOLVED.includes(v.state)) closePanel(node); // resolved meanwhile by someone else
  if (old.state !== v.state && ui.details) openDetails(node, true);
}

// What a card's button does: open or close a form or the details, select it, take the callback, or
// move the alert on at once.
function onAction(node, action, value) {
  const ui = inbox.ui.get(node.view.id) ?? {};
  if (action === 'select') toggleCard(node, value);
  else if (action === 'take') takeIt(node);
  else if (action === 'resolve' || action === 'assign') {
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
  const unit = inbox.ctx.unitName(detail.alert?.org_unit);
  done(node, detail, t('Alert {state}: {unit}.', { state: stateName(state).toLocaleLowerCase(), unit }));
}

async function give(node, username) {
  const detail = await assign(node, username);
  if (detail) done(node, detail, t('Alert assigned to {name}.', { name: personName(username) }));
}

function done(node, detail, sentence) {
  closePanel(node);
  applyDetail(detail, { own: true });
  say(sentence);
}

async function takeIt(node) {
  const detail = await take(node);
  if (!detail) return;
  keepContact(detail.alert);
  applyDetail(detail, { own: true });
  say(t('The callback is yours: the customer’s contact is on the card.'));
  const current = inbox.nodes.get(node.view.id);
  (current?.summary.querySelector('a[href^="tel:"], a[href^="mailto:"]') ?? current?.panel.querySelector('input'))?.focus();
}

async function call(node, filled) {
  const detail = await recordCall(node, filled);
  if (!detail) return;
  applyDetail(detail, { own: true });
  const current = inbox.nodes.get(node.view.id);
  if (current && isMine(current.view) && UNRESOLVED.includes(current.view.state)) resetOutcomeForm(current);
  say(t('Call recorded: {outcome}.', { outcome: outcomeName(filled.outcome).toLocaleLowerCase() }));
}

const needsContact = (v) => isMine(v) && UNRESOLVED.includes(v.state) && !inbox.contacts.has(v.id);

// A callback this user took, listed again (live events and pages carry contacts masked): its contact.
async function loadContact(id) {
  const run = inbox.run;
  inbox.contacts.set(id, null); // asked once
  try {
    const detail = await api(`${BASE}/${id}`);
    if (run !== inbox.run) return;
    keepContact(detail?.alert);
  } catch (err) {
    if (run !== inbox.run || unauthorized(err)) return;
    inbox.contacts.delete(id);
    inbox.nodes.get(id)?.error.replaceChildren(t('Could not load the contact ({error}).', { error: err.message }));
    return;
  }
  const node = inbox.nodes.get(id);
  if (node) renderSummary(node);
}

function showBusy(node) {
  renderActions(node);
  setPanelBusy(node, inbox.busy.has(node.view.id));
}

/**
 * Holds and shows the alert of a server's answer (GET or POST /alerts/{id}…). After the user's own
 * step a manager's card that no longer fits the filters leaves (they work through a list); a
 * frontline user's stays, showing how their call ended.
 */
function applyDetail(detail, { own: mine = false } = {}) {
  if (!isAlert(detail?.alert)) return;
  const v = detail.alert;
  inbox.seen.add(v.id);
  const node = inbox.nodes.get(v.id);
  if (!node) return;
  inbox.alerts.set(v.id, v);
  if (mine && !callbacks() && v.id !== inbox.pinned && !matches(v, inbox.filters)) {
    dropCard(v.id);
    inbox.items = inbox.items.filter((i) => i.alert.id !== v.id);
    inbox.selection.items.delete(v.id);
    renderPage(cardFor, (item) => incidentCard(item, openIncident));
  } else {
    refreshCard(node, v);
    if ((inbox.ui.get(v.id) ?? {}).details) renderDetails(node, detail);
  }
  if (mine) refresh();
}

