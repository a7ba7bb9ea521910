// Interviews begun and not yet sent, kept in IndexedDB so a reload, a closed tab or a restarted phone
// loses nothing. A draft is the engine's instance XML as it stood (valid or not) and the instance's
// files; reopening hands both back to ODK Web Forms through its `editInstance` prop, which restores
// every answer (the engine gives the reopened instance a new instanceID and keeps the old one as
// meta/deprecatedID; the server reads a `create` by its instanceID, so that changes nothing there).
import { all, read, transaction } from './db.js';

/** Save (or replace) a draft: ``{id, form, ver, title, xml, files: [{name, type, blob}], started_at}``. */
export async function saveDraft(draft) {
  const saved = { ...draft, saved_at: new Date().toISOString() };
  await transaction(['drafts'], ({ drafts }) => { drafts.put(saved); });
  return saved;
}

export async function listDrafts() {
  return (await all('drafts')).sort((a, b) => b.saved_at.localeCompare(a.saved_at));
}

export async function getDraft(id) {
  return read(['drafts'], ({ drafts }, done) => done(drafts.get(id)));
}

export async function deleteDraft(id) {
  await transaction(['drafts'], ({ drafts }) => { drafts.delete(id); });
}

/** The `editInstance` options that make ODK Web Forms reopen ``draft`` with its answers and files. */
export function editOptions(draft) {
  const files = new Map((draft.files || []).map((file) => [file.name, file]));
  return {
    resolveInstance: () => draft.xml,
    attachmentFileNames: [...files.keys()],
    resolveAttachment: async (name) => {
      const file = files.get(name);
      if (!file) return new Response('', { status: 404 });
      return new Response(file.blob, { status: 200, headers: { 'Content-Type': file.type } });
    },
  };
}
