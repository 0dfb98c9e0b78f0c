// The managers' alerts inbox: alerts of the watched units, most urgent first, acknowledged, assigned
// and resolved in a tap or two; the closed-loop figures; a browser notification for each new alert.
// Server text (comments, notes, names) reaches the DOM only via textContent.

import { $, count, el, num, own, plural, relTime, setTime, span, timeOf } from './dom.js';
import { HttpError, api } from './session.js';

const BASE = '/api/v1/alerts';
const TICK_MS = 30000;
const FIGURES_MIN_GAP_MS = 2000;
const LIST_PAGE = 200;
const LIST_PAGES_MAX = 5;
const RESOLVED_KEPT = 50;
const UNRESOLVED = ['open', 'acknowledged', 'in_progress'];
const SEVERITY_RANK = { none: 0, low: 1, medium: 2, high: 3 };
const SEVERITY = { none: 'No severity', low: 'Low', medium: 'Medium', high: 'High' };
const STATE = {
  open: 'Open', acknowledged: 'Acknowledged', in_progress: 'In progress', resolved: 'Resolved', closed: 'Closed',
};
const ROLE = { manager: 'Manager', admin: 'Admin', frontline: 'Frontline' };
// Rule ids of alerts/rules.yaml in plain words; other rules use their description from /rules.
const RULE = {
  'detractor-negative-comment': 'Detractor with a negative comment',
  'csat-dissatisfied': 'Dissatisfied (CSAT)',
  'ces-high-effort': 'High customer effort',
  'churn-language': 'Talks of leaving or a refund',
  'repeat-dissatisfied': 'Dissatisfied again',
  'unit-nps-drop': 'NPS drop in the last hour',
};
const AGE = {
  under_1h: 'Under 1 h', '1h_to_4h': '1–4 h', '4h_to_24h': '4–24 h', '1d_to_2d': '1–2 days', over_2d: 'Over 2 days',
};
const FILTERS = [['unresolved', 'To do'], ['open', 'Open'], ['resolved', 'Resolved']];
const EMPTY = {
  unresolved: 'No open alerts in your units.',
  open: 'Every alert in your units is acknowledged.',
  resolved: 'No recently resolved alerts.',
};
const BUSY = {
  acknowledged: 'Acknowledging…', resolved: 'Resolving…', assign: 'Assigning…', closed: 'Closing…', open: 'Reopening…',
};

const rankOf = (v) => own(SEVERITY_RANK, v.severity) ?? 0;
const severityOf = (v) => (own(SEVERITY_RANK, v.severity) != null ? v.severity : 'none');
const humanize = (slug) => {
  const text = String(slug).replace(/[-_]+/g, ' ').trim();
  return text.charAt(0).toUpperCase() + text.slice(1);
};

// `run` counts starts and stops: an answer that arrives after the user signed out is dropped.
const S = {
  run: 0, running: false, ctx: null, dom: null, tick: null, figuresTimer: null, figuresLast: 0,
  alerts: new Map(), seen: new Set(), loaded: false, loadSeq: 0, buffer: null, filter: 'unresolved',
  nodes: new Map(), ui: new Map(), busy: new Map(), rootCauses: null, people: new Map(), ruleText: new Map(),
};

// ---- Start and stop --------------------------------------------------------------------------------
export function startAlerts({ user, orgUnits = [], unitName = (id) => id, notify = () => {}, onUnauthorized = () => {} }) {
  stopAlerts();
  S.run++;
  S.running = true;
  S.ctx = { user, orgUnits: [...orgUnits], unitName, notify, onUnauthorized };
  if (user?.username) S.people.set(user.username, user.display_name || user.username);
  S.dom = buildScreen();
  S.tick = setInterval(onTick, TICK_MS);
  load();
  loadRules();
}

export function stopAlerts() {
  S.run++;
  S.running = false;
  clearInterval(S.tick);
  clearTimeout(S.figuresTimer);
  Object.assign(S, { tick: null, figuresTimer: null, figuresLast: 0, ctx: null, dom: null, loaded: false, buffer: null });
  for (const table of [S.alerts, S.seen, S.nodes, S.ui, S.busy, S.people, S.ruleText]) table.clear();
  S.rootCauses = null;
  S.filter = 'unresolved';
  $('alerts-root')?.replaceChildren();
  updateBadge(0);
  $('tab-alerts')?.removeAttribute('aria-label');
}

export function reloadAlerts() {
  if (S.running) load();
}

export function onAlertEvent(view) {
  if (!S.running || !isAlert(view)) return;
  if (S.buffer) { S.buffer.push(view); return; } // applied once the load under way lands
  const fresh = !S.seen.has(view.id);
  S.seen.add(view.id);
  upsert(view, { arrived: fresh });
  if (fresh && view.state === 'open') announceNew(view);
  render();
}

export function onLoopEvent(figures) {
  if (!S.running || !figures || typeof figures !== 'object') return;
  // The event holds the figures of the alert's own unit; the page shows those of the watched units
  // and the units below them, which the server computes again from the alerts (never an average).
  // The websocket only sends the watched units' events, so each one means the figures moved.
  requestFigures();
}

