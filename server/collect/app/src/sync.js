// The sync client of the web form: the same guarantees as sync/client/agent.py (docs/protocol.md).
// - an operation's id is made when it is queued and the operation never changes: a retry sends the same bytes;
// - transient failures (no answer, 429, 5xx, "retry" results) back off exponentially with jitter, never
//   sooner than Retry-After; the outbox is kept and the next attempt is scheduled;
// - 413 halves the batch; one operation alone over the limit stays queued and is reported;
// - 409 epoch-changed moves the sent archive back into the outbox with its original order numbers;
// - 401/403 stop without touching the outbox, and say why.
import { all, enqueue, getState, setState, transaction } from './db.js';
import { markMissing, mediaOf, uploadMedia } from './media.js';

export const PROTOCOL = 1;
const FINAL = new Set(['created', 'duplicate', 'quarantined', 'rejected', 'op-id-reused']);
const BATCH = 100;
const PAGE_BYTES = 64 * 1024;
const BACKOFF_BASE_S = 2;
const BACKOFF_CAP_S = 600;

export class Refused extends Error {
  constructor(status, problem) {
    super(problem?.detail || `HTTP ${status}`);
    this.status = status;
    this.code = problem?.code || null;
    this.problem = problem || {};
  }
}

export class Transient extends Error {
  constructor(reason, retryAfter = null) {
    super(reason);
    this.retryAfter = retryAfter;
  }
}

export function backoffDelay(attempt, retryAfter, random = Math.random) {
  const ceiling = Math.min(BACKOFF_CAP_S, BACKOFF_BASE_S * 2 ** attempt);
  return Math.max(ceiling * (0.5 + random() / 2), Number(retryAfter) || 0);
}

function uuid() {
  return crypto.randomUUID();
}

function nowText() {
  return new Date().toISOString().replace(/\.\d+Z$/, 'Z');
}

async function gzip(text) {
  const stream = new Blob([text]).stream().pipeThrough(new CompressionStream('gzip'));
  return new Response(stream).arrayBuffer();
}

async function readProblem(response) {
  try { return await response.json(); } catch { return null; }
}

/** POST a JSON body (gzipped) and return the parsed answer; throw Transient or Refused otherwise. */
export async function post(path, body, token) {
  const headers = { 'Content-Type': 'application/json', 'Accept-Encoding': 'gzip' };
  if (token) headers.Authorization = `Bearer ${token}`;
  let payload = JSON.stringify(body);
  if (typeof CompressionStream === 'function' && payload.length > 512) {
    payload = await gzip(payload);
    headers['Content-Encoding'] = 'gzip';
  }
  let response;
  try {
    response = await fetch(path, { method: 'POST', headers, body: payload, cache: 'no-store' });
  } catch (error) {
    throw new Transient(`no answer: ${error.message}`);
  }
  if (response.status === 429 || response.status >= 500) {
    throw new Transient(`server answered ${response.status}`, response.headers.get('Retry-After'));
  }
  if (!response.ok) throw new Refused(response.status, await readProblem(response));
  try {
    return await response.json();
  } catch (error) {
    throw new Transient(`unreadable answer: ${error.message}`);
  }
}

export async function enrol(code, label) {
  const answer = await post('/api/v1/devices/enroll', { protocol: PROTOCOL, code, label }, null);
  const known = await getState('epoch');
  const previous = await getState('device_id');
  await setState({
    device_id: answer.device_id, token: answer.token, epoch: known || answer.epoch,
    limits: answer.limits || {}, enrolled_at: nowText(), revoked: null,
    ...(previous ? { previous_device_id: previous } : {}),
  });
  return answer;
}

/**
 * Queue a new interview: the ODK instance XML itself (the server maps it to answers; docs/protocol.md),
 * its files named by sha256 in `blobs` (uploaded after the push), and the draft it was dropped.
 */
export async function queueInterview({ formId, version, xml, instanceId, at, files = [], draftId = null }) {
  const sub = instanceId.replace(/^uuid:/i, '').toLowerCase();
  const media = await mediaOf(files);
  const op = { id: uuid(), kind: 'create', sub, form: formId, ver: version, at: at || nowText(), xml };
  if (media.length) op.blobs = [...new Set(media.map((file) => file.sha256))];
  return enqueue(op, { media, draftId });
}

function pendingBatch(entries, size, maxBytes) {
  const ops = [];
  let bytes = 200;
  for (const entry of entries) {
    if (ops.length >= size) break;
    const opBytes = new TextEncoder().encode(JSON.stringify(entry.op)).length + 1;
    if (ops.length > 0 && bytes + opBytes > maxBytes) break;
    ops.push(entry.op);
    bytes += opBytes;
  }
  return ops;
}

async function settle(results, epoch) {
  await transaction(['outbox', 'sent', 'state'], async ({ outbox, sent, state }, done) => {
    const queued = await done(outbox.getAll());
    const byId = new Map(queued.map((entry) => [entry.op.id, entry]));
    for (const result of results) {
      const entry = byId.get(result.id);
      if (!entry || !FINAL.has(result.status)) continue;
      outbox.delete(entry.n);
      sent.put({ ...entry, result, settled_at: nowText() });
    }
    state.put(epoch, 'epoch');
  });
}

