// The inbox's filters: their defaults, the query they make (GET /alerts and a bulk action's
// `filter`), whether a live alert falls under them, and how they read in a line. The server does the
// filtering, searching and paging; the page only asks.

import { PAGE_SIZE, UNRESOLVED, callbacks, inbox } from './alert-state.js';

export const ORDERS = [
  ['urgency', 'Most urgent first'], ['newest', 'Newest first'], ['oldest', 'Oldest first'], ['severity', 'Most severe first'],
];
// 'todo' stands for the unresolved states, as the server's default.
export const STATES = [
  ['todo', 'To do'], ['open', 'Open'], ['acknowledged', 'Acknowledged'], ['in_progress', 'In progress'],
  ['resolved', 'Resolved'], ['closed', 'Closed'],
];
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
  if (f.org_unit) words.push(inbox.ctx.unitName(f.org_unit));
  if (f.state !== 'todo') words.push(STATES.find(([v]) => v === f.state)?.[1] ?? f.state);
  if (f.severity) words.push(`${f.severity} severity`);
  if (f.rule) words.push(inbox.ruleText.get(f.rule) ?? f.rule);
  if (f.touchpoint) words.push(f.touchpoint);
  if (f.assignee === 'mine') words.push('mine');
  if (f.assignee === 'unassigned') words.push('unassigned');
  if (f.order !== 'urgency') words.push(ORDERS.find(([v]) => v === f.order)?.[1].toLowerCase() ?? f.order);
  return words.length ? words.join(' · ') : 'none';
}
