// Customer cockpit: live comments, barometer, journey and alerts (the managers' inbox, or frontline
// staff's callbacks where they take them) for the scope named in the URL, or for all the signed-in
// user's units. Plain ES modules, no dependencies. This module
// holds the connection to the hub and what the page watches; each screen has its own module.
// Server text is untrusted: it reaches the DOM only via textContent.

import { SESSION_ENDED, api, apiUrl, endSession, initSession } from './session.js';
import { N_, formatNumber, t } from './i18n.js';
import { onAlertEvent, onLoopEvent, reloadAlerts, startAlerts, stopAlerts } from './alerts.js';
import { applySnapshot, initBarometer, resetBarometer } from './barometer.js';
import { $, debounced, el, num, refreshTimes } from './dom.js';
import {
  feedFilters, initFeed, mergeHistory, offerThemes, offerTouchpoints, replaceFeed, resetFeed, settle, showTheme as filterByTheme, upsert,
} from './feed.js';
import {
  applyJourney, applyThemeJourney, initJourney, journeyTheme, journeyThemePeriod, journeyTouchpoints, journeyWindow,
  offerJourneyThemes, resetJourney,
} from './journey.js';
import { decorateEntry, onPraiseEvent, reloadPraise, startPraise, stopPraise } from './praise.js';
import { closeLinkedResponse, initLinkedResponse, showLinkedResponse } from './response-dialog.js';
import { currentScreen, initScreens, onScreen, replaceScreen, showAlertsTab } from './screens.js';
import { closeSettings, initSettings } from './settings.js';
import { applyEmerging, applyThemes, initThemes, resetThemes, setTaxonomy, themesPeriod } from './themes.js';

const HISTORY_LIMIT = 50;
const REFETCH_MIN_GAP_MS = 2000;
const BACKOFF_MAX_MS = 15000;
const RELATIVE_TIME_EVERY_MS = 30000;
// Windows slide even when nobody answers: a quiet page would otherwise keep an hour-old "last hour".
const REFRESH_MS = 60000;
const HISTORY_RETRY_MS = 5000;
const CONN_TEXT = {
  connecting: N_('Connecting…'), live: N_('Live'), reconnecting: N_('Reconnecting…'), reloading: N_('Reloading after gap…'),
  refused: N_('Not allowed'), offline: N_('Offline: waiting for the network'),
};
// The websocket's close code for a missing or ended session.
const UNAUTHORIZED = 4401;
const wide = matchMedia('(min-width: 960px)');

// ---- What the page watches ---------------------------------------------------------------------
const params = new URLSearchParams(location.search);
// Lower-cased as the server compares them: ?org_unit=Store-12 watches store-12.
const uniq = (xs) => [...new Set(xs.map((x) => x.trim().toLowerCase()).filter(Boolean))];
// No org_unit in the URL: all the user's units (the server knows which).
const watch = { orgUnits: uniq(params.getAll('org_unit')), touchpoints: uniq(params.getAll('touchpoint')) };
// The alert an e-mail or webhook links to (/?alert=49). The sign-in form takes the place of the
// page without leaving its URL, so the link still holds once the manager has signed in.
const linkedAlert = /^[1-9][0-9]{0,14}$/.test(params.get('alert') ?? '') ? Number(params.get('alert')) : null;
// The response a digest e-mail links to (/?response=r-123), shown once signed in.
const linkedResponse = /^[^\s/]{1,128}$/.test(params.get('response') ?? '') ? params.get('response') : null;

// Set at sign-in from /api/v1/units. `named`: the units shown as watched, as the server names the
// scope of the barometers it pushes ([]: all of them). `covered`: the watched units with everything
// below them (null: whatever the server sends). `alerts`: the user works alerts (the server's
// works_alerts: managers and admins, frontline staff where they take callbacks).
const scope = { user: null, units: new Map(), named: [], covered: null, alerts: false };

