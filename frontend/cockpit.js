// Customer cockpit: barometer, per-minute trend and live comments for the scope named in the URL,
// or for all the signed-in user's units. Plain ES modules, no dependencies (sign-in: session.js).
// Server text is untrusted: it reaches the DOM only via textContent.

import { SESSION_ENDED, api, endSession, initSession } from './session.js';

const FEED_MAX = 200;
const HISTORY_LIMIT = 50;
const BAROMETER_MIN_GAP_MS = 2000;
const BACKOFF_MAX_MS = 15000;
const RELATIVE_TIME_EVERY_MS = 30000;
// Windows slide even when nobody answers: a quiet page would otherwise keep an hour-old "last hour".
const BAROMETER_REFRESH_MS = 60000;
const HISTORY_RETRY_MS = 5000;
const SMALL_SAMPLE = 10;
const SEVERITY_RANK = { none: 0, low: 1, medium: 2, high: 3 };
const SCALE = { nps: 10, csat: 5, ces: 7 };
const CHANNEL = { web: 'Web', email: 'Email', sms: 'SMS', app: 'App', phone: 'Phone', store: 'Store', chat: 'Chat' };
const CONN_TEXT = {
  connecting: 'Connecting…', live: 'Live', reconnecting: 'Reconnecting…', reloading: 'Reloading after gap…',
  refused: 'Not allowed',
};
// The websocket's close code for a missing or ended session.
const UNAUTHORIZED = 4401;
const $ = (id) => document.getElementById(id);
const own = (table, key) => (typeof key === 'string' && Object.hasOwn(table, key) ? table[key] : undefined);
const severityOf = (v) => (own(SEVERITY_RANK, v.severity) ? v.severity : 'none');

// ---- What the page watches ---------------------------------------------------------------------
const params = new URLSearchParams(location.search);
// Lower-cased as the server compares them: ?org_unit=Store-12 watches store-12.
const uniq = (xs) => [...new Set(xs.map((x) => x.trim().toLowerCase()).filter(Boolean))];
// No org_unit in the URL: all the user's units (the server knows which).
const watch = { orgUnits: uniq(params.getAll('org_unit')), touchpoints: uniq(params.getAll('touchpoint')) };

// Set at sign-in from /api/v1/units. `named`: the units shown as watched ([]: all of them). `covered`:
// the watched units with everything below them (null: whatever the server sends). `direct`: the one
// leaf unit whose live barometer events are the page's figures; any other scope is rolled up by the
// server, so its barometer is re-fetched.
const scope = { user: null, units: new Map(), named: [], covered: null, direct: null };

const watchesOrg = (org) => !scope.covered || scope.covered.has(org);
const watchesTouchpoint = (tp) => !watch.touchpoints.length || watch.touchpoints.includes(tp);
const unitName = (id) => scope.units.get(id)?.name ?? id;

// `run` counts sign-ins and sign-outs; `generation` counts loads: a late answer of an older one is dropped.
const state = {
  ws: null, subscribed: false, resuming: false, lastId: null, attempt: 0, reconnectAt: 0, countdown: null,
  buffer: null, generation: 0, loaded: false, reloading: false, snapshot: null, baroTimer: null, baroLast: 0,
  items: new Map(), nodes: new Map(), run: 0, running: false,
};

// ---- Small helpers -----------------------------------------------------------------------------
function el(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text != null) node.textContent = String(text);
  return node;
}

function svgEl(tag, attrs) {
  const node = document.createElementNS('http://www.w3.org/2000/svg', tag);
  for (const [key, value] of Object.entries(attrs)) node.setAttribute(key, String(value));
  return node;
}

const num = (x) => (typeof x === 'number' && Number.isFinite(x) ? x : null);
const count = (n) => num(n) ?? 0;
const plural = (n, word) => `${n} ${word}${n === 1 ? '' : 's'}`;
const sampleSize = (n) => `n\u00a0=\u00a0${n}`; // kept on one line in narrow tiles
const timeOf = (iso) => Date.parse(iso) || 0;
const feedKey = (v) => timeOf(v.received_at) || timeOf(v.submitted_at); // arrival order, as the API pages

function npsText(nps, signed = false) {
  const value = num(nps);
  if (value == null) return '—';
  const rounded = Math.round(value) || 0;
  return signed && rounded > 0 ? `+${rounded}` : String(rounded);
}

