// One alert's card: its summary (severity, state, unit, the reasons in words, the comment, a case's
// size, who is calling), the SLA countdown, the action buttons that fit its state and, for managers,
// the box that selects it for a bulk action. What a button does is the caller's: the card only says
// which was pressed (`onAction(node, action, value)`). The reasons are the server's phrases (each
// alert's `why`), worded in the reader's language.

import { count, el, num, own, setTime, timeOf, whyLine } from './dom.js';
import { N_, duration, formatNumber, say, t, tn } from './i18n.js';
import { callbackLines, mayTake } from './alert-callback.js';
import {
  BUSY, UNRESOLVED, assigneeName, callbacks, inbox, outcomeName, rootCauseName, ruleName, severityName, severityOf,
  stateName,
} from './alert-state.js';

/** A new card for `v`, held in `inbox.nodes`; `item`: the inbox line it heads (kind, count). */
export function createCard(v, onAction, item = { kind: 'alert', count: 1 }) {
  const li = el('li', 'alert-card');
  li.tabIndex = -1;
  const node = {
    li, view: null, item, onAction,
    pick: null,
    summary: el('div', 'alert-summary'),
    actions: el('div', 'alert-actions'),
    error: el('p', 'alert-error'),
    panel: el('div', 'alert-panel'),
    details: el('div', 'alert-details'),
  };
  node.error.setAttribute('role', 'alert');
  node.panel.id = `alert-${v.id}-panel`;
  node.details.id = `alert-${v.id}-details`;
  node.panel.hidden = true;
  node.details.hidden = true;
  if (!callbacks()) {
    node.pick = el('label', 'alert-select');
    const box = Object.assign(el('input'), { type: 'checkbox' });
    box.setAttribute('aria-describedby', `alert-${v.id}-title`);
    box.addEventListener('change', () => node.onAction(node, 'select', box.checked));
    node.pick.append(box, el('span', null, t('Select')));
    li.append(node.pick);
  }
  li.append(node.summary, node.actions, node.error, node.panel, node.details);
  inbox.nodes.set(v.id, node);
  updateCard(node, v);
  return node;
}

export function updateCard(node, v, item = node.item) {
  node.view = v;
  node.item = item;
  const { li } = node;
  li.dataset.alertId = String(v.id);
  li.dataset.kind = item.kind === 'case' ? 'case' : 'alert';
  li.dataset.state = v.state;
  li.dataset.severity = severityOf(v);
  li.setAttribute('aria-labelledby', `alert-${v.id}-title`);
  renderSummary(node);
  renderActions(node);
}

/** The card's summary and SLA line, drawn again (names learnt meanwhile replace usernames). */
export function renderSummary(node) {
  node.summary.replaceChildren(...summaryParts(node.view, node.item));
  updateSla(node);
}

