// The live feed: newest comments first, filters, and a "N new" pill that keeps a reader's place.
// Comments are customer text: they reach the DOM only through textContent.

import { $, TONE, contactLine, el, own, setTime, svgEl, timeOf, toneOf, whyLine } from './dom.js';
import { N_, t, tn } from './i18n.js';
import { shownThemes, themeName } from './themes.js';

// The page holds this many responses; the oldest go first.
const HELD_MAX = 400;
const SEVERITY_RANK = { none: 0, low: 1, medium: 2, high: 3 };
const SCALE = { nps: 10, csat: 5, ces: 7 };
export const CHANNEL = {
  web: N_('Web'), email: N_('Email'), sms: N_('SMS'), app: N_('App'), phone: N_('Phone'), store: N_('Store'), chat: N_('Chat'),
};
/** A channel's name in the reader's language; one the page does not know, as the server gave it. */
export const channelName = (channel) => (own(CHANNEL, channel) ? t(CHANNEL[channel]) : channel);
/** The call-back chip of a flagged response, by its severity. */
export const FLAG = {
  none: N_('Call back'), low: N_('Call back · low'), medium: N_('Call back · medium'), high: N_('Call back · high'),
};
// Further down the list than this, the reader is reading: new comments wait behind the pill.
const READING_PX = 48;
// A search is asked for once the reader has stopped typing for this long.
const SEARCH_WAIT_MS = 350;
const HAS_WORD = /[\p{L}\p{N}]/u;

const severityOf = (v) => (own(SEVERITY_RANK, v.severity) ? v.severity : 'none');
const feedKey = (v) => timeOf(v.received_at) || timeOf(v.submitted_at); // arrival order, as the API pages

// `items`: every response held, by id; `nodes`: those on screen; `pending`: ids that arrived while the
// reader was further down, shown when they return to the top or tap the pill. `decorate(li, v)`
// adds what another screen knows of a response to its entry (praise.js: praise and pins).
// While a search is on (`query`), the feed holds what the server found for it, and live comments are
// not added: the server matches words as each comment's language writes them (stems), which the page
// cannot do alike. `missed` counts them for the note; clearing the search loads the live feed again,
// them included. `asking` numbers searches (a late answer of an older one is dropped); `buffer` holds
// live comments while one is asked for.
const feed = {
  items: new Map(), nodes: new Map(), pending: new Set(), unitName: (id) => id, onFilters: () => {}, decorate: () => {},
  fetchHistory: async () => [], query: '', missed: new Set(), asking: 0, buffer: null, problem: '',
};

/** The score band of a response: good (promoter, satisfied, low effort), mid, or bad, and its word (a message). */
export function moodOf(v) {
  const s = v.score;
  if (v.score_kind === 'csat') {
    return s >= 4 ? ['good', N_('satisfied')] : s === 3 ? ['mid', N_('neutral')] : ['bad', N_('dissatisfied')];
  }
  if (v.score_kind === 'ces') {
    return s <= 3 ? ['good', N_('low effort')] : s <= 5 ? ['mid', N_('some effort')] : ['bad', N_('high effort')];
  }
  return s >= 9 ? ['good', N_('promoter')] : s >= 7 ? ['mid', N_('passive')] : ['bad', N_('detractor')];
}

// ---- Filters ---------------------------------------------------------------------------------------
/** The feed's own filters and search (`q`); all but the score band also narrow the history fetched. */
export function feedFilters() {
  return {
    touchpoint: $('filter-touchpoint').value,
    channel: $('filter-channel').value,
    band: $('filter-band').value,
    flagged: $('filter-flagged').checked,
    theme: $('filter-theme').value,
    q: feed.query,
  };
}

function matches(v, f = feedFilters()) {
  if (f.touchpoint && v.touchpoint !== f.touchpoint) return false;
  if (f.channel && v.channel !== f.channel) return false;
  if (f.band && moodOf(v)[0] !== f.band) return false;
  if (f.theme && !(v.themes ?? []).some((m) => m.theme === f.theme)) return false;
  return !f.flagged || v.dissatisfied === true;
}

// The first option ("All channels") is the page's own, translated with it: it is kept as it is.
function options(select, values, label) {
  const chosen = select.value;
  const known = [...new Set([...values, ...(chosen ? [chosen] : [])])];
  select.replaceChildren(
    select.options[0] ?? Object.assign(el('option'), { value: '' }),
    ...known.map((value) => Object.assign(el('option', null, label(value)), { value, selected: value === chosen })),
  );
}

/** The touchpoints the filter offers: the journey's, then any seen in the feed. */
export function offerTouchpoints(touchpoints) {
  const seen = [...feed.items.values()].map((v) => v.touchpoint);
  const current = [...$('filter-touchpoint').options].slice(1).map((o) => o.value);
  const all = [...new Set([...touchpoints, ...current, ...seen])].filter((tp) => typeof tp === 'string' && tp);
  options($('filter-touchpoint'), all, (tp) => tp.replace(/-/g, ' '));
}