const isAlert = (v) => v && typeof v === 'object' && Number.isInteger(v.id) && typeof v.state === 'string';

// ---- Loading ---------------------------------------------------------------------------------------
// Events arriving while a load is under way are kept and applied after it: nothing is lost.
async function load() {
  const run = S.run, seq = ++S.loadSeq;
  S.buffer = S.buffer ?? [];
  if (!S.loaded) setStatus('loading');
  S.dom.list.setAttribute('aria-busy', 'true');
  fetchFigures();
  let unresolved, resolved;
  try {
    [unresolved, resolved] = await Promise.all([
      listAll({ state: UNRESOLVED }),
      api(BASE, { query: { org_unit: S.ctx.orgUnits, state: 'resolved', limit: RESOLVED_KEPT } }),
    ]);
  } catch (err) {
    if (run !== S.run || seq !== S.loadSeq) return;
    if (unauthorized(err)) return;
    S.dom.list.setAttribute('aria-busy', 'false');
    setStatus('error', `Could not load the alerts (${err.message}).`);
    const buffered = S.buffer ?? [];
    S.buffer = null;
    for (const v of buffered) onAlertEvent(v);
    return;
  }
  if (run !== S.run || seq !== S.loadSeq) return;
  const loaded = [...unresolved, ...(Array.isArray(resolved?.items) ? resolved.items : [])].filter(isAlert);
  const known = new Set(loaded.map((v) => v.id));
  S.alerts.clear();
  for (const v of loaded) S.alerts.set(v.id, v);
  for (const id of known) S.seen.add(id);
  const buffered = S.buffer ?? [];
  S.buffer = null;
  S.loaded = true;
  S.dom.list.setAttribute('aria-busy', 'false');
  setStatus('ok');
  render();
  for (const v of buffered) onAlertEvent(v);
}

async function listAll(query) {
  const items = [];
  let before;
  for (let page = 0; page < LIST_PAGES_MAX; page++) {
    const answer = await api(BASE, { query: { org_unit: S.ctx.orgUnits, limit: LIST_PAGE, before, ...query } });
    items.push(...(Array.isArray(answer?.items) ? answer.items : []));
    before = answer?.next_before;
    if (before == null) break;
  }
  return items;
}

async function fetchFigures() {
  const run = S.run;
  S.figuresLast = Date.now();
  try {
    const figures = await api(`${BASE}/figures`, { query: { org_unit: S.ctx.orgUnits } });
    if (run === S.run) renderFigures(figures);
  } catch (err) {
    if (run !== S.run || unauthorized(err)) return;
    S.dom.loopNote.textContent = `Figures not updated (${err.message}).`;
  }
}

// At most one figures request every FIGURES_MIN_GAP_MS, however many alerts change.
function requestFigures() {
  if (S.figuresTimer) return;
  const wait = Math.max(0, S.figuresLast + FIGURES_MIN_GAP_MS - Date.now());
  S.figuresTimer = setTimeout(() => {
    S.figuresTimer = null;
    if (S.running) fetchFigures();
  }, wait);
}

async function loadRules() {
  const run = S.run;
  try {
    const book = await api(`${BASE}/rules`);
    if (run !== S.run || !Array.isArray(book?.rules)) return;
    for (const rule of book.rules) if (typeof rule?.id === 'string') S.ruleText.set(rule.id, String(rule.description ?? ''));
    render(true);
  } catch (err) {
    if (run === S.run) unauthorized(err); // otherwise the rules keep their built-in names
  }
}

function unauthorized(err) {
  if (!(err instanceof HttpError) || err.status !== 401) return false;
  const { onUnauthorized } = S.ctx ?? {};
  onUnauthorized?.();
  return true;
}

// ---- Holding alerts --------------------------------------------------------------------------------
function upsert(view, { arrived = false } = {}) {
  if (view.state === 'closed') {
    S.alerts.delete(view.id);
    return;
  }
  S.alerts.set(view.id, view);
  if (arrived) S.ui.set(view.id, { ...(S.ui.get(view.id) ?? {}), arrived: true });
  const resolved = [...S.alerts.values()].filter((v) => v.state === 'resolved')
    .sort((a, b) => timeOf(b.resolved_at) - timeOf(a.resolved_at));
  for (const v of resolved.slice(RESOLVED_KEPT)) S.alerts.delete(v.id);
}

function shown(v) {
  if (S.filter === 'resolved') return v.state === 'resolved';
  if (S.filter === 'open') return v.state === 'open';
  return UNRESOLVED.includes(v.state);
}

// Most severe first, then oldest first; resolved ones newest resolution first.
function order(a, b) {
  if (S.filter === 'resolved') return timeOf(b.resolved_at) - timeOf(a.resolved_at) || b.id - a.id;
  return rankOf(b) - rankOf(a) || timeOf(a.created_at) - timeOf(b.created_at) || a.id - b.id;
}

