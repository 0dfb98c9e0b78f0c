// Which screen a phone shows: Feed, Barometer, Journey, Themes, Praise or Alerts (Callbacks for frontline staff),
// picked by the tabs and kept in the URL's hash (so Back works and a notification can open #alerts).
// A wide screen shows them all.

import { N_, t } from './i18n.js';

const SCREENS = ['feed', 'barometer', 'journey', 'themes', 'praise', 'alerts'];
const listeners = [];

const $ = (id) => document.getElementById(id);
let alertsAllowed = false;

/** The screen the hash names, if the user may see it; otherwise the feed. */
function wanted() {
  const name = location.hash.replace(/^#/, '');
  if (!SCREENS.includes(name)) return null;
  return name === 'alerts' && !alertsAllowed ? 'feed' : name;
}

export function currentScreen() {
  return $('layout')?.dataset.screen ?? 'feed';
}

/** Called with the screen's name each time another one is shown. */
export function onScreen(listener) {
  listeners.push(listener);
}

function show(name) {
  const layout = $('layout');
  if (!layout || layout.dataset.screen === name) return;
  layout.dataset.screen = name;
  for (const tab of document.querySelectorAll('.tab')) {
    if (tab.dataset.screen === name) tab.setAttribute('aria-current', 'page');
    else tab.removeAttribute('aria-current');
  }
  for (const listener of listeners) listener(name);
}

function route() {
  const name = wanted();
  if (name) show(name);
}

/**
 * Alerts are for those who work them (managers, admins, and frontline staff where they take
 * callbacks): their tab and screen exist only for them. `name`: the tab's name as a message (Alerts,
 * Callbacks), kept on the tab so that it is translated again with the page.
 */
export function showAlertsTab(allowed, name = N_('Alerts')) {
  alertsAllowed = allowed;
  $('tab-alerts-name').dataset.i18n = name;
  $('tab-alerts-name').textContent = t(name);
  $('tab-alerts').hidden = !allowed;
  $('screen-alerts').hidden = !allowed;
  if (!allowed && currentScreen() === 'alerts') show('feed');
  else route();
}

/** Shows screen `name` in place of the one shown, in the same history entry (a link asked for it). */
export function replaceScreen(name) {
  history.replaceState(history.state, '', `#${name}`);
  route();
}

export function initScreens() {
  window.addEventListener('hashchange', route);
  $('tab-feed').setAttribute('aria-current', 'page');
  route();
}