/** The themes the filter offers, named in the reader's language (`themes`: the taxonomy's ids). */
export function offerThemes(themes) {
  options($('filter-theme'), themes, themeName);
}

/** Shows the comments naming theme `id` (a theme tapped on the Themes screen). */
export function showTheme(id) {
  if (![...$('filter-theme').options].some((o) => o.value === id)) offerThemes([id]);
  $('filter-theme').value = id;
  $('feed-filters').dispatchEvent(new Event('change'));
}

// Tone words of a theme on a card, for those who do not see its colour.
const TONE_WORD = { negative: N_('negative'), neutral: N_('neutral'), positive: N_('positive') };

/** The themes a comment names, each marked with the tone it names it in. */
function themeChips(v) {
  const shown = shownThemes(v.themes);
  if (!shown.length) return null;
  const list = el('p', 'item-themes');
  list.append(el('span', 'sr-only', `${t('Themes')}: `));
  for (const m of shown) {
    const chip = el('span', 'item-theme', themeName(m.theme));
    chip.dataset.theme = m.theme;
    if (own(TONE_WORD, m.tone)) {
      chip.dataset.tone = m.tone;
      chip.append(el('span', 'sr-only', ` (${t(TONE_WORD[m.tone])})`));
    }
    list.append(chip);
  }
  return list;
}

// ---- One entry -------------------------------------------------------------------------------------
/** The score in its band's colour, with its scale and band for screen readers. */
export function scoreBadge(v) {
  const [mood, word] = moodOf(v);
  const kind = String(v.score_kind ?? 'nps');
  const box = el('div', `badge ${mood}`);
  box.append(el('span', 'badge-score', v.score), el('span', 'badge-kind', kind.toUpperCase()),
    el('span', 'sr-only', t('out of {scale}, {mood}.', { scale: own(SCALE, kind) ?? '?', mood: t(word) })));
  return box;
}

function flagChip(severity) {
  const chip = el('span', `chip flag sev-${severity}`);
  const icon = svgEl('svg', { viewBox: '0 0 16 16', width: 14, height: 14, 'aria-hidden': 'true' });
  icon.append(svgEl('path', { d: 'M3 1.5v13M3 2h9l-2 3.25L12 8.5H3', fill: 'currentColor', stroke: 'currentColor', 'stroke-width': 1.5 }));
  chip.append(icon, document.createTextNode(t(own(FLAG, severity) ?? FLAG.none)));
  return chip;
}

function renderItem(v) {
  const li = el('li', 'item');
  li.dataset.responseId = v.response_id;
  li.dataset.severity = severityOf(v);
  li.classList.toggle('flagged', v.dissatisfied === true);
  const head = el('div', 'item-head');
  const where = el('p', 'where');
  const org = el('span', 'org', feed.unitName(v.org_unit));
  org.title = v.org_unit;
  where.append(org, el('span', 'sep', ' · '), el('span', 'tp', v.touchpoint));
  const time = el('time', 'when');
  setTime(time, v.submitted_at); // when the customer answered
  head.append(where, time);
  // The language the comment was read as, else the one the survey declared.
  const lang = [v.comment_language, v.language].find((x) => typeof x === 'string' && x) ?? '';
  const verbatim = v.comment ? el('p', 'verbatim', v.comment) : el('p', 'verbatim none', t('no comment'));
  if (v.comment && lang) verbatim.lang = lang;
  const chips = el('p', 'chips');
  if (v.dissatisfied === true) chips.append(flagChip(severityOf(v)));
  // The flag's own verdict wins, so a comment read as negative never shows as "Neutral tone".
  const tone = v.negative_comment === true ? 'Negative' : toneOf(v.polarity);
  if (tone) chips.append(el('span', `chip tone ${tone.toLowerCase()}`, t(TONE[tone])));
  // No polarity on a comment: the scorer did not read it (its language), which is not neutral.
  else if (v.comment) chips.append(el('span', 'chip tone unassessed', t('Tone not assessed')));
  chips.append(el('span', 'chip channel', channelName(v.channel)));
  if (v.comment && lang && !/^en\b/i.test(lang)) chips.append(el('span', 'chip lang', lang.toUpperCase()));
  const body = el('div', 'item-body');
  body.append(head, verbatim, chips);
  const named = themeChips(v);
  if (named) body.append(named);
  const why = v.dissatisfied === true ? whyLine(v.reasons) : null;
  if (why) body.append(why);
  // Shown only when the server revealed it (to managers, on the responses they call back).
  if (v.dissatisfied === true && v.contact_masked === false && v.contact) body.append(contactLine(v.contact));
  li.append(scoreBadge(v), body);
  feed.decorate(li, v);
  return li;
}