// ---- The screen ------------------------------------------------------------------------------------
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
    const input = Object.assign(el('input'), { type: 'radio', name: 'alerts-filter', value, checked: value === S.filter });
    const name = el('span', null, text);
    const n = el('span', 'alerts-filter-count');
    input.addEventListener('change', () => input.checked && setFilter(value));
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

function setFilter(value) {
  S.filter = value;
  for (const id of [...S.nodes.keys()]) dropNode(id);
  render();
}

function setStatus(kind, text = '') {
  const box = S.dom.status;
  box.dataset.kind = kind;
  if (kind === 'loading') box.replaceChildren(el('p', 'alerts-loading', 'Loading alerts…'));
  else if (kind === 'error') {
    const retry = el('button', 'alerts-button', 'Try again');
    retry.type = 'button';
    retry.addEventListener('click', () => { setStatus('loading'); load(); });
    box.replaceChildren(el('p', 'alerts-error-text', text), retry);
  } else box.replaceChildren();
}

// Puts the cards of the current filter in order, creating and dropping cards as needed.
// `all`: re-render every card (the rule names arrived).
function render(all = false) {
  if (!S.dom) return;
  const views = [...S.alerts.values()].filter(shown).sort(order);
  const keep = new Set(views.map((v) => v.id));
  for (const id of [...S.nodes.keys()]) if (!keep.has(id)) dropNode(id);
  let before = S.dom.list.firstElementChild;
  for (const v of views) {
    let node = S.nodes.get(v.id);
    if (!node) node = createCard(v);
    else if (all || node.view !== v) updateCard(node, v);
    if (node.li !== before) S.dom.list.insertBefore(node.li, before);
    else before = before.nextElementSibling;
  }
  if (S.loaded && S.dom.status.dataset.kind !== 'error') {
    const empty = views.length ? [] : [el('p', 'alerts-empty', EMPTY[S.filter])];
    S.dom.status.replaceChildren(...empty);
  }
  const held = [...S.alerts.values()];
  const n = {
    unresolved: held.filter((v) => UNRESOLVED.includes(v.state)).length,
    open: held.filter((v) => v.state === 'open').length,
    resolved: held.filter((v) => v.state === 'resolved').length,
  };
  for (const [key, node] of S.dom.filters) node.textContent = S.loaded ? String(n[key]) : '';
  updateBadge(n.open);
}

function dropNode(id) {
  const node = S.nodes.get(id);
  if (!node) return;
  // Focus inside a card that leaves goes to the next card (or the one before), not to the page top.
  if (node.li.contains(document.activeElement)) {
    const next = node.li.nextElementSibling ?? node.li.previousElementSibling;
    const target = next ?? S.dom.list;
    target.tabIndex = -1;
    target.focus();
  }
  node.li.remove();
  S.nodes.delete(id);
  const ui = S.ui.get(id);
  if (ui) S.ui.set(id, { ...ui, panel: null, details: false });
}

function updateBadge(open) {
  const badge = $('alerts-badge');
  const tab = $('tab-alerts');
  if (badge) {
    badge.textContent = open ? String(open) : '';
    badge.hidden = !open;
    badge.setAttribute('aria-hidden', 'true'); // the tab's label says it
  }
  if (tab && S.running) tab.setAttribute('aria-label', open ? `Alerts, ${open} open` : 'Alerts, none open');
}

// ---- A card ----------------------------------------------------------------------------------------
function createCard(v) {
  const li = el('li', 'alert-card');
  li.tabIndex = -1;
  const node = {
    li, view: null,
    summary: el('div', 'alert-summary'),
    actions: el('div', 'alert-actions'),
    error: el('p', 'alert-error'),
    panel: el('div', 'alert-panel'),
    details: el('div', 'alert-details'),
  };
  node.error.setAttribute('role', 'alert');
  node.panel.id = `alert-${v.id}-panel`;
  node.details.id = `alert-${v.id}-details`;
  node.panel.hidden = true;
  node.details.hidden = true;
  li.append(node.summary, node.actions, node.error, node.panel, node.details);
  S.nodes.set(v.id, node);
  updateCard(node, v);
  const ui = S.ui.get(v.id);
  if (ui?.arrived) {
    li.classList.add('is-new');
    li.addEventListener('animationend', () => li.classList.remove('is-new'), { once: true });
    S.ui.set(v.id, { ...ui, arrived: false });
  }
  return node;
}

function updateCard(node, v) {
  const old = node.view;
  node.view = v;
  const { li } = node;
  li.dataset.alertId = String(v.id);
  li.dataset.state = v.state;
  li.dataset.severity = severityOf(v);
  li.setAttribute('aria-labelledby', `alert-${v.id}-title`);
  node.summary.replaceChildren(...summaryParts(v));
  updateSla(node);
  renderActions(node);
  const ui = S.ui.get(v.id) ?? {};
  // A form that no longer fits the state (resolved meanwhile by someone else) closes.
  if (ui.panel === 'resolve' && !UNRESOLVED.includes(v.state)) closePanel(node);
  if (ui.panel === 'assign' && !UNRESOLVED.includes(v.state)) closePanel(node);
  if (old && old.state !== v.state && ui.details) openDetails(node, true);
}

