// The page in its reader's language. Messages are keyed by their English text and come from the
// server's gettext catalogue (GET /i18n/<language>.json, built from app/locales/<language>.po, the
// same source as e-mails and webhooks); a message the catalogue lacks shows in English. Numbers,
// percentages, dates, relative times and plural forms follow the locale through the browser's Intl.
// Messages are looked up when shown, never when a module loads: the catalogue arrives after.
// The extractor (python -m app.locales.extract) finds t('…'), tn('…', '…', n) and N_('…').

const SHIPPED = ['en', 'fr', 'it'];
const state = { language: 'en', messages: {}, plurals: {}, rules: new Intl.PluralRules('en') };

/** The language of the page now ('en', 'fr', 'it'). */
export const language = () => state.language;

/** Marks a message for the catalogue where it is defined; t() translates it where it is shown. */
export const N_ = (message) => message;

const fill = (text, params) =>
  params ? text.replace(/\{(\w+)\}/g, (whole, name) => (Object.hasOwn(params, name) ? String(params[name]) : whole)) : text;

/** `message` in the reader's language, its {placeholders} filled from `params`. */
export function t(message, params) {
  const own = Object.hasOwn(state.messages, message) ? state.messages[message] : '';
  return fill(own || message, params);
}

/** The form of a message that fits the count `n`; {n} is the count, written the local way. */
export function tn(singular, plural, n, params = {}) {
  const forms = Object.hasOwn(state.plurals, singular) ? state.plurals[singular] : null;
  const category = state.rules.select(n);
  const text = forms ? forms[category] || forms.other || plural : n === 1 ? singular : plural;
  return fill(text, { n: formatNumber(n), ...params });
}

/**
 * A message the server hands over with its parameters ({message, params, plural?, n?}), worded in
 * the reader's language: a parameter that is itself such a message is worded first, a number is
 * written the local way (`…percent`: a share as a percentage; `…nps`: an NPS with its sign), and
 * a name given per language ({names: {en, fr, it}}, a theme's) is the reader's.
 * The server words the same objects for e-mails and webhooks (app/core/i18n.py, Texts.say).
 */
export function say(said) {
  if (typeof said === 'string') return t(said);
  if (!said || typeof said.message !== 'string') return '';
  const params = {};
  for (const [name, value] of Object.entries(said.params ?? {})) params[name] = param(name, value);
  return typeof said.plural === 'string' && typeof said.n === 'number'
    ? tn(said.message, said.plural, said.n, params)
    : t(said.message, params);
}

function param(name, value) {
  // A name its author gave per language (a theme's): the reader's, else the English one.
  if (value && typeof value === 'object' && value.names && typeof value.names === 'object') {
    return String(value.names[state.language] || value.names.en || '');
  }
  if (value && typeof value === 'object') return say(value);
  if (typeof value !== 'number') return value == null ? '' : String(value);
  if (name.endsWith('percent')) return formatPercent(value);
  if (name.endsWith('nps')) return signed(value);
  return formatNumber(value, Number.isInteger(value) ? 0 : 2);
}

/** An NPS as the cockpit shows it: an integer from −100 to +100, with its sign above zero. */
export function signed(nps) {
  const rounded = Math.round(nps) || 0;
  return rounded > 0 ? `+${rounded}` : String(rounded);
}

/** The first shipped language of a list of tags ('fr-CH' → 'fr'), or null. */
export function shipped(tags) {
  for (const tag of tags ?? []) {
    const primary = String(tag).toLowerCase().split(/[-_]/)[0];
    if (SHIPPED.includes(primary)) return primary;
  }
  return null;
}

/**
 * Loads a language's catalogue and shows the page in it; without `wanted`, the server picks from
 * the browser's languages and the organisation's default. English when nothing can be loaded.
 */
