// Drive ODK's own XForms engine (@getodk/xforms-engine, the engine behind ODK
// Web Forms) over a batch of answer sets, so Ferry's validation verdicts can be
// compared with ODK's.
//
// stdin:  JSON Lines (or one JSON document), each
//           {"xform": "<xml>", "cases": [{"id": ..., "answers": {"/data/q": v}}],
//            "attachments": {"communes.csv": "<csv text>"}}   // optional
// stdout: one JSON line per input document: {"cases": [<case result>, ...]}
//         (the case result format is documented in odk_engine.py), or {"error": message}
//         when that document failed.
// Errors loading a form or reading input go to stderr with a non-zero exit.
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const require = createRequire(path.join(here, 'package.json'));

// The engine bundles web-tree-sitter (its XPath parser), whose Emscripten loader
// takes a Node branch that uses CommonJS `require` and `__dirname`; neither
// exists in an ES module, so provide them before the engine is imported.
globalThis.require = require;
globalThis.__dirname = path.dirname(require.resolve('@getodk/xforms-engine'));

// The engine parses XForms and evaluates XPath against a browser DOM.
const { JSDOM } = require('jsdom');
const { window } = new JSDOM('<!doctype html><html><body></body></html>');
globalThis.window = window;
for (const name of [
  'document', 'DOMParser', 'XMLSerializer', 'Node', 'Element', 'XPathResult', 'Document',
  'NodeFilter', 'XMLDocument', 'Attr', 'Text', 'Comment',
]) {
  globalThis[name] = window[name];
}

// stdout carries only our JSON: anything the engine logs goes to stderr.
for (const level of ['log', 'info', 'warn', 'debug']) {
  console[level] = (...args) => console.error(...args);
}

const { loadForm } = await import('@getodk/xforms-engine');

const CONTENT_TYPES = { csv: 'text/csv', xml: 'text/xml', geojson: 'application/geo+json' };

// Form attachments (jr://file-csv/x.csv, jr://file/x.xml) are served from the
// input's "attachments" map, keyed by file name; anything else is a 404.
const attachmentFetcher = (attachments) => async (url) => {
  const name = decodeURIComponent(url.href.split('/').pop());
  if (!Object.hasOwn(attachments, name)) {
    return new Response('', { status: 404 });
  }
  const ext = name.split('.').pop().toLowerCase();
  const headers = CONTENT_TYPES[ext] ? { 'content-type': CONTENT_TYPES[ext] } : {};
  return new Response(attachments[name], { status: 200, headers });
};

// "/data/r[1]/q" and "/data/r/q" name the same node: an omitted repeat index
// means the first instance.
const canonical = (ref) => ref.replace(/\[1\]/g, '');

const children = (node) => node.currentState.children ?? [];

const isLeaf = (node) => node.currentState.children === null;

// Repeat ranges whose instances the client adds (no jr:count).
const isUserRepeat = (node) => node.nodeType === 'repeat-range:uncontrolled';

// How many instances the answers ask of a repeat range: an explicit count
// given as the range's own path ({"/data/r": 3}), else the highest index used
// under it ({"/data/r[3]/q": ...}).
const wantedInstances = (range, answers) => {
  const ref = canonical(range.currentState.reference);
  if (Object.hasOwn(answers, ref)) {
    return { count: Number(answers[ref]), exact: true };
  }
  let count = 0;
  const prefix = `${ref}[`;
  for (const key of Object.keys(answers)) {
    const k = canonical(key);
    if (k.startsWith(prefix)) {
      count = Math.max(count, Number.parseInt(k.slice(prefix.length), 10));
    } else if (k.startsWith(`${ref}/`)) {
      count = Math.max(count, 1);
    }
  }
  return { count, exact: false };
};

const sizeRepeat = (range, answers) => {
  const { count, exact } = wantedInstances(range, answers);
  const have = children(range).length;
  if (count > have) {
    range.addInstances(have - 1, count - have);
  } else if (exact && count < have) {
    range.removeInstances(count, have - count);
  }
};

const asList = (value) => {
  if (value === null || value === undefined) return [];
  if (Array.isArray(value)) return value.map(String);
  return String(value).split(/\s+/).filter((v) => v !== '');
};

// Set one leaf; returns a reason string when the answer was not taken as given.
const setLeaf = (node, value) => {
  switch (node.nodeType) {
    case 'input':
    case 'range': {
      const text = value === null || value === undefined ? '' : String(value);
      node.setValue(text);
      // The engine's int/decimal/date codecs store text they cannot parse (or
      // an out-of-range int) as blank rather than flagging it.
      if (text.trim() !== '' && node.currentState.instanceValue === '') {
        return `stored blank: not a valid ${node.valueType}`;
      }
      return null;
    }
    case 'upload':
      // Only the file name matters for validation; the content is empty.
      node.setValue(value ? new File([], String(value)) : null);
      return null;
    case 'select': {
      const wanted = asList(value);
      if (node.selectType === 'select1') {
        if (wanted.length > 1) return `select_one given ${wanted.length} values`;
        node.selectValue(wanted[0] ?? null);
      } else {
        node.selectValues(wanted);
      }
      // The engine silently drops values that are not among the current
      // (possibly choice_filter-ed) options: report them.
      const missing = wanted.filter((v) => !node.isSelected(v));
      return missing.length ? `not an available choice: ${missing.join(' ')}` : null;
    }
    case 'rank':
      node.setValues(asList(value));
      return null;
    case 'trigger':
      node.setValue(value === true || value === 'OK');
      return null;
    default:
      return `not settable (${node.nodeType})`;
  }
};

