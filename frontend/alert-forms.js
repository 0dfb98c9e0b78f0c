// The forms a manager's card opens in its panel: resolve (root cause and what was done) and assign
// (to whom), with their choices loaded from the server. What a filled-in form does is the caller's.

import { el, own } from './dom.js';
import { N_, t } from './i18n.js';
import { api } from './session.js';
import { renderActions, renderSummary } from './alert-card.js';
import { choice, field, fillRootCauses, panelForm, showChoices, waitForChoices } from './alert-fields.js';
import { BASE, BUSY, inbox, unauthorized } from './alert-state.js';

const ROLE = { manager: N_('Manager'), admin: N_('Admin'), frontline: N_('Frontline') };

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
  for (const control of form.querySelectorAll('button, select, textarea, input')) {
    if (control.dataset.waiting !== 'true') control.disabled = busy;
  }
  const submit = form.querySelector('button[type="submit"]');
  if (submit) submit.textContent = busy ? submit.dataset.busy : submit.dataset.idle;
}

function resolveForm(node, onSubmit) {
  const id = node.view.id;
  const cause = el('select', 'alert-input');
  cause.required = true;
  const note = el('textarea', 'alert-input');
  note.required = true;
  note.maxLength = 4000;
  note.rows = 3;
  note.placeholder = t('Called the customer back; what was done');
  fillRootCauses(cause, (message) => { node.error.textContent = message; });
  return panelForm({
    label: t('Resolve the alert'),
    fields: [field(`alert-${id}-cause`, t('Root cause'), cause), field(`alert-${id}-note`, t('What was done'), note)],
    required: [[cause, t('Choose a root cause.')], [note, t('Say how it was resolved.')]],
    idle: t('Resolve alert'),
    busy: t(BUSY.resolved),
    onSubmit: () => onSubmit({ root_cause: cause.value, note: note.value.trim() }),
    onCancel: () => closePanel(node, true),
  });
}

function assignForm(node, onSubmit) {
  const who = el('select', 'alert-input');
  fillAssignees(node.view, who, (message) => { node.error.textContent = message; }).then(() => {
    // The names just learnt replace usernames in the card (its assignee).
    if (inbox.nodes.get(node.view.id) === node) renderSummary(node);
  });
  return panelForm({
    label: t('Assign the alert'),
    fields: [field(`alert-${node.view.id}-assignee`, t('Assign to'), who)],
    required: [[who, t('Choose who takes this alert.')]],
    idle: t('Assign'),
    busy: t(BUSY.assign),
    onSubmit: () => onSubmit({ username: who.value }),
    onCancel: () => closePanel(node, true),
  });
}

/** Fills `select` with who may take alert `v` (GET /alerts/{id}/assignees): managers, admins, frontline. */
export async function fillAssignees(v, select, failed) {
  const run = inbox.run;
  waitForChoices(select);
  let people;
  try {
    const answer = await api(`${BASE}/${v.id}/assignees`);
    people = Array.isArray(answer?.assignees) ? answer.assignees : [];
  } catch (err) {
    if (run !== inbox.run || unauthorized(err)) return;
    select.replaceChildren(choice(t('Could not load who may take it')));
    failed(t('Could not load who may take this alert ({error}).', { error: err.message }));
    return;
  }
  if (run !== inbox.run) return;
  for (const p of people) inbox.people.set(p.username, p.display_name || p.username);
  const options = people.map((p) => {
    const name = p.display_name || p.username;
    const who = p.username === inbox.ctx.user?.username ? t('{name} (you)', { name }) : name;
    const role = own(ROLE, p.role);
    const text = `${who} · ${role ? t(role) : p.role}`;
    return Object.assign(choice(text, p.username), { selected: p.username === v.assignee });
  });
  const prompt = people.length ? t('Choose someone') : t('Nobody may take this alert');
  showChoices(select, [choice(prompt), ...options], people.length > 0);
}
