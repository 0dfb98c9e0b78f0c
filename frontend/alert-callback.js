// A callback as frontline staff see it: who is calling the customer, the customer's contact once
// they took it ("I'll call"), and the form that records how the call went. The contact comes only
// from answers that reveal it to this user (taking it, or GET /alerts/{id}), never from live events.

import { contactLine, el } from './dom.js';
import { t } from './i18n.js';
import { field, fillRootCauses, panelForm } from './alert-fields.js';
import { BUSY, OUTCOME, UNRESOLVED, assigneeName, inbox, outcomeName } from './alert-state.js';

export const isMine = (v) => Boolean(v.assignee) && v.assignee === inbox.ctx.user?.username;
export const mayTake = (v) => !v.assignee && UNRESOLVED.includes(v.state) && Boolean(v.response_id);

/** Holds the contact an answer revealed to this user. */
export function keepContact(v) {
  const r = v?.response;
  if (r && r.contact_masked === false) inbox.contacts.set(v.id, r.contact ?? null);
}

/** The lines of a callback's summary: who is calling, the contact for the one who is, the last call. */
export function callbackLines(v) {
  const lines = [];
  if (isMine(v) && UNRESOLVED.includes(v.state)) {
    lines.push(el('p', 'alert-calling mine', t('You are calling this customer')));
    if (inbox.contacts.has(v.id)) lines.push(contactLine(inbox.contacts.get(v.id), { prefix: 'alert-', mailLink: true }));
    else lines.push(el('p', 'alert-muted', t('Loading the contact…')));
  } else if (v.assignee && UNRESOLVED.includes(v.state)) {
    lines.push(el('p', 'alert-calling', t('{name} is calling', { name: assigneeName(v) })));
  } else if (mayTake(v)) {
    lines.push(el('p', 'alert-muted', t('The contact shows once you take the callback.')));
  }
  if (v.contact_outcome && v.contact_outcome !== 'resolved') {
    lines.push(el('p', 'alert-outcome', t('Last call: {outcome}', { outcome: outcomeName(v.contact_outcome) })));
  }
  return lines;
}

/** The card's panel holds the call's form while the callback is this user's, and nothing otherwise. */
export function syncOutcomeForm(node, onSubmit) {
  const v = node.view;
  const wanted = isMine(v) && UNRESOLVED.includes(v.state);
  const form = node.panel.querySelector('form.alert-outcome-form');
  if (!wanted) {
    if (form) {
      node.panel.replaceChildren();
      node.panel.hidden = true;
    }
    return;
  }
  if (form) return; // kept as it is: what the user typed stays
  node.panel.replaceChildren(outcomeForm(node, onSubmit));
  node.panel.hidden = false;
}

function outcomeForm(node, onSubmit) {
  const id = node.view.id;
  const group = el('fieldset', 'alert-outcomes');
  group.append(el('legend', 'alert-label', t('How did the call go?')));
  const radios = Object.keys(OUTCOME).map((value) => {
    const label = el('label', 'alert-outcome-option');
    const input = Object.assign(el('input'), { type: 'radio', name: `alert-${id}-outcome`, value });
    label.append(input, el('span', null, outcomeName(value)));
    group.append(label);
    return input;
  });
  const chosen = () => radios.find((r) => r.checked)?.value ?? '';
  const note = el('textarea', 'alert-input');
  note.maxLength = 1000;
  note.rows = 2;
  note.placeholder = t('What the customer said, what you did');
  const cause = el('select', 'alert-input');
  const causeField = field(`alert-${id}-call-cause`, t('Root cause'), cause);
  causeField.hidden = true;
  let causesAsked = false;
  group.addEventListener('change', () => {
    causeField.hidden = chosen() !== 'resolved';
    if (!causeField.hidden && !causesAsked) {
      causesAsked = true;
      fillRootCauses(cause, (message) => { node.error.textContent = message; });
    }
  });
  // The radio group stands as one control for the check of what is missing.
  const outcome = {
    get value() { return chosen(); },
    focus: () => radios[0].focus(),
    setAttribute() {},
    removeAttribute() {},
  };
  const form = panelForm({
    label: t('How the call went'),
    fields: [group, field(`alert-${id}-call-note`, t('Short note'), note), causeField],
    required: () => (chosen() === 'resolved'
      ? [[outcome, t('Say how the call went.')], [cause, t('Choose a root cause.')], [note, t('Say how it was resolved.')]]
      : [[outcome, t('Say how the call went.')]]),
    idle: t('Save the call'),
    busy: t(BUSY.contact),
    onSubmit: () => onSubmit({
      outcome: chosen(), note: note.value.trim() || null, ...(chosen() === 'resolved' ? { root_cause: cause.value } : {}),
    }),
  });
  form.classList.add('alert-outcome-form');
  return form;
}

/** After a call was recorded and the callback is still under way, the form starts afresh. */
export function resetOutcomeForm(node) {
  const form = node.panel.querySelector('form.alert-outcome-form');
  if (!form) return;
  form.reset();
  form.querySelector('.alert-field:has(select)')?.setAttribute('hidden', '');
}
