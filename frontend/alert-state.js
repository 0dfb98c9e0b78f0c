// What the alerts screen holds while it runs (the page of the inbox shown, its cards, what each card
// shows open, the selection), the words for severities and states, and the few helpers every alerts
// module shares. Rule titles and root causes' names come from the server (GET /alerts/rules and
// /alerts/root-causes) as English messages the page shows in its reader's language.

import { own } from './dom.js';
import { N_, t } from './i18n.js';
import { HttpError } from './session.js';

export const BASE = '/api/v1/alerts';
export const PAGE_SIZE = 25;
export const UNRESOLVED = ['open', 'acknowledged', 'in_progress'];
const SEVERITY_RANK = { none: 0, low: 1, medium: 2, high: 3 };
// The same names as the server's (app/core/explain.py), shown with t().
export const SEVERITY = { none: N_('No severity'), low: N_('Low'), medium: N_('Medium'), high: N_('High') };
export const STATE = {
  open: N_('Open'), acknowledged: N_('Acknowledged'), in_progress: N_('In progress'), resolved: N_('Resolved'),
  closed: N_('Closed'),
};
export const OUTCOME = {
  reached: N_('Reached the customer'), no_answer: N_('No answer'), resolved: N_('Resolved on the call'),
};
export const BUSY = {
  acknowledged: N_('Acknowledging…'), resolved: N_('Resolving…'), assign: N_('Assigning…'), closed: N_('Closing…'),
  open: N_('Reopening…'), take: N_('Taking it…'), contact: N_('Saving…'),
};

// `run` counts starts and stops: an answer that arrives after the user signed out is dropped.
// `mode`: 'manager' (the inbox) or 'callbacks' (frontline staff). `filters`: what the inbox asks the
// server for (alert-query.js); `page`, `pages`, `total`, `counts` and `items`: its last answer.
// `alerts`: the alerts shown, by id; `nodes`: their cards; `ui`: per alert, which form is open and
// whether its details are; `busy`: the request under way per card; `fresh`: new alerts waiting
// behind the "show" button; `contacts`: customers' contacts revealed to this user (a callback they
// took), which live events, always masked, never overwrite; `selection`: the bulk selection;
// `rootCauses`: those a resolution may name, with their names ({ids, names}), once loaded.
export const inbox = {
  run: 0, running: false, mode: 'manager', ctx: null, dom: null, tick: null, figuresTimer: null, figuresLast: 0,
  filters: null, page: 1, pages: 1, total: 0, counts: {}, items: [], incident: null, pinned: null, figuresUnit: undefined,
  alerts: new Map(), seen: new Set(), fresh: new Set(), loaded: false, loadSeq: 0, buffer: null,
  nodes: new Map(), ui: new Map(), busy: new Map(), contacts: new Map(), rootCauses: null,
  people: new Map(), ruleText: new Map(), selection: { all: false, items: new Map() },
};

export const severityOf = (v) => (own(SEVERITY_RANK, v.severity) != null ? v.severity : 'none');
/** An alert's severity, in words. */
export const severityName = (v) => t(SEVERITY[severityOf(v)]);
export const isAlert = (v) => v && typeof v === 'object' && Number.isInteger(v.id) && typeof v.state === 'string';
export const callbacks = () => inbox.mode === 'callbacks';

export const humanize = (slug) => {
  const text = String(slug).replace(/[-_]+/g, ' ').trim();
  return text.charAt(0).toUpperCase() + text.slice(1);
};

// A value of one of the tables above, in words; an unknown one as the server sent it, in words.
const named = (table, key) => {
  const message = own(table, key);
  return message ? t(message) : humanize(key ?? '');
};
export const stateName = (state) => named(STATE, state);
export const outcomeName = (outcome) => named(OUTCOME, outcome);

/**
 * A rule's title, as the server words it (a shipped rule's an English message of the catalogue,
 * another's its description, which t() shows as written); its id in words until the titles load.
 */
export function ruleName(rule) {
  const title = inbox.ruleText.get(rule);
  return title ? t(title) : humanize(rule);
}

/** A root cause's name: the server's (an English message), else its id in words. */
export function rootCauseName(cause) {
  const name = own(inbox.rootCauses?.names ?? {}, cause);
  return typeof name === 'string' && name ? t(name) : humanize(cause);
}

/** 'you', or the person's name when the page learnt it, else their username. */
export function personName(username) {
  if (username === inbox.ctx?.user?.username) return t('you');
  return inbox.people.get(username) ?? username;
}

/** The name of whoever an alert is assigned to, learnt from the alert when the server gives it. */
export function assigneeName(v) {
  if (typeof v.assignee_name === 'string' && v.assignee_name && v.assignee !== inbox.ctx?.user?.username) {
    inbox.people.set(v.assignee, v.assignee_name);
  }
  return personName(v.assignee);
}

/** True (and the page told) when the session ended: the caller then drops what it was doing. */
export function unauthorized(err) {
  if (!(err instanceof HttpError) || err.status !== 401) return false;
  const { onUnauthorized } = inbox.ctx ?? {};
  onUnauthorized?.();
  return true;
}

/** The server's message as a sentence: capital first, full stop last. */
export function sentence(message) {
  const text = String(message ?? '').trim();
  return `${text.charAt(0).toUpperCase()}${text.slice(1)}${/[.!?]$/.test(text) ? '' : '.'}`;
}
