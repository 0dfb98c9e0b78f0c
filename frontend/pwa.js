// Registers the service worker that lets the cockpit open without a network (sw.js, docs/pwa.md).
// A browser without service workers, or a failed registration, leaves an ordinary online page.

if ('serviceWorker' in navigator) {
  navigator.serviceWorker
    .register('/sw.js', { scope: '/' })
    .catch((err) => console.warn(`The cockpit will not open offline: no service worker (${err.message}).`));
}
