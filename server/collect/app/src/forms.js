// The form versions the device holds (from the "forms" bucket) and their files, kept in IndexedDB so an
// interview can start after days without network. Requests carry the device token; the service worker
// also caches them by URL.
import { getFile, getState, putFile, rowsOf } from './db.js';

async function download(url, token, as = 'text') {
  const response = await fetch(url, { headers: { Authorization: `Bearer ${token}` } });
  if (!response.ok) throw new Error(`${url}: HTTP ${response.status}`);
  return as === 'json' ? response.json() : response.text();
}

export async function formVersions() {
  const rows = await rowsOf('forms');
  return rows.map((row) => row.d).filter((d) => d.state === 'open')
    .sort((a, b) => a.form_id.localeCompare(b.form_id) || b.version.localeCompare(a.version));
}

/** Download what the device lacks of each open form version: its XForm and its attachments. */
export async function prefetchForms() {
  const token = await getState('token');
  for (const version of await formVersions()) {
    const held = await getFile(`${version.url}/xform`);
    if (held?.hash !== version.content_hash) {
      const xml = await download(`${version.url}/xform`, token);
      await putFile(`${version.url}/xform`, { hash: version.content_hash, text: xml });
    }
    for (const attachment of version.attachments || []) {
      const file = await getFile(attachment.url);
      if (file?.hash !== attachment.sha256) {
        await putFile(attachment.url, { hash: attachment.sha256, text: await download(attachment.url, token) });
      }
    }
  }
}

/** True when the version's XForm and attachments are on the device: it can be filled with no network. */
export async function heldOffline(version) {
  if ((await getFile(`${version.url}/xform`))?.hash !== version.content_hash) return false;
  for (const attachment of version.attachments || []) {
    if ((await getFile(attachment.url))?.hash !== attachment.sha256) return false;
  }
  return true;
}

export async function xformOf(version) {
  const held = await getFile(`${version.url}/xform`);
  if (held) return held.text;
  await prefetchForms();
  return (await getFile(`${version.url}/xform`)).text;
}

export async function definitionOf(formId, ver) {
  const version = (await rowsOf('forms')).map((row) => row.d)
    .find((d) => d.form_id === formId && d.version === ver);
  const url = version?.url || `/api/v1/forms/${encodeURIComponent(formId)}/versions/${encodeURIComponent(ver)}`;
  const held = await getFile(url);
  if (held) return held.json;
  // Needed only to name the question of a quarantined interview: fetched when such a result arrives.
  try {
    const json = await download(url, await getState('token'), 'json');
    await putFile(url, { hash: json.content_hash, json });
    return json;
  } catch {
    return null; // offline, or the version is gone: the reason is shown without the question's label
  }
}

/** The engine asks for jr://file/<name>: answer from the version's attachments held on the device. */
export function attachmentFetcher(version) {
  return async (resource) => {
    const name = decodeURIComponent(String(resource.href || resource).split('/').pop());
    const attachment = (version.attachments || []).find((a) => a.filename === name);
    const held = attachment ? await getFile(attachment.url) : null;
    if (!held) return new Response('', { status: 404 });
    const type = name.endsWith('.csv') ? 'text/csv' : 'application/octet-stream';
    return new Response(held.text, { status: 200, headers: { 'Content-Type': type } });
  };
}
