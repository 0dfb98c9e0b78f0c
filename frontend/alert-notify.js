// What the alerts screen says aloud (its live region), the browser notification of each new alert
// (or callback), and the control that asks the browser's permission for them.

import { el } from './dom.js';
import { t } from './i18n.js';
import { callbacks, inbox, ruleName, severityName } from './alert-state.js';

// Where a click on a notification leads; the service worker opens it (sw.js, notificationclick).
const INBOX_URL = '/#alerts';

/** Says `text` to screen readers, again even when it is the same as last time. */
export function say(text) {
  if (!inbox.dom) return;
  inbox.dom.live.textContent = '';
  setTimeout(() => { if (inbox.dom) inbox.dom.live.textContent = text; }, 50);
}

export function announceNew(v) {
  const severity = severityName(v);
  const unit = inbox.ctx.unitName(v.org_unit), touchpoint = v.touchpoint;
  if (callbacks()) {
    say(touchpoint ? t('New callback: {unit}, {touchpoint}.', { unit, touchpoint }) : t('New callback: {unit}.', { unit }));
  } else {
    const params = { severity: severity.toLocaleLowerCase(), unit, touchpoint };
    say(touchpoint ? t('New {severity} alert: {unit}, {touchpoint}.', params) : t('New {severity} alert: {unit}.', params));
  }
  const N = window.Notification;
  if (typeof N !== 'function' || N.permission !== 'granted') return;
  const reasons = Object.keys(v.reasons ?? {}).map(ruleName).join('; ');
  const body = v.response?.comment || reasons || t('A customer needs a call back.');
  const title = callbacks() ? t('Callback · {unit}', { unit }) : t('{severity} alert · {unit}', { severity, unit });
  notify(title, { body, tag: `alert-${v.id}` });
}

// Android Chrome refuses `new Notification` from a page: a notification goes through the service
// worker whenever one controls the page, and is shown by the page itself otherwise. Either way, one
// that cannot be shown is dropped quietly: the inbox still shows the alert.
function notify(title, options) {
  const worker = navigator.serviceWorker;
  if (worker?.controller) {
    worker.ready
      .then((registration) => registration.showNotification(title, { ...options, data: { url: INBOX_URL } }))
      .catch(() => {});
    return;
  }
  try {
    const shown = new window.Notification(title, options);
    shown.onclick = () => {
      window.focus();
      location.hash = '#alerts';
      shown.close?.();
    };
  } catch {
    // Refused (a browser that only shows them from a service worker).
  }
}

/** The button that asks for permission, or why there are no notifications; nothing once granted. */
export function renderNotifyControl(box) {
  if (!box) return;
  const N = window.Notification;
  const state = typeof N === 'function' ? N.permission : 'unsupported';
  if (box.dataset.permission === state) return;
  box.dataset.permission = state;
  if (state === 'default') {
    const ask = el('button', 'alerts-button quiet', t('Turn on alert notifications'));
    ask.type = 'button';
    ask.dataset.action = 'notify';
    ask.addEventListener('click', async () => {
      ask.disabled = true;
      try { await N.requestPermission(); } catch { /* the state below says what happened */ }
      renderNotifyControl(box);
    });
    box.replaceChildren(ask);
  } else if (state === 'denied') {
    box.replaceChildren(el('p', 'alert-muted', t('Alert notifications are off in the browser settings.')));
  } else if (state === 'unsupported') {
    box.replaceChildren(el('p', 'alert-muted', t('This browser does not show alert notifications.')));
  } else {
    box.replaceChildren();
  }
}
