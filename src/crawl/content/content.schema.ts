/** The content options of POST /crawl (see content-options.ts for what they mean and cost). */
import { z } from 'zod';
import type { AppConfig } from '../../config/config.schema';
import { FORMATS, SELECT_MAX_ATTR, SELECT_MAX_CSS, SELECT_MAX_FIELDS, SELECT_MAX_VALUE_CHARS, SELECT_MAX_VALUES, SELECT_NAME_PATTERN } from './content-options';
import { selectorError } from './select-fields';

const FIELD_NAME = 'a field name is a letter or _, then up to 63 letters, digits, _ or -';

const selectSpec = z.strictObject(
  {
    css: z
      .string({ error: 'must be a string' })
      .min(1, { error: 'must not be empty' })
      .max(SELECT_MAX_CSS, { error: `must be at most ${SELECT_MAX_CSS} characters` })
      .superRefine((css, ctx) => {
        const error = selectorError(css);
        if (error) ctx.addIssue({ code: 'custom', message: `must be a valid CSS selector: ${error}` });
      })
      .describe('a CSS selector (cheerio / css-select; at most one :has())'),
    attr: z
      .string({ error: 'must be a string' })
      .regex(/^[^\s"'>/=]+$/, { error: 'must be an attribute name' })
      .max(SELECT_MAX_ATTR, { error: `must be at most ${SELECT_MAX_ATTR} characters` })
      .optional()
      .describe("read this attribute of the match instead of its text (e.g. 'href', 'content')"),
    all: z.boolean({ error: 'must be true or false' }).optional().describe(`every match (at most ${SELECT_MAX_VALUES}) as a list, instead of the first`),
  },
  { error: (issue) => (issue.code === 'invalid_type' ? 'must be an object {css, attr?, all?}' : undefined) },
);

export function contentRequestFields(config: AppConfig) {
  return {
    formats: z
      .array(z.enum(FORMATS, { error: `must be one of ${FORMATS.join(', ')}` }), { error: 'must be an array of formats' })
      .min(1, { error: 'must not be empty' })
      .refine((formats) => new Set(formats).size === formats.length, { error: 'must not repeat a format' })
      .default(['links'])
      .describe(
        'what each result carries: links (the link list: today\'s result), text, markdown, html (the cleaned HTML of the content). Content is made on the worker threads; without "links" the list is still followed but not shown',
      ),
    onlyMainContent: z
      .boolean({ error: 'must be true or false' })
      .default(false)
      .describe('content from the main part of the page only: <main>, [role=main] or the biggest <article>, without navigation, headers, footers and sidebars'),
    select: z
      .record(z.string().regex(SELECT_NAME_PATTERN, { error: FIELD_NAME }), selectSpec, {
        error: (issue) => (issue.code === 'invalid_key' ? FIELD_NAME : issue.code === 'invalid_type' ? 'must be an object of named fields {css, attr?, all?}' : undefined),
      })
      .refine((select) => Object.keys(select).length <= SELECT_MAX_FIELDS, { error: `at most ${SELECT_MAX_FIELDS} fields` })
      .optional()
      .describe(`named fields read with CSS selectors: a field is its first match's text (or attribute), all: a list; each value at most ${SELECT_MAX_VALUE_CHARS} characters`),
    maxContentChars: z
      .number({ error: 'must be a number' })
      .int({ error: 'must be an integer' })
      .min(100, { error: 'must be >= 100' })
      .max(config.CRAWL_MAX_CONTENT_CHARS, { error: `must be <= ${config.CRAWL_MAX_CONTENT_CHARS} (limit CRAWL_MAX_CONTENT_CHARS)` })
      .default(Math.min(200_000, config.CRAWL_MAX_CONTENT_CHARS))
      .describe('characters kept per format per page (the rest is cut: truncatedBy contentChars)'),
  };
}
