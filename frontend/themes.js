// The Themes screen: what customers talk about in the watched units over a period, each theme with
// its volume and share, the tone it is named in, what it costs (or brings) the NPS and how it moved
// against the period before; a theme opens the feed filtered by it. Admins also see the emerging
// topics (phrases customers suddenly say that no theme catches) and make one a theme in one step.
// Theme names come from the taxonomy, in the reader's language.

import { $, SMALL_SAMPLE, count, el, num, sampleSize, setTime, timeOf } from './dom.js';
import { N_, formatNumber, formatPercent, language, t, tn } from './i18n.js';

const NONE = {
  today: N_('No theme named in today’s comments yet.'),
  '7d': N_('No theme named in 7 days of comments yet.'),
  '28d': N_('No theme named in 28 days of comments yet.'),
};
NONE.week = NONE['7d'];
const BEFORE = { today: N_('vs. yesterday'), '7d': N_('vs. the 7 days before'), '28d': N_('vs. the 28 days before') };
BEFORE.week = BEFORE['7d'];
const TONES = [
  ['negative', (n) => tn('{n} negative', '{n} negative', n)],
  ['neutral', (n) => tn('{n} neutral', '{n} neutral', n)],
  ['positive', (n) => tn('{n} positive', '{n} positive', n)],
];
const themes = { data: null, names: new Map(), parents: new Map(), onTheme: null, onMake: null };

export const themesPeriod = () => document.querySelector('input[name="themes-period"]:checked')?.value ?? '7d';
const themesOrder = () => $('themes-order')?.value ?? 'named';

/** The taxonomy the names come from (GET /api/v1/themes/taxonomy). */
export function setTaxonomy(taxonomy) {
  if (!taxonomy || !Array.isArray(taxonomy.themes)) return;
  themes.names = new Map(taxonomy.themes.map((th) => [th.id, th.names ?? {}]));
  themes.parents = new Map(taxonomy.themes.map((th) => [th.id, th.parent ?? null]));
  if (themes.data) render();
}

/** A theme's name in the reader's language (English, else its id, when the taxonomy lacks it). */
export function themeName(id) {
  const names = themes.names.get(id) ?? {};
  return names[language()] || names.en || id.replace(/-/g, ' ');
}

/** The themes of a comment worth a chip: a parent named only through its child is left out. */
export function shownThemes(mentions) {
  const ids = new Set((mentions ?? []).map((m) => m.theme));
  return (mentions ?? []).filter((m) => ![...ids].some((other) => themes.parents.get(other) === m.theme));
}

export function applyThemes(data) {
  if (!data || !Array.isArray(data.themes) || timeOf(data.as_of) < timeOf(themes.data?.as_of)) return;
  if (data.period !== themesPeriod()) return; // an answer for a period no longer chosen
  themes.data = data;
  render();
}

export function resetThemes(text = t('Loading themes…')) {
  themes.data = null;
  $('themes-list').replaceChildren();
  $('themes-summary').textContent = '';
  $('themes-empty').hidden = false;
  $('themes-empty').textContent = text;
  setTime($('themes-as-of'), '');
}

function render() {
  const { themes: rows, as_of: asOf, comments, period } = themes.data;
  setTime($('themes-as-of'), asOf);
  const named = rows.filter((r) => count(r.mentions));
  $('themes-summary').textContent = count(comments)
    ? tn('{n} comment read', '{n} comments read', count(comments))
    : '';
  $('themes-empty').hidden = named.length > 0;
  const none = NONE[period] ?? NONE.week;
  $('themes-empty').textContent = t(none);
  const ordered = [...rows].sort(themesOrder() === 'costly' ? byCost : () => 0);
  $('themes-list').replaceChildren(...ordered.map((row) => item(row, period)));
}

// Most points lost first; themes without an impact last.
const byCost = (a, b) => (num(a.nps_impact) ?? Infinity) - (num(b.nps_impact) ?? Infinity);

