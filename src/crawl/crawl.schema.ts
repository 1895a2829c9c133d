import { z } from 'zod';
import type { AppConfig } from '../config/config.schema';
import { discoveryOptions, discoveryResultFields } from './crawl-discovery.schema';
import { contentRequestFields } from './content/content.schema';
import { MAX_URL_LENGTH } from './url-normalize';
import { SCOPES } from './scope';
import { compilePattern, MAX_PATTERN_LENGTH, MAX_PATTERN_PROGRAM } from './url-patterns';

const seedUrl = z
  .string({ error: 'must be a string' })
  .max(MAX_URL_LENGTH, { error: `must be at most ${MAX_URL_LENGTH} characters` })
  .superRefine((value, ctx) => {
    let url: URL;
    try {
      url = new URL(value);
    } catch {
      return void ctx.addIssue({ code: 'custom', message: 'must be an absolute URL' });
    }
    if (url.protocol !== 'http:' && url.protocol !== 'https:') ctx.addIssue({ code: 'custom', message: `must be http or https, not ${url.protocol}` });
    if (url.username || url.password) ctx.addIssue({ code: 'custom', message: 'must not contain credentials' });
  });

const pattern = z
  .string({ error: 'must be a string' })
  .max(MAX_PATTERN_LENGTH, { error: `a pattern may be at most ${MAX_PATTERN_LENGTH} characters` })
  .superRefine((source, ctx) => {
    const compiled = compilePattern(source);
    if ('error' in compiled) ctx.addIssue({ code: 'custom', message: `must be a valid RE2 regular expression (no backreferences or lookaround): ${compiled.error}` });
  });
const patternsDoc = 'RE2 regular expressions (no backreferences or lookaround), each searched for anywhere in the full normalised URL (scheme and host included, not only the path)';

/** The patterns of a request together compile to at most MAX_PATTERN_PROGRAM RE2 instructions. */
function checkPatternProgram(request: { include: string[]; exclude: string[] }, ctx: z.RefinementCtx): void {
  let total = 0;
  for (const field of ['include', 'exclude'] as const) {
    for (const [index, source] of request[field].entries()) {
      const compiled = compilePattern(source);
      if (!('size' in compiled)) continue;
      total += compiled.size;
      if (total > MAX_PATTERN_PROGRAM) {
        ctx.addIssue({
          code: 'too_big',
          origin: 'string',
          maximum: MAX_PATTERN_PROGRAM,
          path: [field, index],
          message: `the patterns together compile to more than ${MAX_PATTERN_PROGRAM} RE2 instructions (this one makes ${total}): use fewer or simpler patterns`,
        });
        return;
      }
    }
  }
}

