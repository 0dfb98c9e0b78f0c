// My settings, a dialog opened from the top bar: the language the cockpit speaks (GET and PUT
// /api/v1/me/language; none chosen: the browser's), and the daily digest (docs/digest.md), whether it
// comes, at which local hour and in which timezone (GET and PUT /api/v1/me/digest). The server's
// notice (no e-mail address, say) shows above the form, its refusals under the field they name.

import { $, el } from './dom.js';
import { N_, t } from './i18n.js';
import { HttpError, api, speak } from './session.js';

const PATH = '/api/v1/me/digest';
const LANGUAGE_PATH = '/api/v1/me/language';
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
// Answers still on their way are dropped when these move on (the dialog closed, or asked again).
let asked = 0;
let askedLanguage = 0;
// What the form shows from the server: the address the digest goes to, and the language chosen ('': none).
const shown = { email: '', language: '' };

function offerTimezones(chosen) {
  const select = $('digest-timezone');
  const zones = new Set(typeof Intl.supportedValuesOf === 'function' ? Intl.supportedValuesOf('timeZone') : []);
  for (const zone of [chosen, here(), 'UTC']) if (zone) zones.add(zone);
  const groups = new Map();
  for (const zone of [...zones].sort()) {
    const region = zone.includes('/') ? zone.slice(0, zone.indexOf('/')) : t('Other');
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
  showNotice(digest);
  shown.email = typeof digest.email === 'string' ? digest.email : '';
  $('digest-email').textContent = shown.email ? t('It goes to {email}.', { email: shown.email }) : '';
}

function showNotice(digest) {
  const notice = typeof digest.notice === 'string' ? digest.notice : '';
  $('digest-notice').textContent = notice;
  $('digest-notice').hidden = !notice;
}

/** The dialog's own words in the reader's language (the page's HTML is translated by i18n.js). */
function label() {
  $('digest-timezone-hint').textContent = t('This device is on {zone} time.', { zone: here() });
  $('digest-email').textContent = shown.email ? t('It goes to {email}.', { email: shown.email }) : '';
  const zone = $('digest-timezone').value;
  if (zone) offerTimezones(zone); // the name of the group of zones outside a region
}

function busy(on) {
  $('digest-fields').disabled = on;
  $('digest-save').disabled = on;
  $('digest-form').setAttribute('aria-busy', String(on));
}

// `what`: a message with the {problem} the server or the browser gave.
function failed(err, what) {
  if (err instanceof HttpError && err.status === 401) {
    closeSettings();
    hooks.onUnauthorized();
    return true;
  }
  if (err instanceof HttpError && (err.status === 409 || err.status === 422)) return false;
  $('digest-status').textContent = t(what, { problem: err.message });
  return true;
}

// ---- Language ----------------------------------------------------------------------------------
/** "Browser's language", then each language the server offers, named in itself (Français, Italiano). */
function offerLanguages(answer) {
  const offered = (Array.isArray(answer?.offered) ? answer.offered : []).filter((o) => typeof o?.code === 'string' && o.code);
  const option = (value, text) => Object.assign(el('option', null, text), { value });
  $('language-pick').replaceChildren(
    option('', t("Browser's language")),
    ...offered.map((o) => Object.assign(option(o.code, typeof o.name === 'string' && o.name ? o.name : o.code), { lang: o.code })),
  );
  shown.language = typeof answer?.chosen === 'string' ? answer.chosen : '';
  $('language-pick').value = shown.language;
}

function languageError(text) {
  $('language-error').textContent = text;
  $('language-error').hidden = !text;
  if (text) $('language-pick').setAttribute('aria-invalid', 'true');
  else $('language-pick').removeAttribute('aria-invalid');
}

async function readLanguage() {
  const ask = ++askedLanguage;
  languageError('');
  $('language-pick').disabled = true;
  try {
    const answer = await api(LANGUAGE_PATH);
    if (ask !== askedLanguage) return;
    offerLanguages(answer);
    $('language-pick').disabled = false;
  } catch (err) {
    if (ask === askedLanguage) failed(err, N_('Your settings could not be read: {problem}'));
  }
}

// Saved at once: the page is drawn again in the language chosen, this dialog left open on the picker.
async function chooseLanguage() {
  const ask = ++askedLanguage;
  const pick = $('language-pick');
  languageError('');
  pick.setAttribute('aria-busy', 'true');
  $('digest-status').textContent = t('Saving…');
  try {
    const answer = await api(LANGUAGE_PATH, { method: 'PUT', body: { language: pick.value || null } });
    if (ask !== askedLanguage) return;
    await speak(answer.language);
    offerLanguages(answer);
    label();
    $('digest-status').textContent = t('Language saved.');
  } catch (err) {
    if (ask !== askedLanguage) return;
    pick.value = shown.language;
    if (failed(err, N_('Not saved: {problem}'))) return;
    $('digest-status').textContent = t('Not saved.');
    languageError(problems(err).map(([, problem]) => sentence(problem)).join(' '));
    pick.focus();
  } finally {
    pick.removeAttribute('aria-busy');
  }
}

// ---- Opening and saving ------------------------------------------------------------------------
async function open() {
  const ask = ++asked;
  clearErrors();
  label();
  $('digest-status').textContent = t('Loading…');
  busy(true);
  if (!$('settings-dialog').open) $('settings-dialog').showModal();
  readLanguage();
  try {
    const digest = await api(PATH);
    if (ask !== asked) return;
    fill(digest, { fresh: true });
    $('digest-status').textContent = '';
    busy(false);
    $('digest-enabled').focus();
  } catch (err) {
    if (ask === asked) failed(err, N_('Your settings could not be read: {problem}'));
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
  $('digest-status').textContent = t('Saving…');
  busy(true);
  try {
    const digest = await api(PATH, { method: 'PUT', body: choice });
    if (ask !== asked) return;
    fill(digest);
    busy(false);
    $('digest-status').textContent = digest.enabled
      ? t('Saved: your digest comes at {hour}, {zone} time.', { hour: hourText(digest.hour), zone: digest.timezone })
      : t('Saved: no daily digest.');
  } catch (err) {
    if (ask !== asked) return;
    busy(false);
    if (failed(err, N_('Not saved: {problem}'))) return;
    $('digest-status').textContent = t('Not saved.');
    showErrors(err);
  }
}

/** Closes the dialog and drops an answer still on its way (the session ended). */
export function closeSettings() {
  asked++;
  askedLanguage++;
  if ($('settings-dialog')?.open) $('settings-dialog').close();
}

/** `onUnauthorized()` ends the session. */
export function initSettings({ onUnauthorized }) {
  hooks = { onUnauthorized };
  $('digest-hour').replaceChildren(...Array.from({ length: 24 }, (_, h) => Object.assign(el('option', null, hourText(h)), { value: String(h) })));
  $('settings-open').addEventListener('click', open);
  $('language-pick').addEventListener('change', chooseLanguage);
  $('settings-close').addEventListener('click', closeSettings);
  $('digest-form').addEventListener('submit', save);
}
