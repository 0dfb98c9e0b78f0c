// The inbox's filter controls: for managers a search box and a folding box of selects (unit, state,
// severity, rule, touchpoint, assignee, order), each choice with the number of alerts it would show;
// for frontline staff a three-way switch (all, to call, mine). The counts are the server's.

import { el } from './dom.js';
import { N_, formatNumber, t, tn } from './i18n.js';
import { ORDERS, SEARCH_MIN, STATES, describe, toSelection } from './alert-query.js';
import { SEVERITY, UNRESOLVED, humanize, inbox, ruleName } from './alert-state.js';
import { apiUrl } from './session.js';

const SEARCH_WAIT_MS = 400;
const CALLBACK_SHOW = [['', N_('All')], ['unassigned', N_('To call')], ['mine', N_('Mine')]];
const FIELDS = [
  ['org_unit', N_('Unit')], ['state', N_('State')], ['severity', N_('Severity')], ['rule', N_('Rule')],
  ['touchpoint', N_('Touchpoint')], ['assignee', N_('Assigned to')], ['order', N_('Order')],
];

const EXPORTS = [['csv', N_('Download CSV')], ['jsonl', N_('Download JSON lines')]];

const controls = { selects: new Map(), search: null, summary: null, radios: new Map() };

/** The filter controls of the mode; `onChange()` runs when the user changed `inbox.filters`. */
export function buildFilters(onChange) {
  controls.selects.clear();
  controls.radios.clear();
  return inbox.mode === 'callbacks' ? callbackSwitch(onChange) : managerFilters(onChange);
}

function managerFilters(onChange) {
  const form = el('form', 'alerts-filters');
  form.setAttribute('role', 'search');
  form.setAttribute('aria-label', t('Filter alerts'));
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    applySearch(onChange);
  });

  const searchBox = el('div', 'alerts-search');
  const label = Object.assign(el('label', 'alert-label', t('Search comments')), { htmlFor: 'alerts-q' });
  const input = Object.assign(el('input', 'alert-input'), {
    id: 'alerts-q', type: 'search', maxLength: 200, autocomplete: 'off', enterKeyHint: 'search',
  });
  const hint = Object.assign(el('p', 'alerts-hint', tn('At least {n} letter', 'At least {n} letters', SEARCH_MIN)), {
    id: 'alerts-q-hint',
  });
  input.setAttribute('aria-describedby', hint.id);
  let timer = 0;
  input.addEventListener('input', () => {
    clearTimeout(timer);
    timer = setTimeout(() => applySearch(onChange), SEARCH_WAIT_MS);
  });
  controls.search = input;
  searchBox.append(label, input, hint);

  const more = el('details', 'alerts-more');
  const summary = el('summary', 'alerts-more-summary', `${t('Filters')} `);
  controls.summary = el('span', 'alerts-active');
  summary.append(controls.summary);
  const fields = el('div', 'alerts-fields');
  for (const [name, text] of FIELDS) {
    const select = el('select', 'alert-input');
    select.id = `alerts-f-${name}`;
    select.name = name;
    select.addEventListener('change', () => {
      inbox.filters[name] = select.value;
      onChange();
    });
    controls.selects.set(name, select);
    const box = el('div', 'alert-field');
    box.append(Object.assign(el('label', 'alert-label', t(text)), { htmlFor: select.id }), select);
    fields.append(box);
  }
  more.append(summary, fields, exportLinks());
  form.append(searchBox, more);
  renderFilters();
  return form;
}

// Every alert the filters match, ungrouped and newest first, in a file (the session cookie goes along);
// each link is pointed at the filters as they are when the reader reaches it.
function exportLinks() {
  const box = el('div', 'export alerts-export');
  const label = Object.assign(el('span', 'export-label', t('Export these alerts')), { id: 'alerts-export-label' });
  box.setAttribute('role', 'group');
  box.setAttribute('aria-labelledby', label.id);
  box.append(label);
  for (const [format, text] of EXPORTS) {
    const link = Object.assign(el('a', 'export-link', t(text)), { download: '' });
    const point = () => {
      link.href = apiUrl('/api/v1/alerts/export', { ...toSelection(inbox.filters), format });
    };
    point();
    for (const type of ['focus', 'pointerenter', 'click']) link.addEventListener(type, point);
    box.append(link);
  }
  return box;
}

function applySearch(onChange) {
  const q = controls.search.value.trim();
  if (q.length && q.length < SEARCH_MIN) return; // one letter would match everything
  if (q === inbox.filters.q) return;
  inbox.filters.q = q;
  onChange();
}

