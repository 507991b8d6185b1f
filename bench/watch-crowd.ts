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
 * Idles until SIGTERM.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { io, type Socket } from 'socket.io-client';

interface Seen {
  status: string;
  sha256: string | null;
}

const [urls, count, jobId] = [process.argv[2].split(','), Number(process.argv[3]), process.argv[4]];
const sockets: Socket[] = [];
/** The state each client got last, by client. */
const last: Array<Seen | undefined> = [];
/** Per update received: when it was sent and how long it took, side by side. */
const sentAt: number[] = [];
const delays: number[] = [];
/** Clients connecting at once: a busy two-core machine answers a few hundred handshakes a second. */
const BATCH = 50;

function watch(index: number): Promise<void> {
  const socket = io(urls[index % urls.length], { transports: ['websocket'], reconnection: false, forceNew: true, timeout: 120_000 });
  sockets.push(socket);
  socket.on('job:update', (job: { status: string; sha256: string | null; updatedAt: string }) => {
    const arrived = Date.now();
    const sent = Date.parse(job.updatedAt);
    sentAt.push(sent);
    delays.push(arrived - sent);
    last[index] = { status: job.status, sha256: job.sha256 };
  });
  return new Promise<void>((resolve, reject) => {
    socket.once('connect', resolve);
    socket.once('connect_error', reject);
  }).then(async () => {
    const ack = (await socket.timeout(60_000).emitWithAck('job:subscribe', jobId)) as { ok: boolean };
    if (!ack.ok) throw new Error(`subscribe refused: ${JSON.stringify(ack)}`);
  });
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
  for (const socket of sockets) socket.disconnect();
  process.exit(0);
});