// One pass over the tree in document order, setting each pending answer whose
// node is relevant and not read-only. Returns how many answers were set.
const applyPass = (node, answers, pending, notes) => {
  let applied = 0;
  if (isUserRepeat(node)) sizeRepeat(node, answers);
  for (const child of children(node)) {
    if (!isLeaf(child)) {
      applied += applyPass(child, answers, pending, notes);
      continue;
    }
    const key = canonical(child.currentState.reference);
    if (!pending.has(key)) continue;
    if (!child.currentState.relevant) {
      notes.set(key, 'not relevant');
      continue;
    }
    if (child.currentState.readonly) {
      notes.set(key, 'read-only');
      continue;
    }
    pending.delete(key);
    applied += 1;
    try {
      const reason = setLeaf(child, answers[key]);
      if (reason) notes.set(key, reason);
      else notes.delete(key);
    } catch (err) {
      notes.set(key, `engine error: ${err?.message ?? err}`);
    }
  }
  return applied;
};

const jsonValue = (value) => {
  if (value === null || value === undefined) return null;
  if (typeof value === 'bigint') return value.toString();
  if (Array.isArray(value)) return value.map(jsonValue);
  if (typeof value === 'object') return String(value); // Temporal dates, geopoints...
  return value;
};

const report = (node, out) => {
  for (const child of children(node)) {
    const state = child.currentState;
    const entry = { type: child.nodeType, relevant: state.relevant };
    if (isLeaf(child)) {
      const violation = child.validationState.violation;
      Object.assign(entry, {
        value_type: child.valueType ?? null,
        // The value as it would be serialised in the instance (and seen by XPath).
        value: state.instanceValue ?? null,
        required: state.required,
        readonly: state.readonly,
        // The engine reports at most one violation: constraint applies only to
        // non-blank values, required only to blank ones.
        constraint_violated: violation?.condition === 'constraint',
        required_violated: violation?.condition === 'required',
      });
      if (child.nodeType === 'select' || child.nodeType === 'rank') {
        entry.selected = jsonValue(state.value);
      }
    } else {
      entry.constraint_violated = false;
      entry.required_violated = false;
    }
    out[state.reference] = entry;
    if (!isLeaf(child)) report(child, out);
  }
  return out;
};

const runCase = async (form, testCase) => {
  const { root } = form.createInstance();
  const answers = {};
  for (const [key, value] of Object.entries(testCase.answers ?? {})) {
    answers[canonical(key)] = value;
  }
  const pending = new Set(Object.keys(answers));
  const notes = new Map();
  // Relevance can depend on answers later in the document, so retry answers
  // skipped as non-relevant until a pass sets nothing new.
  for (let pass = 0; pass < 10 && pending.size > 0; pass += 1) {
    if (applyPass(root, answers, pending, notes) === 0) break;
  }
  const nodes = report(root, {});
  const ranges = new Set(
    Object.entries(nodes)
      .filter(([, n]) => n.type.startsWith('repeat-range'))
      .map(([ref]) => canonical(ref)),
  );
  for (const key of pending) {
    if (ranges.has(key)) notes.delete(key); // an instance count, not an answer
    else if (!notes.has(key)) notes.set(key, 'no such question');
  }
  const payload = await root.prepareInstancePayload();
  const file = payload.data[0].get('xml_submission_file');
  return {
    id: testCase.id ?? null,
    nodes,
    violations: root.validationState.violations.map((v) => ({
      path: v.reference,
      condition: v.violation.condition,
    })),
    unapplied: Object.fromEntries(notes),
    instance_xml: await file.text(),
  };
};

const runDocument = async (doc) => {
  if (typeof doc?.xform !== 'string') throw new Error('input document has no "xform" string');
  const form = await loadForm(doc.xform, {
    fetchFormAttachment: attachmentFetcher(doc.attachments ?? {}),
  });
  if (form.status === 'failure') {
    throw new Error(`ODK engine could not load the form: ${form.error?.message ?? form.error}`);
  }
  const cases = [];
  for (const testCase of doc.cases ?? []) cases.push(await runCase(form, testCase));
  return { cases };
};

const readStdin = async () => {
  const chunks = [];
  for await (const chunk of process.stdin) chunks.push(chunk);
  return Buffer.concat(chunks).toString('utf8');
};

const parseInput = (text) => {
  try {
    return [JSON.parse(text)];
  } catch {
    return text.split('\n').filter((line) => line.trim() !== '').map((line) => JSON.parse(line));
  }
};

// A document that fails (the form does not load, a case throws) yields {"error": message}
// on its line, its stack on stderr and a non-zero exit; the next documents still run.
try {
  for (const doc of parseInput(await readStdin())) {
    let out;
    try {
      out = await runDocument(doc);
    } catch (err) {
      console.error(err?.stack ?? String(err));
      process.exitCode = 1;
      out = { error: String(err?.message ?? err) };
    }
    process.stdout.write(`${JSON.stringify(out)}\n`);
  }
} catch (err) {
  console.error(err?.stack ?? String(err));
  process.exitCode = 1;
}