function merge(a, b) {
  const severity = SEVERITY_RANK[severityOf(a)] > SEVERITY_RANK[severityOf(b)] ? severityOf(a) : severityOf(b);
  const merged = { ...a, ...b, dissatisfied: a.dissatisfied === true || b.dissatisfied === true, severity };
  if (a.contact_masked === false && b.contact_masked !== false) { // live events always carry it masked
    Object.assign(merged, { contact: a.contact, customer_ref: a.customer_ref, contact_masked: false });
  }
  return merged;
}

// ---- The list ----------------------------------------------------------------------------------------
function place(node, v) {
  const key = feedKey(v);
  let next = $('feed').firstElementChild;
  while (next && feedKey(feed.items.get(next.dataset.responseId)) > key) next = next.nextElementSibling;
  $('feed').insertBefore(node, next);
}

function show(v) {
  const node = renderItem(v);
  const existing = feed.nodes.get(v.response_id);
  feed.nodes.set(v.response_id, node);
  if (existing) existing.replaceWith(node);
  else place(node, v);
  return node;
}

function hide(id) {
  feed.nodes.get(id)?.remove();
  feed.nodes.delete(id);
}

/** True while the top of the list is scrolled out of view: the reader is further down. */
export function reading() {
  return $('feed').getBoundingClientRect().top < -READING_PX;
}

/** Adds or updates one response; `live` ones wait behind the pill while the reader is further down. */
export function upsert(v, { live = false } = {}) {
  if (!v || typeof v.response_id !== 'string') return;
  if (live && feed.buffer) {
    feed.buffer.push(v);
    return;
  }
  const old = feed.items.get(v.response_id);
  if (!old && live && feed.query) {
    feed.missed.add(v.response_id);
    describeSearch();
    return;
  }
  const item = old ? merge(old, v) : v;
  feed.items.set(item.response_id, item);
  if (!matches(item)) {
    hide(item.response_id);
    return;
  }
  if (!old && live && reading()) {
    feed.pending.add(item.response_id);
    return;
  }
  if (feed.pending.has(item.response_id)) return; // updated while waiting: shown with the rest
  const node = show(item);
  if (old && !old.dissatisfied && item.dissatisfied) node.classList.add('raised');
}

function showPending() {
  for (const id of feed.pending) {
    const v = feed.items.get(id);
    if (v && matches(v)) show(v);
  }
  feed.pending.clear();
  settle();
}

/** Drops the oldest responses beyond what the page holds, and updates counts, pill and empty state. */
export function settle() {
  const byAge = [...feed.items.values()].sort((a, b) => feedKey(a) - feedKey(b));
  for (const v of byAge.slice(0, Math.max(0, byAge.length - HELD_MAX))) {
    feed.items.delete(v.response_id);
    feed.pending.delete(v.response_id);
    hide(v.response_id);
  }
  const shown = [...feed.nodes.values()].filter((node) => !node.hidden).length;
  const waiting = feed.pending.size;
  $('new-pill').hidden = waiting === 0;
  $('new-pill').textContent = `${tn('{n} new comment', '{n} new comments', waiting)} ↑`;
  $('feed-empty').hidden = feed.nodes.size > 0 || waiting > 0;
  $('feed-empty').textContent = feed.query ? t('No comments match this search.')
    : feedFiltered() ? t('No comments match these filters yet.') : t('No responses for this scope yet.');
  $('feed-count').textContent = shown ? tn('{n} latest', '{n} latest', shown) : '';
}

const feedFiltered = () => Object.values(feedFilters()).some(Boolean);

/** The summary line of the closed filter box: what the feed shows. */
function describeFilters() {
  const chosen = [...$('feed-filters').querySelectorAll('select')].filter((s) => s.value).map((s) => s.selectedOptions[0].textContent);
  if ($('filter-flagged').checked) chosen.push(t('call back only'));
  $('filters-active').textContent = chosen.length ? chosen.join(' · ') : t('all comments');
}

/** Shows what the filters let through, from the responses held. */
function refilter() {
  feed.pending.clear();
  for (const id of [...feed.nodes.keys()]) if (!matches(feed.items.get(id))) hide(id);
  for (const v of [...feed.items.values()].sort((a, b) => feedKey(a) - feedKey(b))) {
    if (matches(v) && !feed.nodes.has(v.response_id)) show(v);
  }
  settle();
}

/** History loaded afresh: replaces what is held. */
export function replaceFeed(views) {
  const list = $('feed');
  list.setAttribute('aria-live', 'off'); // a reload is not fifty announcements
  list.replaceChildren();
  feed.items.clear();
  feed.nodes.clear();
  feed.pending.clear();
  mergeHistory(views);
  setTimeout(() => list.setAttribute('aria-live', 'polite'), 0);
}

