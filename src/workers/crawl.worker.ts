/**
 * Pool entry point for crawl pages. Thread glue only: fetching and parsing are in src/crawl.
 * Runs many pages at once per thread (the I/O pool); one keep-alive agent per thread.
 */
import type { MessagePort } from 'node:worker_threads';
import type { Agent } from 'undici';
import { parseCidrs } from '../crawl/address-policy';
import { crawlPage, type PageInput, type PageOptions } from '../crawl/crawl-page';
import { RobotsCache, robotsHopCheck } from '../crawl/robots';
import { createSafeAgent } from '../crawl/safe-agent';
import { UpdateReporter } from '../pool/update-reporter';

export interface CrawlTask {
  index: number;
  page: PageInput;
  options: PageOptions;
  /** CRAWL_ALLOW_TARGETS: CIDRs the agent may reach despite the default address policy. */
  allow: string[];
  /** robots.txt of the page's origin, to check redirect hops; null when robots are ignored. */
  robotsTxt: string | null;
  port: MessagePort;
}

const agents = new Map<string, Agent>();
/** robots.txt of origins that redirects lead to, per user agent; renewed now and then. */
const robotsCaches = new Map<string, { cache: RobotsCache; until: number }>();
const ROBOTS_TTL_MS = 10 * 60_000;

function robotsCacheFor(userAgent: string, options: PageOptions, agent: Agent): RobotsCache {
  let entry = robotsCaches.get(userAgent);
  if (!entry || entry.until < Date.now()) {
    if (robotsCaches.size > 100) robotsCaches.clear();
    entry = { cache: new RobotsCache(userAgent, { ...options, retries: 0 }, agent), until: Date.now() + ROBOTS_TTL_MS };
    robotsCaches.set(userAgent, entry);
  }
  return entry.cache;
}

function agentFor(allow: string[]): Agent {
  const key = allow.join(',');
  let agent = agents.get(key);
  if (!agent) agents.set(key, (agent = createSafeAgent(parseCidrs(allow))));
  return agent;
}

export default async function crawlWorker({ index, page, options, allow, robotsTxt, port }: CrawlTask): Promise<void> {
  const reporter = new UpdateReporter(port, 0);
  try {
    const agent = agentFor(allow);
    const checkHop = robotsTxt === null ? undefined : robotsHopCheck(page.url, robotsTxt, robotsCacheFor(options.userAgent, options, agent), options.userAgent);
    const result = await crawlPage(page, options, agent, reporter.signal, checkHop);
    reporter.push(result.error ? { index, state: 'failed', result, error: `${result.error.code}: ${result.error.message}` } : { index, state: 'completed', result });
  } finally {
    reporter.end();
  }
}
