// Praise reaches the team (docs/alerts.md): a promoter's praise of the service, shown three ways.
// A praise arriving live lights up its own comment in the feed (a ribbon naming the staff, until
// dismissed): the comment is never shown twice. The praise a manager pinned sits on top of the feed
// for its day, its entry in the list hidden meanwhile. The Praise screen is the wall of the watched
// units' praise of the last 30 days. Managers and admins pin and unpin; frontline staff do not.
// Server text reaches the DOM only through textContent.

import { $, el, setTime, svgEl, timeOf } from './dom.js';
import { feedNode, reading, scoreBadge } from './feed.js';
import { formatDate, formatList, formatNumber, t, tn } from './i18n.js';
import { HttpError, api } from './session.js';

const WALL_DAYS = 30;
const WALL_LIMIT = 50;
const DAY_MS = 24 * 60 * 60 * 1000;
// At most this many comments lit up at once: the oldest goes quiet, its praise chip stays.
const HIGHLIGHTS_MAX = 3;
// Praise of a response received longer ago than this is a pin or unpin, or old praise a reconnect
// replays: it updates what is shown, it is not news to light up.
const FRESH_MS = 60 * 60 * 1000;
const PRUNE_EVERY_MS = 60 * 1000;
const STAR = 'M12 3.5l2.5 5.3 5.8.7-4.3 3.9 1.1 5.7L12 16.3l-5.1 2.8 1.1-5.7-4.3-3.9 5.8-.7z';

// `wall`: every praise known, by response id; `pinned`: those pinned now; `lit`: ids lit up in the
// feed, oldest first; `during`: praise that came live while the wall was loading (kept over its answer).
const state = {
  user: null, orgUnits: [], watches: () => true, unitName: (id) => id, notify: () => {}, onUnauthorized: () => {},
  wall: new Map(), pinned: new Map(), lit: [], during: null, generation: 0, loaded: false, prune: 0, ids: 0,
};

const canPin = () => state.user?.role === 'manager' || state.user?.role === 'admin';
const staffOf = (view) => (Array.isArray(view.response.staff) ? view.response.staff : []).filter((s) => typeof s === 'string' && s);
const isPinned = (view, now = Date.now()) => timeOf(view.pinned_until) > now;
const known = (view) => view && typeof view === 'object' && typeof view.response?.response_id === 'string';

/** "A customer praised Marie" (or Marie and Sam), or the service when the response names nobody. */
export function praiseLine(view) {
  const staff = staffOf(view);
  return staff.length ? t('A customer praised {staff}', { staff: formatList(staff) }) : t('A customer praised the service');
}

// What a screen reader hears when a manager pins praise on top of the feed.
function pinnedLine(view) {
  const staff = staffOf(view);
  return staff.length ? t('Pinned on top of the feed: a customer praised {staff}.', { staff: formatList(staff) })
    : t('Pinned on top of the feed: a customer praised the service.');
}

function star(className) {
  const icon = svgEl('svg', { class: className, viewBox: '0 0 24 24', width: 14, height: 14, 'aria-hidden': 'true' });
  icon.append(svgEl('path', { d: STAR }));
  return icon;
}

function announce(text) {
  $('praise-announce').textContent = text;
}

// ---- The feed: the praised comment's own entry --------------------------------------------------
function praiseChip(view) {
  const staff = staffOf(view);
  const chip = el('span', 'chip praise');
  chip.append(star('praise-star'), document.createTextNode(staff.length ? t('Praise · {staff}', { staff: formatList(staff) }) : t('Praise')));
  return chip;
}

function ribbon(view, id) {
  const box = el('div', 'praise-ribbon');
  const dismiss = el('button', 'praise-dismiss', t('Dismiss'));
  dismiss.type = 'button';
  dismiss.setAttribute('aria-label', t('Dismiss the praise highlight'));
  dismiss.addEventListener('click', () => quiet(id, { focus: true }));
  box.append(star('praise-star'), el('p', 'praise-ribbon-text', praiseLine(view)), dismiss);
  return box;
}

/** Brings a feed entry in line with what is known: a praise chip, the ribbon while lit, hidden while pinned. */
function sync(li, id) {
  const view = state.wall.get(id);
  if (!li || !view) return;
  li.classList.add('praised');
  const chips = li.querySelector('.chips');
  if (chips && !chips.querySelector('.chip.praise')) chips.append(praiseChip(view));
  const lit = state.lit.includes(id);
  li.classList.toggle('praise-highlight', lit);
  const shown = li.querySelector('.praise-ribbon');
  if (lit && !shown) li.prepend(ribbon(view, id));
  if (!lit && shown) shown.remove();
  li.hidden = state.pinned.has(id);
}

/** feed.js's hook: each entry as it is drawn. */
export function decorateEntry(li, v) {
  sync(li, v.response_id);
}

// Changes to many entries at once (the wall loaded) are not announced one by one.
function quietly(change) {
  const list = $('feed');
  const before = list.getAttribute('aria-live');
  list.setAttribute('aria-live', 'off');
  change();
  setTimeout(() => list.setAttribute('aria-live', before ?? 'polite'), 0);
}

