import { type ChildProcessWithoutNullStreams, spawn } from 'node:child_process';
import { join } from 'node:path';
import { eventually } from './app';

export interface ReaderLine {
  event: string;
  id?: string;
  completed?: number;
  code?: number;
  counts?: Record<string, number>;
  bytes?: number;
  lastError?: string;
}

/** test/support/feed-reader.mjs in a child process, with its output lines parsed as they come. */
export class FeedProcess {
  readonly lines: ReaderLine[] = [];
  private readonly child: ChildProcessWithoutNullStreams;

  /** `key`: an API key (the message rate counts per key, or per address without keys). */
  constructor(wsUrl: string, origin: string | undefined, mode: 'read' | 'stall' | 'flood', count = 0, message: unknown = {}, key?: string) {
    this.child = spawn(process.execPath, [join(__dirname, 'feed-reader.mjs'), `${wsUrl}/ws`, origin ?? '-', mode, String(count), JSON.stringify(message), ...(key ? [key] : [])]);
    let partial = '';
    this.child.stdout.on('data', (chunk: Buffer) => {
      const text = partial + chunk.toString();
      const complete = text.split('\n');
      partial = complete.pop() ?? '';
      for (const line of complete) if (line.trim()) this.lines.push(JSON.parse(line));
    });
  }

  /** The first line that matches, within `ms`. */
  line(match: (line: ReaderLine) => boolean, ms = 30_000, what = 'a line from the feed reader'): Promise<ReaderLine> {
    return eventually(async () => this.lines.find(match), ms, what);
  }

  resume(): void {
    this.child.stdin.write('resume\n');
  }

  /** Flood mode: waits for the connection, then lets the flood go. */
  async go(): Promise<void> {
    await this.line((l) => l.event === 'open', 30_000, 'the flooding client to connect');
    this.child.stdin.write('go\n');
  }

  kill(): void {
    this.child.kill();
  }
}
