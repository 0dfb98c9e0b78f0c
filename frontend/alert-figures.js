// The closed-loop figures under the inbox: times to acknowledge and resolve, detractors called back
// within 48 h, and the unresolved alerts by age; computed by the server for the watched units.

import { count, el, num, own, plural } from './dom.js';
import { api } from './session.js';
import { BASE, humanize, inbox, unauthorized } from './alert-state.js';

const FIGURES_MIN_GAP_MS = 2000;
const AGE = {
  under_1h: 'Under 1 h', '1h_to_4h': '1–4 h', '4h_to_24h': '4–24 h', '1d_to_2d': '1–2 days', over_2d: 'Over 2 days',
};

export async function fetchFigures() {
  const run = inbox.run;
  inbox.figuresLast = Date.now();
  try {
    const figures = await api(`${BASE}/figures`, { query: { org_unit: inbox.ctx.orgUnits } });
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

function renderFigures(f) {
  if (!inbox.dom || !f || typeof f !== 'object') return;
  const days = count(f.days) || 7;
  inbox.dom.loopNote.textContent = `Last ${days} days · ${plural(count(f.alerts), 'alert')} raised`;
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
  inbox.dom.loopBody.replaceChildren(tiles, ages);
}