function callbackSwitch(onChange) {
  const box = el('fieldset', 'alerts-filter');
  box.append(el('legend', 'alerts-sr', t('Show callbacks')));
  for (const [value, text] of CALLBACK_SHOW) {
    const label = el('label', 'alerts-filter-option');
    const input = Object.assign(el('input'), {
      type: 'radio', name: 'alerts-show', value, checked: value === inbox.filters.assignee,
    });
    const n = el('span', 'alerts-filter-count');
    input.addEventListener('change', () => {
      if (!input.checked) return;
      inbox.filters.assignee = value;
      onChange();
    });
    label.append(input, el('span', null, t(text)), n);
    controls.radios.set(value, n);
    box.append(label);
  }
  return box;
}

const option = (value, text, selected) => Object.assign(el('option', null, text), { value, selected });
const counted = (text, n) => (n == null ? text : `${text} · ${formatNumber(n)}`);

/** The controls show `inbox.filters` and, beside each choice, the server's count. */
export function renderFilters() {
  const f = inbox.filters, counts = inbox.loaded ? inbox.counts ?? {} : {};
  const n = (facet, value) => (inbox.loaded ? Number(counts[facet]?.[value]) || 0 : null);
  if (inbox.mode === 'callbacks') {
    const all = Object.values(counts.assignee ?? {}).reduce((a, b) => a + (Number(b) || 0), 0);
    const shown = { '': all, unassigned: n('assignee', ''), mine: n('assignee', inbox.ctx.user?.username) };
    for (const [value, node] of controls.radios) node.textContent = inbox.loaded ? formatNumber(shown[value] ?? 0) : '';
    return;
  }
  const fill = (name, options) => controls.selects.get(name)?.replaceChildren(...options);
  fill('org_unit', unitOptions(f.org_unit, (id) => n('org_unit', id)));
  const todo = UNRESOLVED.reduce((sum, s) => sum + (n('state', s) ?? 0), 0);
  fill('state', STATES.map(([value, text]) => option(value, counted(t(text), value === 'todo' ? (inbox.loaded ? todo : null)
    : n('state', value)), value === f.state)));
  fill('severity', [option('', t('Any severity'), !f.severity),
    ...['high', 'medium', 'low'].map((s) => option(s, counted(t(SEVERITY[s]), n('severity', s)), s === f.severity))]);
  const rules = [...inbox.ruleText.keys()];
  if (f.rule && !rules.includes(f.rule)) rules.push(f.rule);
  fill('rule', [option('', t('Any rule'), !f.rule),
    ...rules.map((r) => option(r, counted(ruleName(r), n('rule', r)), r === f.rule))]);
  const touchpoints = Object.keys(counts.touchpoint ?? {}).filter(Boolean);
  if (f.touchpoint && !touchpoints.includes(f.touchpoint)) touchpoints.push(f.touchpoint);
  fill('touchpoint', [option('', t('Any touchpoint'), !f.touchpoint),
    ...touchpoints.sort().map((tp) => option(tp, counted(humanize(tp), n('touchpoint', tp)), tp === f.touchpoint))]);
  fill('assignee', [option('', t('Anyone'), !f.assignee),
    option('mine', counted(t('Me'), n('assignee', inbox.ctx.user?.username)), f.assignee === 'mine'),
    option('unassigned', counted(t('Nobody yet'), n('assignee', '')), f.assignee === 'unassigned')]);
  fill('order', ORDERS.map(([value, text]) => option(value, t(text), value === f.order)));
  if (controls.search && document.activeElement !== controls.search) controls.search.value = f.q;
  if (controls.summary) controls.summary.textContent = describe(f);
}

// The units the page watches and those below them, indented as in the tree, each with its count
// (everything below it included).
function unitOptions(chosen, countOf) {
  const { units, orgUnits, below } = inbox.ctx;
  const watched = orgUnits.length ? new Set(orgUnits.flatMap((id) => [...below(id)])) : null;
  const byId = new Map(units.map((u) => [u.id, u]));
  const depth = (u) => (byId.has(u.parent) ? 1 + depth(byId.get(u.parent)) : 0);
  const every = inbox.ctx.user?.role === 'admin' && !orgUnits.length ? t('All units') : t('All my units');
  const options = [option('', every, !chosen)];
  for (const u of units) {
    if (watched && !watched.has(u.id)) continue;
    options.push(option(u.id, counted(`${'\u00a0\u00a0'.repeat(depth(u))}${u.name}`, countOf(u.id)), u.id === chosen));
  }
  if (chosen && !byId.has(chosen)) options.push(option(chosen, chosen, true));
  return options;
}