function light(id) {
  state.lit = [...state.lit.filter((x) => x !== id), id];
  while (state.lit.length > HIGHLIGHTS_MAX) quiet(state.lit[0]);
  sync(feedNode(id), id);
  // The feed is a polite live region: it says the ribbon itself when it is on screen.
  const li = feedNode(id);
  const onScreen = li && (li.checkVisibility?.() ?? li.offsetParent !== null);
  if (!onScreen) announce(`${praiseLine(state.wall.get(id))}.`);
}

/** Ends a highlight; `focus`: the reader dismissed it, so focus stays on its entry. */
function quiet(id, { focus = false } = {}) {
  state.lit = state.lit.filter((x) => x !== id);
  const li = feedNode(id);
  const held = li?.contains(document.activeElement);
  sync(li, id);
  if (li && (focus || held)) {
    li.tabIndex = -1;
    li.focus({ preventScroll: true });
  }
}

// ---- Cards: the wall, and the pinned praise on top of the feed -----------------------------------
function card(view, place) {
  const v = view.response;
  const li = el('li', 'item praise-card');
  li.dataset.responseId = v.response_id;
  const title = el('p', 'praise-title');
  title.id = `praise-${place}-${++state.ids}`;
  title.append(star('praise-star'), document.createTextNode(praiseLine(view)));
  const head = el('div', 'item-head');
  const where = el('p', 'where');
  const org = el('span', 'org', state.unitName(v.org_unit));
  org.title = v.org_unit;
  where.append(org, el('span', 'sep', ' · '), el('span', 'tp', v.touchpoint));
  const when = el('time', 'when');
  setTime(when, v.submitted_at);
  head.append(where, when);
  const verbatim = el('p', 'verbatim', v.comment ?? '');
  const lang = [v.comment_language, v.language].find((x) => typeof x === 'string' && x);
  if (lang) verbatim.lang = lang;
  const body = el('div', 'item-body');
  body.append(title, head, verbatim);
  if (isPinned(view)) {
    const until = formatDate(timeOf(view.pinned_until), { weekday: 'short', hour: '2-digit', minute: '2-digit' });
    body.append(el('p', 'praise-pinned-by', view.pinned_by
      ? t('Pinned on top of the feed by {name}, until {until}', { name: view.pinned_by, until })
      : t('Pinned on top of the feed, until {until}', { until })));
  }
  if (canPin()) body.append(pinButton(view, title.id));
  li.append(scoreBadge(v), body);
  return li;
}

function pinButton(view, describedBy) {
  const on = !isPinned(view);
  const button = el('button', 'praise-pin', on ? t('Pin for today') : t('Unpin'));
  button.type = 'button';
  button.setAttribute('aria-describedby', describedBy);
  button.addEventListener('click', () => setPin(view.response.response_id, on, button));
  return button;
}

// Busy, not disabled: a disabled button drops the focus, which then could not follow the redrawn card.
async function setPin(id, on, button) {
  if (button.getAttribute('aria-disabled') === 'true') return;
  button.setAttribute('aria-disabled', 'true');
  try {
    const view = await api(`/api/v1/praise/${encodeURIComponent(id)}/pin`, { method: on ? 'POST' : 'DELETE' });
    apply(view);
  } catch (err) {
    button.removeAttribute('aria-disabled');
    if (err instanceof HttpError && err.status === 401) state.onUnauthorized();
    else {
      state.notify(on ? t('Could not pin this praise: {problem}', { problem: err.message })
        : t('Could not unpin this praise: {problem}', { problem: err.message }));
    }
  }
}

/** Redraws a list of cards; focus on a card's button stays on that card's button. */
function redraw(list, views, place) {
  const focused = document.activeElement;
  const holder = list.contains(focused) ? focused.closest('li')?.dataset.responseId : null;
  list.replaceChildren(...views.map((view) => card(view, place)));
  if (holder == null) return false;
  const again = [...list.children].find((li) => li.dataset.responseId === holder);
  again?.querySelector('button')?.focus();
  return again == null;
}

const newestFirst = (a, b) => timeOf(b.response.submitted_at) - timeOf(a.response.submitted_at);

function drawWall() {
  const since = Date.now() - WALL_DAYS * DAY_MS;
  const views = [...state.wall.values()].filter((view) => timeOf(view.response.submitted_at) >= since).sort(newestFirst);
  redraw($('praise-wall'), views, 'wall');
  const n = views.length;
  const days = formatNumber(WALL_DAYS);
  $('praise-count').textContent = n >= WALL_LIMIT ? t('latest {n}, last {days} days', { n: formatNumber(n), days })
    : tn('{n} praise, last {days} days', '{n} praises, last {days} days', n, { days });
  $('praise-empty').hidden = n > 0;
  $('praise-empty').textContent = state.loaded ? t('No praise in the last {days} days yet.', { days }) : t('Loading praise…');
  const tally = new Map();
  for (const view of views) for (const name of new Set(staffOf(view))) tally.set(name, (tally.get(name) ?? 0) + 1);
  const top = [...tally].sort((a, b) => b[1] - a[1] || a[0].localeCompare(b[0])).slice(0, 5);
  $('praise-staff').hidden = !top.length;
  const named = top.map(([name, k]) => `${name} (${formatNumber(k)})`).join(' · ');
  $('praise-staff').textContent = top.length ? t('Staff named: {staff}', { staff: named }) : '';
}

