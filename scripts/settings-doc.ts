/**
 * Writes docs/settings.md from the config schema: every setting with its default, its bound and its
 * description, read from the zod schema itself (`configSchema.shape`), so the page cannot say
 * something the service does not enforce. Run with `npm run docs:settings`; test/docs.spec.ts fails
 * when the committed page differs from what this renders.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { z } from 'zod';
import { configSchema } from '../src/config/config.schema';

export const SETTINGS_DOC = join(__dirname, '..', 'docs', 'settings.md');

export interface SettingDoc {
  name: string;
  default: string;
  allowed: string;
  description: string;
}

/** What a schema accepts, as short phrases; `default` is the first default met while unwrapping. */
interface Facts {
  default?: unknown;
  optional: boolean;
  allowed: string[];
}

/** Every setting of `schema`, in declaration order. */
export function describeSettings(schema: z.ZodObject = configSchema): SettingDoc[] {
  return Object.entries(schema.shape).map(([name, field]) => {
    const facts: Facts = { optional: false, allowed: [] };
    inspect(field as z.ZodType, facts, name);
    const meta = z.globalRegistry.get(field as z.ZodType);
    const description = meta?.description;
    if (!description) throw new Error(`setting ${name} has no description: give it .describe('...') in its schema`);
    return { name, default: defaultText(facts, meta?.defaultText, name), allowed: facts.allowed.join('; ') || 'any text', description };
  });
}

function inspect(schema: z.ZodType, facts: Facts, name: string): void {
  if (schema instanceof z.ZodDefault) {
    if (!('default' in facts)) facts.default = schema.def.defaultValue;
    return inspect(schema.def.innerType as z.ZodType, facts, name);
  }
  if (schema instanceof z.ZodOptional) {
    facts.optional = true;
    return inspect(schema.def.innerType as z.ZodType, facts, name);
  }
  if (schema instanceof z.ZodCodec && schema.out instanceof z.ZodBoolean) {
    // z.stringbool(): the words it takes for true and false.
    const { truthy, falsy } = schema._zod.bag as { truthy?: string[]; falsy?: string[] };
    facts.allowed.push(truthy && falsy ? `\`${truthy[0]}\` or \`${falsy[0]}\` (also ${[...truthy.slice(1), ...falsy.slice(1)].map(code).join(', ')})` : 'true or false');
    return;
  }
  if (schema instanceof z.ZodPipe) {
    // A comma-separated list: a string split by a transform, then checked as an array.
    if (schema.out instanceof z.ZodArray) {
      inspect(schema.in as z.ZodType, facts, name);
      const item: Facts = { optional: false, allowed: [] };
      inspect(schema.out.element as z.ZodType, item, name);
      facts.allowed.push(`comma-separated list${item.allowed.length ? `; each entry: ${item.allowed.join(', ')}` : ''}`);
      return;
    }
    inspect(schema.in as z.ZodType, facts, name);
    return inspect(schema.out as z.ZodType, facts, name);
  }
  if (schema instanceof z.ZodNumber) {
    const kind = schema.isInt ? 'integer' : 'number';
    const { minValue: min, maxValue: max } = schema;
    const finite = (x: number | null) => x !== null && Number.isFinite(x) && Math.abs(x) < Number.MAX_SAFE_INTEGER;
    if (finite(min) && finite(max)) facts.allowed.push(`${kind} ${number(min!, name)} – ${number(max!, name)}`);
    else if (finite(min)) facts.allowed.push(`${kind} >= ${number(min!, name)}`);
    else if (finite(max)) facts.allowed.push(`${kind} <= ${number(max!, name)}`);
    else facts.allowed.push(kind);
    return;
  }
  if (schema instanceof z.ZodEnum) {
    facts.allowed.push(schema.options.map((option) => code(String(option))).join(' | '));
    return;
  }
  if (schema instanceof z.ZodBoolean) {
    facts.allowed.push('`true` or `false`');
    return;
  }
  if (schema instanceof z.ZodString) {
    const { minLength: min, maxLength: max } = schema;
    if (min !== null && max !== null) facts.allowed.push(`${min}–${max} characters`);
    else if (min !== null && min > 0) facts.allowed.push(`at least ${min} character${min === 1 ? '' : 's'}`);
    else if (max !== null) facts.allowed.push(`at most ${max} characters`);
    for (const check of schema.def.checks ?? []) {
      const def = check._zod.def as { check: string; format?: string; pattern?: RegExp; error?: (issue: unknown) => unknown };
      // A regular expression is the rule itself; a custom check can only be told by its message.
      if (def.check === 'string_format' && def.format === 'regex' && def.pattern) facts.allowed.push(`matches ${code(def.pattern.source)}`);
      else if (def.check === 'custom') facts.allowed.push(messageOf(def.error) ?? 'checked by a custom rule');
    }
    return;
  }
  if (schema instanceof z.ZodTransform) return;
  throw new Error(`setting ${name}: the settings page cannot describe a zod ${schema.def.type} yet (scripts/settings-doc.ts)`);
}