function relTime(t, now = Date.now()) {
  const m = Math.round((now - t) / 60000), h = Math.round(m / 60), d = Math.round(h / 24);
  if (now - t < 45000) return 'just now';
  if (m < 60) return `${m} min ago`;
  return h < 24 ? `${h} h ago` : d === 1 ? 'yesterday' : `${d} days ago`;
}

function setTime(node, iso) {
  const t = timeOf(iso);
  node.dataset.ts = t ? String(t) : '';
  node.dateTime = t ? new Date(t).toISOString() : '';
  node.title = t ? new Date(t).toLocaleString() : '';
  node.textContent = t ? relTime(t) : '—';
}

function refreshTimes() {
  for (const node of document.querySelectorAll('time[data-ts]:not([data-ts=""])')) {
    node.textContent = relTime(Number(node.dataset.ts));
  }
}

// ---- Connection state and notices ----------------------------------------------------------------
function setConn(kind, text = CONN_TEXT[kind]) {
  const box = $('conn-state');
  if (box.dataset.state !== kind) $('conn-announce').textContent = text; // announce changes, not ticks
  box.dataset.state = kind;
  document.body.dataset.conn = kind;
  $('conn-text').textContent = text;
}

// `mine`: the notice offers a link to the user's own units (after a refusal).
function showNotice(text, { kind = 'problem', mine = false } = {}) {
  $('notice-text').textContent = text;
  $('notice').dataset.kind = kind;
  $('notice-link').hidden = !mine;
  $('notice').hidden = false;
}

// ---- REST ----------------------------------------------------------------------------------------
async function getJSON(path, query = {}) {
  try {
    return await api(path, { query });
  } catch (err) {
    if (err.status === 401) endSession(SESSION_ENDED);
    throw err;
  }
}

// 403: a unit outside the user's units; 404: a unit an admin asked for that does not exist.
const isRefusal = (err) => err.status === 403 || err.status === 404;

// Filters repeat (org_unit=a&org_unit=b); none means all the user's units. The server rolls the
// barometer up from the responses of these units (and those below) and touchpoints.
const filters = { org_unit: watch.orgUnits, touchpoint: watch.touchpoints };

async function fetchHistory() {
  const page = await getJSON('/api/v1/responses', { ...filters, limit: HISTORY_LIMIT });
  return Array.isArray(page.items) ? page.items : [];
}

const fetchBarometer = () => getJSON('/api/v1/barometers', filters);

// ---- Barometer -----------------------------------------------------------------------------------
function applySnapshot(snap) {
  if (!snap || typeof snap !== 'object' || timeOf(snap.as_of) < timeOf(state.snapshot?.as_of)) return; // stale
  state.snapshot = snap;
  renderBarometer(snap);
}

// Re-fetch at most once every BAROMETER_MIN_GAP_MS, however many events arrive.
function requestBarometer() {
  if (state.baroTimer) return;
  const wait = Math.max(0, state.baroLast + BAROMETER_MIN_GAP_MS - Date.now());
  state.baroTimer = setTimeout(async () => {
    state.baroTimer = null;
    state.baroLast = Date.now();
    const generation = state.generation;
    try {
      const snap = await fetchBarometer();
      if (generation === state.generation) applySnapshot(snap);
    } catch (err) {
      if (generation !== state.generation) return;
      if (isRefusal(err)) refuse(err.message);
      else showNotice(`Barometer not refreshed: ${err.message}`);
    }
  }, wait);
}

function renderBarometer(snap) {
  const windows = snap.windows ?? {};
  const today = windows.today ?? {};
  const nps = num(today.nps);
  const n = count(today.nps_responses);
  $('nps-today').textContent = npsText(nps);
  $('nps-sign').textContent = npsText(nps, true).startsWith('+') ? '+' : '';
  $('nps-hero').dataset.band = nps == null ? 'none' : nps >= 30 ? 'good' : nps < 0 ? 'bad' : 'mid';
  $('nps-today-count').textContent = n ? `from ${plural(n, 'NPS answer')} today` : 'No NPS answers yet today';
  $('nps-small').hidden = !n || n >= SMALL_SAMPLE;
  setTime($('as-of'), snap.as_of);
  renderMix(today);
  renderTiles(windows);
  renderSparkline(Array.isArray(snap.trend) ? snap.trend : []);
}

