// The open form's engine, reached from outside ODK Web Forms 0.22. The <OdkWebForm> component hands
// the instance over only when its own Send is pressed on a valid form, and exposes nothing else: no
// instance on change, no draft, and an English "Send" button and error banner (it has no translation
// mechanism; 0.24's covers en/es/fr/id, not vi). The engine itself (@getodk/xforms-engine) has what Ferry
// needs on its form root: `instanceState.instanceXML` (the instance as it stands, valid or not),
// `validationState.violations` and `prepareInstancePayload()` (the XML and the instance's files). The
// component passes that root as a prop to its own children; a global mixin picks it up there by its
// shape (an object with those members), not by a component or prop name, so it survives their renames.
import { markRaw, shallowRef } from 'vue';

/** The root node of the form on screen (null when none is). */
export const formRoot = shallowRef(null);

function isFormRoot(value) {
  return value !== null && typeof value === 'object' && typeof value.prepareInstancePayload === 'function'
    && value.instanceState !== undefined && value.validationState !== undefined;
}

/** Install the mixin that finds the form root among the props of ODK Web Forms' components. */
export function watchFormRoot(app) {
  app.mixin({
    beforeMount() {
      for (const value of Object.values(this.$props || {})) {
        if (isFormRoot(value) && formRoot.value !== value) formRoot.value = markRaw(value);
      }
    },
  });
}

/** The instance XML as it stands now (half-filled, possibly invalid): what a draft keeps. */
export function currentXml(root) {
  return root.instanceState.instanceXML;
}

function walk(node, visit) {
  visit(node);
  for (const child of node.currentState?.children || []) walk(child, visit);
}

/**
 * What stops the interview from being sent: one entry per question, with its label as the form gives it
 * and the form's own message (null when the form has none and the engine's English default would show).
 */
export function violationsOf(root) {
  const violations = root.validationState.violations;
  if (!violations.length) return [];
  const labels = new Map();
  walk(root, (node) => labels.set(node.nodeId, node.currentState?.label?.asString || ''));
  return violations.map(({ nodeId, violation }) => ({
    label: labels.get(nodeId) || '',
    condition: violation.condition,
    message: violation.message?.origin === 'form' ? violation.message.asString : null,
  }));
}

/** The instance XML and its files (photos, recordings…) as the engine hands them over on Send. */
export async function instancePayload(root) {
  const payload = await root.prepareInstancePayload({ payloadType: 'monolithic' });
  const files = [];
  let xml = null;
  for (const [name, value] of payload.data[0].entries()) {
    if (name === 'xml_submission_file') xml = await value.text();
    else if (value instanceof Blob) files.push({ name, type: value.type || 'application/octet-stream', blob: value });
  }
  if (xml === null) throw new Error('ODK Web Forms produced no instance XML');
  return { xml, files, ready: payload.status === 'ready' };
}
