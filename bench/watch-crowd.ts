/**
 * Many watchers of one job in a process of their own (so their work is not the servers'): the
 * clients connect over WebSocket, in turn to each of the given server URLs, and subscribe to
 * the job. For every `job:update` a client takes note of how long the state took from its
 * `updatedAt` (stamped when it was sent, on this same machine's clock) to its arrival here,
 * and keeps the state it got last. Prints `{"subscribed", "control"}` once every subscribe was
 * acknowledged; the scenario then reads the figures over HTTP on `control`:
 *
 *   GET /finals?sha256=   how many clients last got a `completed` state with that SHA-256
 *   GET /report?since=&sha256=   that count, and the delays (ms) and send times (epoch ms) of
 *                                every update sent at or after `since`
 *
 * The clients speak socket.io's wire protocol over a bare WebSocket rather than through
 * socket.io-client: in people's use every watcher has a machine of its own, while here ten
 * thousand share the servers' two cores, and the full client's layers cost several times what
 * a frame and its JSON do. The servers see the same frames either way.
 *
 * Idles until SIGTERM.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import WebSocket from 'ws';

interface Seen {
  status: string;
  sha256: string | null;
}

const [urls, count, jobId] = [process.argv[2].split(','), Number(process.argv[3]), process.argv[4]];
const sockets: WebSocket[] = [];
/** The state each client got last, by client. */
const last: Array<Seen | undefined> = [];
/** Per update received: when it was sent and how long it took, side by side. */
const sentAt: number[] = [];
const delays: number[] = [];
/** Clients connecting at once: a busy two-core machine answers a few hundred handshakes a second. */
const BATCH = 50;
const HANDSHAKE_TIMEOUT_MS = 120_000;

/**
 * socket.io over engine.io 4, as far as a watcher needs it: `0` opens, `2` is a ping to answer
 * with `3`; `40` connects to the main namespace (`44` refuses); `42[…]` is an event and
 * `431[…]` the answer to the emit with id 1.
 */
function watch(index: number): Promise<void> {
  const url = new URL('/socket.io/?EIO=4&transport=websocket', urls[index % urls.length].replace(/^http/, 'ws'));
  const socket = new WebSocket(url, { handshakeTimeout: HANDSHAKE_TIMEOUT_MS });
  sockets.push(socket);
  return new Promise<void>((resolve, reject) => {
    socket.once('error', reject);
    socket.once('close', () => reject(new Error(`client ${index} closed before it subscribed`)));
    socket.on('message', (data: Buffer) => {
      const text = data.toString();
      if (text === '2') return socket.send('3');
      if (text.startsWith('42')) return received(index, text.slice(2));
      if (text.startsWith('0')) return socket.send('40');
      if (text.startsWith('40')) return socket.send(`421${JSON.stringify(['job:subscribe', jobId])}`);
      if (text.startsWith('44')) return reject(new Error(`connect refused: ${text.slice(2)}`));
      if (text.startsWith('431')) {
        const [ack] = JSON.parse(text.slice(3)) as [{ ok: boolean }];
        return ack.ok ? resolve() : reject(new Error(`subscribe refused: ${text.slice(3)}`));
      }
    });
  });
}

function received(index: number, payload: string): void {
  const arrived = Date.now();
  const [event, job] = JSON.parse(payload) as [string, { status: string; sha256: string | null; updatedAt: string }];
  if (event !== 'job:update') return;
  const sent = Date.parse(job.updatedAt);
  sentAt.push(sent);
  delays.push(arrived - sent);
  last[index] = { status: job.status, sha256: job.sha256 };
}

for (let start = 0; start < count; start += BATCH) {
  await Promise.all(Array.from({ length: Math.min(BATCH, count - start) }, (_, i) => watch(start + i)));
}

const finals = (sha256: string | null) => last.filter((seen) => seen?.status === 'completed' && seen.sha256 === sha256).length;

const control = createServer((req, res) => {
  const url = new URL(req.url ?? '/', 'http://crowd');
  const sha256 = url.searchParams.get('sha256');
  if (url.pathname === '/finals') return void res.end(JSON.stringify({ finals: finals(sha256) }));
  if (url.pathname !== '/report') return void res.writeHead(404).end();
  const since = Number(url.searchParams.get('since') ?? 0);
  const picked = { sentAt: [] as number[], delays: [] as number[] };
  for (let i = 0; i < delays.length; i++) {
    if (sentAt[i] < since) continue;
    picked.sentAt.push(sentAt[i]);
    picked.delays.push(delays[i]);
  }
  res.end(JSON.stringify({ finals: finals(sha256), ...picked }));
});
control.listen(0, '127.0.0.1', () => {
  const { port } = control.address() as AddressInfo;
  console.log(JSON.stringify({ subscribed: sockets.length, control: `http://127.0.0.1:${port}` }));
});

process.on('SIGTERM', () => {
  for (const socket of sockets) socket.terminate();
  process.exit(0);
});
