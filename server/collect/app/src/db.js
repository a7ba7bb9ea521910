// The device's database (IndexedDB), the web twin of sync/client/outbox.py:
//   state   key -> value: device_id, token, epoch, cursor, limits, next_n, last_sync_at, language...
//   outbox  operations not yet settled, keyed by their local order number n
//   sent    the sent archive: settled operations with their result (re-pushed after an epoch change)
//   rows    what the pulls brought, keyed [bucket, key]: {bucket, key, v, d}
//   files   the XForms and attachments of the form versions, keyed by URL, for days without network
//   drafts  interviews begun and not yet sent, keyed by a draft id: the instance XML as it stood, its files
//   media   the files (photos, recordings) of queued and sent interviews, keyed by sha256, until uploaded
// Every change that must be atomic (settling a push, applying a page, a draft becoming an operation) is
// one IndexedDB transaction.
const NAME = 'ferry-collect';
const VERSION = 2;

let opening = null;

export function openDb() {
  opening ??= new Promise((resolve, reject) => {
    const request = indexedDB.open(NAME, VERSION);
    request.onupgradeneeded = (event) => {
      const db = request.result;
      if (event.oldVersion < 1) {
        db.createObjectStore('state');
        db.createObjectStore('outbox', { keyPath: 'n' });
        db.createObjectStore('sent', { keyPath: 'n' });
        const rows = db.createObjectStore('rows', { keyPath: ['bucket', 'key'] });
        rows.createIndex('bucket', 'bucket');
        db.createObjectStore('files');
      }
      if (event.oldVersion < 2) {
        db.createObjectStore('drafts', { keyPath: 'id' });
        db.createObjectStore('media', { keyPath: 'sha256' });
      }
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

/**
 * Queue one operation: give it the next local order number, keep its files, and drop the draft it was
 * (if any), all in one transaction: an interview is a draft or queued, never both and never neither.
 */
export async function enqueue(op, { media = [], draftId = null } = {}) {
  return transaction(['state', 'outbox', 'media', 'drafts'], async (stores) => {
    const n = ((await done(stores.state.get('next_n'))) || 0) + 1;
    stores.state.put(n, 'next_n');
    const queued = { ...op, n };
    stores.outbox.put({ n, op: queued, queued_at: new Date().toISOString() });
    for (const file of media) stores.media.put(file);
    if (draftId) stores.drafts.delete(draftId);
    return queued;
  });
}