const watchesOrg = (org) => !scope.covered || scope.covered.has(org);
const watchesTouchpoint = (tp) => !watch.touchpoints.length || watch.touchpoints.includes(tp);
const sameSet = (xs, ys) => Array.isArray(xs) && xs.length === ys.length && ys.every((y) => xs.includes(y));
// A barometer the server pushed for this page's scope; the worker's older events carry no scope.
const isOurs = (pushed) => pushed != null && typeof pushed === 'object' &&
  sameSet(pushed.org_units, scope.named) && sameSet(pushed.touchpoints, watch.touchpoints);
const unitName = (id) => scope.units.get(id)?.name ?? id;

// `run` counts sign-ins and sign-outs; `generation` counts loads: a late answer of an older one is dropped.
// `journeyStale`, `themesStale`: the journey or the themes moved while their screen was not shown.
const state = {
  ws: null, subscribed: false, resuming: false, lastId: null, attempt: 0, reconnectAt: 0, countdown: null,
  buffer: null, generation: 0, loaded: false, reloading: false, run: 0, running: false, journeyStale: false,
  themesStale: false,
};

// ---- Connection state and notices ----------------------------------------------------------------
function setConn(kind, text = t(CONN_TEXT[kind])) {
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

// The feed's own filters and search narrow the responses asked for (the score band is applied on the
// page, and left out of an export).
function feedQuery() {
  const f = feedFilters();
  const query = { ...filters };
  if (f.touchpoint) query.touchpoint = f.touchpoint;
  if (f.channel) query.channel = f.channel;
  if (f.flagged) query.flagged = true;
  if (f.q) query.q = f.q;
  if (f.theme) query.theme = f.theme;
  return query;
}

async function fetchHistory() {
  const page = await getJSON('/api/v1/responses', { ...feedQuery(), limit: HISTORY_LIMIT });
  return Array.isArray(page.items) ? page.items : [];
}

// An export link downloads every response the feed's query finds (the session cookie goes along),
// pointed at the query as it is when the reader reaches the link.
function pointExport(link) {
  link.href = apiUrl('/api/v1/responses/export', { ...feedQuery(), format: link.dataset.format });
}

const fetchBarometer = () => getJSON('/api/v1/barometers', filters);
const fetchJourney = () => getJSON('/api/v1/journey', { org_unit: watch.orgUnits, window: journeyWindow() });
const fetchThemes = () => getJSON('/api/v1/themes', { ...filters, period: themesPeriod() });
// The journey viewed by a theme: that theme at each touchpoint (null when none is chosen).
const fetchThemeJourney = () => (journeyTheme()
  ? getJSON('/api/v1/themes/journey', { org_unit: watch.orgUnits, theme: journeyTheme(), period: journeyThemePeriod() })
  : Promise.resolve(null));

// What a failed refresh or load says, by what failed (`problem`: the server's or the browser's words).
const NOT_REFRESHED = {
  barometer: N_('Barometer not refreshed: {problem}'), journey: N_('Journey not refreshed: {problem}'),
  comments: N_('Comments not refreshed: {problem}'), themes: N_('Themes not refreshed: {problem}'),
};
const NOT_LOADED = {
  barometer: N_('Barometer not loaded: {problem}'), journey: N_('Journey not loaded: {problem}'),
  themes: N_('Themes not loaded: {problem}'),
};

/** A fetch that follows the page's generation: a refusal stops the page, other errors are told. */
function refetcher(what, fetch, apply, gapMs = REFETCH_MIN_GAP_MS) {
  return debounced(async () => {
    const generation = state.generation;
    try {
      const answer = await fetch();
      if (generation === state.generation) apply(answer);
    } catch (err) {
      if (generation !== state.generation) return;
      if (isRefusal(err)) refuse(err.message);
      else showNotice(t(NOT_REFRESHED[what], { problem: err.message }));
    }
  }, gapMs);
}

// At most one fetch every REFETCH_MIN_GAP_MS, however many events arrive. The barometer is pushed as it
// moves; it is read from the API at load, after a resume and every minute.
const requestBarometer = refetcher('barometer', fetchBarometer, applySnapshot);
const requestJourneyNow = refetcher('journey', fetchJourneyViewed, showJourneyViewed);
const requestHistory = refetcher('comments', fetchHistory, mergeHistory);
const requestThemesNow = refetcher('themes', fetchThemes, applyThemes);

// The journey, and the theme it is viewed by, read together and shown together.
async function fetchJourneyViewed() {
  const [data, themed] = await Promise.all([fetchJourney(), fetchThemeJourney()]);
  return { data, themed };
}

function showJourneyViewed({ data, themed }) {
  applyThemeJourney(themed);
  showJourney(data);
}

function showJourney(data) {
  applyJourney(data);
  offerTouchpoints(journeyTouchpoints());
}

const journeyShown = () => wide.matches || currentScreen() === 'journey';

// The journey is fetched when it is on screen; otherwise once it is shown again.
function requestJourney() {
  if (journeyShown()) requestJourneyNow();
  else state.journeyStale = true;
}

const themesShown = () => wide.matches || currentScreen() === 'themes';

// The themes move with each comment naming one: re-read when on screen, else once shown again.
function requestThemes() {
  if (themesShown()) requestThemesNow();
  else state.themesStale = true;
}

// The taxonomy names the themes (on the Themes screen and on feed cards): asked before the comments,
// so their themes show by name. Admins also see the emerging topics beside the themes.
async function loadTaxonomy() {
  try {
    const taxonomy = await getJSON('/api/v1/themes/taxonomy');
    setTaxonomy(taxonomy);
    offerThemes((taxonomy?.themes ?? []).map((th) => th.id));
    offerJourneyThemes((taxonomy?.themes ?? []).map((th) => th.id));
  } catch (err) {
    showNotice(t('Theme names not loaded: {problem}', { problem: err.message }));
  }
  if (scope.user?.role === 'admin') loadEmerging();
}

async function loadEmerging() {
  try {
    applyEmerging(await getJSON('/api/v1/admin/themes/emerging'));
  } catch (err) {
    showNotice(t('Emerging topics not loaded: {problem}', { problem: err.message }));
  }
}

// A theme tapped on the Themes screen: its comments, in the feed (Back returns to the themes).
function showTheme(id) {
  filterByTheme(id);
  location.hash = 'feed';
}

// An emerging topic made a theme in one step: named as said, in its language (and in English,
// which every theme needs), caught by its phrase from the next comment on.
async function makeTheme(found) {
  const body = {
    id: found.phrase.replace(/ /g, '-'),
    name: { en: found.phrase, [found.language]: found.phrase },
    phrases: { [found.language]: [found.phrase] },
  };
  try {
    await api('/api/v1/admin/themes/themes', { method: 'POST', body });
  } catch (err) {
    showNotice(t('“{phrase}” not made a theme: {problem}', { phrase: found.phrase, problem: err.message }));
    return false;
  }
  showNotice(t('“{phrase}” is a theme now: comments from now on are sorted into it.', { phrase: found.phrase }), { kind: 'done' });
  loadTaxonomy();
  return true;
}

// Subscribe first, buffer live events, load history, then merge: nothing arriving meanwhile is lost.
async function reload(reason) {
  const generation = ++state.generation;
  state.buffer = state.buffer ?? [];
  state.reloading = true;
  $('feed').setAttribute('aria-busy', 'true');
  if (reason === 'gap') setConn('reloading');
  try {
    const views = await fetchHistory();
    if (generation !== state.generation) return;
    replaceFeed(views);
    state.loaded = true;
    loadBeside(generation);
  } catch (err) {
    if (generation !== state.generation) return;
    if (isRefusal(err)) return refuse(err.message);
    showNotice(t('Could not load recent responses ({problem}). Retrying…', { problem: err.message }));
    setTimeout(() => generation === state.generation && reload(reason), HISTORY_RETRY_MS);
  }
  state.reloading = false;
  flushBuffer();
  $('feed').setAttribute('aria-busy', 'false');
  if (state.subscribed) setConn('live');
}

// After the comments, so they are not held up: the barometer, journey and alerts. A refusal
// (403/404) cannot come here: the history, asked first for the same units, was allowed.
function loadBeside(generation) {
  const beside = (what, fetch, apply, failed = (err) => showNotice(t(NOT_LOADED[what], { problem: err.message }))) =>
    fetch().then(
      (answer) => generation === state.generation && apply(answer),
      (err) => generation === state.generation && failed(err),
    );
  beside('barometer', fetchBarometer, applySnapshot);
  beside('journey', fetchJourneyViewed, showJourneyViewed, (err) => resetJourney(t(NOT_LOADED.journey, { problem: err.message })));
  beside('themes', fetchThemes, applyThemes, (err) => resetThemes(t(NOT_LOADED.themes, { problem: err.message })));
  if (scope.alerts) reloadAlerts();
  reloadPraise();
}

function flushBuffer() {
  const buffered = state.buffer ?? [];
  state.buffer = null;
  for (const v of buffered) show(v, { live: true });
  settle();
}

/** A live response for the feed, if the page watches its unit and touchpoint. */
function show(v, { live }) {
  if (!v || !watchesOrg(v.org_unit) || !watchesTouchpoint(v.touchpoint)) return;
  upsert(v, { live });
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

// A client that fell behind gets its pending messages in one `batch` frame, in order.
function onMessage(ws, raw) {
  let msg;
  try { msg = JSON.parse(raw); } catch { return; }
  if (msg?.type === 'batch' && Array.isArray(msg.events)) msg.events.forEach((one) => onOne(ws, one));
  else onOne(ws, msg);
}

function onOne(ws, msg) {
  if (!msg || typeof msg !== 'object') return;
  if (msg.type === 'subscribed') onSubscribed(msg);
  else if (msg.type === 'gap') onGap(ws);
  else if (msg.type === 'error') onServerError(String(msg.message ?? t('unknown error')));
  else if (['comment', 'flag', 'barometer'].includes(msg.type)) onEvent(msg);
  else if (msg.type === 'alert' || msg.type === 'loop') onManagerEvent(msg);
  else if (msg.type === 'praise') onPraise(msg);
}

function onSubscribed(msg) {
  state.subscribed = true;
  state.attempt = 0;
  if (state.resuming) {
    setConn('live');
    return requestBarometer(); // pushed barometers are not replayed: catch up from the API
  }
  if (num(msg.latest_id) != null) state.lastId = msg.latest_id;
  reload(state.loaded ? 'gap' : 'start');
}

// Before its `subscribed` reply a socket watches nothing: an error then is the server refusing the
// scope (units outside the user's, say), and nothing will ever come.
function onServerError(message) {
  if (state.subscribed) showNotice(t('Server: {problem}', { problem: message }));
  else refuse(message);
}

function onGap(ws) {
  state.subscribed = false;
  state.lastId = null;
  setConn('reloading');
  subscribe(ws); // afresh, without last_id; 'subscribed' then reloads history
}

// Praise goes to everyone watching its unit: new praise, or a manager pinning or unpinning it.
function onPraise(ev) {
  if (num(ev.id) != null) state.lastId = Math.max(state.lastId ?? ev.id, ev.id);
  onPraiseEvent(ev.data);
}

function onManagerEvent(ev) {
  if (num(ev.id) != null) state.lastId = Math.max(state.lastId ?? ev.id, ev.id);
  if (ev.type === 'alert') onAlertEvent(ev.data);
  else onLoopEvent(ev.data);
}

// Barometers come whole, rolled up by the server for the page's scope, with the parent beside them:
// shown as they come. A comment (one per stored response) moves the journey, which is re-read.
function onEvent(ev) {
  if (num(ev.id) != null) state.lastId = Math.max(state.lastId ?? ev.id, ev.id);
  if (ev.type === 'barometer') {
    if (isOurs(ev.scope)) applySnapshot(ev.data);
    return;
  }
  if (ev.type === 'comment' && watchesOrg(ev.org_unit)) {
    requestJourney();
    if (ev.data?.themes?.length) requestThemes();
  }
  if (state.buffer) state.buffer.push(ev.data);
  else { show(ev.data, { live: true }); settle(); }
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

// Without a network there is nothing to count down to: the `online` event reconnects at once.
function tickCountdown() {
  if (!navigator.onLine) return setConn('offline');
  const seconds = Math.ceil((state.reconnectAt - Date.now()) / 1000);
  if (seconds <= 0) connect();
  else setConn('reconnecting', t('Reconnecting in {n} s', { n: formatNumber(seconds) }));
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
}

function renderWatch() {
  const chip = (text, kind, title) => Object.assign(el('span', `scope-chip ${kind}`, text), title ? { title } : {});
  const units = scope.named.length ? scope.named.map((id) => chip(unitName(id), 'org', id))
    : [chip(t('All org units'), 'all')];
  const touchpoints = watch.touchpoints.length ? watch.touchpoints.map((tp) => chip(tp, 'tp'))
    : [chip(t('all touchpoints'), 'all')];
  $('scope').replaceChildren(...units, ...touchpoints);
  document.title = t('{units} · Customer cockpit', { units: scope.named.map(unitName).join(', ') || t('All org units') });
}

// The URL with `orgUnits` watched instead, touchpoints kept.
function urlWatching(orgUnits) {
  const next = new URLSearchParams(location.search);
  next.delete('org_unit');
  next.delete('alert'); // another scope is another page, not the alert this one was opened for
  next.delete('response');
  for (const id of orgUnits) next.append('org_unit', id);
  return next.size ? `${location.pathname}?${next}` : location.pathname;
}

// Picking a unit opens the page for it (a new URL, so Back returns to the previous scope).
function renderPicker() {
  const depth = (u) => (scope.units.has(u.parent) ? 1 + depth(scope.units.get(u.parent)) : 0);
  const option = (value, text, selected) => Object.assign(el('option', null, text), { value, selected });
  const [one] = watch.orgUnits.length === 1 ? watch.orgUnits : [];
  const options = [option('', scope.user.role === 'admin' ? t('All org units') : t('All my units'), !watch.orgUnits.length)];
  if (watch.orgUnits.length > 1) options.push(Object.assign(option('', t('Several units'), true), { disabled: true }));
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
  for (const request of [requestBarometer, requestJourneyNow, requestHistory]) request.cancel();
  Object.assign(state, { countdown: null, subscribed: false, buffer: null, reloading: false, journeyStale: false, themesStale: false });
}

// The page shows nothing it may not: the server refused the scope, so stop asking and say why.
function refuse(message) {
  halt();
  resetFeed(t('Nothing to show for this scope.'));
  resetBarometer();
  resetJourney(t('Nothing to show for this scope.'));
  $('feed').setAttribute('aria-busy', 'false');
  setConn('refused');
  const reason = message.replace(/^[a-z_]+: /, ''); // "org_unit: outside your units: …": the field is ours
  showNotice(t('You cannot watch this: {reason}.', { reason }), { kind: 'refused', mine: watch.orgUnits.length > 0 });
}

// `again`: the same user in another language; what the page's link asked for was shown already.
async function startCockpit(user, { again = false } = {}) {
  const run = ++state.run;
  state.running = true;
  // Every screen's empty state in the reader's language, which was loaded after the modules.
  resetFeed();
  resetBarometer();
  resetJourney();
  resetThemes();
  let units = [];
  try {
    const answer = await getJSON('/api/v1/units');
    units = Array.isArray(answer?.units) ? answer.units : [];
  } catch (err) {
    if (run !== state.run) return;
    showNotice(t('Could not load your org units ({problem}); showing their ids.', { problem: err.message }));
  }
  if (run !== state.run) return;
  setScope(user, units);
  await loadTaxonomy();
  if (run !== state.run) return;
  scope.alerts = user.works_alerts ?? user.role !== 'frontline';
  const frontline = user.role === 'frontline';
  showAlertsTab(scope.alerts, frontline ? N_('Callbacks') : N_('Alerts'));
  const reveal = again ? null : linkedAlert;
  if (scope.alerts) {
    startAlerts({
      user, mode: frontline ? 'callbacks' : 'manager', orgUnits: watch.orgUnits, units, unitName, notify: showNotice,
      onUnauthorized: () => endSession(SESSION_ENDED), reveal,
      shown: () => wide.matches || currentScreen() === 'alerts',
    });
    if (reveal != null) replaceScreen('alerts');
  } else if (reveal != null) {
    showNotice(t('Alert {id} is for the managers of its unit: this account has no alerts.', { id: String(reveal) }), { kind: 'refused' });
  }
  if (linkedResponse != null && !again) {
    showLinkedResponse(linkedResponse, {
      unitName, notify: showNotice, onUnauthorized: () => endSession(SESSION_ENDED),
    });
  }
  startPraise({
    user, orgUnits: watch.orgUnits, unitName, notify: showNotice, onUnauthorized: () => endSession(SESSION_ENDED),
    watches: (v) => watchesOrg(v.org_unit) && watchesTouchpoint(v.touchpoint),
  });
  renderWatch();
  renderPicker();
  setConn('connecting');
  connect();
}

// Nothing of one user's data outlives their session: every screen is emptied. `keepSettings`: the
// settings dialog stays open (the user chose another language in it).
function stopCockpit({ keepSettings = false } = {}) {
  state.run++;
  halt();
  stopAlerts();
  stopPraise();
  if (!keepSettings) closeSettings();
  closeLinkedResponse();
  showAlertsTab(false);
  Object.assign(state, { resuming: false, lastId: null, attempt: 0, loaded: false });
  resetFeed();
  resetBarometer();
  resetJourney();
  $('feed').setAttribute('aria-busy', 'true');
  $('notice').hidden = true;
  $('scope').replaceChildren();
  $('unit-pick-box').hidden = true;
  setConn('connecting');
  document.title = t('Customer cockpit');
}

// Another language chosen: every screen drawn again in it, from the server, as at sign-in.
function redraw(user) {
  stopCockpit({ keepSettings: true });
  startCockpit(user, { again: true });
}

setInterval(refreshTimes, RELATIVE_TIME_EVERY_MS);
setInterval(() => {
  if (!state.running || document.visibilityState !== 'visible') return;
  requestBarometer();
  requestJourney();
  requestThemes();
}, REFRESH_MS);
$('notice-close').addEventListener('click', () => { $('notice').hidden = true; });
$('unit-pick').addEventListener('change', (e) => location.assign(urlWatching(e.target.value ? [e.target.value] : [])));
for (const link of $('feed-export').querySelectorAll('a')) {
  for (const type of ['focus', 'pointerenter', 'click']) link.addEventListener(type, () => pointExport(link));
}
$('notice-link').href = urlWatching([]);
window.addEventListener('online', reconnectNow);
// No network at all: say so now rather than when the socket times out.
window.addEventListener('offline', () => state.ws?.close(4000, 'offline'));
document.addEventListener('visibilitychange', () => {
  if (document.visibilityState !== 'visible') return;
  refreshTimes();
  reconnectNow();
});
initFeed({ unitName, onFilters: () => state.running && requestHistory(), fetchHistory, decorate: decorateEntry });
initBarometer();
initJourney({ onWindow: () => state.running && requestJourneyNow(), onTheme: () => state.running && requestJourneyNow() });
initThemes({ onPeriod: () => state.running && requestThemesNow(), onTheme: showTheme, onMake: makeTheme });
onScreen((name) => {
  if (name === 'journey' && state.journeyStale && state.running) {
    state.journeyStale = false;
    requestJourneyNow();
  }
  if (name === 'themes' && state.themesStale && state.running) {
    state.themesStale = false;
    requestThemesNow();
  }
});
initScreens();
initLinkedResponse();
initSettings({ onUnauthorized: () => endSession(SESSION_ENDED) });
initSession({ start: (user) => startCockpit(user), stop: () => stopCockpit(), notify: showNotice, redraw });