function renderMix(b) {
  const parts = [['promoters', count(b.promoters)], ['passives', count(b.passives)], ['detractors', count(b.detractors)]];
  $('mix').replaceChildren(...parts.map(([kind, n]) => {
    const seg = el('span', `mix-seg ${kind}`);
    seg.style.flexGrow = String(n);
    return seg;
  }));
  $('mix-legend').replaceChildren(...parts.map(([kind, n]) => el('span', `legend ${kind}`, `${n} ${kind}`)));
}

function tile(label, figure, detail, extra = '') {
  const box = el('div', `tile ${extra}`.trim());
  box.append(el('dt', 'tile-label', label), el('dd', 'tile-figure', figure), el('dd', 'tile-count', detail));
  return box;
}

function renderTiles(windows) {
  const today = windows.today ?? {};
  const flagged = count(today.flagged);
  const tiles = [['hour', 'NPS last hour'], ['7d', 'NPS 7 days']].map(([key, label]) =>
    tile(label, npsText(windows[key]?.nps, true), sampleSize(count(windows[key]?.nps_responses))));
  tiles.push(tile('To call back', String(flagged), `of ${count(today.responses)} today`,
    flagged ? 'tile-alert' : ''));
  if (count(today.csat_responses) && num(today.csat_pct) != null) {
    const mean = num(today.csat_mean);
    tiles.push(tile('CSAT today', `${Math.round(today.csat_pct)}%`,
      `satisfied · ${mean != null ? `mean ${mean.toFixed(1)}/5 · ` : ''}${sampleSize(today.csat_responses)}`));
  }
  if (count(today.ces_responses) && num(today.ces_mean) != null) {
    tiles.push(tile('CES today', today.ces_mean.toFixed(1), `1 easy to 7 hard · ${sampleSize(today.ces_responses)}`));
  }
  $('tiles').replaceChildren(...tiles);
}

// The server sends one point per minute of the last hour, oldest first, quiet minutes included.
function renderSparkline(trend) {
  const W = 320, H = 50, LINE_H = 36, SLOT = W / Math.max(1, trend.length);
  const y = (nps) => 4 + (1 - (nps + 100) / 200) * (LINE_H - 8);
  const points = trend.map((p, i) => ({ x: i * SLOT, n: count(p.responses), nps: num(p.nps), a: count(p.nps_responses) }));
  const maxN = Math.max(1, ...points.map((p) => p.n));
  const nodes = [50, -50].map((v) => svgEl('line', { x1: 0, x2: W, y1: y(v), y2: y(v), class: 'spark-grid' }));
  nodes.push(svgEl('line', { x1: 0, x2: W, y1: y(0), y2: y(0), class: 'spark-zero' }));
  for (const p of points.filter((q) => q.n)) {
    const h = Math.max(2, (p.n / maxN) * (H - LINE_H - 2));
    nodes.push(svgEl('rect', { x: p.x + 0.5, y: H - h, width: SLOT - 1, height: h, rx: 1, class: 'spark-bar' }));
  }
  const line = points.filter((p) => p.nps != null).map((p) => [p.x + SLOT / 2, y(p.nps)]);
  if (line.length > 1) nodes.push(svgEl('polyline', { points: line.map((xy) => xy.join(',')).join(' '), class: 'spark-line' }));
  if (line.length) {
    const [lx, ly] = line[line.length - 1];
    nodes.push(svgEl('circle', { cx: lx, cy: ly, r: 3, class: 'spark-dot' }));
  }
  $('sparkline').replaceChildren(...nodes);
  const answers = points.reduce((acc, p) => acc + p.a, 0);
  const total = points.reduce((acc, p) => acc + p.n, 0);
  $('trend-count').textContent = plural(total, 'response'); // the NPS answers' n is on the hour tile
  $('sparkline').setAttribute('aria-label', `NPS per minute over the last hour, from ${answers} NPS answers in ` +
    `${points.filter((p) => p.nps != null).length} minutes; bars show responses per minute.`);
}

// ---- Feed ----------------------------------------------------------------------------------------
function moodOf(v) {
  const s = v.score;
  if (v.score_kind === 'csat') return s >= 4 ? ['good', 'satisfied'] : s === 3 ? ['mid', 'neutral'] : ['bad', 'dissatisfied'];
  if (v.score_kind === 'ces') return s <= 3 ? ['good', 'low effort'] : s <= 5 ? ['mid', 'some effort'] : ['bad', 'high effort'];
  return s >= 9 ? ['good', 'promoter'] : s >= 7 ? ['mid', 'passive'] : ['bad', 'detractor'];
}

