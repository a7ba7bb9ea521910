// Ferry's service worker (built by vite.config.js, which fills in the shell and its version).
// The app shell is served from the cache first, so the app opens with no network at all; the forms,
// their media and the places are fetched from the network when it answers and from the cache when not.
const SHELL = __SHELL__;
const VERSION = __VERSION__;
const SHELL_CACHE = `ferry-shell-${VERSION}`;
const DATA_CACHE = 'ferry-data-v1';
const SCOPE = new URL(self.registration.scope);
const DATA = [
  /^\/api\/v1\/forms\/[^/]+\/versions\/[^/]+(\/xform|\/attachments\/[^/]+)?$/,
  /^\/api\/v1\/places$/,
];

self.addEventListener('install', (event) => {
  event.waitUntil((async () => {
    const cache = await caches.open(SHELL_CACHE);
    await cache.addAll(SHELL.map((path) => new URL(path, SCOPE).href));
    await self.skipWaiting();
  })());
});

self.addEventListener('activate', (event) => {
  event.waitUntil((async () => {
    for (const name of await caches.keys()) {
      if (name.startsWith('ferry-shell-') && name !== SHELL_CACHE) await caches.delete(name);
    }
    await self.clients.claim();
  })());
});

async function shellFirst(request) {
  const cache = await caches.open(SHELL_CACHE);
  const key = request.mode === 'navigate' ? new URL('./', SCOPE).href : request;
  const hit = await cache.match(key, { ignoreSearch: request.mode === 'navigate' });
  return hit || fetch(request);
}

async function networkThenCache(request) {
  const cache = await caches.open(DATA_CACHE);
  try {
    const response = await fetch(request);
    if (response.ok) await cache.put(request, response.clone());
    return response;
  } catch (error) {
    // Cached per URL: a form version's content never changes (its ETag is its content hash).
    const hit = await cache.match(request, { ignoreVary: true });
    if (hit) return hit;
    throw error;
  }
}

self.addEventListener('fetch', (event) => {
  const { request } = event;
  if (request.method !== 'GET') return;
  const url = new URL(request.url);
  if (url.origin !== SCOPE.origin) return;
  if (url.pathname.startsWith(SCOPE.pathname) && !url.pathname.endsWith('/sw.js')) {
    event.respondWith(shellFirst(request));
  } else if (DATA.some((pattern) => pattern.test(url.pathname))) {
    event.respondWith(networkThenCache(request));
  }
});
