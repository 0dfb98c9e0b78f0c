// An incident in the inbox: a unit that raised more alerts within the server's window than a person
// can take one by one shows as one line with its count, and opens its list on demand (the unit's
// alerts, ungrouped); the banner above that list leads back to the inbox as it was.

import { el, quoted } from './dom.js';
import { formatNumber, t, tn } from './i18n.js';
import { inbox, ruleName, severityName, severityOf } from './alert-state.js';

const slug = (text) => String(text).replace(/[^a-z0-9-]/gi, '-');

/** The card of an incident item; `onOpen(item)` runs when the user asks for its alerts. */
export function incidentCard(item, onOpen) {
  const v = item.alert;
  const unit = v.org_unit;
  const li = el('li', 'alert-card incident-card');
  li.tabIndex = -1;
  li.dataset.kind = 'incident';
  li.dataset.key = item.key;
  li.dataset.severity = severityOf(v);
  const titleId = `incident-${slug(unit)}-title`;
  li.setAttribute('aria-labelledby', titleId);

  const tags = el('p', 'alert-tags');
  tags.append(el('span', 'alert-incident-tag', t('Incident')),
    el('span', `alert-sev sev-${severityOf(v)}`, t('{severity} at worst', { severity: severityName(v) })));
  const minutes = inbox.incidentMinutes ?? 60;
  const name = inbox.ctx.unitName(unit);
  const title = el('h3', 'alert-title', minutes === 60
    ? tn('{unit}: {n} alert in the last hour', '{unit}: {n} alerts in the last hour', item.count, { unit: name })
    : tn('{unit}: {n} alert in the last {minutes} minutes', '{unit}: {n} alerts in the last {minutes} minutes', item.count,
      { unit: name, minutes: formatNumber(minutes) }));
  title.id = titleId;
  const worst = el('p', 'alert-incident-worst');
  const rule = Array.isArray(v.rules) && v.rules.length ? ruleName(v.rules[0]) : t('Alert');
  worst.append(el('span', 'alert-rule', t('Most pressing: {rule}', { rule })));
  if (v.response?.comment) worst.append(el('span', 'alert-reason-detail', ` — ${quoted(v.response.comment)}`));
  const open = el('button', 'alerts-button primary', tn('Show the {n} alert', 'Show the {n} alerts', item.count));
  open.type = 'button';
  open.dataset.action = 'incident';
  open.setAttribute('aria-describedby', titleId);
  open.addEventListener('click', () => onOpen(item));
  const actions = el('div', 'alert-actions');
  actions.append(open);
  li.append(tags, title, worst, actions);
  return li;
}

/** The line above an incident's list: which unit, and the way back. */
export function incidentBanner(incident, onBack) {
  const box = el('div', 'alerts-incident');
  const text = el('p', 'alerts-incident-text');
  text.append(el('strong', null, `${t('{unit}:', { unit: inbox.ctx.unitName(incident.unit) })} `),
    el('span', null, t('every alert of the unit, one by one.')));
  const back = el('button', 'alerts-button', t('Back to the inbox'));
  back.type = 'button';
  back.addEventListener('click', onBack);
  box.append(text, back);
  return box;
}