function messageOf(error: ((issue: unknown) => unknown) | undefined): string | undefined {
  const message = error?.({});
  // "each entry must be a CIDR" reads "each entry: must be a CIDR" in a list's cell.
  return typeof message === 'string' ? message.replace(/^each \w+ /, '') : undefined;
}

function defaultText(facts: Facts, given: unknown, name: string): string {
  // A default computed on this machine (POOL_SIZE) names itself, so the page is the same everywhere.
  if (typeof given === 'string') return given;
  const value = facts.default;
  if (value === undefined) return facts.optional ? '(unset)' : '(empty)';
  if (value === '') return '(empty)';
  if (typeof value === 'number') return number(value, name);
  return code(String(value));
}

/** `1048576 (1 MiB)` for a setting in bytes, `3600000 (1 h)` for one in ms: exact units only. */
function number(value: number, name: string): string {
  const plain = String(value);
  if (value <= 0) return plain;
  if (/_BYTES(_|$)/.test(name)) {
    const unit = [
      ['GiB', 1024 ** 3],
      ['MiB', 1024 ** 2],
      ['KiB', 1024],
    ].find(([, size]) => value >= (size as number) && value % (size as number) === 0);
    return unit ? `${plain} (${value / (unit[1] as number)} ${unit[0]})` : plain;
  }
  if (/_MS(_|$)/.test(name)) {
    const unit = [
      ['d', 86_400_000],
      ['h', 3_600_000],
      ['min', 60_000],
      ['s', 1_000],
    ].find(([, size]) => value >= (size as number) && value % (size as number) === 0);
    return unit ? `${plain} (${value / (unit[1] as number)} ${unit[0]})` : plain;
  }
  return plain;
}

function code(text: string): string {
  return `\`${text}\``;
}

const cell = (text: string) => text.replace(/\|/g, '\\|').replace(/\n/g, ' ');

/** The whole page, as `npm run docs:settings` writes it. */
export function renderSettingsDoc(schema: z.ZodObject = configSchema): string {
  const rows = describeSettings(schema).map((s) => `| \`${s.name}\` | ${cell(s.default)} | ${cell(s.allowed)} | ${cell(s.description)} |`);
  return [
    '_Generated by `npm run docs:settings` (scripts/settings-doc.ts) from the config schema, src/config/config.schema.ts: edit the schema and run the command, not this file._',
    '',
    '# Settings',
    '',
    'Every setting is an environment variable. All of them are validated together at boot: a value out of bounds stops startup',
    'with a message naming the variable and the rule it broke. An empty variable counts as unset. Lists are comma-separated.',
    '',
    '| Setting | Default | Allowed | What it does |',
    '| --- | --- | --- | --- |',
    ...rows,
    '',
  ].join('\n');
}

if (typeof require !== 'undefined' && require.main === module) {
  writeFileSync(SETTINGS_DOC, renderSettingsDoc());
  console.log(`wrote ${SETTINGS_DOC}`);
}
