// A feed client in its own process, so it reads at its own pace instead of sharing the test
// process's event loop with the server under test. Usage: node feed-reader.mjs <ws url> <origin>
// Prints one line per final job event: {"event":"job.completed","id":"…","completed":N}.
import WebSocket from 'ws';

const [url, origin] = process.argv.slice(2);
const socket = new WebSocket(url, { origin });
socket.on('open', () => {
  socket.send(JSON.stringify({ event: 'subscribe', data: { jobId: '*' } }));
  console.log(JSON.stringify({ event: 'open' }));
});
socket.on('message', (raw) => {
  const { event, data } = JSON.parse(raw.toString());
  if (event.startsWith('job.') && ['job.completed', 'job.failed', 'job.cancelled'].includes(event)) {
    console.log(JSON.stringify({ event, id: data.id, completed: data.completed }));
  }
});
socket.on('close', (code) => {
  console.log(JSON.stringify({ event: 'close', code }));
  process.exit(0);
});
