// The barometer screen: NPS as a gauge from −100 to +100 with its promoter/passive/detractor split,
// CSAT, CES and volume for the chosen period, a trend, and the parent unit's figures beside them.

import { $, SMALL_SAMPLE, count, el, npsBand, npsText, num, sampleSize, setTime, svgEl, timeOf } from './dom.js';
import { N_, formatNumber, formatPercent, t, tn } from './i18n.js';

const HOUR_MS = 3600_000;
// What each period's figures are called, whole sentences for the translators (words are looked up
// when shown: the catalogue loads after this module).
const PERIOD = {
  hour: {
    title: N_('Barometer · last hour'),
    none: N_('No NPS answers in the last hour'),
    from: (n) => tn('from {n} NPS answer in the last hour', 'from {n} NPS answers in the last hour', n),
    trend: N_('NPS per minute, last hour'),
    since: N_('60 min ago'),
    described: N_('NPS per minute over the last hour: {answers} in {slots}; bars show responses per minute.'),
  },
  today: {
    title: N_('Barometer · today'),
    none: N_('No NPS answers today'),
    from: (n) => tn('from {n} NPS answer today', 'from {n} NPS answers today', n),
    trend: N_('NPS per hour, today'),
    since: N_('midnight'),
    described: N_('NPS per hour since midnight: {answers} in {slots}; bars show responses per hour.'),
  },
  '7d': {
    title: N_('Barometer · 7 days'),
    none: N_('No NPS answers in 7 days'),
    from: (n) => tn('from {n} NPS answer in 7 days', 'from {n} NPS answers in 7 days', n),
    trend: N_('NPS per hour, 7 days'),
    since: N_('7 days ago'),
    described: N_('NPS per hour over 7 days: {answers} in {slots}; bars show responses per hour.'),
  },
};
const periodOf = (name) => PERIOD[name] ?? PERIOD.today;

// `snap`: the newest snapshot shown, read from the API or pushed by it for the page's scope.
const baro = { snap: null };

export const barometerWindow = () => document.querySelector('input[name="baro-window"]:checked')?.value ?? 'today';

/**
 * Shows a snapshot, read or pushed, unless it is older than the one shown: a read answered before a
 * push may arrive after it, and must not take the newer figures back.
 */
export function applySnapshot(snap) {
  if (!snap || typeof snap !== 'object') return;
  if (timeOf(snap.as_of) < timeOf(baro.snap?.as_of)) return;
  baro.snap = snap;
  render();
}

export function resetBarometer() {
  baro.snap = null;
  $('nps-value').textContent = '—';
  $('nps-count').textContent = t('No NPS answers yet');
  $('nps-small').hidden = true;
  $('gauge').dataset.band = 'none';
  $('gauge-svg').replaceChildren(...gaugeTrack());
  for (const id of ['mix', 'mix-legend', 'tiles', 'sparkline', 'parent-compare']) $(id).replaceChildren();
  $('sparkline').setAttribute('aria-label', t('No trend yet'));
  $('baro-title').textContent = t('Barometer');
  $('trend-title').textContent = t(periodOf(barometerWindow()).trend);
  $('trend-from').textContent = t(periodOf(barometerWindow()).since);
  $('gauge').removeAttribute('aria-label');
  $('parent-compare').hidden = true;
  $('trend-count').textContent = '';
  setTime($('as-of'), '');
}

function render() {
  const snap = baro.snap;
  if (!snap) return;
  const period = barometerWindow();
  const figures = snap.windows?.[period] ?? {};
  const nps = num(figures.nps);
  const n = count(figures.nps_responses);
  $('baro-title').textContent = t(periodOf(period).title);
  $('nps-value').textContent = npsText(nps, true);
  $('gauge').dataset.band = npsBand(nps);
  $('nps-count').textContent = n ? periodOf(period).from(n) : t(periodOf(period).none);
  $('nps-small').hidden = !n || n >= SMALL_SAMPLE;
  drawGauge(nps);
  setTime($('as-of'), snap.as_of);
  renderMix(figures);
  renderParent(snap.parent, period, nps);
  renderTiles(figures);
  renderTrend(snap, period);
}