async function requeueArchive(epoch) {
  await transaction(['outbox', 'sent', 'state'], async ({ outbox, sent, state }, done) => {
    for (const entry of await done(sent.getAll())) {
      const { result, settled_at: _settled, ...queued } = entry;
      outbox.put({ ...queued, requeued_after: result?.status });
      sent.delete(entry.n);
    }
    state.put(epoch, 'epoch');
    state.put(null, 'cursor');
  });
}

async function applyPage(page) {
  await transaction(['rows', 'state', 'outbox', 'sent'], async ({ rows, state, outbox, sent }, done) => {
    const index = rows.index('bucket');
    const clear = async (bucket) => {
      for (const key of await done(index.getAllKeys(bucket))) rows.delete(key);
    };
    if (page.epoch_changed) {
      // The server was restored: re-send what it acknowledged before, in the page's transaction.
      for (const entry of await done(sent.getAll())) {
        const { result: _r, settled_at: _s, ...queued } = entry;
        outbox.put(queued);
        sent.delete(entry.n);
      }
      state.put(page.epoch, 'epoch');
    }
    for (const bucket of page.removed || []) await clear(bucket);
    for (const [bucket, changes] of Object.entries(page.buckets)) {
      if (changes.reset) await clear(bucket);
      for (const change of changes.changes || []) {
        const held = await done(rows.get([bucket, change.key]));
        if (held && held.v > change.v) continue;
        if (change.op === 'put') rows.put({ bucket, key: change.key, v: change.v, d: change.d });
        else rows.delete([bucket, change.key]);
      }
    }
    state.put(page.cursor, 'cursor');
  });
}

/**
 * One sync: push the outbox in batches through POST /api/v1/sync (each with a pull), then pull until
 * up to date. Throws Transient (caller schedules the retry) or Refused (caller explains; no retry).
 */
export async function syncOnce(report = () => {}) {
  const token = await getState('token');
  if (!token) throw new Refused(401, { code: 'not-enrolled', detail: 'This device is not enrolled.' });
  const limits = (await getState('limits')) || {};
  let size = Math.min(BATCH, limits.max_push_ops || BATCH);
  const maxBytes = (limits.max_push_bytes || 1 << 20) - 1024;
  const counts = {};
  let rounds = 0;
  for (;;) {
    rounds += 1;
    if (rounds > 10000) throw new Transient('too many rounds in one sync');
    const entries = (await all('outbox')).sort((a, b) => a.n - b.n);
    const tooLarge = (await getState('too_large')) || [];
    const sendable = entries.filter((entry) => !tooLarge.includes(entry.op.id));
    const ops = pendingBatch(sendable, size, maxBytes);
    const deviceId = await getState('device_id');
    const body = {
      push: { protocol: PROTOCOL, device_id: deviceId, epoch: await getState('epoch'), sent_at: nowText(), ops },
      pull: { protocol: PROTOCOL, device_id: deviceId, cursor: await getState('cursor'),
        max_bytes: PAGE_BYTES, sent_at: nowText() },
    };
    let answer;
    try {
      answer = await post('/api/v1/sync', body, token);
    } catch (error) {
      if (error instanceof Refused && error.status === 413) {
        if (ops.length <= 1) {
          // One interview alone is over the limit: it stays queued, and a person must look at it.
          await setState({ too_large: [...tooLarge, ...ops.map((op) => op.id)] });
          continue;
        }
        size = Math.max(1, Math.floor(ops.length / 2));
        continue;
      }
      if (error instanceof Refused && error.status === 409 && error.code === 'epoch-changed') {
        await requeueArchive(error.problem.epoch);
        continue;
      }
      if (error instanceof Refused && error.status === 400 && error.code === 'cursor-invalid') {
        await setState({ cursor: null });
        continue;
      }
      if (error instanceof Refused && (error.code === 'device-revoked' || error.code === 'token-invalid')) {
        await setState({ revoked: { code: error.code, at: nowText() } });
      }
      throw error;
    }
    const results = answer.push.results || [];
    await settle(results, answer.push.epoch);
    await markMissing(results.flatMap((result) => result.missing_blobs || []));
    await applyPage(answer.pull);
    for (const result of results) counts[result.status] = (counts[result.status] || 0) + 1;
    await setState({ clock_skew_s: answer.push.skew_s, revoked: null });
    report({ counts });
    const retry = results.find((result) => result.status === 'retry');
    if (retry) throw new Transient('the server asked to retry an operation', retry.retry_after);
    const remaining = (await all('outbox')).filter((entry) => !tooLarge.includes(entry.op.id)).length;
    if (remaining === 0 && !answer.pull.has_more) break;
  }
  await uploadMedia(token);
  await setState({ last_sync_at: nowText(), attempt: 0 });
  return counts;
}