function drawPinned() {
  const list = $('praise-pinned');
  const before = list.offsetHeight;
  const views = [...state.pinned.values()].sort(newestFirst);
  const lost = redraw(list, views, 'pin');
  list.hidden = views.length === 0;
  // A reader further down keeps their place when a pin comes or goes above them.
  if (reading()) window.scrollBy(0, list.offsetHeight - before);
  if (lost) $('feed-title').focus({ preventScroll: true }); // the card they unpinned is gone
}

// ---- What comes in ------------------------------------------------------------------------------
/** Keeps `view`; the ids whose feed entry may change. */
function remember(view) {
  const id = view.response.response_id;
  const changed = [id];
  state.wall.set(id, view);
  if (!isPinned(view)) {
    state.pinned.delete(id);
    return changed;
  }
  // One pinned praise per unit: a newer pin replaced the one before (its own event says so too).
  for (const [other, was] of state.pinned) {
    if (other !== id && was.response.org_unit === view.response.org_unit) {
      state.pinned.delete(other);
      state.wall.set(other, { ...was, pinned_until: null, pinned_by: null });
      changed.push(other);
    }
  }
  state.pinned.set(id, view);
  return changed;
}

function apply(view, { live = false } = {}) {
  if (!known(view) || !state.watches(view.response)) return;
  const id = view.response.response_id;
  const wasPinned = state.pinned.has(id);
  const fresh = live && !state.wall.has(id) && !isPinned(view) && Date.now() - timeOf(view.response.received_at) < FRESH_MS;
  if (state.during) state.during.push(view);
  const changed = remember(view);
  drawWall();
  drawPinned();
  for (const other of changed) sync(feedNode(other), other);
  if (fresh) light(id);
  else if (live && !wasPinned && state.pinned.has(id)) announce(pinnedLine(view));
}

/** A `praise` event's data: new praise, or its pin changed. */
export function onPraiseEvent(data) {
  if (state.user) apply(data, { live: true });
}

/** Reads the wall and what is pinned (at start, and after a gap). */
export async function reloadPraise() {
  const generation = ++state.generation;
  state.during = [];
  let answer;
  try {
    answer = await api('/api/v1/praise', { query: { org_unit: state.orgUnits, days: WALL_DAYS, limit: WALL_LIMIT } });
  } catch (err) {
    if (generation !== state.generation) return;
    state.during = null;
    if (err instanceof HttpError && err.status === 401) state.onUnauthorized();
    else $('praise-empty').textContent = t('Praise not loaded: {problem}', { problem: err.message });
    return;
  }
  if (generation !== state.generation) return;
  const live = state.during;
  state.during = null;
  const before = [...state.wall.keys()];
  state.wall.clear();
  state.pinned.clear();
  const views = [...(answer?.items ?? []), ...(answer?.pinned ?? []), ...live];
  for (const view of views) if (known(view) && state.watches(view.response)) remember(view);
  state.loaded = true;
  drawWall();
  drawPinned();
  quietly(() => {
    for (const id of new Set([...before, ...state.wall.keys()])) sync(feedNode(id), id);
  });
}

function prune() {
  const over = [...state.pinned.values()].filter((view) => !isPinned(view));
  if (!over.length) return;
  for (const view of over) state.pinned.delete(view.response.response_id);
  drawWall();
  drawPinned();
  for (const view of over) sync(feedNode(view.response.response_id), view.response.response_id);
}

/**
 * `watches(response)`: the page watches its unit and touchpoint. `notify(text)` tells the user
 * what failed; `onUnauthorized()` ends the session.
 */
export function startPraise({ user, orgUnits, watches, unitName, notify, onUnauthorized }) {
  Object.assign(state, { user, orgUnits, watches, unitName, notify, onUnauthorized, loaded: false });
  clearInterval(state.prune);
  state.prune = setInterval(prune, PRUNE_EVERY_MS);
  drawWall();
}

/** Nothing of one user's praise outlives their session. */
export function stopPraise() {
  state.generation++;
  clearInterval(state.prune);
  Object.assign(state, { user: null, lit: [], during: null, loaded: false, prune: 0 });
  state.wall.clear();
  state.pinned.clear();
  $('praise-wall').replaceChildren();
  $('praise-pinned').replaceChildren();
  $('praise-pinned').hidden = true;
  $('praise-count').textContent = '';
  $('praise-staff').hidden = true;
  $('praise-empty').hidden = false;
  $('praise-empty').textContent = t('Loading praise…');
  announce('');
}
