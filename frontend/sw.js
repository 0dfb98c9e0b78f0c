// The cockpit's service worker: keeps the page's shell (HTML, scripts, styles, icons) and the language
// catalogues it loaded (/i18n/*.json: the page's texts, no user data) so the cockpit opens without a
// network, in its reader's language. Network first, so a deploy shows at once; the cache only when the
// network fails. Nothing else is touched: API answers, the websocket, metrics and health checks go to
// the network as if there were no worker, and are never stored (user data must not stay on a shared phone).
// It also shows the alerts inbox when the user taps an alert's notification.
// Served at /sw.js by app/main.py with Cache-Control: no-cache; see docs/pwa.md.

// Bump when this file's caching changes: activation deletes every other cockpit cache.
const VERSION = 'v4';
const PREFIX = 'cockpit-shell-';
const CACHE = `${PREFIX}${VERSION}`;

const SHELL = [
  '/',
  '/manifest.webmanifest',
  '/static/cockpit.css',
  '/static/alerts.css',
  '/static/praise.css',
  '/static/settings.css',
  '/static/themes.css',
  '/static/cockpit.js',
  '/static/session.js',
  '/static/dom.js',
  '/static/i18n.js',
  '/static/screens.js',
  '/static/alerts.js',
  '/static/alert-state.js',
  '/static/alert-list.js',
  '/static/alert-card.js',
  '/static/alert-actions.js',
  '/static/alert-forms.js',
  '/static/alert-details.js',
  '/static/alert-figures.js',
  '/static/alert-notify.js',
  '/static/alert-bulk.js',
  '/static/alert-callback.js',
  '/static/alert-fields.js',
  '/static/alert-filters.js',
  '/static/alert-incident.js',
  '/static/alert-query.js',
  '/static/response-dialog.js',
  '/static/praise.js',
  '/static/settings.js',
  '/static/feed.js',
  '/static/barometer.js',
  '/static/journey.js',
  '/static/themes.js',
  '/static/pwa.js',
  '/static/icons/icon.svg',
  '/static/icons/icon-192.png',
  '/static/icons/icon-512.png',
  '/static/icons/icon-maskable-512.png',
];

const NEVER = /^\/(api|ws|metrics|healthz|readyz)(\/|$)/;
const isShell = (path) => path === '/' || path === '/manifest.webmanifest' || path.startsWith('/static/');
// A language's catalogue, or the one the server picks for the browser (/i18n/catalogue.json).
const isCatalogue = (path) => /^\/i18n\/[\w-]+\.json$/.test(path);

// Revalidate with the server rather than trust the browser's HTTP cache: a deploy shows at once.
const fresh = (url) => fetch(url, { cache: 'no-cache', credentials: 'same-origin' });

self.addEventListener('install', (event) => {
  // Each file on its own: one missing (404) or failing file is skipped, never the whole install.
  event.waitUntil((async () => {
    const cache = await caches.open(CACHE);
    await Promise.all(SHELL.map(async (path) => {
      try {
        const answer = await fresh(path);
        if (answer.ok) await cache.put(path, answer);
      } catch {
        // Offline while installing: whatever is missing is cached the next time the page loads it.
      }
    }));
    await self.skipWaiting();
  })());
});

self.addEventListener('activate', (event) => {
  event.waitUntil((async () => {
    const names = await caches.keys();
    await Promise.all(names.filter((n) => n.startsWith(PREFIX) && n !== CACHE).map((n) => caches.delete(n)));
    await self.clients.claim();
  })());
});

self.addEventListener('fetch', (event) => {
  const { request } = event;
  if (request.method !== 'GET') return;
  const url = new URL(request.url);
  if (url.origin !== self.location.origin || NEVER.test(url.pathname)) return;
  if (request.mode === 'navigate') {
    // "/?org_unit=store-12" is the same page: it is kept, and falls back, as "/".
    if (url.pathname === '/') event.respondWith(networkFirst(event, url.href, '/'));
    return;
  }
  if ((isShell(url.pathname) || isCatalogue(url.pathname)) && !url.search) {
    event.respondWith(networkFirst(event, url.href, url.pathname));
  }
});

/** The network's answer, stored under `key` when good; the stored copy when the network fails. */
async function networkFirst(event, url, key) {
  try {
    const answer = await fresh(url);
    if (answer.ok && answer.type === 'basic' && !answer.redirected) {
      const copy = answer.clone();
      event.waitUntil(caches.open(CACHE).then((cache) => cache.put(key, copy)));
    }
    return answer;
  } catch (err) {
    const kept = await caches.match(key, { cacheName: CACHE });
    if (kept) return kept;
    throw err;
  }
}

// A click on an alert's notification (alert-notify.js) shows the inbox: in the cockpit window already
// open, which keeps the units it watches and stays loaded (only its hash changes), or in a new window.
self.addEventListener('notificationclick', (event) => {
  event.notification.close();
  const url = new URL(event.notification.data?.url ?? '/', self.location.origin);
  event.waitUntil(showCockpit(url));
});

async function showCockpit(url) {
  const windows = await self.clients.matchAll({ type: 'window', includeUncontrolled: true });
  const cockpit = windows.find((w) => new URL(w.url).pathname === url.pathname);
  if (!cockpit) {
    await self.clients.openWindow(url.href);
    return;
  }
  const target = new URL(cockpit.url);
  target.hash = url.hash;
  // A browser may refuse the focus, and only a window this worker controls can be navigated:
  // either refusal still leaves the other step done.
  await cockpit.focus().catch(() => {});
  if (cockpit.url !== target.href) await cockpit.navigate(target.href).catch(() => {});
}