function summaryParts(v) {
  const sev = severityOf(v);
  const tags = el('p', 'alert-tags');
  tags.append(el('span', `alert-sev sev-${sev}`, SEVERITY[sev]),
    el('span', `alert-state state-${v.state}`, own(STATE, v.state) ?? humanize(v.state)));
  const escalations = count(v.escalations);
  if (escalations) tags.append(el('span', 'alert-escalated', escalations > 1 ? `Escalated ×${escalations}` : 'Escalated'));

  const title = el('h3', 'alert-title');
  title.id = `alert-${v.id}-title`;
  const unit = el('span', 'alert-unit', S.ctx.unitName(v.org_unit));
  unit.title = v.org_unit;
  title.append(el('span', 'alerts-sr', `${SEVERITY[sev]} alert: `), unit,
    el('span', 'alert-touchpoint', v.touchpoint ? ` · ${v.touchpoint}` : ' · whole unit'));

  const reasons = el('ul', 'alert-reasons');
  reasons.setAttribute('aria-label', 'Why');
  for (const [rule, why] of Object.entries(v.reasons ?? {})) {
    const item = el('li', 'alert-reason');
    item.append(el('span', 'alert-rule', ruleName(rule)));
    const detail = reasonDetail(why ?? {});
    if (detail) item.append(el('span', 'alert-reason-detail', ` — ${detail}`));
    reasons.append(item);
  }

  const r = v.response;
  const parts = [tags, title, reasons];
  if (r) {
    const quote = r.comment ? el('blockquote', 'alert-comment', r.comment) : el('p', 'alert-comment none', 'No comment');
    if (r.comment && typeof r.language === 'string') quote.lang = r.language;
    parts.push(quote);
  }
  const meta = el('p', 'alert-meta');
  const raised = el('time', 'alert-age');
  setTime(raised, v.created_at);
  meta.append(el('span', null, 'raised '), raised);
  if (r && num(r.score) != null) {
    meta.append(el('span', 'alert-sep', ' · '), el('span', null, `${String(r.score_kind ?? 'nps').toUpperCase()} ${r.score}`));
  }
  if (r?.channel) meta.append(el('span', 'alert-sep', ' · '), el('span', null, r.channel));
  parts.push(meta, el('p', 'alert-sla'));
  if (v.assignee) parts.push(el('p', 'alert-assignee', `Assigned to ${personName(v.assignee)}`));
  if (v.state === 'resolved' || v.root_cause || v.resolution_note) parts.push(resolution(v));
  return parts;
}

function resolution(v) {
  const box = el('div', 'alert-resolution');
  const head = el('p', 'alert-resolved');
  head.append(el('span', null, v.root_cause ? `Root cause: ${humanize(v.root_cause)}` : 'Resolved'));
  if (v.resolved_at) {
    const when = el('time');
    setTime(when, v.resolved_at);
    head.append(el('span', 'alert-sep', ' · resolved '), when);
  }
  box.append(head);
  if (v.resolution_note) box.append(el('p', 'alert-note', v.resolution_note));
  return box;
}

function ruleName(rule) {
  return own(RULE, rule) ?? (S.ruleText.get(rule) || humanize(rule));
}

// What a rule found, in words: the score, the phrases, the earlier answers, the drop.
function reasonDetail(why) {
  const bits = [];
  const kind = String(why.score_kind ?? '').toUpperCase();
  if (num(why.score) != null) bits.push(`${kind || 'score'} ${why.score}`);
  if (num(why.polarity) != null) bits.push(`comment tone ${why.polarity.toFixed(2)}`);
  if (Array.isArray(why.matched) && why.matched.length) bits.push(`said ${why.matched.map((m) => `“${m}”`).join(', ')}`);
  if (Array.isArray(why.earlier)) {
    const days = num(why.within_days);
    bits.push(`${plural(why.earlier.length, 'earlier dissatisfied answer')}${days ? ` in ${days} days` : ''}`);
  }
  if (num(why.drop) != null) {
    const nps = (x) => (num(x) == null ? '—' : String(Math.round(x)));
    bits.push(`NPS ${nps(why.hour_nps)} last hour (${count(why.hour_responses)} answers) vs ${nps(why.week_nps)} ` +
      `over 7 days, ${Math.round(why.drop)} points down`);
  }
  return bits.join('; ');
}

function personName(username) {
  if (username === S.ctx.user?.username) return 'you';
  return S.people.get(username) ?? username;
}

// "Acknowledge within 14 min" while open; then the time left to resolve; urgent when overdue.
function slaOf(v, now = Date.now()) {
  const open = v.state === 'open';
  if (!UNRESOLVED.includes(v.state)) return null;
  const due = timeOf(open ? v.due_ack_at : v.due_resolve_at);
  if (!due) return { text: open ? 'No deadline to acknowledge' : 'No deadline to resolve', urgency: 'none' };
  const left = due - now;
  if (left < 0) return { text: `${open ? 'Acknowledgement' : 'Resolution'} overdue by ${span(left)}`, urgency: 'overdue' };
  const whole = due - timeOf(v.created_at);
  const soon = left < 5 * 60000 || (whole > 0 && left < whole / 4);
  return { text: `${open ? 'Acknowledge' : 'Resolve'} within ${span(left)}`, urgency: soon ? 'soon' : 'ok' };
}

