// What the alerts inbox holds while it runs (the alerts, their cards, what each card shows open), the
// words for severities, states and rules, and the few helpers every alerts module shares.

import { own, timeOf } from './dom.js';
import { HttpError } from './session.js';

export const BASE = '/api/v1/alerts';
export const RESOLVED_KEPT = 50;
export const UNRESOLVED = ['open', 'acknowledged', 'in_progress'];
const SEVERITY_RANK = { none: 0, low: 1, medium: 2, high: 3 };
export const SEVERITY = { none: 'No severity', low: 'Low', medium: 'Medium', high: 'High' };
export const STATE = {
  open: 'Open', acknowledged: 'Acknowledged', in_progress: 'In progress', resolved: 'Resolved', closed: 'Closed',
};
// Rule ids of alerts/rules.yaml in plain words; other rules use their description from /rules.
const RULE = {
  'detractor-negative-comment': 'Detractor with a negative comment',
  'csat-dissatisfied': 'Dissatisfied (CSAT)',
  'ces-high-effort': 'High customer effort',
  'churn-language': 'Talks of leaving or a refund',
  'repeat-dissatisfied': 'Dissatisfied again',
  'unit-nps-drop': 'NPS drop in the last hour',
};
export const BUSY = {
  acknowledged: 'Acknowledging…', resolved: 'Resolving…', assign: 'Assigning…', closed: 'Closing…', open: 'Reopening…',
};

// `run` counts starts and stops: an answer that arrives after the user signed out is dropped.
// `alerts`: every alert held, by id; `nodes`: the cards on screen; `ui`: per alert, whether it just
// arrived, which form is open and whether its details are; `busy`: the request under way per card.
export const inbox = {
  run: 0, running: false, ctx: null, dom: null, tick: null, figuresTimer: null, figuresLast: 0,
  alerts: new Map(), seen: new Set(), loaded: false, loadSeq: 0, buffer: null, filter: 'unresolved',
  nodes: new Map(), ui: new Map(), busy: new Map(), rootCauses: null, people: new Map(), ruleText: new Map(),
};

export const rankOf = (v) => own(SEVERITY_RANK, v.severity) ?? 0;
export const severityOf = (v) => (own(SEVERITY_RANK, v.severity) != null ? v.severity : 'none');
export const isAlert = (v) => v && typeof v === 'object' && Number.isInteger(v.id) && typeof v.state === 'string';

export const humanize = (slug) => {
  const text = String(slug).replace(/[-_]+/g, ' ').trim();
  return text.charAt(0).toUpperCase() + text.slice(1);
};

export function ruleName(rule) {
  return own(RULE, rule) ?? (inbox.ruleText.get(rule) || humanize(rule));
}

export function personName(username) {
  if (username === inbox.ctx.user?.username) return 'you';
  return inbox.people.get(username) ?? username;
}

/** True (and the page told) when the session ended: the caller then drops what it was doing. */
export function unauthorized(err) {
  if (!(err instanceof HttpError) || err.status !== 401) return false;
  const { onUnauthorized } = inbox.ctx ?? {};
  onUnauthorized?.();
  return true;
}

/** Holds `view` (a closed alert leaves); keeps the RESOLVED_KEPT most recently resolved. */
export function upsert(view, { arrived = false } = {}) {
  if (view.state === 'closed') {
    inbox.alerts.delete(view.id);
    return;
  }
  inbox.alerts.set(view.id, view);
  if (arrived) inbox.ui.set(view.id, { ...(inbox.ui.get(view.id) ?? {}), arrived: true });
  const resolved = [...inbox.alerts.values()].filter((v) => v.state === 'resolved')
    .sort((a, b) => timeOf(b.resolved_at) - timeOf(a.resolved_at));
  for (const v of resolved.slice(RESOLVED_KEPT)) inbox.alerts.delete(v.id);
}
