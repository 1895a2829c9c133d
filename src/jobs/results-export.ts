import type { Response } from 'express';
import { once } from 'node:events';

/** The streamed export's formats (`Accept` of GET /jobs/{id}/results). */
export type ExportFormat = 'ndjson' | 'csv';

export const EXPORT_TYPES: Record<ExportFormat, string> = { ndjson: 'application/x-ndjson', csv: 'text/csv' };

/** The export asked for by an `Accept` header, if any (a JSON page otherwise). */
export function exportFormatOf(accept: string | undefined): ExportFormat | undefined {
  if (!accept) return undefined;
  if (accept.includes(EXPORT_TYPES.ndjson)) return 'ndjson';
  if (accept.includes(EXPORT_TYPES.csv)) return 'csv';
  return undefined;
}

/** One CSV cell (RFC 4180), with spreadsheet formulas defused: page titles come from any website. */
export function csvCell(value: unknown): string {
  if (value === undefined || value === null) return '';
  let text: string;
  if (Array.isArray(value)) text = value.join(' ');
  else if (typeof value === 'object') {
    const { code, message } = value as { code?: unknown; message?: unknown };
    text = code !== undefined ? `${String(code)}: ${String(message ?? '')}` : JSON.stringify(value);
  } else text = String(value);
  if (typeof value === 'string' && /^[=+\-@\t\r]/.test(text)) text = `'${text}`;
  return /[",\r\n]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
}

export function csvRow(columns: readonly string[], item: Record<string, unknown>): string {
  return `${columns.map((column) => csvCell(item[column])).join(',')}\r\n`;
}

/**
 * Writes an export's lines with backpressure: a chunk at a time, waiting for the socket to drain
 * when the client reads slowly, so memory holds one chunk whatever the job's size. Resolves false
 * once the client has gone (the export stops).
 */
export class ExportWriter {
  private chunk = '';

  constructor(
    private readonly res: Response,
    private readonly chunkChars = 64 * 1024,
  ) {}

  get gone(): boolean {
    return this.res.destroyed;
  }

  async line(text: string): Promise<boolean> {
    this.chunk += text;
    if (this.chunk.length < this.chunkChars) return !this.gone;
    return this.flush();
  }

  async flush(): Promise<boolean> {
    if (this.chunk.length === 0 || this.gone) return !this.gone;
    const flushed = this.res.write(this.chunk);
    this.chunk = '';
    if (!flushed && !this.gone) {
      const stop = new AbortController();
      try {
        await Promise.race([once(this.res, 'drain', { signal: stop.signal }), once(this.res, 'close', { signal: stop.signal })]);
      } finally {
        stop.abort();
      }
    }
    return !this.gone;
  }

  async end(): Promise<void> {
    await this.flush();
    if (!this.gone) this.res.end();
  }
}
