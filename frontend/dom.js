// Small helpers every screen of the cockpit shares. Server text reaches the DOM only through
// textContent (el's `text`), never as HTML.

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
export const plural = (n, word) => `${n} ${word}${n === 1 ? '' : 's'}`;
export const sampleSize = (n) => `n\u00a0=\u00a0${n}`; // kept on one line in narrow tiles
export const timeOf = (iso) => Date.parse(iso) || 0;
// Fewer answers than this make a figure a "small sample" (DOMAIN: counts beside every figure).
export const SMALL_SAMPLE = 10;

export function npsText(nps, signed = false) {
  const value = num(nps);
  if (value == null) return '—';
  const rounded = Math.round(value) || 0;
  return signed && rounded > 0 ? `+${rounded}` : String(rounded);
}

/** good ≥ 30, bad < 0, mid between; none without answers. */
export function npsBand(nps) {
  const value = num(nps);
  return value == null ? 'none' : value >= 30 ? 'good' : value < 0 ? 'bad' : 'mid';
}

/** The tone a comment's polarity (−1…1) reads as; null when not assessed. */
export function toneOf(polarity) {
  const p = num(polarity);
  return p == null ? null : p >= 0.2 ? 'Positive' : p <= -0.2 ? 'Negative' : 'Neutral';
}

/** A customer's phrase as it is quoted: “still waiting”. */
export const quoted = (phrase) => `\u201c${phrase}\u201d`;

/**
 * Why the sentiment stage flagged a response (its `reasons`: score band, comment tone, matched phrases,
 * language), as "Why: …" with one small chip per reason, phrases in quotes; null without any.
 */
export function whyLine(reasons) {
  const given = (Array.isArray(reasons) ? reasons : []).filter((r) => typeof r?.label === 'string' && r.label);
  if (!given.length) return null;
  const line = el('p', 'why');
  line.append(el('span', 'why-label', 'Why:'));
  given.forEach((r, i) => {
    const kind = typeof r.kind === 'string' && /^[a-z]+$/.test(r.kind) ? r.kind : 'other';
    if (i) line.append(el('span', 'sr-only', ';'));
    line.append(el('span', `reason reason-${kind}`, kind === 'phrase' ? quoted(r.label) : r.label));
  });
  return line;
}

export function relTime(t, now = Date.now()) {
  const m = Math.round((now - t) / 60000), h = Math.round(m / 60), d = Math.round(h / 24);
  if (now - t < 45000) return 'just now';
  if (m < 60) return `${m} min ago`;
  return h < 24 ? `${h} h ago` : d === 1 ? 'yesterday' : `${d} days ago`;
}

/** Minutes or hours until (positive) or since (negative) `t`, as a short phrase. */
export function span(ms) {
  const minutes = Math.round(Math.abs(ms) / 60000);
  if (minutes < 1) return 'under a minute';
  if (minutes < 120) return `${minutes} min`;
  const hours = Math.round(minutes / 60);
  return hours < 48 ? `${hours} h` : `${Math.round(hours / 24)} days`;
}

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
  if (!parts.length) return el('p', `${prefix}contact none`, 'No contact details given.');
  const line = el('p', `${prefix}contact`);
  line.append(el('span', `${prefix}contact-label`, 'Call back: '));
  parts.forEach((part, i) => line.append(...(i ? [el('span', `${prefix}sep`, ' · '), part] : [part])));
  return line;
}

export function setTime(node, iso) {
  const t = timeOf(iso);
  node.dataset.ts = t ? String(t) : '';
  node.dateTime = t ? new Date(t).toISOString() : '';
  node.title = t ? new Date(t).toLocaleString() : '';
  node.textContent = t ? relTime(t) : '—';
}

export function refreshTimes() {
  for (const node of document.querySelectorAll('time[data-ts]:not([data-ts=""])')) {
    node.textContent = relTime(Number(node.dataset.ts));
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
