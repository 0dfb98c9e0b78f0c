// My settings, a dialog opened from the top bar: the daily digest (docs/digest.md), whether it comes,
// at which local hour and in which timezone (GET and PUT /api/v1/me/digest). The server's notice
// (no e-mail address, say) shows above the form, its refusals under the field they name.

import { $, el } from './dom.js';
import { HttpError, api } from './session.js';

const PATH = '/api/v1/me/digest';
// The form's fields as the server names them; a refusal about the address is about turning it on.
const FIELDS = { enabled: 'digest-enabled', email: 'digest-enabled', hour: 'digest-hour', timezone: 'digest-timezone' };
const here = () => Intl.DateTimeFormat().resolvedOptions().timeZone;
const hourText = (h) => `${String(h).padStart(2, '0')}:00`;
// The fields a refusal names: a 422 lists them (`errors`); another refusal says "field: problem".
const problems = (err) => {
  const listed = Array.isArray(err.body?.errors) ? err.body.errors : [];
  if (listed.length) return listed.map((e) => [String(e.field ?? ''), String(e.message ?? '')]);
  const found = /^([\w.]+): (.*)$/s.exec(err.message);
  return [found ? [found[1], found[2]] : ['', err.message]];
};
const sentence = (text) => `${text.charAt(0).toUpperCase()}${text.slice(1)}${/[.!?]$/.test(text) ? '' : '.'}`;

let hooks = { onUnauthorized() {} };
let asked = 0;

function offerTimezones(chosen) {
  const select = $('digest-timezone');
  const zones = new Set(typeof Intl.supportedValuesOf === 'function' ? Intl.supportedValuesOf('timeZone') : []);
  for (const zone of [chosen, here(), 'UTC']) if (zone) zones.add(zone);
  const groups = new Map();
  for (const zone of [...zones].sort()) {
    const region = zone.includes('/') ? zone.slice(0, zone.indexOf('/')) : 'Other';
    groups.set(region, [...(groups.get(region) ?? []), zone]);
  }
  select.replaceChildren(...[...groups].map(([region, list]) => {
    const group = el('optgroup');
    group.label = region;
    group.append(...list.map((zone) => Object.assign(el('option', null, zone.replace(/_/g, ' ')), { value: zone })));
    return group;
  }));
  select.value = chosen;
}

function showErrors(err) {
  clearErrors();
  let first = null;
  for (const [field, problem] of problems(err)) {
    const id = FIELDS[field];
    const box = $(id ? `${id}-error` : 'digest-error');
    box.textContent = [box.textContent, sentence(problem)].filter(Boolean).join(' ');
    box.hidden = false;
    if (id) {
      $(id).setAttribute('aria-invalid', 'true');
      first = first ?? $(id);
    }
  }
  (first ?? $('digest-save')).focus();
}

function clearErrors() {
  for (const id of new Set(Object.values(FIELDS))) {
    $(id).removeAttribute('aria-invalid');
    $(`${id}-error`).hidden = true;
    $(`${id}-error`).textContent = '';
  }
  $('digest-error').hidden = true;
  $('digest-error').textContent = '';
}

/** Shows what the server answered; `fresh`: a digest never chosen suggests this device's timezone. */
function fill(digest, { fresh = false } = {}) {
  $('digest-enabled').checked = digest.enabled === true;
  $('digest-hour').value = String(Number.isInteger(digest.hour) ? digest.hour : 7);
  offerTimezones(fresh && !digest.chosen ? here() : digest.timezone);
  const notice = typeof digest.notice === 'string' ? digest.notice : '';
  $('digest-notice').textContent = notice;
  $('digest-notice').hidden = !notice;
  $('digest-email').textContent = digest.email ? `It goes to ${digest.email}.` : '';
}

function busy(on) {
  $('digest-fields').disabled = on;
  $('digest-save').disabled = on;
  $('digest-form').setAttribute('aria-busy', String(on));
}

function failed(err, what) {
  if (err instanceof HttpError && err.status === 401) {
    closeSettings();
    hooks.onUnauthorized();
    return true;
  }
  if (err instanceof HttpError && (err.status === 409 || err.status === 422)) return false;
  $('digest-status').textContent = `${what}: ${err.message}`;
  return true;
}

async function open() {
  const ask = ++asked;
  clearErrors();
  $('digest-status').textContent = 'Loading…';
  busy(true);
  if (!$('settings-dialog').open) $('settings-dialog').showModal();
  try {
    const digest = await api(PATH);
    if (ask !== asked) return;
    fill(digest, { fresh: true });
    $('digest-status').textContent = '';
    busy(false);
    $('digest-enabled').focus();
  } catch (err) {
    if (ask === asked) failed(err, 'Your settings could not be read');
  }
}

async function save(event) {
  event.preventDefault();
  const ask = ++asked;
  const choice = {
    enabled: $('digest-enabled').checked,
    hour: Number($('digest-hour').value),
    timezone: $('digest-timezone').value || null,
  };
  clearErrors();
  $('digest-status').textContent = 'Saving…';
  busy(true);
  try {
    const digest = await api(PATH, { method: 'PUT', body: choice });
    if (ask !== asked) return;
    fill(digest);
    busy(false);
    $('digest-status').textContent = digest.enabled
      ? `Saved: your digest comes at ${hourText(digest.hour)}, ${digest.timezone} time.`
      : 'Saved: no daily digest.';
  } catch (err) {
    if (ask !== asked) return;
    busy(false);
    if (failed(err, 'Not saved')) return;
    $('digest-status').textContent = 'Not saved.';
    showErrors(err);
  }
}

/** Closes the dialog and drops an answer still on its way (the session ended). */
export function closeSettings() {
  asked++;
  if ($('settings-dialog')?.open) $('settings-dialog').close();
}

/** `onUnauthorized()` ends the session. */
export function initSettings({ onUnauthorized }) {
  hooks = { onUnauthorized };
  $('digest-hour').replaceChildren(...Array.from({ length: 24 }, (_, h) => Object.assign(el('option', null, hourText(h)), { value: String(h) })));
  $('digest-timezone-hint').textContent = `This device is on ${here()} time.`;
  $('settings-open').addEventListener('click', open);
  $('settings-close').addEventListener('click', closeSettings);
  $('digest-form').addEventListener('submit', save);
}
