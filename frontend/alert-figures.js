// The closed-loop figures under the inbox: detractors reached within 48 h (with the counts it is a
// share of, those missed and those still waiting), times to acknowledge, reach and resolve, what is
// overdue, and the unresolved alerts by age; computed by the server for the watched units.

import { count, el, num, own, plural } from './dom.js';
import { api } from './session.js';
import { BASE, humanize, inbox, unauthorized } from './alert-state.js';

const FIGURES_MIN_GAP_MS = 2000;
const AGE = {
  under_1h: 'Under 1 h', '1h_to_4h': '1–4 h', '4h_to_24h': '4–24 h', '1d_to_2d': '1–2 days', over_2d: 'Over 2 days',
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
    inbox.dom.loopNote.textContent = `Figures not updated (${err.message}).`;
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
  if (m < 1) return 'under 1 min';
  if (m < 120) return `${Math.round(m)} min`;
  return m < 2880 ? `${(m / 60).toFixed(1)} h` : `${(m / 1440).toFixed(1)} days`;
}

// A share is shown only with what it is a share of, and never when nothing is due yet.
function reachedLine(f) {
  const due = count(f.detractors), reached = count(f.contacted_48h), pct = num(f.contacted_48h_pct);
  const line = el('p', 'loop-reached');
  if (!due || pct == null) {
    line.append(el('strong', null, 'Detractors reached within 48 h: '), el('span', null, 'none due yet'));
    line.dataset.band = 'none';
    return line;
  }
  line.textContent = `${reached} of ${plural(due, 'detractor')} reached within 48 h · ${Math.round(pct)} %`;
  line.dataset.band = pct < 80 ? 'bad' : 'ok';
  return line;
}

function renderFigures(f) {
  if (!inbox.dom || !f || typeof f !== 'object') return;
  const days = count(f.days) || 7;
  const unit = inbox.filters?.org_unit ? `${inbox.ctx.unitName(inbox.filters.org_unit)} · ` : '';
  inbox.dom.loopNote.textContent = `${unit}Last ${days} days · ${plural(count(f.alerts), 'alert')} raised`;
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
  const tiles = el('dl', 'loop-tiles');
  tiles.append(
    tile('Time to acknowledge', time('ack_minutes', 1), `${average} of ${count(f.acknowledged)} acknowledged`),
    tile('Time to reach the customer', time('contact_hours', 60), `${average} of ${count(f.contacted)} reached`),
    tile('Time to resolve', time('resolve_hours', 60), `${average} of ${count(f.resolved)} resolved`),
    tile('Overdue now', String(count(f.overdue)), `unresolved past a deadline`, count(f.overdue) ? 'loop-bad' : ''),
  );
  const detractors = el('ul', 'loop-lines');
  detractors.setAttribute('aria-label', 'Detractors');
  const missed = count(f.not_contacted_48h), waiting = count(f.detractors_waiting);
  const item = (text, bad = false) => el('li', bad ? 'loop-line bad' : 'loop-line', text);
  if (count(f.detractors)) {
    detractors.append(item(`${plural(missed, 'detractor')} not reached within their 48 h`, missed > 0));
  }
  detractors.append(item(waiting
    ? `${plural(waiting, 'detractor')} still inside their 48 h, not reached yet`
    : 'No detractor waiting inside their 48 h'));
  const ages = el('div', 'loop-ages');
  const agesTitle = el('p', 'loop-label', 'Unresolved, by age');
  agesTitle.id = 'alerts-loop-ages';
  const list = el('ul', 'loop-age-list');
  list.setAttribute('aria-labelledby', agesTitle.id);
  const byAge = f.open_by_age && typeof f.open_by_age === 'object' ? f.open_by_age : {};
  for (const [key, n] of Object.entries(byAge)) {
    const entry = el('li', `loop-age${count(n) && (key === 'over_2d' || key === '1d_to_2d') ? ' late' : ''}`);
    entry.append(el('span', 'loop-age-n', count(n)), el('span', 'loop-age-label', own(AGE, key) ?? humanize(key)));
    list.append(entry);
  }
  ages.append(agesTitle, list);
  inbox.dom.loopBody.replaceChildren(reachedLine(f), detractors, tiles, ages);
}