function updateSla(node) {
  const line = node.summary.querySelector('.alert-sla');
  if (!line) return;
  const sla = slaOf(node.view);
  line.hidden = !sla;
  line.textContent = sla?.text ?? '';
  line.dataset.urgency = sla?.urgency ?? 'none';
  node.li.dataset.urgency = sla?.urgency ?? 'none';
}

function onTick() {
  if (!S.running) return;
  for (const node of S.nodes.values()) {
    updateSla(node);
    for (const time of node.li.querySelectorAll('time[data-ts]')) {
      if (time.dataset.ts) time.textContent = relTime(Number(time.dataset.ts));
    }
  }
  renderNotifyControl(S.dom.notify);
}

// ---- Actions -----------------------------------------------------------------------------------------
function button(text, action, className = 'alerts-button') {
  const b = el('button', className, text);
  b.type = 'button';
  b.dataset.action = action;
  return b;
}

function renderActions(node) {
  const v = node.view;
  const ui = S.ui.get(v.id) ?? {};
  const busy = S.busy.get(v.id);
  const active = document.activeElement;
  const focused = node.actions.contains(active) ? active.dataset.action : active === node.li ? node.refocus : null;
  const buttons = [];
  if (v.state === 'open') buttons.push(button('Acknowledge', 'acknowledged', 'alerts-button primary'));
  if (UNRESOLVED.includes(v.state)) {
    const resolveKind = v.state === 'open' ? 'alerts-button' : 'alerts-button primary';
    buttons.push(button('Resolve', 'resolve', resolveKind), button('Assign', 'assign'));
  }
  if (v.state === 'resolved') buttons.push(button('Close', 'closed', 'alerts-button primary'), button('Reopen', 'open'));
  buttons.push(button('Details', 'details', 'alerts-button quiet'));
  for (const b of buttons) {
    const a = b.dataset.action;
    if (a === 'resolve' || a === 'assign') {
      b.setAttribute('aria-expanded', String(ui.panel === a));
      b.setAttribute('aria-controls', node.panel.id);
    }
    if (a === 'details') {
      b.setAttribute('aria-expanded', String(Boolean(ui.details)));
      b.setAttribute('aria-controls', node.details.id);
    }
    if (busy && a !== 'details') b.disabled = true;
    if (busy === a) b.textContent = own(BUSY, a) ?? 'Working…';
    b.setAttribute('aria-describedby', `alert-${v.id}-title`);
    b.addEventListener('click', () => onAction(node, a));
  }
  node.actions.replaceChildren(...buttons);
  node.li.setAttribute('aria-busy', String(Boolean(busy)));
  node.refocus = null;
  if (!focused) return;
  // A disabled button cannot hold focus: the card holds it while the request runs.
  const enabled = buttons.filter((b) => !b.disabled);
  const target = enabled.find((b) => b.dataset.action === focused) ?? (busy ? null : enabled[0]);
  if (target) target.focus();
  else {
    node.refocus = focused;
    node.li.focus();
  }
}

function onAction(node, action) {
  const id = node.view.id;
  if (action === 'resolve' || action === 'assign') {
    if ((S.ui.get(id) ?? {}).panel === action) closePanel(node, true);
    else openPanel(node, action);
  } else if (action === 'details') {
    if ((S.ui.get(id) ?? {}).details) closeDetails(node);
    else openDetails(node);
  } else {
    move(node, { to: action }, action);
  }
}

// One request for one card at a time; the card then shows the server's answer.
async function send(node, busyKey, path, body) {
  const id = node.view.id, run = S.run;
  if (S.busy.has(id)) return null;
  if (node.li.contains(document.activeElement)) {
    node.refocus = (S.ui.get(id) ?? {}).panel ?? busyKey;
    node.li.focus();
  }
  S.busy.set(id, busyKey);
  node.error.textContent = '';
  renderActions(node);
  setPanelBusy(node, true);
  try {
    const detail = await api(`${BASE}/${id}/${path}`, { method: 'POST', body });
    if (run !== S.run) return null;
    return detail;
  } catch (err) {
    if (run !== S.run || unauthorized(err)) return null;
    showCardError(id, err);
    return null;
  } finally {
    if (run === S.run) {
      S.busy.delete(id);
      const current = S.nodes.get(id);
      if (current) { renderActions(current); setPanelBusy(current, false); }
    }
  }
}

function showCardError(id, err) {
  const node = S.nodes.get(id);
  const message = err instanceof HttpError ? err.message : `Could not reach the server (${err.message}); try again.`;
  if (err.status === 404) {
    S.alerts.delete(id);
    S.ctx.notify(`Alert ${id}: ${message}`);
    render();
    return;
  }
  const sentence = `${message.charAt(0).toUpperCase()}${message.slice(1)}${/[.!?]$/.test(message) ? '' : '.'}`;
  if (node) node.error.textContent = err.status === 409 ? `${sentence} It is shown as it is now.` : sentence;
  if (err.status === 409) refreshAlert(id); // changed meanwhile: show what it is now
}