function summaryParts(v, item) {
  const sev = severityOf(v);
  const tags = el('p', 'alert-tags');
  tags.append(el('span', `alert-sev sev-${sev}`, severityName(v)),
    el('span', `alert-state state-${v.state}`, stateName(v.state)));
  const escalations = count(v.escalations);
  if (escalations) {
    const text = escalations > 1 ? t('Escalated ×{n}', { n: formatNumber(escalations) }) : t('Escalated');
    tags.append(el('span', 'alert-escalated', text));
  }

  const title = el('h3', 'alert-title');
  title.id = `alert-${v.id}-title`;
  const unit = el('span', 'alert-unit', inbox.ctx.unitName(v.org_unit));
  unit.title = v.org_unit;
  title.append(el('span', 'alerts-sr', `${t('{severity} alert:', { severity: severityName(v) })} `), unit,
    el('span', 'alert-touchpoint', ` · ${v.touchpoint || t('whole unit')}`));

  const reasons = el('ul', 'alert-reasons');
  reasons.setAttribute('aria-label', t('Why'));
  const why = v.why && typeof v.why === 'object' ? v.why : {};
  for (const rule of new Set([...Object.keys(v.reasons ?? {}), ...Object.keys(why)])) {
    const item = el('li', 'alert-reason');
    item.append(el('span', 'alert-rule', ruleName(rule)));
    const found = own(why, rule);
    const detail = (Array.isArray(found) ? found : []).map(say).filter(Boolean).join('; ');
    if (detail) item.append(el('span', 'alert-reason-detail', ` — ${detail}`));
    reasons.append(item);
  }

  const r = v.response;
  const parts = [tags, title, reasons];
  if (r) {
    const why = whyLine(r.reasons);
    if (why) parts.push(why);
    const quote = r.comment ? el('blockquote', 'alert-comment', r.comment) : el('p', 'alert-comment none', t('No comment'));
    const lang = [r.comment_language, r.language].find((x) => typeof x === 'string' && x);
    if (r.comment && lang) quote.lang = lang;
    parts.push(quote);
  }
  const meta = el('p', 'alert-meta');
  const raised = el('time', 'alert-age');
  setTime(raised, v.created_at);
  meta.append(...around(t('raised {when}'), raised));
  if (r && num(r.score) != null) {
    const score = `${String(r.score_kind ?? 'nps').toUpperCase()} ${formatNumber(r.score, 2)}`;
    meta.append(el('span', 'alert-sep', ' · '), el('span', null, score));
  }
  if (r?.channel) meta.append(el('span', 'alert-sep', ' · '), el('span', null, r.channel));
  parts.push(meta, el('p', 'alert-sla'));
  if (item.kind === 'case' && item.count > 1) {
    parts.push(el('p', 'alert-case', tn('{n} alert from this customer', '{n} alerts from this customer', item.count)));
  }
  if (callbacks()) parts.push(...callbackLines(v));
  else {
    if (v.assignee) parts.push(el('p', 'alert-assignee', t('Assigned to {name}', { name: assigneeName(v) })));
    if (v.contact_outcome && v.contact_outcome !== 'resolved') {
      parts.push(el('p', 'alert-outcome', t('Last call: {outcome}', { outcome: outcomeName(v.contact_outcome) })));
    }
  }
  if (v.state === 'resolved' || v.root_cause || v.resolution_note) parts.push(resolution(v));
  return parts;
}

function resolution(v) {
  const box = el('div', 'alert-resolution');
  const head = el('p', 'alert-resolved');
  const cause = v.root_cause ? t('Root cause: {cause}', { cause: rootCauseName(v.root_cause) }) : t('Resolved');
  head.append(el('span', null, cause));
  if (v.resolved_at) {
    const when = el('time');
    setTime(when, v.resolved_at);
    head.append(el('span', 'alert-sep', ' · '), ...around(t('resolved {when}'), when));
  }
  box.append(head);
  if (v.resolution_note) box.append(el('p', 'alert-note', v.resolution_note));
  return box;
}

// A sentence with a node in it ("raised {when}"): the words either side as spans, in the order the
// reader's language puts them.
function around(sentence, node) {
  const [before, after = ''] = sentence.split('{when}');
  return [...(before ? [el('span', null, before)] : []), node, ...(after ? [el('span', null, after)] : [])];
}

// What the SLA line says at each stage: open ("Take it" for frontline staff, whose taking it is the
// acknowledgement), then under way.
const SLA = {
  acknowledge: {
    none: N_('No deadline to acknowledge'), overdue: N_('Acknowledgement overdue by {time}'),
    within: N_('Acknowledge within {time}'),
  },
  take: {
    none: N_('No deadline to take it'), overdue: N_('Callback overdue by {time}'), within: N_('Take it within {time}'),
  },
  resolve: {
    none: N_('No deadline to resolve'), overdue: N_('Resolution overdue by {time}'), within: N_('Resolve within {time}'),
  },
};