function toneOf(polarity) {
  const p = num(polarity);
  return p == null ? null : p >= 0.2 ? 'Positive' : p <= -0.2 ? 'Negative' : 'Neutral';
}

function badge(v) {
  const [mood, word] = moodOf(v);
  const kind = String(v.score_kind ?? 'nps');
  const box = el('div', `badge ${mood}`);
  box.append(el('span', 'badge-score', v.score), el('span', 'badge-kind', kind.toUpperCase()),
    el('span', 'sr-only', `out of ${own(SCALE, kind) ?? '?'}, ${word}.`));
  return box;
}

function flagChip(severity) {
  const chip = el('span', `chip flag sev-${severity}`);
  const icon = svgEl('svg', { viewBox: '0 0 16 16', width: 14, height: 14, 'aria-hidden': 'true' });
  icon.append(svgEl('path', { d: 'M3 1.5v13M3 2h9l-2 3.25L12 8.5H3', fill: 'currentColor', stroke: 'currentColor', 'stroke-width': 1.5 }));
  chip.append(icon, document.createTextNode(severity === 'none' ? 'Call back' : `Call back · ${severity}`));
  return chip;
}

function renderItem(v) {
  const li = el('li', 'item');
  li.dataset.responseId = v.response_id;
  li.dataset.severity = severityOf(v);
  li.classList.toggle('flagged', v.dissatisfied === true);
  const head = el('div', 'item-head');
  const where = el('p', 'where');
  const org = el('span', 'org', unitName(v.org_unit));
  org.title = v.org_unit;
  where.append(org, el('span', 'sep', ' · '), el('span', 'tp', v.touchpoint));
  const time = el('time', 'when');
  setTime(time, v.submitted_at); // when the customer answered
  head.append(where, time);
  const verbatim = v.comment ? el('p', 'verbatim', v.comment) : el('p', 'verbatim none', 'no comment');
  if (v.comment && typeof v.language === 'string') verbatim.lang = v.language;
  const chips = el('p', 'chips');
  if (v.dissatisfied === true) chips.append(flagChip(severityOf(v)));
  const tone = toneOf(v.polarity);
  if (tone) chips.append(el('span', `chip tone ${tone.toLowerCase()}`, `${tone} tone`));
  chips.append(el('span', 'chip channel', own(CHANNEL, v.channel) ?? v.channel));
  const lang = typeof v.language === 'string' ? v.language : '';
  if (v.comment && lang && !/^en\b/i.test(lang)) chips.append(el('span', 'chip lang', lang.toUpperCase()));
  const body = el('div', 'item-body');
  body.append(head, verbatim, chips);
  if (v.dissatisfied === true && v.contact_masked === false && v.contact) body.append(contactLine(v.contact));
  li.append(badge(v), body);
  return li;
}

// Shown only when the server revealed it (to managers, on the responses they call back).
function contactLine(contact) {
  const given = (x) => typeof x === 'string' && x !== '';
  const parts = [];
  if (given(contact.name)) parts.push(el('span', null, contact.name));
  if (given(contact.phone)) {
    const call = el('a', 'tel', contact.phone);
    call.href = `tel:${contact.phone.replace(/[^+\d]/g, '')}`;
    parts.push(call);
  }
  if (given(contact.email)) parts.push(el('span', null, contact.email));
  if (!parts.length) return el('p', 'contact none', 'No contact details given.');
  const line = el('p', 'contact');
  line.append(el('span', 'contact-label', 'Call back: '));
  parts.forEach((part, i) => line.append(...(i ? [el('span', 'sep', ' · '), part] : [part])));
  return line;
}

function merge(a, b) {
  const severity = SEVERITY_RANK[severityOf(a)] > SEVERITY_RANK[severityOf(b)] ? severityOf(a) : severityOf(b);
  const merged = { ...a, ...b, dissatisfied: a.dissatisfied === true || b.dissatisfied === true, severity };
  if (a.contact_masked === false && b.contact_masked !== false) { // live events always carry it masked
    Object.assign(merged, { contact: a.contact, customer_ref: a.customer_ref, contact_masked: false });
  }
  return merged;
}

