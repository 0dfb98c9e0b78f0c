// Form parts the alert forms share: a form with its check of what is missing, a labelled field, a
// select's choices (waiting while they load) and the root causes a resolution names, loaded once.

import { el } from './dom.js';
import { t } from './i18n.js';
import { api } from './session.js';
import { BASE, inbox, rootCauseName, unauthorized } from './alert-state.js';

export function field(id, labelText, control) {
  const box = el('div', 'alert-field');
  const label = el('label', 'alert-label', labelText);
  label.htmlFor = id;
  control.id = id;
  box.append(label, control);
  return box;
}

export const choice = (text, value = '') => Object.assign(el('option', null, text), { value });

// A select waiting for its choices stays disabled, even when the card's request ends.
export function waitForChoices(select) {
  select.replaceChildren(choice(t('Loading…')));
  select.disabled = true;
  select.dataset.waiting = 'true';
}

export function showChoices(select, options, enabled) {
  select.replaceChildren(...options);
  select.dataset.waiting = 'false';
  select.disabled = !enabled;
}

/** The root causes a resolution may name and their names (GET /alerts/root-causes), asked once. */
export async function loadRootCauses() {
  if (!inbox.rootCauses) {
    const run = inbox.run;
    const answer = await api(`${BASE}/root-causes`);
    if (run !== inbox.run) return { ids: [], names: {} };
    inbox.rootCauses = {
      ids: Array.isArray(answer?.root_causes) ? answer.root_causes.filter((c) => typeof c === 'string') : [],
      names: answer?.names && typeof answer.names === 'object' ? answer.names : {},
    };
  }
  return inbox.rootCauses;
}

/** Fills `select` with the root causes; `failed(message)` says why it could not. */
export async function fillRootCauses(select, failed) {
  const run = inbox.run;
  waitForChoices(select);
  let causes;
  try {
    causes = (await loadRootCauses()).ids;
  } catch (err) {
    if (run !== inbox.run || unauthorized(err)) return;
    select.replaceChildren(choice(t('Could not load the root causes')));
    failed(t('Could not load the root causes ({error}); close the form and try again.', { error: err.message }));
    return;
  }
  if (run !== inbox.run) return;
  showChoices(select, [choice(t('Choose a root cause')), ...causes.map((c) => choice(rootCauseName(c), c))], true);
}

/** The first empty control of `required` ([control, what to say]) is marked, said and focused. */
function filledIn(hint, required) {
  const missing = required.find(([control]) => !control.value.trim());
  for (const [control] of required) control.removeAttribute('aria-invalid');
  hint.textContent = missing ? missing[1] : '';
  if (!missing) return true;
  missing[0].setAttribute('aria-invalid', 'true');
  missing[0].focus();
  return false;
}

/** A panel's form: its fields, a line saying what is missing, then submit (and cancel, if given). */
export function panelForm({ label, fields, required, idle, busy, onSubmit, onCancel = null }) {
  const form = el('form', 'alert-form');
  form.noValidate = true;
  form.setAttribute('aria-label', label);
  const hint = el('p', 'alert-form-error');
  hint.setAttribute('aria-live', 'polite');
  const row = el('div', 'alert-form-buttons');
  const submit = el('button', 'alerts-button primary', idle);
  submit.type = 'submit';
  submit.dataset.idle = idle;
  submit.dataset.busy = busy;
  row.append(submit);
  if (onCancel) {
    const cancel = el('button', 'alerts-button', t('Cancel'));
    cancel.type = 'button';
    cancel.addEventListener('click', onCancel);
    row.append(cancel);
  }
  form.append(...fields, hint, row);
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    if (filledIn(hint, typeof required === 'function' ? required() : required)) onSubmit();
  });
  return form;
}