// "Acknowledge within 14 min" while open, then the time left to resolve; urgent when overdue.
function slaOf(v, now = Date.now()) {
  const open = v.state === 'open';
  if (!UNRESOLVED.includes(v.state)) return null;
  const said = SLA[!open ? 'resolve' : callbacks() ? 'take' : 'acknowledge'];
  const due = timeOf(open ? v.due_ack_at : v.due_resolve_at);
  if (!due) return { text: t(said.none), urgency: 'none' };
  const left = due - now;
  if (left < 0) return { text: t(said.overdue, { time: duration(left) }), urgency: 'overdue' };
  const whole = due - timeOf(v.created_at);
  const soon = left < 5 * 60000 || (whole > 0 && left < whole / 4);
  return { text: t(said.within, { time: duration(left) }), urgency: soon ? 'soon' : 'ok' };
}

export function updateSla(node) {
  const line = node.summary.querySelector('.alert-sla');
  if (!line) return;
  const sla = slaOf(node.view);
  line.hidden = !sla;
  line.textContent = sla?.text ?? '';
  line.dataset.urgency = sla?.urgency ?? 'none';
  node.li.dataset.urgency = sla?.urgency ?? 'none';
}

function button(text, action, className = 'alerts-button') {
  const b = el('button', className, text);
  b.type = 'button';
  b.dataset.action = action;
  return b;
}

/** The buttons that fit the alert's state, disabled while a request runs; focus stays where it was. */
export function renderActions(node) {
  const v = node.view;
  const ui = inbox.ui.get(v.id) ?? {};
  const busy = inbox.busy.get(v.id);
  const active = document.activeElement;
  const focused = node.actions.contains(active) ? active.dataset.action : active === node.li ? node.refocus : null;
  const buttons = [];
  if (callbacks()) {
    if (mayTake(v)) buttons.push(button(t("I'll call"), 'take', 'alerts-button primary big'));
  } else {
    if (v.state === 'open') buttons.push(button(t('Acknowledge'), 'acknowledged', 'alerts-button primary'));
    if (UNRESOLVED.includes(v.state)) {
      const resolveKind = v.state === 'open' ? 'alerts-button' : 'alerts-button primary';
      buttons.push(button(t('Resolve'), 'resolve', resolveKind), button(t('Assign'), 'assign'));
    }
    if (v.state === 'resolved') {
      buttons.push(button(t('Close'), 'closed', 'alerts-button primary'), button(t('Reopen'), 'open'));
    }
  }
  buttons.push(button(t('Details'), 'details', 'alerts-button quiet'));
  for (const b of buttons) {
    const a = b.dataset.action;
    if (a === 'resolve' || a === 'assign') {
      b.setAttribute('aria-expanded', String(ui.panel === a));
      b.setAttribute('aria-controls', node.panel.id);
    }
    if (a === 'details') {
      b.setAttribute('aria-expanded', String(Boolean(ui.details)));
      b.setAttribute('aria-controls', node.details.id);
    }
    if (busy && a !== 'details') b.disabled = true;
    if (busy === a) b.textContent = own(BUSY, a) ? t(BUSY[a]) : t('Working…');
    b.setAttribute('aria-describedby', `alert-${v.id}-title`);
    b.addEventListener('click', () => node.onAction(node, a));
  }
  node.actions.replaceChildren(...buttons);
  node.li.setAttribute('aria-busy', String(Boolean(busy)));
  const box = node.pick?.querySelector('input');
  if (box) box.checked = inbox.selection.all || inbox.selection.items.has(v.id);
  node.refocus = null;
  if (!focused) return;
  // A disabled button cannot hold focus: the card holds it while the request runs.
  const enabled = buttons.filter((b) => !b.disabled);
  const target = enabled.find((b) => b.dataset.action === focused) ?? (busy ? null : enabled[0]);
  if (target) target.focus();
  else {
    node.refocus = focused;
    node.li.focus();
  }
}
