// Small helpers every screen of the cockpit shares. Server text reaches the DOM only through
// textContent (el's `text`), never as HTML. Words go through i18n.js, in the reader's language.

import { N_, duration, formatDate, formatNumber, relativeTime, say, signed, t } from './i18n.js';

export const $ = (id) => document.getElementById(id);

/** A table's own entry for `key` (never an inherited one such as `constructor`). */
export const own = (table, key) => (typeof key === 'string' && Object.hasOwn(table, key) ? table[key] : undefined);

export function el(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text != null) node.textContent = String(text);
  return node;
}

export function svgEl(tag, attrs) {
  const node = document.createElementNS('http://www.w3.org/2000/svg', tag);
  for (const [key, value] of Object.entries(attrs)) node.setAttribute(key, String(value));
  return node;
}

export const num = (x) => (typeof x === 'number' && Number.isFinite(x) ? x : null);
export const count = (n) => num(n) ?? 0;
export const sampleSize = (n) => `n\u00a0=\u00a0${formatNumber(n)}`; // kept on one line in narrow tiles
export const timeOf = (iso) => Date.parse(iso) || 0;
// Fewer answers than this make a figure a "small sample" (DOMAIN: counts beside every figure).
export const SMALL_SAMPLE = 10;

/** An NPS as an integer from −100 to +100 (with its sign above zero when `withSign`); — without one. */
export function npsText(nps, withSign = false) {
  const value = num(nps);
  if (value == null) return '—';
  return withSign ? signed(value) : String(Math.round(value) || 0);
}

/** good ≥ 30, bad < 0, mid between; none without answers. */
export function npsBand(nps) {
  const value = num(nps);
  return value == null ? 'none' : value >= 30 ? 'good' : value < 0 ? 'bad' : 'mid';
}

/** The tone a comment's polarity (−1…1) reads as (a key of TONE); null when not assessed. */
export function toneOf(polarity) {
  const p = num(polarity);
  return p == null ? null : p >= 0.2 ? 'Positive' : p <= -0.2 ? 'Negative' : 'Neutral';
}

/** A tone's chip, "Negative tone", in the reader's language. */
export const TONE = { Positive: N_('Positive tone'), Negative: N_('Negative tone'), Neutral: N_('Neutral tone') };

/** A customer's phrase as it is quoted: “still waiting” (« still waiting » in French). */
export const quoted = (phrase) => t('“{phrase}”', { phrase });

// A reason the server words for each reader ({message, params}); older ones carry only a label.
const worded = (r) => r?.words && typeof r.words === 'object' && typeof r.words.message === 'string';

/**
 * Why the sentiment stage flagged a response (its `reasons`: score band, comment tone, matched phrases,
 * language), as "Why: …" with one small chip per reason, in the reader's language (the server's
 * `words` for it, else its English label), a customer's phrase in quotes; null without any.
 */
export function whyLine(reasons) {
  const given = (Array.isArray(reasons) ? reasons : []).filter((r) => worded(r) || (typeof r?.label === 'string' && r.label));
  if (!given.length) return null;
  const line = el('p', 'why');
  line.append(el('span', 'why-label', t('Why:')));
  given.forEach((r, i) => {
    const kind = typeof r.kind === 'string' && /^[a-z]+$/.test(r.kind) ? r.kind : 'other';
    const text = worded(r) ? say(r.words) : kind === 'phrase' ? quoted(r.label) : r.label;
    if (i) line.append(el('span', 'sr-only', ';'));
    line.append(el('span', `reason reason-${kind}`, text));
  });
  return line;
}

/** How long ago `at` (ms) was: "just now", "3 min ago", in the reader's language. */
export const relTime = (at, now = Date.now()) => relativeTime(at, now);

/** Minutes, hours or days until (positive) or since (negative) a moment, as a short phrase. */
export const span = (ms) => duration(ms);

/**
 * A customer's contact as "Call back: name · phone · email", the phone a tel: link (the email a mailto:
 * link too with `mailLink`); "No contact details given." when `contact` has none. Its classes start
 * with `prefix` (`contact`, `contact-label`, `sep`, `tel`), so each screen styles its own.
 */
export function contactLine(contact, { prefix = '', mailLink = false } = {}) {
  const given = (x) => typeof x === 'string' && x !== '';
  const link = (text, href) => Object.assign(el('a', `${prefix}tel`, text), { href });
  const parts = [];
  if (given(contact?.name)) parts.push(el('span', null, contact.name));
  if (given(contact?.phone)) parts.push(link(contact.phone, `tel:${contact.phone.replace(/[^+\d]/g, '')}`));
  if (given(contact?.email)) {
    parts.push(mailLink ? link(contact.email, `mailto:${contact.email}`) : el('span', null, contact.email));
  }
  if (!parts.length) return el('p', `${prefix}contact none`, t('No contact details given.'));
  const line = el('p', `${prefix}contact`);
  line.append(el('span', `${prefix}contact-label`, t('Call back:')), document.createTextNode(' '));
  parts.forEach((part, i) => line.append(...(i ? [el('span', `${prefix}sep`, ' · '), part] : [part])));
  return line;
}

export function setTime(node, iso) {
  const at = timeOf(iso);
  node.dataset.ts = at ? String(at) : '';
  node.dateTime = at ? new Date(at).toISOString() : '';
  node.title = at ? formatDate(at) : '';
  node.textContent = at ? relativeTime(at) : '—';
}

export function refreshTimes() {
  for (const node of document.querySelectorAll('time[data-ts]:not([data-ts=""])')) {
    node.textContent = relativeTime(Number(node.dataset.ts));
  }
}

/** Runs `fn` at most once every `gapMs`, however often it is asked for; `cancel` drops a pending run. */
export function debounced(fn, gapMs) {
  let timer = null, last = 0;
  const request = () => {
    if (timer) return;
    timer = setTimeout(() => {
      timer = null;
      last = Date.now();
      fn();
    }, Math.max(0, last + gapMs - Date.now()));
  };
  request.cancel = () => {
    clearTimeout(timer);
    timer = null;
    last = 0;
  };
  return request;
}
