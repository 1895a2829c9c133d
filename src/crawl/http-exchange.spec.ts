import { createServer, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { gzipSync } from 'node:zlib';
import { Agent } from 'undici';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type BodySink, ExchangeError, exchange } from './http-exchange';

/** A body of `count` numbered lines, so that order and completeness can be checked. */
const lines = (count: number) => Array.from({ length: count }, (_, i) => `line ${i}\n`).join('');
const BODY = lines(20_000); // ~210 KB: many chunks

let server: Server;
let base: string;
const agent = new Agent();
/** Connections the server saw closed before their response ended. */
let cutConnections = 0;
/** Connections the server accepted. */
let accepted = 0;

function send(res: ServerResponse, body: Buffer, headers: Record<string, string>, pieceMs = 0): void {
  res.writeHead(200, { 'content-type': 'text/plain', ...headers });
  if (pieceMs === 0) return void res.end(body);
  let offset = 0;
  const next = () => {
    if (res.destroyed) return;
    if (offset >= body.length) return void res.end();
    res.write(body.subarray(offset, (offset += 4_096)));
    setTimeout(next, pieceMs);
  };
  next();
}

beforeAll(async () => {
  server = createServer((req, res) => {
    res.on('close', () => {
      if (!res.writableFinished) cutConnections++;
    });
    if (req.url === '/plain') return send(res, Buffer.from(BODY), {});
    if (req.url === '/gzip') return send(res, gzipSync(BODY), { 'content-encoding': 'gzip' });
    if (req.url === '/slow') return send(res, Buffer.from(BODY), {}, 20);
    if (req.url === '/redirect') {
      res.writeHead(302, { location: '/plain' });
      return void res.end('moved');
    }
    if (req.url === '/redirect-big') {
      res.writeHead(302, { location: '/plain' });
      return void res.end(BODY);
    }
    res.writeHead(404).end();
  });
  server.on('connection', () => accepted++);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  await agent.close();
  await new Promise((resolve) => server.close(resolve));
});

/** A sink that takes its time (a parser working in pieces) on every other chunk. */
function slowSink(): BodySink & { text(): string; chunks: number } {
  const parts: Buffer[] = [];
  return {
    chunks: 0,
    write(chunk) {
      parts.push(Buffer.from(chunk));
      this.chunks++;
      return this.chunks % 2 === 0 ? sleep(2).then(() => true) : true;
    },
    text: () => Buffer.concat(parts).toString(),
  };
}

function read(path: string, sink: BodySink, { maxBytes = 10_000_000, timeoutMs = 10_000, signal }: { maxBytes?: number; timeoutMs?: number; signal?: AbortSignal } = {}) {
  return exchange(agent, { url: `${base}${path}`, headers: {}, timeoutMs, maxBytes }, signal, (status, headers) =>
    status === 302 ? { settle: { status, location: headers.location } } : { sink, encoding: headers['content-encoding'] as string | undefined, done: (read) => ({ status, ...read }) },
  );
}

describe('exchange: a response body handed to a sink', () => {
  it('gives a sink that is sometimes busy every byte, in order, plain and gzip', async () => {
    for (const path of ['/plain', '/gzip']) {
      const sink = slowSink();
      const result = await read(path, sink);
      expect(result).toEqual({ status: 200, bytes: Buffer.byteLength(BODY) });
      expect(sink.text()).toBe(BODY);
      expect(sink.chunks).toBeGreaterThan(2);
    }
  });

  it('cuts at maxBytes of decoded bytes, the last chunk cut to fit, and drops the connection', async () => {
    const before = cutConnections;
    for (const path of ['/plain', '/gzip']) {
      const sink = slowSink();
      const result = await read(path, sink, { maxBytes: 100_001 });
      expect(result).toEqual({ status: 200, bytes: 100_001, cut: 'maxBytes' });
      expect(sink.text()).toBe(BODY.slice(0, 100_001));
    }
    // A trickling body cut early: the server sees its connection dropped before its response ends.
    expect(await read('/slow', slowSink(), { maxBytes: 10_001 })).toEqual({ status: 200, bytes: 10_001, cut: 'maxBytes' });
    await expect.poll(() => cutConnections).toBe(before + 1);
  });

  it('stops reading when the sink says so', async () => {
    let taken = 0;
    const result = await read('/slow', {
      write: (chunk) => {
        taken += chunk.length;
        return Promise.resolve(taken < 10_000);
      },
    });
    expect(result.bytes).toBe(taken);
    expect(taken).toBeLessThan(Buffer.byteLength(BODY));
  });

  it('settles on the headers without reading the body when the caller says so', async () => {
    const result = await read('/redirect', { write: () => expect.fail('a settled response has no sink') });
    expect(result).toEqual({ status: 302, location: '/plain' });
  });

  it('reads and drops the small body of a response it does not read, so the connection serves the next request; a big one drops it', async () => {
    // One connection at a time, fresh: each exchange below must reuse it.
    const single = new Agent({ connections: 1 });
    const before = { accepted };
    const readOn = (path: string) =>
      exchange(single, { url: `${base}${path}`, headers: {}, timeoutMs: 10_000, maxBytes: 1e7 }, undefined, (status, headers) =>
        status === 302
          ? { settle: status }
          : status === 404
            ? { fail: new Error(`HTTP ${status}`) }
            : { sink: { write: () => true }, encoding: headers['content-encoding'] as string | undefined, done: () => status },
      );
    expect(await readOn('/redirect')).toBe(302);
    await expect(readOn('/nowhere')).rejects.toThrow('HTTP 404');
    expect(await readOn('/plain')).toBe(200);
    expect(accepted - before.accepted).toBe(1);
    // A body past what is worth draining: the connection goes, the next exchange dials again.
    expect(await readOn('/redirect-big')).toBe(302);
    expect(await readOn('/plain')).toBe(200);
    expect(accepted - before.accepted).toBe(2);
    await single.close();
  });

  it('times out a body that trickles past the deadline, and stops at once when cancelled', async () => {
    const late = await read('/slow', slowSink(), { timeoutMs: 150 }).catch((err: unknown) => err);
    expect(late).toBeInstanceOf(ExchangeError);
    expect((late as ExchangeError).reason).toBe('deadline');
    const controller = new AbortController();
    setTimeout(() => controller.abort(new Error('job cancelled')), 50);
    const cancelled = await read('/slow', slowSink(), { signal: controller.signal }).catch((err: unknown) => err);
    expect((cancelled as ExchangeError).reason).toBe('cancelled');
  });

  it('rejects with what the sink threw', async () => {
    const failure = new Error('parser gave up');
    await expect(read('/plain', { write: () => Promise.reject(failure) })).rejects.toBe(failure);
    await expect(
      read('/gzip', {
        write: () => {
          throw failure;
        },
      }),
    ).rejects.toBe(failure);
  });
});