/** POST /crawl: every option has a default, and a hard upper bound from configuration. */
export function crawlRequestSchema(config: AppConfig) {
  const bounded = (name: string, min: number, max: number, fallback: number, setting: string) =>
    z
      .number({ error: 'must be a number' })
      .int({ error: 'must be an integer' })
      .min(min, { error: `must be >= ${min}` })
      .max(max, { error: `must be <= ${max} (limit ${setting})` })
      .default(Math.min(fallback, max))
      .describe(name);
  return z
    .strictObject(
      {
        urls: z
          .array(seedUrl, { error: 'must be an array of URLs' })
          .min(1, { error: 'must not be empty' })
          .max(config.CRAWL_MAX_SEEDS, { error: `at most ${config.CRAWL_MAX_SEEDS} URLs (limit CRAWL_MAX_SEEDS)` }),
        maxDepth: bounded('link depth from the seeds', 0, config.CRAWL_MAX_DEPTH, 2, 'CRAWL_MAX_DEPTH'),
        maxPages: bounded('pages to fetch at most', 1, config.CRAWL_MAX_PAGES, 100, 'CRAWL_MAX_PAGES'),
        scope: z.enum(SCOPES, { error: `must be one of ${SCOPES.join(', ')}` }).default('same-host'),
        include: z.array(pattern).max(50).default([]).describe(`follow only URLs matching one of these: ${patternsDoc}`),
        exclude: z.array(pattern).max(50).default([]).describe(`never follow URLs matching one of these: ${patternsDoc}`),
        respectRobotsTxt: z
          .boolean({ error: 'must be true or false' })
          .refine((respect) => respect || config.CRAWL_ALLOW_IGNORE_ROBOTS, { error: 'may be false only where the operator allows it (setting CRAWL_ALLOW_IGNORE_ROBOTS)' })
          .default(true)
          .describe(config.CRAWL_ALLOW_IGNORE_ROBOTS ? 'obey robots.txt' : 'obey robots.txt (false is refused: CRAWL_ALLOW_IGNORE_ROBOTS is off)'),
        concurrency: bounded('fetches at once', 1, config.CRAWL_MAX_CONCURRENCY, 16, 'CRAWL_MAX_CONCURRENCY'),
        perHostConcurrency: bounded('fetches at once per host', 1, config.CRAWL_MAX_PER_HOST, 4, 'CRAWL_MAX_PER_HOST'),
        delayMs: bounded('pause between fetches to one host', 0, config.CRAWL_MAX_DELAY_MS, 0, 'CRAWL_MAX_DELAY_MS'),
        timeoutMs: bounded('deadline per fetch, body included', 100, config.CRAWL_MAX_TIMEOUT_MS, 10_000, 'CRAWL_MAX_TIMEOUT_MS'),
        maxBytes: bounded('decoded bytes read per page', 1_024, config.CRAWL_MAX_BYTES, 5_000_000, 'CRAWL_MAX_BYTES'),
        maxRedirects: bounded('redirect hops per page', 0, config.CRAWL_MAX_REDIRECTS, 5, 'CRAWL_MAX_REDIRECTS'),
        retries: bounded('retries for network errors, 429 and 5xx', 0, config.CRAWL_MAX_RETRIES, 2, 'CRAWL_MAX_RETRIES'),
        userAgent: z.string().min(1).max(200, { error: 'must be at most 200 characters' }).default(config.CRAWL_USER_AGENT),
        ...discoveryOptions(config),
        ...contentRequestFields(config),
      },
      { error: (issue) => (issue.code === 'invalid_type' ? 'body must be a JSON object' : undefined) },
    )
    .superRefine(checkPatternProgram);
}

export type CrawlRequest = z.output<ReturnType<typeof crawlRequestSchema>>;

/** One item of a crawl job's results. */
export const crawlResultSchema = z
  .object({
    index: z.int(),
    state: z.enum(['queued', 'running', 'completed', 'failed', 'cancelled']),
    url: z.string(),
    depth: z.int(),
    parent: z.string().nullable().optional().describe('the page that linked here (null for a seed); absent until the page has a result (queued, running, cancelled, or its worker died)'),
    finalUrl: z.string().optional(),
    status: z.int().nullable().optional(),
    contentType: z.string().nullable().optional(),
    bytes: z.int().optional(),
    ms: z.number().optional(),
    title: z.string().nullable().optional(),
    links: z.array(z.string()).optional().describe('absolute, normalised, de-duplicated http(s) links on the page, followed or not'),
    nofollow: z.array(z.string()).optional().describe('the links marked rel=nofollow (not followed)'),
    markdown: z.string().optional().describe('the page (or its main content) as markdown, when formats has markdown'),
    text: z.string().optional().describe('the page (or its main content) as plain text, when formats has text'),
    html: z.string().optional().describe('the cleaned HTML of the page (or its main content): no scripts, styles or other attributes than href/src/alt/title; absolute links'),
    fields: z
      .record(z.string(), z.union([z.string(), z.array(z.string()), z.null()]))
      .optional()
      .describe('the select fields by name: text or attribute of the first match, a list with all, null when nothing matched'),
    truncated: z.boolean().optional().describe('the page was cut short (see truncatedBy)'),
    truncatedBy: z
      .enum(['maxLinks', 'parseBudget', 'maxBytes', 'contentChars', 'contentElements', 'domMaxBytes'])
      .optional()
      .describe(
        "the first limit that cut the page: links and content by the link cap (maxLinks), CRAWL_PARSE_BUDGET_MS (parseBudget) or the body past maxBytes (maxBytes); content only by maxContentChars (contentChars), the content tree bounds (contentElements: 50,000 elements, 1,000 children each) or CRAWL_DOM_MAX_BYTES (domMaxBytes: a bigger page's content is its first part)",
      ),
    error: z.object({ code: z.string(), message: z.string() }).optional(),
    ...discoveryResultFields,
  })
  .meta({ id: 'CrawlResult' });
