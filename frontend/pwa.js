// Registers the service worker that lets the cockpit open without a network (sw.js, docs/pwa.md).
// A browser without service workers, or a failed registration, leaves an ordinary online page.
// Registered once the page has loaded: its precaching must not compete with the first comments.

function register() {
  navigator.serviceWorker
    .register('/sw.js', { scope: '/' })
    .catch((err) => console.warn(`The cockpit will not open offline: no service worker (${err.message}).`));
}

if ('serviceWorker' in navigator) {
  if (document.readyState === 'complete') register();
  else window.addEventListener('load', register, { once: true });
}
