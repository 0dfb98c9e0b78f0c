// The inbox's filters: their defaults, the query they make (GET /alerts and a bulk action's
// `filter`), whether a live alert falls under them, and how they read in a line. The server does the
// filtering, searching and paging; the page only asks.

import { N_, t } from './i18n.js';
import { PAGE_SIZE, STATE, UNRESOLVED, callbacks, inbox, ruleName } from './alert-state.js';

// Labels are messages, shown with t().
export const ORDERS = [
  ['urgency', N_('Most urgent first')], ['newest', N_('Newest first')], ['oldest', N_('Oldest first')],
  ['severity', N_('Most severe first')],
];
// 'todo' stands for the unresolved states, as the server's default.
export const STATES = [['todo', N_('To do')], ...Object.entries(STATE)];
const SEVERITY_WORDS = { high: N_('high severity'), medium: N_('medium severity'), low: N_('low severity') };
export const SEARCH_MIN = 2;

export function defaultFilters() {
  return {
    org_unit: '', state: 'todo', severity: '', rule: '', touchpoint: '', assignee: '', q: '', order: 'urgency', group: true,
  };
}

export const statesOf = (f) => (f.state === 'todo' ? UNRESOLVED : [f.state]);
const list = (value) => (value ? [value] : []);
const search = (f) => (f.q.trim().length >= SEARCH_MIN ? f.q.trim() : null);

/** The units asked for: the one chosen, else those the page watches (none: all the user's). */
function units(f) {
  return f.org_unit ? [f.org_unit] : inbox.ctx.orgUnits;
}

/** GET /alerts's query for `page` of the inbox; `counts` false when the filters' counts are known. */
export function toQuery(f, page, { counts = true } = {}) {
  return {
    org_unit: units(f), state: statesOf(f), severity: list(f.severity), rule: list(f.rule),
    touchpoint: list(f.touchpoint), assignee: f.assignee || null, q: search(f), order: f.order,
    group: f.group ? null : 'false', page, limit: PAGE_SIZE, counts: counts ? null : 'false',
  };
}

/** A bulk action's `filter`: every alert the inbox lists, ungrouped. */
export function toSelection(f) {
  return {
    org_unit: units(f), state: statesOf(f), severity: list(f.severity), rule: list(f.rule),
    touchpoint: list(f.touchpoint), assignee: f.assignee || null, q: search(f),
  };
}

/** Alerts (not items) the filters match, from the counts: each state's, with the other filters. */
export function matchingAlerts(counts, f) {
  const byState = counts?.state ?? {};
  return statesOf(f).reduce((n, s) => n + (Number(byState[s]) || 0), 0);
}

/** Whether the filters narrow the inbox beyond its states and order. */
export function narrowed(f) {
  return Boolean(f.org_unit || f.severity || f.rule || f.touchpoint || f.assignee || search(f) || !f.group);
}

/** Whether a live alert falls under the filters (the server already scoped it to the page's units). */
export function matches(v, f) {
  if (callbacks() && !v.response_id) return false;
  if (!statesOf(f).includes(v.state)) return false;
  if (f.severity && v.severity !== f.severity) return false;
  if (f.rule && !(Array.isArray(v.rules) && v.rules.includes(f.rule))) return false;
  if (f.touchpoint && v.touchpoint !== f.touchpoint) return false;
  if (f.assignee === 'mine' && v.assignee !== inbox.ctx.user?.username) return false;
  if (f.assignee === 'unassigned' && v.assignee) return false;
  if (f.org_unit && !inbox.ctx.below(f.org_unit).has(v.org_unit)) return false;
  const q = search(f);
  return !q || String(v.response?.comment ?? '').toLowerCase().includes(q.toLowerCase());
}

/** The filters in force, in words, for the closed filter box's summary. */
export function describe(f) {
  const words = [];
  const label = (table, key) => {
    const found = table.find(([v]) => v === key)?.[1];
    return found ? t(found) : key;
  };
  if (f.org_unit) words.push(inbox.ctx.unitName(f.org_unit));
  if (f.state !== 'todo') words.push(label(STATES, f.state));
  if (f.severity) words.push(SEVERITY_WORDS[f.severity] ? t(SEVERITY_WORDS[f.severity]) : f.severity);
  if (f.rule) words.push(ruleName(f.rule));
  if (f.touchpoint) words.push(f.touchpoint);
  if (f.assignee === 'mine') words.push(t('mine'));
  if (f.assignee === 'unassigned') words.push(t('unassigned'));
  if (f.order !== 'urgency') words.push(label(ORDERS, f.order).toLocaleLowerCase());
  return words.length ? words.join(' · ') : t('none');
}