async function refreshAlert(id) {
  const run = S.run;
  try {
    const detail = await api(`${BASE}/${id}`);
    if (run === S.run) applyDetail(detail);
  } catch (err) {
    if (run === S.run && !unauthorized(err) && err.status === 404) showCardError(id, err);
  }
}

function applyDetail(detail) {
  if (!isAlert(detail?.alert)) return;
  const v = detail.alert;
  S.seen.add(v.id);
  upsert(v);
  const node = S.nodes.get(v.id);
  render();
  if (node && (S.ui.get(v.id) ?? {}).details && S.nodes.has(v.id)) renderDetails(node, detail);
}

async function move(node, body, busyKey) {
  const detail = await send(node, busyKey, 'transition', body);
  if (!detail) return false;
  closePanel(node);
  applyDetail(detail);
  const state = detail.alert?.state;
  say(`Alert ${own(STATE, state)?.toLowerCase() ?? state}: ${S.ctx.unitName(detail.alert?.org_unit)}.`);
  return true;
}

// ---- Inline forms: resolve, assign ----------------------------------------------------------------------
function openPanel(node, kind) {
  const id = node.view.id;
  S.ui.set(id, { ...(S.ui.get(id) ?? {}), panel: kind });
  node.error.textContent = '';
  node.panel.replaceChildren(kind === 'resolve' ? resolveForm(node) : assignForm(node));
  node.panel.hidden = false;
  renderActions(node);
  node.panel.querySelector('select, textarea')?.focus();
}

function closePanel(node, refocus = false) {
  const id = node.view.id;
  const was = (S.ui.get(id) ?? {}).panel;
  S.ui.set(id, { ...(S.ui.get(id) ?? {}), panel: null });
  node.panel.hidden = true;
  node.panel.replaceChildren();
  renderActions(node);
  if (refocus && was) node.actions.querySelector(`[data-action="${was}"]`)?.focus();
}

function setPanelBusy(node, busy) {
  const form = node.panel.querySelector('form');
  if (!form) return;
  form.setAttribute('aria-busy', String(busy));
  for (const field of form.querySelectorAll('button, select, textarea')) {
    if (field.dataset.waiting !== 'true') field.disabled = busy;
  }
  const submit = form.querySelector('button[type="submit"]');
  if (submit) submit.textContent = busy ? submit.dataset.busy : submit.dataset.idle;
}

function field(id, labelText, control) {
  const box = el('div', 'alert-field');
  const label = el('label', 'alert-label', labelText);
  label.htmlFor = id;
  control.id = id;
  box.append(label, control);
  return box;
}

function formButtons(node, idle, busy) {
  const row = el('div', 'alert-form-buttons');
  const submit = el('button', 'alerts-button primary', idle);
  submit.type = 'submit';
  submit.dataset.idle = idle;
  submit.dataset.busy = busy;
  const cancel = el('button', 'alerts-button', 'Cancel');
  cancel.type = 'button';
  cancel.addEventListener('click', () => closePanel(node, true));
  row.append(submit, cancel);
  return row;
}

function resolveForm(node) {
  const id = node.view.id;
  const form = el('form', 'alert-form');
  form.noValidate = true;
  form.setAttribute('aria-label', 'Resolve the alert');
  const cause = el('select', 'alert-input');
  cause.required = true;
  const note = el('textarea', 'alert-input');
  note.required = true;
  note.maxLength = 4000;
  note.rows = 3;
  note.placeholder = 'Called the customer back; what was done';
  const hint = el('p', 'alert-form-error');
  hint.setAttribute('aria-live', 'polite');
  form.append(field(`alert-${id}-cause`, 'Root cause', cause), field(`alert-${id}-note`, 'What was done', note),
    hint, formButtons(node, 'Resolve alert', BUSY.resolved));
  fillRootCauses(node, cause);
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    const missing = !cause.value ? [cause, 'Choose a root cause.']
      : !note.value.trim() ? [note, 'Say how it was resolved.'] : null;
    for (const input of [cause, note]) input.removeAttribute('aria-invalid');
    hint.textContent = missing ? missing[1] : '';
    if (missing) {
      missing[0].setAttribute('aria-invalid', 'true');
      missing[0].focus();
      return;
    }
    await move(node, { to: 'resolved', root_cause: cause.value, note: note.value.trim() }, 'resolved');
  });
  return form;
}

