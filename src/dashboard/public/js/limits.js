// The forms' limits, shown before submitting: read from the service's own OpenAPI document
// (/docs-json, public), whose request schemas carry every bound the operator configured. An
// input names its field with `data-schema="<kind>:<path>"` (`crawl:maxPages`, `fibonacci:range.from`).

import { fmt } from './format.js';

/** The request body schema of `POST /<kind>`, or undefined. */
function bodyOf(doc, kind) {
  const schema = doc?.paths?.[`/${kind}`]?.post?.requestBody?.content?.['application/json']?.schema;
  return resolve(doc, schema);
}

function resolve(doc, schema) {
  const ref = schema?.$ref;
  if (typeof ref !== 'string' || !ref.startsWith('#/')) return schema;
  return ref
    .slice(2)
    .split('/')
    .reduce((node, part) => node?.[part], doc);
}

function fieldOf(doc, body, path) {
  let node = body;
  for (const part of path.split('.')) node = resolve(doc, node?.properties?.[part]);
  return node;
}

const range = (min, max) => (min !== undefined && max !== undefined ? `${fmt(min)}–${fmt(max)}` : max !== undefined ? `≤ ${fmt(max)}` : min !== undefined ? `≥ ${fmt(min)}` : '');

/** What to show next to a field, and the attributes to give its input. */
function describe(field) {
  if (!field) return undefined;
  if (field.type === 'array') {
    const item = field.items ?? {};
    const each = range(item.minimum, item.maximum);
    const count = field.maxItems !== undefined ? `up to ${fmt(field.maxItems)}` : '';
    return { text: [count, each && `each ${each}`].filter(Boolean).join(', ') };
  }
  if (field.type === 'integer' || field.type === 'number') {
    return { text: range(field.minimum, field.maximum), min: field.minimum, max: field.maximum, placeholder: field.default };
  }
  if (field.type === 'string' && field.maxLength !== undefined) return { text: `≤ ${fmt(field.maxLength)} chars`, maxLength: field.maxLength };
  if (field.type === 'object' && field.maxProperties !== undefined) return { text: `up to ${fmt(field.maxProperties)}` };
  return undefined;
}

/** Fills each `data-schema` input's hint (`#<id>-limit`) and bounds; a missing document changes nothing. */
export async function showLimits(root = document) {
  let doc;
  try {
    const res = await fetch('docs-json', { headers: { Accept: 'application/json' }, cache: 'no-store' });
    if (!res.ok) return;
    doc = await res.json();
  } catch {
    return;
  }
  for (const input of root.querySelectorAll('[data-schema]')) {
    const [kind, path] = input.dataset.schema.split(':');
    const limit = describe(fieldOf(doc, bodyOf(doc, kind), path));
    if (!limit) continue;
    if (limit.min !== undefined) input.min = String(limit.min);
    if (limit.max !== undefined) input.max = String(limit.max);
    if (limit.maxLength !== undefined) input.maxLength = limit.maxLength;
    if (limit.placeholder !== undefined) input.placeholder = String(limit.placeholder);
    const hint = document.getElementById(`${input.id}-limit`);
    if (hint && limit.text) {
      hint.textContent = `(${limit.text})`;
      hint.dataset.schema = input.dataset.schema;
    }
  }
}
