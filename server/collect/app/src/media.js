// The files of an interview (photos, recordings, documents): named in the operation by sha256
// (`blobs`) and uploaded separately in resumable chunks (docs/protocol.md step 9), as sync/client does.
// They wait in IndexedDB's `media` store; a chunk the server committed is never sent again, and an
// upload cut on 2G resumes from the server's offset (HEAD) on the next sync.
import { all, transaction } from './db.js';
import { Refused, Transient } from './sync.js';

const CHUNK_BYTES = 256 * 1024;

function hex(buffer) {
  return [...new Uint8Array(buffer)].map((b) => b.toString(16).padStart(2, '0')).join('');
}

/** Describe the engine's files for the outbox: ``[{sha256, name, type, size, blob, uploaded: false}]``. */
export async function mediaOf(files) {
  const out = [];
  for (const file of files) {
    const sha256 = hex(await crypto.subtle.digest('SHA-256', await file.blob.arrayBuffer()));
    out.push({ sha256, name: file.name, type: file.type, size: file.blob.size, blob: file.blob,
      uploaded: false, refused: null });
  }
  return out;
}

async function call(url, options, token) {
  let response;
  try {
    response = await fetch(url, { ...options, cache: 'no-store',
      headers: { ...(options.headers || {}), Authorization: `Bearer ${token}` } });
  } catch (error) {
    throw new Transient(`no answer: ${error.message}`);
  }
  if (response.status === 429 || response.status >= 500) {
    throw new Transient(`server answered ${response.status}`, response.headers.get('Retry-After'));
  }
  return response;
}

async function problemOf(response) {
  try { return await response.json(); } catch { return null; }
}

async function mark(sha256, change) {
  await transaction(['media'], async ({ media }, done) => {
    const held = await done(media.get(sha256));
    if (held) media.put({ ...held, ...change });
  });
}

/** Mark files the server says it lacks (after a restore) as to be uploaded again. */
export async function markMissing(hashes) {
  for (const sha256 of hashes) await mark(sha256, { uploaded: false });
}

async function upload(file, token) {
  const url = `/api/v1/blobs/${file.sha256}`;
  const declared = await call('/api/v1/blobs', {
    method: 'POST', headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ sha256: file.sha256, size: file.size, content_type: file.type }),
  }, token);
  if (declared.status === 200) return;
  if (declared.status !== 201) throw new Refused(declared.status, await problemOf(declared));
  let offset = Number(declared.headers.get('Upload-Offset') || 0);
  while (offset < file.size) {
    const chunk = file.blob.slice(offset, offset + CHUNK_BYTES);
    const sent = await call(url, {
      method: 'PATCH', body: chunk,
      headers: { 'Content-Type': 'application/offset+octet-stream', 'Upload-Offset': String(offset) },
    }, token);
    if (sent.status === 204) {
      offset = Number(sent.headers.get('Upload-Offset'));
    } else if (sent.status === 409) {
      // The answer to an earlier chunk was lost: ask where the server is and carry on from there.
      const head = await call(url, { method: 'HEAD' }, token);
      offset = Number(head.headers.get('Upload-Offset') || 0);
    } else if (sent.status === 422) {
      offset = 0; // blob-hash-mismatch: the server dropped the bytes; start again
      throw new Transient('the file arrived damaged; it will be sent again');
    } else {
      throw new Refused(sent.status, await problemOf(sent));
    }
  }
}

/** Upload every file not yet on the server; a refused file (type, size) is kept and marked, not retried. */
export async function uploadMedia(token) {
  for (const file of await all('media')) {
    if (file.uploaded || file.refused) continue;
    try {
      await upload(file, token);
      await mark(file.sha256, { uploaded: true });
    } catch (error) {
      if (!(error instanceof Refused) || [401, 403].includes(error.status)) throw error;
      await mark(file.sha256, { refused: error.code || String(error.status) });
    }
  }
}
