// The response a link opened (/?response=<id>, as the daily digest links to a comment that matters):
// asked for once signed in (GET /api/v1/responses/{id}, scoped like the feed) and shown as a card in
// a dialog over the cockpit. Server text reaches the DOM only through textContent.

import { $, TONE, contactLine, el, own, setTime, toneOf, whyLine } from './dom.js';
import { FLAG, channelName, scoreBadge } from './feed.js';
import { formatList, t } from './i18n.js';
import { HttpError, api } from './session.js';

let asked = 0;

/** Shows response `id`; `notify(text)` says why it cannot, `onUnauthorized()` ends the session. */
export async function showLinkedResponse(id, { unitName = (u) => u, notify = () => {}, onUnauthorized = () => {} }) {
  const ask = ++asked;
  let v;
  try {
    v = await api(`/api/v1/responses/${encodeURIComponent(id)}`);
  } catch (err) {
    if (ask !== asked) return;
    if (err instanceof HttpError && err.status === 401) onUnauthorized();
    else notify(t('The comment your link points to cannot be shown: {problem}.', { problem: err.message.replace(/\.$/, '') }));
    return;
  }
  if (ask !== asked || !v || typeof v.response_id !== 'string') return;
  const dialog = $('response-dialog');
  $('response-dialog-body').replaceChildren(card(v, unitName));
  if (!dialog.open) dialog.showModal();
  $('response-dialog-close').focus();
}

/** Closes the dialog and drops an answer still on its way (the session ended). */
export function closeLinkedResponse() {
  asked++;
  const dialog = $('response-dialog');
  if (dialog?.open) dialog.close();
  $('response-dialog-body')?.replaceChildren();
}

export function initLinkedResponse() {
  $('response-dialog-close').addEventListener('click', () => $('response-dialog').close());
}

// As the feed shows a response: the score's badge, where and when, the comment, its chips and why.
function card(v, unitName) {
  const li = el('li', 'item');
  li.dataset.responseId = v.response_id;
  li.classList.toggle('flagged', v.dissatisfied === true);
  li.dataset.severity = ['low', 'medium', 'high'].includes(v.severity) ? v.severity : 'none';
  const head = el('div', 'item-head');
  const where = el('p', 'where');
  const org = el('span', 'org', unitName(v.org_unit));
  org.title = v.org_unit;
  where.append(org, el('span', 'sep', ' · '), el('span', 'tp', v.touchpoint));
  const when = el('time', 'when');
  setTime(when, v.submitted_at);
  head.append(where, when);
  const lang = [v.comment_language, v.language].find((x) => typeof x === 'string' && x) ?? '';
  const verbatim = v.comment ? el('p', 'verbatim', v.comment) : el('p', 'verbatim none', t('no comment'));
  if (v.comment && lang) verbatim.lang = lang;
  const chips = el('p', 'chips');
  const severity = li.dataset.severity;
  if (v.dissatisfied === true) {
    chips.append(el('span', `chip flag sev-${severity}`, t(own(FLAG, severity) ?? FLAG.none)));
  }
  const tone = v.negative_comment === true ? 'Negative' : toneOf(v.polarity);
  if (tone) chips.append(el('span', `chip tone ${tone.toLowerCase()}`, t(TONE[tone])));
  chips.append(el('span', 'chip channel', channelName(v.channel)));
  const staff = Array.isArray(v.staff) ? v.staff.filter((s) => typeof s === 'string' && s) : [];
  if (staff.length) chips.append(el('span', 'chip', t('Staff: {staff}', { staff: formatList(staff) })));
  const body = el('div', 'item-body');
  body.append(head, verbatim, chips);
  const why = v.dissatisfied === true ? whyLine(v.reasons) : null;
  if (why) body.append(why);
  if (v.dissatisfied === true && v.contact_masked === false && v.contact) body.append(contactLine(v.contact));
  li.append(scoreBadge(v), body);
  return li;
}