// ---- Gauge ---------------------------------------------------------------------------------------
const CX = 100, CY = 100, R = 80;
const angle = (nps) => Math.PI * (1 - (Math.max(-100, Math.min(100, nps)) + 100) / 200);
const at = (nps, r = R) => [CX + r * Math.cos(angle(nps)), CY - r * Math.sin(angle(nps))];

function arc(from, to, className) {
  const [x1, y1] = at(from), [x2, y2] = at(to);
  return svgEl('path', { d: `M${x1.toFixed(2)},${y1.toFixed(2)} A${R},${R} 0 0 1 ${x2.toFixed(2)},${y2.toFixed(2)}`, class: className });
}

function gaugeTrack() {
  const label = (text, x, anchor) => Object.assign(svgEl('text', { x, y: 111, 'text-anchor': anchor, class: 'gauge-tick' }), { textContent: text });
  return [
    arc(-100, 0, 'gauge-band bad'), arc(0, 30, 'gauge-band mid'), arc(30, 100, 'gauge-band good'),
    label('−100', CX - R, 'middle'), label('0', CX, 'middle'), label('+100', CX + R, 'middle'),
  ];
}

function drawGauge(nps) {
  const nodes = gaugeTrack();
  if (nps != null) {
    const [x, y] = at(nps, R - 14);
    nodes.push(svgEl('line', { x1: CX, y1: CY, x2: x.toFixed(2), y2: y.toFixed(2), class: 'gauge-needle' }));
    nodes.push(svgEl('circle', { cx: CX, cy: CY, r: 6, class: 'gauge-hub' }));
  }
  $('gauge-svg').replaceChildren(...nodes);
  $('gauge').setAttribute('aria-label', nps == null ? t('NPS gauge: no answers')
    : t('NPS gauge at {nps} on a scale from −100 to +100', { nps: npsText(nps, true) }));
}

const LEGEND = {
  promoters: (n) => tn('{n} promoter', '{n} promoters', n),
  passives: (n) => tn('{n} passive', '{n} passives', n),
  detractors: (n) => tn('{n} detractor', '{n} detractors', n),
};

function renderMix(b) {
  const parts = [['promoters', count(b.promoters)], ['passives', count(b.passives)], ['detractors', count(b.detractors)]];
  $('mix').replaceChildren(...parts.map(([kind, n]) => {
    const seg = el('span', `mix-seg ${kind}`);
    seg.style.flexGrow = String(n);
    return seg;
  }));
  $('mix-legend').replaceChildren(...parts.map(([kind, n]) => el('span', `legend ${kind}`, LEGEND[kind](n))));
}

// The parent unit's figures (aggregates only): how this unit compares with the level above.
function renderParent(parent, period, nps) {
  const box = $('parent-compare');
  if (!parent || typeof parent !== 'object') {
    box.hidden = true;
    return;
  }
  const figures = parent.windows?.[period] ?? {};
  const theirs = num(figures.nps);
  const n = count(figures.nps_responses);
  const name = el('strong', null, parent.name || parent.org_unit);
  const parts = [name, document.createTextNode(` NPS ${npsText(theirs, true)} (${sampleSize(n)})`)];
  if (theirs != null && nps != null) {
    const delta = Math.round(nps) - Math.round(theirs);
    const gap = Math.abs(delta);
    const word = delta === 0 ? t('you are level with it')
      : delta > 0 ? tn('you are {n} point above', 'you are {n} points above', gap)
        : tn('you are {n} point below', 'you are {n} points below', gap);
    parts.push(el('span', `delta ${delta > 0 ? 'good' : delta < 0 ? 'bad' : ''}`.trim(), ` · ${word}`));
  }
  box.replaceChildren(el('span', 'compare-label', t('Compared with')), document.createTextNode(' '), ...parts);
  box.hidden = false;
}

function tile(label, figure, detail, extra = '') {
  const box = el('div', `tile ${extra}`.trim());
  box.append(el('dt', 'tile-label', label), el('dd', 'tile-figure', figure), el('dd', 'tile-count', detail));
  return box;
}