/** Older responses fetched for the filters: merged with what is held, none shown twice. */
export function mergeHistory(views) {
  // Oldest first, as if live: each goes on top of those it ties with (the API pages newest first).
  for (const v of [...views].reverse().sort((x, y) => feedKey(x) - feedKey(y))) upsert(v);
  settle();
}

// ---- Search -------------------------------------------------------------------------------------------
/** The line under the search box: that live comments wait, how many arrived since, or what went wrong. */
function describeSearch() {
  const note = $('feed-search-note');
  note.hidden = !feed.query && !feed.problem;
  note.dataset.kind = feed.problem ? 'problem' : '';
  if (feed.problem) {
    note.textContent = feed.problem;
    return;
  }
  const missed = feed.missed.size;
  note.textContent = missed
    ? tn('Live comments are paused while you search: {n} new since. Clear the search to see it.',
      'Live comments are paused while you search: {n} new since. Clear the search to see them.', missed)
    : t('Live comments are paused while you search.');
}

/** Shows what the server finds for the search box's words, or the live feed again once it is cleared. */
async function applySearch() {
  const q = $('feed-q').value.trim();
  if (q === feed.query && !feed.problem) return;
  const asked = ++feed.asking;
  feed.query = q;
  feed.missed.clear();
  feed.problem = '';
  if (q && !HAS_WORD.test(q)) {
    feed.problem = t('Type a word to search for.');
    replaceFeed([]);
    describeSearch();
    return;
  }
  describeSearch();
  feed.buffer = feed.buffer ?? [];
  $('feed').setAttribute('aria-busy', 'true');
  let views = [];
  try {
    views = await feed.fetchHistory();
  } catch (err) {
    if (asked !== feed.asking) return;
    feed.problem = t('Search failed: {problem}', { problem: err.message });
  }
  if (asked !== feed.asking) return;
  replaceFeed(views);
  const buffered = feed.buffer ?? [];
  feed.buffer = null;
  for (const v of buffered) upsert(v, { live: true });
  settle();
  describeSearch();
  $('feed').setAttribute('aria-busy', 'false');
}

function endSearch() {
  feed.asking += 1;
  feed.query = '';
  feed.problem = '';
  feed.missed.clear();
  feed.buffer = null;
  $('feed-q').value = '';
  describeSearch();
}

/** Empties the feed, its filters drawn afresh in the reader's language; `text`: what it says meanwhile. */
export function resetFeed(text = t('Loading comments…')) {
  endSearch();
  feed.items.clear();
  feed.nodes.clear();
  feed.pending.clear();
  $('feed').replaceChildren();
  $('feed-filters').reset();
  options($('filter-channel'), Object.keys(CHANNEL), channelName);
  describeFilters();
  $('new-pill').hidden = true;
  $('feed-empty').hidden = false;
  $('feed-empty').textContent = text;
  $('feed-count').textContent = '';
}

export const heldCount = () => feed.items.size;

/** The entry on screen for response `id`, if any. */
export const feedNode = (id) => feed.nodes.get(id) ?? null;

/**
 * `onFilters(filters)`: the filters changed (fetch history for them). `decorate(li, v)`: called on
 * each entry as it is drawn. `fetchHistory()`: the newest responses for `feedFilters()`, search
 * included, as the page's scope asks them.
 */
export function initFeed({ unitName, onFilters, fetchHistory, decorate = () => {} }) {
  Object.assign(feed, { unitName, onFilters, fetchHistory, decorate });
  let searchTimer = 0;
  $('feed-q').addEventListener('input', () => {
    clearTimeout(searchTimer);
    searchTimer = setTimeout(applySearch, SEARCH_WAIT_MS);
  });
  $('feed-search').addEventListener('submit', (e) => {
    e.preventDefault();
    clearTimeout(searchTimer);
    applySearch();
  });
  options($('filter-channel'), Object.keys(CHANNEL), channelName);
  $('feed-filters').addEventListener('change', () => {
    describeFilters();
    refilter();
    feed.onFilters(feedFilters());
  });
  $('feed-filters').addEventListener('submit', (e) => e.preventDefault());
  $('new-pill').addEventListener('click', () => {
    showPending();
    $('feed-title').scrollIntoView({ block: 'start', behavior: matchMedia('(prefers-reduced-motion: reduce)').matches ? 'auto' : 'smooth' });
    $('feed-title').focus({ preventScroll: true });
  });
  let ticking = false;
  window.addEventListener('scroll', () => {
    if (ticking || !feed.pending.size) return;
    ticking = true;
    requestAnimationFrame(() => {
      ticking = false;
      if (!reading()) showPending();
    });
  }, { passive: true });
}
