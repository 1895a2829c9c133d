/** Stable error codes of crawled pages; the message says what happened in words. */
export const CRAWL_ERROR_CODES = ['blocked_address', 'timeout', 'too_many_redirects', 'not_html', 'robots_disallowed', 'http_error', 'network_error', 'invalid_url'] as const;
export type CrawlErrorCode = (typeof CRAWL_ERROR_CODES)[number];

export interface CrawlError {
  code: CrawlErrorCode;
  message: string;
}

export class CrawlFailure extends Error {
  /** What is known of the response, when there was one. */
  status?: number;
  contentType?: string | null;
  finalUrl?: string;

  constructor(
    readonly code: CrawlErrorCode,
    message: string,
    details: { status?: number; contentType?: string | null } = {},
  ) {
    super(message);
    Object.assign(this, details);
  }

  toJSON(): CrawlError {
    return { code: this.code, message: this.message };
  }
}