function placeNode(node, v) {
  const key = feedKey(v);
  let next = $('feed').firstElementChild;
  while (next && feedKey(state.items.get(next.dataset.responseId)) > key) next = next.nextElementSibling;
  $('feed').insertBefore(node, next);
}

function upsert(v) {
  if (!v || typeof v.response_id !== 'string' || !watchesOrg(v.org_unit) || !watchesTouchpoint(v.touchpoint)) return;
  const old = state.items.get(v.response_id);
  const item = old ? merge(old, v) : v;
  state.items.set(item.response_id, item);
  const node = renderItem(item);
  const existing = state.nodes.get(item.response_id);
  state.nodes.set(item.response_id, node);
  if (existing) existing.replaceWith(node);
  else placeNode(node, item);
  if (old && !old.dissatisfied && item.dissatisfied) node.classList.add('raised');
}

function trimFeed() {
  const feed = $('feed');
  while (state.items.size > FEED_MAX && feed.lastElementChild) {
    const id = feed.lastElementChild.dataset.responseId;
    feed.lastElementChild.remove();
    state.items.delete(id);
    state.nodes.delete(id);
  }
  $('feed-empty').hidden = state.items.size > 0;
  $('feed-empty').textContent = 'No responses for this scope yet.';
  $('feed-count').textContent = state.items.size ? `${state.items.size} latest` : '';
}

function replaceFeed(views) {
  const feed = $('feed');
  feed.setAttribute('aria-live', 'off'); // a reload is not fifty announcements
  feed.replaceChildren();
  state.items.clear();
  state.nodes.clear();
  // Oldest first, as if live: each goes on top of those it ties with (the API pages newest first).
  for (const v of [...views].reverse().sort((x, y) => feedKey(x) - feedKey(y))) upsert(v);
  trimFeed();
  setTimeout(() => feed.setAttribute('aria-live', 'polite'), 0);
}

function flushBuffer() {
  const buffered = state.buffer ?? [];
  state.buffer = null;
  for (const v of buffered) upsert(v);
  trimFeed();
}

// Subscribe first, buffer live events, load history, then merge: nothing arriving meanwhile is lost.
async function reload(reason) {
  const generation = ++state.generation;
  state.buffer = state.buffer ?? [];
  state.reloading = true;
  $('feed').setAttribute('aria-busy', 'true');
  if (reason === 'gap') setConn('reloading');
  try {
    const [views, snap] = await Promise.all([fetchHistory(), fetchBarometer()]);
    if (generation !== state.generation) return;
    replaceFeed(views);
    applySnapshot(snap);
    state.loaded = true;
  } catch (err) {
    if (generation !== state.generation) return;
    if (isRefusal(err)) return refuse(err.message);
    showNotice(`Could not load recent responses (${err.message}). Retrying…`);
    setTimeout(() => generation === state.generation && reload(reason), HISTORY_RETRY_MS);
  }
  state.reloading = false;
  flushBuffer();
  $('feed').setAttribute('aria-busy', 'false');
  if (state.subscribed) setConn('live');
}

// ---- WebSocket -----------------------------------------------------------------------------------
function connect() {
  clearInterval(state.countdown);
  state.countdown = null;
  setConn(state.attempt || state.loaded ? 'reconnecting' : 'connecting');
  const ws = new WebSocket(`${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}/ws`);
  state.ws = ws;
  state.subscribed = false;
  ws.onopen = () => subscribe(ws);
  ws.onmessage = (e) => ws === state.ws && onMessage(ws, e.data);
  ws.onclose = (e) => ws === state.ws && onClose(e.code);
}

function subscribe(ws) {
  const msg = { type: 'subscribe', org_units: watch.orgUnits, touchpoints: watch.touchpoints };
  state.resuming = state.lastId != null;
  if (state.resuming) msg.last_id = state.lastId;
  else state.buffer = state.buffer ?? [];
  ws.send(JSON.stringify(msg));
}

function onMessage(ws, raw) {
  let msg;
  try { msg = JSON.parse(raw); } catch { return; }
  if (!msg || typeof msg !== 'object') return;
  if (msg.type === 'subscribed') onSubscribed(msg);
  else if (msg.type === 'gap') onGap(ws);
  else if (msg.type === 'error') onServerError(String(msg.message ?? 'unknown error'));
  else if (['comment', 'flag', 'barometer'].includes(msg.type)) onEvent(msg);
}