function renderTiles(b) {
  const flagged = count(b.flagged);
  const tiles = [tile(t('Responses'), formatNumber(count(b.responses)), t('all scores'), 'tile-volume')];
  tiles.push(tile(t('To call back'), formatNumber(flagged), t('of {n}', { n: formatNumber(count(b.responses)) }),
    flagged ? 'tile-alert' : ''));
  const csat = count(b.csat_responses) && num(b.csat_pct) != null;
  const csatSample = sampleSize(count(b.csat_responses));
  const csatDetail = num(b.csat_mean) != null
    ? t('satisfied · mean {mean}/5 · {sample}', { mean: formatNumber(b.csat_mean, 1), sample: csatSample })
    : t('satisfied · {sample}', { sample: csatSample });
  tiles.push(tile('CSAT', csat ? formatPercent(b.csat_pct / 100) : '—', csat ? csatDetail : t('no CSAT answers'), 'tile-csat'));
  const ces = count(b.ces_responses) && num(b.ces_mean) != null;
  tiles.push(tile('CES', ces ? formatNumber(b.ces_mean, 1) : '—',
    ces ? t('1 easy to 7 hard · {sample}', { sample: sampleSize(count(b.ces_responses)) }) : t('no CES answers'), 'tile-ces'));
  $('tiles').replaceChildren(...tiles);
}

// ---- Trend ---------------------------------------------------------------------------------------
/** Per minute for the last hour; per hour since midnight for today, and over 7 days. */
function trendOf(snap, period) {
  if (period === 'hour') return { points: (snap.trend ?? []).map((p) => ({ ...p, t: timeOf(p.minute) })), unit: 'minute' };
  const hourly = (snap.hourly ?? []).map((p) => ({ ...p, t: timeOf(p.hour) }));
  if (period === '7d') return { points: hourly, unit: 'hour' };
  const midnight = new Date(timeOf(snap.as_of) || Date.now());
  midnight.setHours(0, 0, 0, 0);
  return { points: hourly.filter((p) => p.t + HOUR_MS > midnight.getTime()), unit: 'hour' };
}

function renderTrend(snap, period) {
  const { points: raw, unit } = trendOf(snap, period);
  const words = periodOf(period);
  $('trend-title').textContent = t(words.trend);
  $('trend-from').textContent = t(words.since);
  const W = 320, H = 50, LINE_H = 36, SLOT = W / Math.max(1, raw.length);
  const y = (nps) => 4 + (1 - (nps + 100) / 200) * (LINE_H - 8);
  const points = raw.map((p, i) => ({ x: i * SLOT, n: count(p.responses), nps: num(p.nps), a: count(p.nps_responses) }));
  const maxN = Math.max(1, ...points.map((p) => p.n));
  const nodes = [50, -50].map((v) => svgEl('line', { x1: 0, x2: W, y1: y(v), y2: y(v), class: 'spark-grid' }));
  nodes.push(svgEl('line', { x1: 0, x2: W, y1: y(0), y2: y(0), class: 'spark-zero' }));
  for (const p of points.filter((q) => q.n)) {
    const h = Math.max(2, (p.n / maxN) * (H - LINE_H - 2));
    nodes.push(svgEl('rect', { x: p.x + SLOT * 0.05, y: H - h, width: Math.max(0.5, SLOT * 0.9), height: h, rx: 1, class: 'spark-bar' }));
  }
  const line = points.filter((p) => p.nps != null).map((p) => [p.x + SLOT / 2, y(p.nps)]);
  if (line.length > 1) nodes.push(svgEl('polyline', { points: line.map((xy) => xy.map((c) => c.toFixed(1)).join(',')).join(' '), class: 'spark-line' }));
  if (line.length) {
    const [lx, ly] = line[line.length - 1];
    nodes.push(svgEl('circle', { cx: lx, cy: ly, r: 3, class: 'spark-dot' }));
  }
  $('sparkline').replaceChildren(...nodes);
  const answers = points.reduce((acc, p) => acc + p.a, 0);
  const total = points.reduce((acc, p) => acc + p.n, 0);
  const slots = points.filter((p) => p.nps != null).length;
  $('trend-count').textContent = tn('{n} response', '{n} responses', total);
  $('sparkline').setAttribute('aria-label', t(words.described, {
    answers: tn('{n} NPS answer', '{n} NPS answers', answers),
    slots: unit === 'minute' ? tn('{n} minute', '{n} minutes', slots) : tn('{n} hour', '{n} hours', slots),
  }));
}

export function initBarometer() {
  $('baro-window').addEventListener('change', render);
  resetBarometer();
}