async function fillRootCauses(node, select) {
  const run = S.run;
  const choose = (text) => Object.assign(el('option', null, text), { value: '' });
  select.replaceChildren(choose('Loading…'));
  select.disabled = true;
  select.dataset.waiting = 'true';
  try {
    S.rootCauses = S.rootCauses ?? (await api(`${BASE}/root-causes`)).root_causes;
  } catch (err) {
    if (run !== S.run || unauthorized(err)) return;
    select.replaceChildren(choose('Could not load the root causes'));
    node.error.textContent = `Could not load the root causes (${err.message}); close the form and try again.`;
    return;
  }
  if (run !== S.run) return;
  const causes = Array.isArray(S.rootCauses) ? S.rootCauses : [];
  const options = causes.map((c) => Object.assign(el('option', null, humanize(c)), { value: c }));
  select.replaceChildren(choose('Choose a root cause'), ...options);
  select.dataset.waiting = 'false';
  select.disabled = false;
}

function assignForm(node) {
  const id = node.view.id;
  const form = el('form', 'alert-form');
  form.noValidate = true;
  form.setAttribute('aria-label', 'Assign the alert');
  const who = el('select', 'alert-input');
  const hint = el('p', 'alert-form-error');
  hint.setAttribute('aria-live', 'polite');
  form.append(field(`alert-${id}-assignee`, 'Assign to', who), hint, formButtons(node, 'Assign', BUSY.assign));
  fillAssignees(node, who);
  form.addEventListener('submit', async (event) => {
    event.preventDefault();
    if (!who.value) {
      hint.textContent = 'Choose who takes this alert.';
      who.focus();
      return;
    }
    const detail = await send(node, 'assign', 'assign', { username: who.value });
    if (!detail) return;
    closePanel(node);
    applyDetail(detail);
    say(`Alert assigned to ${personName(who.value)}.`);
  });
  return form;
}

async function fillAssignees(node, select) {
  const run = S.run, v = node.view;
  select.replaceChildren(Object.assign(el('option', null, 'Loading…'), { value: '' }));
  select.disabled = true;
  select.dataset.waiting = 'true';
  let people;
  try {
    const answer = await api(`${BASE}/${v.id}/assignees`);
    people = Array.isArray(answer?.assignees) ? answer.assignees : [];
  } catch (err) {
    if (run !== S.run || unauthorized(err)) return;
    select.replaceChildren(Object.assign(el('option', null, 'Could not load who may take it'), { value: '' }));
    node.error.textContent = `Could not load who may take this alert (${err.message}).`;
    return;
  }
  if (run !== S.run) return;
  for (const p of people) S.people.set(p.username, p.display_name || p.username);
  const options = people.map((p) => {
    const me = p.username === S.ctx.user?.username ? ' (you)' : '';
    const text = `${p.display_name || p.username}${me} · ${own(ROLE, p.role) ?? p.role}`;
    return Object.assign(el('option', null, text), { value: p.username, selected: p.username === v.assignee });
  });
  const prompt = people.length ? 'Choose a manager' : 'Nobody may take this alert';
  const none = Object.assign(el('option', null, prompt), { value: '' });
  select.replaceChildren(none, ...options);
  select.dataset.waiting = 'false';
  select.disabled = !people.length;
  if (S.nodes.get(v.id) === node) { node.summary.replaceChildren(...summaryParts(node.view)); updateSla(node); }
}

// ---- Details: the customer's contact and the alert's history ---------------------------------------------
async function openDetails(node, quiet = false) {
  const id = node.view.id, run = S.run;
  S.ui.set(id, { ...(S.ui.get(id) ?? {}), details: true });
  node.details.hidden = false;
  if (!quiet) node.details.replaceChildren(el('p', 'alert-muted', 'Loading details…'));
  renderActions(node);
  try {
    const detail = await api(`${BASE}/${id}`);
    if (run !== S.run || S.nodes.get(id) !== node || !(S.ui.get(id) ?? {}).details) return;
    renderDetails(node, detail);
  } catch (err) {
    if (run !== S.run || unauthorized(err)) return;
    node.details.replaceChildren(el('p', 'alert-error', `Could not load the details (${err.message}).`));
  }
}

function closeDetails(node) {
  S.ui.set(node.view.id, { ...(S.ui.get(node.view.id) ?? {}), details: false });
  node.details.hidden = true;
  node.details.replaceChildren();
  renderActions(node);
}