function onSubscribed(msg) {
  state.subscribed = true;
  state.attempt = 0;
  if (state.resuming) {
    setConn('live');
    return requestBarometer(); // barometers: catch up beyond what the replay covers
  }
  if (num(msg.latest_id) != null) state.lastId = msg.latest_id;
  reload(state.loaded ? 'gap' : 'start');
}

// Before its `subscribed` reply a socket watches nothing: an error then is the server refusing the
// scope (units outside the user's, say), and nothing will ever come.
function onServerError(message) {
  if (state.subscribed) showNotice(`Server: ${message}`);
  else refuse(message);
}

function onGap(ws) {
  state.subscribed = false;
  state.lastId = null;
  setConn('reloading');
  subscribe(ws); // afresh, without last_id; 'subscribed' then reloads history
}

function onEvent(ev) {
  if (num(ev.id) != null) state.lastId = Math.max(state.lastId ?? ev.id, ev.id);
  if (ev.type !== 'barometer') {
    if (state.buffer) state.buffer.push(ev.data);
    else { upsert(ev.data); trimFeed(); }
  } else if (scope.direct) {
    if (ev.org_unit === scope.direct && ev.touchpoint == null) applySnapshot(ev.data);
  } else if (barometerMoved(ev)) {
    requestBarometer();
  }
}

// Each batch sends a barometer event for (unit, null) and for each (unit, touchpoint) it touched.
// A page watching touchpoints also gets (unit, null) events for the others: its figures moved only
// when a watched (unit, touchpoint) did.
function barometerMoved(ev) {
  if (!watchesOrg(ev.org_unit)) return false;
  return watch.touchpoints.length ? watch.touchpoints.includes(ev.touchpoint) : ev.touchpoint == null;
}

function onClose(code) {
  state.ws = null;
  state.subscribed = false;
  if (code === UNAUTHORIZED) { endSession(SESSION_ENDED); return; } // not a reconnect loop
  if (!state.loaded && !state.reloading) reload('start'); // show something while the socket is down
  if (code === 1013) { connect(); return; } // server found us too slow: resume at once
  const base = Math.min(BACKOFF_MAX_MS, 1000 * 2 ** state.attempt++);
  state.reconnectAt = Date.now() + Math.min(BACKOFF_MAX_MS, Math.round(base * (0.75 + Math.random() * 0.5)));
  tickCountdown();
  state.countdown = setInterval(tickCountdown, 250);
}

function tickCountdown() {
  const seconds = Math.ceil((state.reconnectAt - Date.now()) / 1000);
  if (seconds <= 0) connect();
  else setConn('reconnecting', `Reconnecting in ${seconds} s`);
}

const reconnectNow = () => state.countdown && connect();

// ---- Scope -----------------------------------------------------------------------------------------
function setScope(user, units) {
  scope.user = user;
  scope.units = new Map(units.map((u) => [u.id, u]));
  const children = new Map();
  for (const u of units) if (u.parent) children.set(u.parent, [...(children.get(u.parent) ?? []), u.id]);
  const below = (id) => [id, ...(children.get(id) ?? []).flatMap(below)];
  const known = watch.orgUnits.length && watch.orgUnits.every((id) => scope.units.has(id));
  scope.covered = known ? new Set(watch.orgUnits.flatMap(below)) : null;
  // An admin's "all" is the whole tree; anyone else's is the units they were given.
  const mine = user.role === 'admin' || !Array.isArray(user.org_units) ? [] : user.org_units;
  scope.named = watch.orgUnits.length ? watch.orgUnits : mine;
  const [only] = scope.named;
  const leaf = scope.named.length === 1 && scope.units.has(only) && !children.has(only);
  scope.direct = leaf && !watch.touchpoints.length ? only : null;
}

function renderWatch() {
  const chip = (text, kind, title) => Object.assign(el('span', `scope-chip ${kind}`, text), title ? { title } : {});
  const units = scope.named.length ? scope.named.map((id) => chip(unitName(id), 'org', id))
    : [chip('All org units', 'all')];
  const touchpoints = watch.touchpoints.length ? watch.touchpoints.map((tp) => chip(tp, 'tp'))
    : [chip('all touchpoints', 'all')];
  $('scope').replaceChildren(...units, ...touchpoints);
  document.title = `${scope.named.map(unitName).join(', ') || 'All org units'} · Customer cockpit`;
}