function item(row, period) {
  const li = el('li', 'theme');
  li.dataset.theme = row.theme;
  const open = el('button', 'theme-open');
  open.type = 'button';
  const name = themeName(row.theme);
  open.setAttribute('aria-label', t('{theme}: show its comments', { theme: name }));
  open.addEventListener('click', () => themes.onTheme?.(row.theme));
  const head = el('p', 'theme-head');
  head.append(el('span', 'theme-name', name), el('span', 'theme-volume', volume(row)));
  open.append(head, toneBar(row), el('p', 'theme-facts', facts(row, period)));
  li.append(open);
  return li;
}

function volume(row) {
  const n = tn('{n} comment', '{n} comments', count(row.mentions));
  return num(row.share) == null ? n : `${n} · ${formatPercent(row.share / 100)}`;
}

function toneBar(row) {
  const bar = el('p', 'theme-tone');
  const total = TONES.reduce((sum, [key]) => sum + count(row[key]), 0);
  const words = TONES.filter(([key]) => count(row[key])).map(([key, word]) => word(count(row[key])));
  bar.setAttribute('role', 'img');
  bar.setAttribute('aria-label', words.length ? words.join(', ') : t('tone not read'));
  for (const [key] of TONES) {
    if (!count(row[key])) continue;
    const part = el('span', `theme-tone-${key}`);
    part.style.flexGrow = String(count(row[key]) / total);
    bar.append(part);
  }
  return bar;
}

function facts(row, period) {
  const parts = [];
  const impact = num(row.nps_impact);
  const n = count(row.nps_responses);
  if (impact == null || !n) parts.push(t('no NPS answers'));
  else {
    const points = impact > 0 ? `+${formatNumber(impact, 1)}` : formatNumber(impact, 1);
    parts.push(t('NPS impact {points} pts', { points }) + ` (${sampleSize(n)})`);
    if (n < SMALL_SAMPLE) parts.push(t('small sample'));
  }
  const change = num(row.share_change);
  if (!count(row.previous_mentions) && count(row.mentions)) parts.push(t('new'));
  else if (change != null) {
    const pts = change > 0 ? `+${formatNumber(change, 1)}` : formatNumber(change, 1);
    const before = BEFORE[period] ?? BEFORE.week;
    parts.push(t('{change} pts {before}', { change: pts, before: t(before) }));
  }
  return parts.join(' · ');
}

// ---- Emerging topics (admins) -------------------------------------------------------------------

export function applyEmerging(data) {
  const box = $('emerging');
  if (!data || !Array.isArray(data.topics)) return;
  box.hidden = false;
  $('emerging-empty').hidden = data.topics.length > 0;
  $('emerging-list').replaceChildren(...data.topics.map(topic));
}

function topic(found) {
  const li = el('li', 'emerging-topic');
  const text = el('p', 'emerging-text');
  text.append(el('span', 'emerging-phrase', found.phrase), el('span', 'emerging-language', found.language));
  const said = tn('{n} comment this week', '{n} comments this week', count(found.comments));
  const before = tn('{n} in the 4 weeks before', '{n} in the 4 weeks before', count(found.before));
  const make = el('button', 'emerging-make', t('Make it a theme'));
  make.type = 'button';
  make.addEventListener('click', async () => {
    make.disabled = true;
    const done = await themes.onMake?.(found);
    if (!done) make.disabled = false;
  });
  li.append(text, el('p', 'emerging-facts', `${said} · ${before}`), make);
  return li;
}

/**
 * `onPeriod(period)`: the period changed (fetch the themes for it); `onTheme(id)`: a theme was
 * tapped (show its comments); `onMake(topic)`: an admin makes an emerging topic a theme (resolves
 * true once it is one).
 */
export function initThemes({ onPeriod, onTheme, onMake }) {
  themes.onTheme = onTheme;
  themes.onMake = onMake;
  $('themes-period').addEventListener('change', () => onPeriod(themesPeriod()));
  $('themes-order').addEventListener('change', () => themes.data && render());
  resetThemes();
}
