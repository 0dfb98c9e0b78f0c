// The closed-loop figures under the inbox: detractors reached within 48 h (with the counts it is a
// share of, those missed and those still waiting), times to acknowledge, reach and resolve, what is
// overdue, and the unresolved alerts by age; computed by the server for the watched units.

import { count, el, num, own } from './dom.js';
import { N_, formatNumber, t, tn } from './i18n.js';
import { api } from './session.js';
import { BASE, humanize, inbox, unauthorized } from './alert-state.js';

const FIGURES_MIN_GAP_MS = 2000;
const AGE = {
  under_1h: N_('Under 1 h'), '1h_to_4h': N_('1–4 h'), '4h_to_24h': N_('4–24 h'), '1d_to_2d': N_('1–2 days'),
  over_2d: N_('Over 2 days'),
};

// The unit the inbox is narrowed to, else the units the page watches.
const figuresUnits = () => (inbox.filters?.org_unit ? [inbox.filters.org_unit] : inbox.ctx.orgUnits);

export async function fetchFigures() {
  const run = inbox.run;
  inbox.figuresLast = Date.now();
  try {
    const figures = await api(`${BASE}/figures`, { query: { org_unit: figuresUnits() } });
    if (run === inbox.run) renderFigures(figures);
  } catch (err) {
    if (run !== inbox.run || unauthorized(err)) return;
    inbox.dom.loopNote.textContent = t('Figures not updated ({error}).', { error: err.message });
  }
}

/** At most one figures request every FIGURES_MIN_GAP_MS, however many alerts change. */
export function requestFigures() {
  if (inbox.figuresTimer) return;
  const wait = Math.max(0, inbox.figuresLast + FIGURES_MIN_GAP_MS - Date.now());
  inbox.figuresTimer = setTimeout(() => {
    inbox.figuresTimer = null;
    if (inbox.running) fetchFigures();
  }, wait);
}

function minutesText(m) {
  if (m < 1) return t('under 1 min');
  if (m < 120) return t('{n} min', { n: formatNumber(Math.round(m)) });
  if (m < 2880) return t('{n} h', { n: formatNumber(m / 60, 1) });
  const days = Math.round(m / 144) / 10;
  return tn('{n} day', '{n} days', days, { n: formatNumber(days, 1) });
}

// A share is shown only with what it is a share of, and never when nothing is due yet.
function reachedLine(f) {
  const due = count(f.detractors), reached = count(f.contacted_48h), pct = num(f.contacted_48h_pct);
  const line = el('p', 'loop-reached');
  if (!due || pct == null) {
    line.append(el('strong', null, `${t('Detractors reached within 48 h:')} `), el('span', null, t('none due yet')));
    line.dataset.band = 'none';
    return line;
  }
  // The percent sign is the message's: "80 %" in French, "80%" in Italian.
  line.textContent = tn(
    '{reached} of {n} detractor reached within 48 h · {percent} %',
    '{reached} of {n} detractors reached within 48 h · {percent} %',
    due, { reached: formatNumber(reached), percent: formatNumber(Math.round(pct)) },
  );
  line.dataset.band = pct < 80 ? 'bad' : 'ok';
  return line;
}

function renderFigures(f) {
  if (!inbox.dom || !f || typeof f !== 'object') return;
  const days = count(f.days) || 7;
  const unit = inbox.filters?.org_unit ? `${inbox.ctx.unitName(inbox.filters.org_unit)} · ` : '';
  const raised = tn('Last {days} days · {n} alert raised', 'Last {days} days · {n} alerts raised', count(f.alerts), {
    days: formatNumber(days),
  });
  inbox.dom.loopNote.textContent = `${unit}${raised}`;
  const tile = (label, figure, detail, kind = '') => {
    const box = el('div', `loop-tile ${kind}`.trim());
    box.append(el('dt', 'loop-label', label), el('dd', 'loop-figure', figure), el('dd', 'loop-count', detail));
    return box;
  };
  // Times are means where the server rolls them up from the units' aggregates, medians otherwise.
  const average = 'mean_ack_minutes' in f ? 'mean' : 'median';
  const time = (name, scale) => {
    const value = num(f[`${average}_${name}`]);
    return value == null ? '—' : minutesText(value * scale);
  };
  const mean = average === 'mean';
  const acknowledged = count(f.acknowledged), contacted = count(f.contacted), resolved = count(f.resolved);
  const tiles = el('dl', 'loop-tiles');
  tiles.append(
    tile(t('Time to acknowledge'), time('ack_minutes', 1), mean
      ? tn('mean of {n} acknowledged', 'mean of {n} acknowledged', acknowledged)
      : tn('median of {n} acknowledged', 'median of {n} acknowledged', acknowledged)),
    tile(t('Time to reach the customer'), time('contact_hours', 60), mean
      ? tn('mean of {n} reached', 'mean of {n} reached', contacted)
      : tn('median of {n} reached', 'median of {n} reached', contacted)),
    tile(t('Time to resolve'), time('resolve_hours', 60), mean
      ? tn('mean of {n} resolved', 'mean of {n} resolved', resolved)
      : tn('median of {n} resolved', 'median of {n} resolved', resolved)),
    tile(t('Overdue now'), formatNumber(count(f.overdue)), t('unresolved past a deadline'),
      count(f.overdue) ? 'loop-bad' : ''),
  );
  const detractors = el('ul', 'loop-lines');
  detractors.setAttribute('aria-label', t('Detractors'));
  const missed = count(f.not_contacted_48h), waiting = count(f.detractors_waiting);
  const item = (text, bad = false) => el('li', bad ? 'loop-line bad' : 'loop-line', text);
  if (count(f.detractors)) {
    detractors.append(item(tn(
      '{n} detractor not reached within their 48 h', '{n} detractors not reached within their 48 h', missed,
    ), missed > 0));
  }
  detractors.append(item(waiting
    ? tn('{n} detractor still inside their 48 h, not reached yet', '{n} detractors still inside their 48 h, not reached yet',
      waiting)
    : t('No detractor waiting inside their 48 h')));
  const ages = el('div', 'loop-ages');
  const agesTitle = el('p', 'loop-label', t('Unresolved, by age'));
  agesTitle.id = 'alerts-loop-ages';
  const list = el('ul', 'loop-age-list');
  list.setAttribute('aria-labelledby', agesTitle.id);
  const byAge = f.open_by_age && typeof f.open_by_age === 'object' ? f.open_by_age : {};
  for (const [key, n] of Object.entries(byAge)) {
    const entry = el('li', `loop-age${count(n) && (key === 'over_2d' || key === '1d_to_2d') ? ' late' : ''}`);
    const label = own(AGE, key);
    entry.append(el('span', 'loop-age-n', formatNumber(count(n))),
      el('span', 'loop-age-label', label ? t(label) : humanize(key)));
    list.append(entry);
  }
  ages.append(agesTitle, list);
  inbox.dom.loopBody.replaceChildren(reachedLine(f), detractors, tiles, ages);
}
