// A feed client in its own process, so it reads at its own pace (or floods) without sharing the
// test process's event loop with the server under test.
// Usage: node feed-reader.mjs <ws url> <origin|-> <mode> [count] [message json] [api key]
//   read   subscribes to "*"; prints {"event":"ready"} once the subscription is in, then one line
//          per final job event: {"event":"job.completed","id":"…","completed":N}
//   stall  as read, then stops reading (the TCP connection stays open) until a "resume" line on stdin
//   flood  prints {"event":"open"}, waits for a "go" line on stdin, sends <count> copies of
//          <message json> at once, then a barrier; prints {"event":"report",counts,bytes,lastError}
//          when the barrier's answer arrives
// Every mode prints {"event":"close","code":N,counts,bytes,lastError} when the socket closes.
import { createInterface } from 'node:readline';
import WebSocket from 'ws';

const [url, origin, mode = 'read', count = '0', message = '{}', key] = process.argv.slice(2);
const socket = new WebSocket(url, { ...(origin === '-' ? {} : { origin }), ...(key ? { headers: { authorization: `Bearer ${key}` } } : {}) });
const BARRIER = 'barrier-00000000';
const counts = {};
let bytes = 0;
let lastError;
const print = (line) => console.log(JSON.stringify(line));
const barrier = () => socket.send(JSON.stringify({ event: 'subscribe', data: { jobId: BARRIER } }));

const flood = () => {
  for (let i = 0; i < Number(count); i++) socket.send(message);
  // Messages are handled in order: the answer to this one says every earlier one was.
  barrier();
};
socket.on('open', () => {
  if (mode === 'flood') return print({ event: 'open' });
  socket.send(JSON.stringify({ event: 'subscribe', data: { jobId: '*' } }));
  barrier();
});
socket.on('message', (raw) => {
  bytes += raw.length;
  const { event, data } = JSON.parse(raw.toString());
  counts[event] = (counts[event] ?? 0) + 1;
  if (event === 'error') lastError = data.message;
  if (event === 'error' && data.jobId === BARRIER) {
    counts.error--; // the barrier's own answer
    if (mode === 'flood') return print({ event: 'report', counts, bytes, lastError });
    print({ event: 'ready' });
    if (mode === 'stall') socket._socket.pause();
    return;
  }
  if (['job.completed', 'job.failed', 'job.cancelled'].includes(event)) print({ event, id: data.id, completed: data.completed });
});
socket.on('close', (code) => {
  print({ event: 'close', code, counts, bytes, lastError });
  process.exit(0);
});
socket.on('error', (err) => print({ event: 'socket-error', message: err.message }));
createInterface({ input: process.stdin }).on('line', (line) => {
  if (line === 'resume') socket._socket.resume();
  if (line === 'go') flood();
});
