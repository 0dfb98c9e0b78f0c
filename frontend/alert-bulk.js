// Bulk actions: the manager selects cards (a case brings all its customer's alerts), the whole page,
// or every alert the filters match (sent as the filter, so the server picks them, at most 1,000), then
// acknowledges or assigns them in one request and reads what was done and what was skipped, and why.

import { el } from './dom.js';
import { formatList, formatNumber, t, tn } from './i18n.js';
import { api } from './session.js';
import { fillAssignees } from './alert-forms.js';
import { field } from './alert-fields.js';
import { matchingAlerts, toSelection } from './alert-query.js';
import { BASE, BUSY, inbox, personName, unauthorized } from './alert-state.js';

const BULK_MAX = 1000;
const bar = { dom: null, onDone: () => {}, say: () => {} };

/** The bulk bar; `onDone()` runs after an action (reload the page), `say(text)` tells screen readers. */
export function buildBulk({ onDone, say }) {
  Object.assign(bar, { onDone, say });
  const box = el('div', 'alerts-bulk');
  box.setAttribute('role', 'group');
  box.setAttribute('aria-label', t('Act on several alerts'));
  const page = el('label', 'alert-select page');
  const pageBox = Object.assign(el('input'), { type: 'checkbox' });
  pageBox.addEventListener('change', () => selectPage(pageBox.checked));
  page.append(pageBox, el('span', null, t('Select this page')));
  const all = button('', 'quiet', () => {
    inbox.selection.all = true;
    showSelection();
  });
  const count = el('p', 'alerts-bulk-count');
  const actions = el('div', 'alerts-bulk-actions');
  const acknowledge = button(t('Acknowledge'), 'primary', () => run('acknowledge'));
  const assign = button(t('Assign…'), '', () => toggleAssign());
  assign.setAttribute('aria-controls', 'alerts-bulk-assign');
  const clear = button(t('Clear the selection'), 'quiet', () => {
    clearSelection();
    pageBox.focus();
  });
  actions.append(acknowledge, assign, clear);
  const panel = el('div', 'alert-panel');
  panel.id = 'alerts-bulk-assign';
  panel.hidden = true;
  const result = el('p', 'alerts-bulk-result');
  result.setAttribute('role', 'status');
  const top = el('div', 'alerts-bulk-top');
  top.append(page, all);
  box.append(top, count, actions, panel, result);
  bar.dom = { box, pageBox, all, count, actions, acknowledge, assign, panel, result };
  showSelection();
  return box;
}

function button(text, kind, onClick) {
  const b = el('button', `alerts-button ${kind}`.trim(), text);
  b.type = 'button';
  b.addEventListener('click', onClick);
  return b;
}

// The cards of the page's list (not the one a link opened above it).
const onPage = (node) => Boolean(node.pick) && node.li.closest('.alerts-list') === inbox.dom?.list;
const selectedIds = () => [...new Set([...inbox.selection.items.values()].flat())];
const matching = () => matchingAlerts(inbox.counts, inbox.filters);

function selectedCount() {
  return inbox.selection.all ? Math.min(matching(), BULK_MAX) : selectedIds().length;
}

/** The bar and the cards' boxes show the selection. */
export function showSelection() {
  if (!bar.dom) return;
  const { pageBox, all, count, actions, panel } = bar.dom;
  const n = selectedCount(), m = matching();
  const cards = [...inbox.nodes.values()].filter(onPage);
  const picked = cards.filter((node) => inbox.selection.all || inbox.selection.items.has(node.view.id));
  pageBox.checked = cards.length > 0 && picked.length === cards.length;
  pageBox.indeterminate = picked.length > 0 && picked.length < cards.length;
  pageBox.disabled = cards.length === 0;
  all.hidden = inbox.selection.all || m === 0;
  all.textContent = tn('Select all {n} matching', 'Select all {n} matching', m);
  if (inbox.selection.all) {
    count.textContent = m > BULK_MAX
      ? t('The first {max} of {n} matching alerts selected', { max: formatNumber(BULK_MAX), n: formatNumber(m) })
      : tn('All {n} matching alert selected', 'All {n} matching alerts selected', m);
  } else count.textContent = n ? tn('{n} alert selected', '{n} alerts selected', n) : '';
  actions.hidden = n === 0;
  if (n === 0 && !panel.hidden) closeAssign();
  for (const node of cards) {
    const box = node.pick.querySelector('input');
    box.checked = inbox.selection.all || inbox.selection.items.has(node.view.id);
  }
}

export function clearSelection() {
  inbox.selection.all = false;
  inbox.selection.items.clear();
  showSelection();
}

function selectPage(checked) {
  inbox.selection.all = false;
  for (const node of inbox.nodes.values()) {
    if (onPage(node)) toggleCard(node, checked, false);
  }
  showSelection();
}

