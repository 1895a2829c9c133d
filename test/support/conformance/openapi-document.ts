import { createHash } from 'node:crypto';
import Ajv, { type ErrorObject, type ValidateFunction } from 'ajv';
import addFormats from 'ajv-formats';

/** One documented response: by media type, its schema (absent for text bodies such as SSE or CSV). */
type Content = Record<string, { schema?: object }>;
interface Operation {
  responses: Record<string, { content?: Content }>;
}
export interface OpenApiDoc {
  paths: Record<string, Record<string, Operation>>;
  components?: { schemas?: Record<string, unknown> };
}

/** A route template of the document, as a matcher. */
interface Route {
  template: string;
  pattern: RegExp;
  methods: Record<string, Operation>;
}

/**
 * The OpenAPI document of one service, compiled for checking responses. Schemas compile on first
 * use and once per distinct document (instances with the same settings share them), so a suite of
 * thousands of responses pays for each schema once.
 */
export class CompiledDocument {
  private readonly routes: Route[];
  private readonly ajv: Ajv;
  private readonly validators = new Map<string, ValidateFunction>();

  constructor(readonly doc: OpenApiDoc) {
    this.ajv = new Ajv({ strict: false, allErrors: true, discriminator: true });
    addFormats(this.ajv);
    this.ajv.addSchema(toJsonSchema(doc) as object, 'openapi.json');
    // Literal segments before templated ones, so /jobs/search is not taken for /jobs/{id}.
    this.routes = Object.entries(doc.paths)
      .map(([template, methods]) => ({
        template,
        methods,
        pattern: new RegExp(
          `^${template
            .split(/\{[^}]+\}/)
            .map(escapeRegExp)
            .join('[^/]+')}$`,
        ),
      }))
      .sort((a, b) => templatedSegments(a.template) - templatedSegments(b.template));
  }

  route(path: string): Route | undefined {
    return this.routes.find((route) => route.pattern.test(path));
  }

  /** The validator of the schema at `pointer` (a JSON pointer into the document). */
  validator(pointer: string): ValidateFunction {
    let validate = this.validators.get(pointer);
    if (!validate) {
      validate = this.ajv.compile({ $ref: `openapi.json#${pointer}` });
      this.validators.set(pointer, validate);
    }
    return validate;
  }
}

const compiled = new Map<string, CompiledDocument>();

/** The compiled document for this text, compiled once per distinct text. */
export function compile(text: string): CompiledDocument {
  const hash = createHash('sha256').update(text).digest('hex');
  let doc = compiled.get(hash);
  if (!doc) {
    doc = new CompiledDocument(JSON.parse(text));
    compiled.set(hash, doc);
  }
  return doc;
}

export function pointerTo(...segments: string[]): string {
  return segments.map((segment) => `/${segment.replace(/~/g, '~0').replace(/\//g, '~1')}`).join('');
}

/** Ajv's errors as `path: message` lines, naming the offending property for additionalProperties. */
export function describeErrors(errors: ErrorObject[] | null | undefined): string {
  return (errors ?? [])
    .slice(0, 12)
    .map((e) => {
      const extra = e.keyword === 'additionalProperties' ? ` (undocumented field "${(e.params as { additionalProperty: string }).additionalProperty}")` : '';
      // Which component schema said so: with anyOf (a result item of any kind) every branch reports.
      const schema = /.*\/components\/schemas\/([^/]+)/.exec(e.schemaPath)?.[1];
      return `${e.instancePath || '(body)'}${schema ? ` (${schema})` : ''}: ${e.message}${extra}`;
    })
    .join('; ');
}

/**
 * OpenAPI 3.0's dialect to the JSON Schema Ajv reads: `nullable: true` widens the type with null
 * and boolean `exclusiveMinimum/Maximum` become the numeric form. Nothing is loosened.
 */
function toJsonSchema(node: unknown): unknown {
  if (Array.isArray(node)) return node.map(toJsonSchema);
  if (!node || typeof node !== 'object') return node;
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(node)) out[key] = toJsonSchema(value);
  if (out.nullable === true) {
    delete out.nullable;
    if (typeof out.type === 'string') out.type = [out.type, 'null'];
    else if (Array.isArray(out.enum) && !out.enum.includes(null)) out.enum = [...out.enum, null];
    else if (!out.type) return { anyOf: [out, { type: 'null' }] };
  }
  for (const [flag, bound] of [
    ['exclusiveMinimum', 'minimum'],
    ['exclusiveMaximum', 'maximum'],
  ] as const) {
    if (out[flag] === true) {
      out[flag] = out[bound];
      delete out[bound];
    } else if (out[flag] === false) delete out[flag];
  }
  return out;
}

function escapeRegExp(literal: string): string {
  return literal.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

function templatedSegments(template: string): number {
  return (template.match(/\{/g) ?? []).length;
}
