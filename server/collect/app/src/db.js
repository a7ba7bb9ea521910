// The device's database (IndexedDB), the web twin of sync/client/outbox.py:
//   state   key -> value: device_id, token, epoch, cursor, limits, next_n, last_sync_at, language...
//   outbox  operations not yet settled, keyed by their local order number n
//   sent    the sent archive: settled operations with their result (re-pushed after an epoch change)
//   rows    what the pulls brought, keyed [bucket, key]: {bucket, key, v, d}
//   files   the XForms and attachments of the form versions, keyed by URL, for days without network
// Every change that must be atomic (settling a push, applying a page) is one IndexedDB transaction.
const NAME = 'ferry-collect';
const STORES = ['state', 'outbox', 'sent', 'rows', 'files'];

let opening = null;

export function openDb() {
  opening ??= new Promise((resolve, reject) => {
    const request = indexedDB.open(NAME, 1);
    request.onupgradeneeded = () => {
      const db = request.result;
      db.createObjectStore('state');
      db.createObjectStore('outbox', { keyPath: 'n' });
      db.createObjectStore('sent', { keyPath: 'n' });
      const rows = db.createObjectStore('rows', { keyPath: ['bucket', 'key'] });
      rows.createIndex('bucket', 'bucket');
      db.createObjectStore('files');
    };
    request.onsuccess = () => resolve(request.result);
    request.onerror = () => reject(request.error);
  });
  return opening;
}

const done = (request) => new Promise((resolve, reject) => {
  request.onsuccess = () => resolve(request.result);
  request.onerror = () => reject(request.error);
});

/** Run ``work(stores)`` in one read-write transaction over ``names``; resolve when it commits. */
export async function transaction(names, work, mode = 'readwrite') {
  const db = await openDb();
  const tx = db.transaction(names, mode);
  const stores = Object.fromEntries(names.map((name) => [name, tx.objectStore(name)]));
  const committed = new Promise((resolve, reject) => {
    tx.oncomplete = resolve;
    tx.onerror = () => reject(tx.error);
    tx.onabort = () => reject(tx.error || new Error('transaction aborted'));
  });
  let result;
  try {
    result = await work(stores, done);
  } catch (error) {
    try { tx.abort(); } catch { /* already finished */ }
    throw error;
  }
  await committed;
  return result;
}

export const read = (names, work) => transaction(names, work, 'readonly');

export async function getState(key) {
  return read(['state'], ({ state }) => done(state.get(key)));
}

export async function setState(values) {
  return transaction(['state'], ({ state }) => {
    for (const [key, value] of Object.entries(values)) state.put(value, key);
  });
}

export async function all(storeName) {
  return read([storeName], (stores) => done(stores[storeName].getAll()));
}

export async function rowsOf(bucketPrefix) {
  const rows = await all('rows');
  return rows.filter((row) => row.bucket === bucketPrefix || row.bucket.startsWith(`${bucketPrefix}:`));
}

export async function getFile(url) {
  return read(['files'], ({ files }) => done(files.get(url)));
}

export async function putFile(url, value) {
  return transaction(['files'], ({ files }) => { files.put(value, url); });
}

/** Queue one operation: give it the next local order number, in the same transaction. */
export async function enqueue(op) {
  return transaction(['state', 'outbox'], async ({ state, outbox }) => {
    const n = ((await done(state.get('next_n'))) || 0) + 1;
    state.put(n, 'next_n');
    const queued = { ...op, n };
    outbox.put({ n, op: queued, queued_at: new Date().toISOString() });
    return queued;
  });
}
