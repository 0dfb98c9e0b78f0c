// The forms a card opens in its panel: resolve (root cause and what was done) and assign (to whom),
// with their choices loaded from the server. What a filled-in form does is the caller's.

import { el, own } from './dom.js';
import { api } from './session.js';
import { renderActions, renderSummary } from './alert-card.js';
import { BASE, BUSY, humanize, inbox, unauthorized } from './alert-state.js';

const ROLE = { manager: 'Manager', admin: 'Admin', frontline: 'Frontline' };

/**
 * Opens the `kind` form ('resolve' or 'assign') in the card's panel; `onSubmit` gets what it says once
 * it is filled in: `{ root_cause, note }` to resolve, `{ username }` to assign.
 */
export function openPanel(node, kind, onSubmit) {
  const id = node.view.id;
  inbox.ui.set(id, { ...(inbox.ui.get(id) ?? {}), panel: kind });
  node.error.textContent = '';
  node.panel.replaceChildren(kind === 'resolve' ? resolveForm(node, onSubmit) : assignForm(node, onSubmit));
  node.panel.hidden = false;
  renderActions(node);
  node.panel.querySelector('select, textarea')?.focus();
}

export function closePanel(node, refocus = false) {
  const id = node.view.id;
  const was = (inbox.ui.get(id) ?? {}).panel;
  inbox.ui.set(id, { ...(inbox.ui.get(id) ?? {}), panel: null });
  node.panel.hidden = true;
  node.panel.replaceChildren();
  renderActions(node);
  if (refocus && was) node.actions.querySelector(`[data-action="${was}"]`)?.focus();
}

/** While the card's request runs its form is disabled, except a select still waiting for its choices. */
export function setPanelBusy(node, busy) {
  const form = node.panel.querySelector('form');
  if (!form) return;
  form.setAttribute('aria-busy', String(busy));
  for (const field of form.querySelectorAll('button, select, textarea')) {
    if (field.dataset.waiting !== 'true') field.disabled = busy;
  }
  const submit = form.querySelector('button[type="submit"]');
  if (submit) submit.textContent = busy ? submit.dataset.busy : submit.dataset.idle;
}

// A panel's form: its fields, a line saying what is missing, then submit and cancel. `required`:
// [control, what to say when it is empty] pairs; `onSubmit` runs once they are all filled in.
function panelForm(node, { label, fields, required, idle, busy, onSubmit }) {
  const form = el('form', 'alert-form');
  form.noValidate = true;
  form.setAttribute('aria-label', label);
  const hint = el('p', 'alert-form-error');
  hint.setAttribute('aria-live', 'polite');
  form.append(...fields, hint, formButtons(node, idle, busy));
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    if (filledIn(hint, required)) onSubmit();
  });
  return form;
}

// The first empty control is marked, said and focused.
function filledIn(hint, required) {
  const missing = required.find(([control]) => !control.value.trim());
  for (const [control] of required) control.removeAttribute('aria-invalid');
  hint.textContent = missing ? missing[1] : '';
  if (!missing) return true;
  missing[0].setAttribute('aria-invalid', 'true');
  missing[0].focus();
  return false;
}

function field(id, labelText, control) {
  const box = el('div', 'alert-field');
  const label = el('label', 'alert-label', labelText);
  label.htmlFor = id;
  control.id = id;
  box.append(label, control);
  return box;
}

function formButtons(node, idle, busy) {
  const row = el('div', 'alert-form-buttons');
  const submit = el('button', 'alerts-button primary', idle);
  submit.type = 'submit';
  submit.dataset.idle = idle;
  submit.dataset.busy = busy;
  const cancel = el('button', 'alerts-button', 'Cancel');
  cancel.type = 'button';
  cancel.addEventListener('click', () => closePanel(node, true));
  row.append(submit, cancel);
  return row;
}

function resolveForm(node, onSubmit) {
  const id = node.view.id;
  const cause = el('select', 'alert-input');
  cause.required = true;
  const note = el('textarea', 'alert-input');
  note.required = true;
  note.maxLength = 4000;
  note.rows = 3;
  note.placeholder = 'Called the customer back; what was done';
  fillRootCauses(node, cause);
  return panelForm(node, {
    label: 'Resolve the alert',
    fields: [field(`alert-${id}-cause`, 'Root cause', cause), field(`alert-${id}-note`, 'What was done', note)],
    required: [[cause, 'Choose a root cause.'], [note, 'Say how it was resolved.']],
    idle: 'Resolve alert',
    busy: BUSY.resolved,
    onSubmit: () => onSubmit({ root_cause: cause.value, note: note.value.trim() }),
  });
}

function assignForm(node, onSubmit) {
  const who = el('select', 'alert-input');
  fillAssignees(node, who);
  return panelForm(node, {
    label: 'Assign the alert',
    fields: [field(`alert-${node.view.id}-assignee`, 'Assign to', who)],
    required: [[who, 'Choose who takes this alert.']],
    idle: 'Assign',
    busy: BUSY.assign,
    onSubmit: () => onSubmit({ username: who.value }),
  });
}

const choice = (text, value = '') => Object.assign(el('option', null, text), { value });

// A select waiting for its choices stays disabled, even when the card's request ends.
function waitForChoices(select) {
  select.replaceChildren(choice('Loading…'));
  select.disabled = true;
  select.dataset.waiting = 'true';
}

function showChoices(select, options, enabled) {
  select.replaceChildren(...options);
  select.dataset.waiting = 'false';
  select.disabled = !enabled;
}

async function fillRootCauses(node, select) {
  const run = inbox.run;
  waitForChoices(select);
  try {
    inbox.rootCauses = inbox.rootCauses ?? (await api(`${BASE}/root-causes`)).root_causes;
  } catch (err) {
    if (run !== inbox.run || unauthorized(err)) return;
    select.replaceChildren(choice('Could not load the root causes'));
    node.error.textContent = `Could not load the root causes (${err.message}); close the form and try again.`;
    return;
  }
  if (run !== inbox.run) return;
  const causes = Array.isArray(inbox.rootCauses) ? inbox.rootCauses : [];
  showChoices(select, [choice('Choose a root cause'), ...causes.map((c) => choice(humanize(c), c))], true);
}

async function fillAssignees(node, select) {
  const run = inbox.run, v = node.view;
  waitForChoices(select);
  let people;
  try {
    const answer = await api(`${BASE}/${v.id}/assignees`);
    people = Array.isArray(answer?.assignees) ? answer.assignees : [];
  } catch (err) {
    if (run !== inbox.run || unauthorized(err)) return;
    select.replaceChildren(choice('Could not load who may take it'));
    node.error.textContent = `Could not load who may take this alert (${err.message}).`;
    return;
  }
  if (run !== inbox.run) return;
  for (const p of people) inbox.people.set(p.username, p.display_name || p.username);
  const options = people.map((p) => {
    const me = p.username === inbox.ctx.user?.username ? ' (you)' : '';
    const text = `${p.display_name || p.username}${me} · ${own(ROLE, p.role) ?? p.role}`;
    return Object.assign(choice(text, p.username), { selected: p.username === v.assignee });
  });
  const prompt = people.length ? 'Choose a manager' : 'Nobody may take this alert';
  showChoices(select, [choice(prompt), ...options], people.length > 0);
  // The names just learnt replace usernames in the card (its assignee).
  if (inbox.nodes.get(v.id) === node) renderSummary(node);
}
