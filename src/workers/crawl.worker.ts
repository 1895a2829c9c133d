/**
 * Pool entry point for crawl pages. Thread glue only: fetching and parsing are in src/crawl.
 * Runs many pages at once per thread (the I/O pool); one keep-alive agent per thread.
 */
import type { MessagePort } from 'node:worker_threads';
import type { Agent } from 'undici';
import { parseCidrs } from '../crawl/address-policy';
import { crawlPage, type PageInput, type PageOptions } from '../crawl/crawl-page';
import { createSafeAgent } from '../crawl/safe-agent';
import { UpdateReporter } from '../pool/update-reporter';

export interface CrawlTask {
  index: number;
  page: PageInput;
  options: PageOptions;
  /** CRAWL_ALLOW_TARGETS: CIDRs the agent may reach despite the default address policy. */
  allow: string[];
  port: MessagePort;
}

const agents = new Map<string, Agent>();

function agentFor(allow: string[]): Agent {
  const key = allow.join(',');
  let agent = agents.get(key);
  if (!agent) agents.set(key, (agent = createSafeAgent(parseCidrs(allow))));
  return agent;
}

export default async function crawlWorker({ index, page, options, allow, port }: CrawlTask): Promise<void> {
  const reporter = new UpdateReporter(port, 0);
  try {
    reporter.push({ index, state: 'running' });
    const result = await crawlPage(page, options, agentFor(allow), reporter.signal);
    reporter.push(result.error ? { index, state: 'failed', result, error: `${result.error.code}: ${result.error.message}` } : { index, state: 'completed', result });
  } finally {
    reporter.end();
  }
}