export async function loadLanguage(wanted = null) {
  const chosen = wanted && SHIPPED.includes(wanted) ? wanted : null;
  if (chosen && chosen === state.language && (chosen === 'en' || Object.keys(state.messages).length)) return;
  let catalogue = { language: chosen ?? 'en', messages: {}, plurals: {} };
  if (chosen !== 'en') {
    try {
      const res = await fetch(chosen ? `/i18n/${chosen}.json` : '/i18n/catalogue.json', { credentials: 'same-origin' });
      if (res.ok) catalogue = await res.json();
    } catch {
      // Offline with no cached catalogue: the page stays in English rather than not opening.
    }
  }
  state.language = SHIPPED.includes(catalogue.language) ? catalogue.language : 'en';
  state.messages = catalogue.messages ?? {};
  state.plurals = catalogue.plurals ?? {};
  state.rules = new Intl.PluralRules(state.language);
  document.documentElement.lang = state.language;
  translateDom(document);
}

/**
 * The page's own HTML in the reader's language: an element marked data-i18n shows its text
 * translated, and each attribute its data-i18n-attrs names (aria-label, placeholder…). The English
 * is kept in the element, so the page can be shown again in another language.
 */
export function translateDom(root) {
  for (const node of root.querySelectorAll('[data-i18n]')) {
    node.dataset.i18n ||= node.textContent.replace(/\s+/g, ' ').trim();
    node.textContent = t(node.dataset.i18n);
  }
  for (const node of root.querySelectorAll('[data-i18n-attrs]')) {
    for (const name of node.dataset.i18nAttrs.split(/\s+/).filter(Boolean)) {
      const key = `i18n${name.replace(/(^|-)(\w)/g, (_, __, c) => c.toUpperCase())}`;
      node.dataset[key] ??= node.getAttribute(name) ?? '';
      node.setAttribute(name, t(node.dataset[key]));
    }
  }
  if (root === document && document.title) {
    document.documentElement.dataset.i18nTitle ??= document.title;
    document.title = t(document.documentElement.dataset.i18nTitle);
  }
}

const locale = () => state.language;

/** 12 345 in French; at most `digits` decimals. */
export const formatNumber = (x, digits = 0) =>
  new Intl.NumberFormat(locale(), { maximumFractionDigits: digits }).format(x);

/** A share 0…1 as a percentage, 93 % in French. */
export const formatPercent = (share, digits = 0) =>
  new Intl.NumberFormat(locale(), { style: 'percent', maximumFractionDigits: digits }).format(share);

/** A date and time (ms, ISO string or Date) the local way; `options` as Intl.DateTimeFormat's. */
export function formatDate(when, options = { dateStyle: 'medium', timeStyle: 'short' }) {
  const date = when instanceof Date ? when : new Date(when);
  return Number.isNaN(date.getTime()) ? '—' : new Intl.DateTimeFormat(locale(), options).format(date);
}

/** A list joined the local way: "Ana, Bo et Chloé". */
export const formatList = (items) => new Intl.ListFormat(locale(), { style: 'long', type: 'conjunction' }).format(items);

/** How long ago `at` (ms) was: "just now", "il y a 3 min", "ieri", "3 days ago". */
export function relativeTime(at, now = Date.now()) {
  const ms = now - at;
  if (ms < 45000) return t('just now');
  const rtf = new Intl.RelativeTimeFormat(locale(), { numeric: 'auto', style: 'short' });
  const minutes = Math.round(ms / 60000), hours = Math.round(minutes / 60), days = Math.round(hours / 24);
  if (minutes < 60) return rtf.format(-minutes, 'minute');
  return hours < 24 ? rtf.format(-hours, 'hour') : rtf.format(-days, 'day');
}

/** A duration as a short phrase: "under a minute", "12 min", "3 h", "2 days" in the reader's language. */
export function duration(ms) {
  const minutes = Math.round(Math.abs(ms) / 60000);
  if (minutes < 1) return t('under a minute');
  const unit = (value, name) => new Intl.NumberFormat(locale(), { style: 'unit', unit: name, unitDisplay: name === 'day' ? 'long' : 'short' }).format(value);
  if (minutes < 120) return unit(minutes, 'minute');
  const hours = Math.round(minutes / 60);
  return hours < 48 ? unit(hours, 'hour') : unit(Math.round(hours / 24), 'day');
}