// The URL with `orgUnits` watched instead, touchpoints kept.
function urlWatching(orgUnits) {
  const next = new URLSearchParams(location.search);
  next.delete('org_unit');
  for (const id of orgUnits) next.append('org_unit', id);
  return next.size ? `${location.pathname}?${next}` : location.pathname;
}

// Picking a unit opens the page for it (a new URL, so Back returns to the previous scope).
function renderPicker() {
  const depth = (u) => (scope.units.has(u.parent) ? 1 + depth(scope.units.get(u.parent)) : 0);
  const option = (value, text, selected) => Object.assign(el('option', null, text), { value, selected });
  const [one] = watch.orgUnits.length === 1 ? watch.orgUnits : [];
  const options = [option('', scope.user.role === 'admin' ? 'All org units' : 'All my units', !watch.orgUnits.length)];
  if (watch.orgUnits.length > 1) options.push(Object.assign(option('', 'Several units', true), { disabled: true }));
  for (const u of scope.units.values()) {
    options.push(option(u.id, `${'\u00a0\u00a0'.repeat(depth(u))}${u.name}`, u.id === one));
  }
  $('unit-pick').replaceChildren(...options);
  $('unit-pick-box').hidden = scope.units.size < 2;
}

// ---- Start and stop ----------------------------------------------------------------------------------
// Closes the socket (its handlers ignore a socket that is not state.ws), stops the timers and drops
// any load under way and every item held.
function halt() {
  state.generation++;
  state.running = false;
  const ws = state.ws;
  state.ws = null;
  ws?.close(1000);
  clearInterval(state.countdown);
  clearTimeout(state.baroTimer);
  Object.assign(state, { countdown: null, baroTimer: null, subscribed: false, buffer: null, reloading: false });
  state.items.clear();
  state.nodes.clear();
}

// The page shows nothing it may not: the server refused the scope, so stop asking and say why.
function refuse(message) {
  halt();
  $('feed').replaceChildren();
  $('feed').setAttribute('aria-busy', 'false');
  $('feed-empty').hidden = false;
  $('feed-empty').textContent = 'Nothing to show for this scope.';
  $('feed-count').textContent = '';
  setConn('refused');
  const reason = message.replace(/^[a-z_]+: /, ''); // "org_unit: outside your units: …": the field is ours
  showNotice(`You cannot watch this: ${reason}.`, { kind: 'refused', mine: watch.orgUnits.length > 0 });
}

async function startCockpit(user) {
  const run = ++state.run;
  state.running = true;
  let units = [];
  try {
    const answer = await getJSON('/api/v1/units');
    units = Array.isArray(answer?.units) ? answer.units : [];
  } catch (err) {
    if (run !== state.run) return;
    showNotice(`Could not load your org units (${err.message}); showing their ids.`);
  }
  if (run !== state.run) return;
  setScope(user, units);
  renderWatch();
  renderPicker();
  setConn('connecting');
  connect();
}

// A fresh copy of the barometer and feed, so nothing of one user's data outlives their session.
const pristineLayout = $('layout').cloneNode(true);

function stopCockpit() {
  state.run++;
  halt();
  Object.assign(state, { resuming: false, lastId: null, attempt: 0, loaded: false, snapshot: null, baroLast: 0 });
  $('layout').replaceWith(pristineLayout.cloneNode(true));
  $('notice').hidden = true;
  $('scope').replaceChildren();
  $('unit-pick-box').hidden = true;
  setConn('connecting');
  document.title = 'Customer cockpit';
}

setInterval(refreshTimes, RELATIVE_TIME_EVERY_MS);
setInterval(() => {
  if (state.running && document.visibilityState === 'visible') requestBarometer();
}, BAROMETER_REFRESH_MS);
$('notice-close').addEventListener('click', () => { $('notice').hidden = true; });
$('unit-pick').addEventListener('change', (e) => location.assign(urlWatching(e.target.value ? [e.target.value] : [])));
$('notice-link').href = urlWatching([]);
window.addEventListener('online', reconnectNow);
document.addEventListener('visibilitychange', () => {
  if (document.visibilityState !== 'visible') return;
  refreshTimes();
  reconnectNow();
});
initSession({ start: startCockpit, stop: stopCockpit, notify: showNotice });