/** A card's box was ticked or cleared; a case brings its customer's other alerts of the same states. */
export function toggleCard(node, checked, show = true) {
  const v = node.view;
  if (inbox.selection.all && !checked) {
    // Out of "all matching": the page's cards stay selected, but this one.
    inbox.selection.all = false;
    for (const other of inbox.nodes.values()) if (other.pick) inbox.selection.items.set(other.view.id, [other.view.id]);
  }
  if (!checked) inbox.selection.items.delete(v.id);
  else {
    inbox.selection.items.set(v.id, [v.id]);
    // A case brings every alert of its customer the inbox lists with it.
    const ids = node.item?.kind === 'case' && Array.isArray(node.item.alert_ids) ? node.item.alert_ids : [];
    if (ids.length > 1) inbox.selection.items.set(v.id, [v.id, ...ids.filter((id) => id !== v.id)]);
  }
  if (show) showSelection();
}

function toggleAssign() {
  if (bar.dom.panel.hidden) openAssign();
  else closeAssign(true);
}

function openAssign() {
  const { panel, assign } = bar.dom;
  // Who may take the first selected alert, as its own assign form offers them; "me" first.
  const first = selectedIds()[0] ?? inbox.items.find((i) => i.kind !== 'incident')?.alert.id ?? inbox.items[0]?.alert.id;
  const who = el('select', 'alert-input');
  const form = el('form', 'alert-form');
  form.setAttribute('aria-label', t('Assign the selected alerts'));
  const submit = button(t('Assign'), 'primary', () => {});
  submit.type = 'submit';
  const cancel = button(t('Cancel'), '', () => closeAssign(true));
  const row = el('div', 'alert-form-buttons');
  row.append(submit, cancel);
  form.append(field('alerts-bulk-assignee', t('Assign to'), who), row);
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    if (who.value) run('assign', who.value);
    else who.focus();
  });
  panel.replaceChildren(form);
  panel.hidden = false;
  assign.setAttribute('aria-expanded', 'true');
  const me = inbox.ctx.user?.username;
  const meFirst = () => {
    const mine = [...who.options].find((o) => o.value === me);
    if (mine) {
      mine.textContent = t('Me');
      who.insertBefore(mine, who.options[1] ?? null);
    }
    who.value = '';
  };
  const failed = (text) => { bar.dom.result.textContent = text; };
  if (first != null) fillAssignees({ id: first, assignee: null }, who, failed).then(meFirst);
  who.focus();
}

function closeAssign(refocus = false) {
  const { panel, assign } = bar.dom;
  panel.hidden = true;
  panel.replaceChildren();
  assign.setAttribute('aria-expanded', 'false');
  if (refocus) assign.focus();
}

async function run(action, username = null) {
  const { box, result } = bar.dom;
  const all = inbox.selection.all;
  const body = { action, ...(username ? { username } : {}) };
  if (all) body.filter = toSelection(inbox.filters);
  else body.ids = selectedIds();
  if (!all && !body.ids.length) return;
  const runId = inbox.run;
  box.setAttribute('aria-busy', 'true');
  for (const b of box.querySelectorAll('button, input, select')) b.disabled = true;
  const busy = action === 'acknowledge' ? BUSY.acknowledged : BUSY.assign;
  result.textContent = t(busy);
  let answer;
  try {
    answer = await api(`${BASE}/bulk`, { method: 'POST', body });
  } catch (err) {
    if (runId !== inbox.run || unauthorized(err)) return;
    result.textContent = t('Nothing changed: {error}.', { error: err.message });
    return;
  } finally {
    if (runId === inbox.run) {
      box.setAttribute('aria-busy', 'false');
      for (const b of box.querySelectorAll('button, input, select')) b.disabled = false;
    }
  }
  if (runId !== inbox.run) return;
  const text = outcome(action, answer, username, all);
  result.textContent = text;
  bar.say(text);
  closeAssign();
  clearSelection();
  bar.onDone();
}

// "12 acknowledged, 2 skipped: already acknowledged"; several reasons (the server's words) are
// counted one by one.
function outcome(action, answer, username, all) {
  const done = Array.isArray(answer?.done) ? answer.done.length : 0;
  const skipped = Array.isArray(answer?.skipped) ? answer.skipped : [];
  let text = action === 'acknowledge'
    ? tn('{n} acknowledged', '{n} acknowledged', done)
    : tn('{n} assigned to {name}', '{n} assigned to {name}', done, { name: personName(username) });
  if (skipped.length) {
    const reasons = new Map();
    for (const s of skipped) {
      const reason = String(s?.reason ?? t('not changed')).replace(/^alert \d+: /, '').replace(/_/g, ' ');
      reasons.set(reason, (reasons.get(reason) ?? 0) + 1);
    }
    const why = reasons.size === 1
      ? [...reasons.keys()][0]
      : formatList([...reasons].map(([r, n]) => `${formatNumber(n)} ${r}`));
    text = tn('{done}, {n} skipped: {why}', '{done}, {n} skipped: {why}', skipped.length, { done: text, why });
  }
  if (all && Number(answer?.matched) >= BULK_MAX) {
    const max = formatNumber(BULK_MAX);
    text = t('{result} (the first {max} matching; do it again for the rest)', { result: text, max });
  }
  return text;
}