function renderDetails(node, detail) {
  const parts = [];
  const r = detail.alert?.response;
  if (r) parts.push(contactLine(r));
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

function stepText(step) {
  const d = step.detail ?? {};
  if (step.action === 'assigned' && typeof d.assignee === 'string') return `assigned to ${personName(d.assignee)}`;
  if (step.to_state && step.from_state && step.from_state !== step.to_state) {
    return `${own(STATE, step.from_state) ?? step.from_state} → ${own(STATE, step.to_state) ?? step.to_state}`;
  }
  return humanize(step.action ?? 'changed').toLowerCase();
}

// Revealed by GET /alerts/{id} to the managers who call the customer back.
function contactLine(r) {
  const c = r.contact_masked === false ? r.contact : null;
  const given = (x) => typeof x === 'string' && x !== '';
  if (!c || !(given(c.name) || given(c.phone) || given(c.email))) {
    return el('p', 'alert-contact none', 'No contact details given.');
  }
  const line = el('p', 'alert-contact');
  line.append(el('span', 'alert-muted', 'Call back: '));
  const parts = [];
  if (given(c.name)) parts.push(el('span', null, c.name));
  if (given(c.phone)) {
    const call = el('a', 'alert-tel', c.phone);
    call.href = `tel:${c.phone.replace(/[^+\d]/g, '')}`;
    parts.push(call);
  }
  if (given(c.email)) {
    const mail = el('a', 'alert-tel', c.email);
    mail.href = `mailto:${c.email}`;
    parts.push(mail);
  }
  parts.forEach((part, i) => line.append(...(i ? [el('span', 'alert-sep', ' · '), part] : [part])));
  return line;
}

// ---- Closed-loop figures ---------------------------------------------------------------------------------
function minutesText(m) {
  if (m < 1) return 'under 1 min';
  if (m < 120) return `${Math.round(m)} min`;
  return m < 2880 ? `${(m / 60).toFixed(1)} h` : `${(m / 1440).toFixed(1)} days`;
}

function renderFigures(f) {
  if (!S.dom || !f || typeof f !== 'object') return;
  const days = count(f.days) || 7;
  S.dom.loopNote.textContent = `Last ${days} days · ${plural(count(f.alerts), 'alert')} raised`;
  const tile = (label, figure, detail, kind = '') => {
    const box = el('div', `loop-tile ${kind}`.trim());
    box.append(el('dt', 'loop-label', label), el('dd', 'loop-figure', figure), el('dd', 'loop-count', detail));
    return box;
  };
  const ack = num(f.median_ack_minutes), fix = num(f.median_resolve_hours), pct = num(f.contacted_48h_pct);
  const tiles = el('dl', 'loop-tiles');
  tiles.append(
    tile('Time to acknowledge', ack == null ? '—' : minutesText(ack), `median of ${count(f.acknowledged)} acknowledged`),
    tile('Time to resolve', fix == null ? '—' : minutesText(fix * 60), `median of ${count(f.resolved)} resolved`),
    tile('Detractors called back within 48 h', pct == null ? '—' : `${Math.round(pct)}%`,
      `${count(f.contacted_48h)} of ${plural(count(f.detractors), 'detractor')}`, pct != null && pct < 80 ? 'loop-bad' : ''),
  );
  const ages = el('div', 'loop-ages');
  const agesTitle = el('p', 'loop-label', 'Unresolved, by age');
  agesTitle.id = 'alerts-loop-ages';
  const list = el('ul', 'loop-age-list');
  list.setAttribute('aria-labelledby', agesTitle.id);
  const byAge = f.open_by_age && typeof f.open_by_age === 'object' ? f.open_by_age : {};
  for (const [key, n] of Object.entries(byAge)) {
    const item = el('li', `loop-age${count(n) && (key === 'over_2d' || key === '1d_to_2d') ? ' late' : ''}`);
    item.append(el('span', 'loop-age-n', count(n)), el('span', 'loop-age-label', own(AGE, key) ?? humanize(key)));
    list.append(item);
  }
  ages.append(agesTitle, list);
  S.dom.loopBody.replaceChildren(tiles, ages);
}

// ---- Announcements and browser notifications -------------------------------------------------------------
function say(text) {
  if (!S.dom) return;
  S.dom.live.textContent = '';
  setTimeout(() => { if (S.dom) S.dom.live.textContent = text; }, 50); // a repeat is announced again
}

function announceNew(v) {
  const sev = SEVERITY[severityOf(v)];
  const unit = S.ctx.unitName(v.org_unit);
  say(`New ${sev.toLowerCase()} alert: ${unit}${v.touchpoint ? `, ${v.touchpoint}` : ''}.`);
  const N = window.Notification;
  if (typeof N !== 'function' || N.permission !== 'granted') return;
  const reasons = Object.keys(v.reasons ?? {}).map(ruleName).join('; ');
  try {
    const body = v.response?.comment || reasons || 'A customer needs a call back.';
    const shownNote = new N(`${sev} alert · ${unit}`, { body, tag: `alert-${v.id}` });
    shownNote.onclick = () => {
      window.focus();
      location.hash = '#alerts';
      shownNote.close?.();
    };
  } catch {
    // Some mobile browsers only show notifications from a service worker: the inbox still shows it.
  }
}

function renderNotifyControl(box) {
  if (!box) return;
  const N = window.Notification;
  const state = typeof N === 'function' ? N.permission : 'unsupported';
  if (box.dataset.permission === state) return;
  box.dataset.permission = state;
  if (state === 'default') {
    const ask = button('Turn on alert notifications', 'notify', 'alerts-button quiet');
    ask.addEventListener('click', async () => {
      ask.disabled = true;
      try { await N.requestPermission(); } catch { /* the state below says what happened */ }
      renderNotifyControl(box);
    });
    box.replaceChildren(ask);
  } else if (state === 'denied') {
    box.replaceChildren(el('p', 'alert-muted', 'Alert notifications are off in the browser settings.'));
  } else if (state === 'unsupported') {
    box.replaceChildren(el('p', 'alert-muted', 'This browser does not show alert notifications.'));
  } else {
    box.replaceChildren();
  }
}
