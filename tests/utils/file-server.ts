/**
 * A local HTTP server for download tests. Content is pseudo-random but deterministic per
 * (size, seed), generated block by block, so tests know the SHA-256 without holding the bytes.
 *
 *   /file/<bytes>?seed=&rate=<bytes/s>&chunk=<bytes>&nolength=1&name=<file name>&etag=
 *       &noetag=1&norange=1&dropafter=<bytes>&gate=<name>&holdafter=<bytes>
 *       the content; Range `bytes=N-` (206) honoured unless If-Range names another ETag or
 *       norange=1; a whole answer (no Range) is cut off after `dropafter` bytes; with a gate,
 *       the bytes after `holdafter` wait until the test calls `release(name)`
 *   /status/<code>                       an empty answer with that status
 *   /redirect/<n>?to=<path or URL>&status=<3xx>   n redirects (relative Locations), then `to`
 *   /lie/<claimed>/<actual>              Content-Length: claimed, then actual bytes and close
 *   /stall/<bytes>                       that many bytes, then silence until the client leaves
 *   /disposition?header=<raw value>      a small body with that Content-Disposition
 */
import { createHash } from 'node:crypto';
import { setMaxListeners } from 'node:events';
import { createServer, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';

const BLOCK = 64 * 1024;

export interface FileServer {
  /** `http://127.0.0.1:PORT` (or `http://[::1]:PORT`), no trailing slash. */
  readonly url: string;
  readonly port: number;
  /** TCP connections accepted so far. */
  readonly connections: number;
  /** Every request so far, oldest first. */
  readonly requests: ReadonlyArray<FixtureRequest>;
  /** Lets the answers held at the gate `name` go on (see `gate=`); also those that reach it later. */
  release(name: string): void;
  /** Stops the server and destroys open sockets. Idempotent. */
  close(): Promise<void>;
}

export interface FixtureRequest {
  path: string;
  range?: string;
  ifRange?: string;
}

export interface FileServerOptions {
  /** Default 127.0.0.1. Any loopback address: `::1`, `127.0.0.2`… */
  host?: string;
  /** Default 0 (any free port). */
  port?: number;
}

function seedBlock(seed: string, index: number): Buffer {
  let x = createHash('sha256').update(`${seed}:${index}`).digest().readUInt32LE(0) || 1;
  const words = new Uint32Array(BLOCK / 4);
  for (let i = 0; i < words.length; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    words[i] = x >>> 0;
  }
  return Buffer.from(words.buffer);
}

/** The fixture's bytes [start, size) in pieces of at most `piece` bytes. */
export function* fixtureChunks(size: number, seed = 'seed', start = 0, piece = BLOCK): Generator<Buffer> {
  for (let offset = start; offset < size; ) {
    const block = seedBlock(seed, Math.floor(offset / BLOCK));
    const from = offset % BLOCK;
    const to = Math.min(BLOCK, from + piece, from + size - offset);
    yield block.subarray(from, to);
    offset += to - from;
  }
}

export function fixtureBytes(size: number, seed = 'seed'): Buffer {
  return Buffer.concat([...fixtureChunks(size, seed)]);
}

export function fixtureSha256(size: number, seed = 'seed'): string {
  const hash = createHash('sha256');
  for (const chunk of fixtureChunks(size, seed)) hash.update(chunk);
  return hash.digest('hex');
}

function drained(res: ServerResponse): Promise<void> {
  return new Promise((resolve) => {
    const done = () => {
      res.off('drain', done).off('close', done);
      resolve();
    };
    res.on('drain', done).on('close', done);
  });
}

/** Writes bytes [start, size) at `rate` bytes/s (if given), respecting back-pressure. */
async function send(
  res: ServerResponse,
  stop: AbortSignal,
  o: { size: number; seed: string; start?: number; rate?: number; chunk?: number; dropAfter?: number; hold?: { after: number; until: Promise<void> } },
) {
  const piece = o.chunk ?? (o.rate ? Math.max(1, Math.min(BLOCK, Math.floor(o.rate / 20))) : BLOCK);
  let began = Date.now();
  let sent = 0;
  for (const chunk of fixtureChunks(o.size, o.seed, o.start, piece)) {
    if (o.hold && sent >= o.hold.after) {
      const heldAt = Date.now();
      await Promise.race([o.hold.until, new Promise((resolve) => stop.addEventListener('abort', resolve, { once: true }))]);
      began += Date.now() - heldAt; // the rate goes on from where it was, with no burst
      o.hold = undefined;
    }
    if (o.rate) {
      // Each piece leaves when the time its bytes are worth has passed, so N bytes take N/rate s.
      const due = began + ((sent + chunk.length) / o.rate) * 1000 - Date.now();
      if (due > 0) await sleep(due, undefined, { signal: stop }).catch(() => undefined);
    }
    if (stop.aborted || res.destroyed) return;
    if (o.dropAfter !== undefined && sent + chunk.length >= o.dropAfter) {
      // The last bytes reach the socket, then the connection breaks as if the server had died.
      res.write(chunk.subarray(0, o.dropAfter - sent), () => res.socket?.destroy());
      return;
    }
    sent += chunk.length;
    if (!res.write(chunk)) await drained(res);
  }
  res.end();
}

function dispositionFor(name: string): string {
  const ascii = name.replace(/[^\x20-\x7e]/g, '_').replace(/["\\]/g, '\\$&');
  const encoded = encodeURIComponent(name).replace(/['()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
  return `attachment; filename="${ascii}"; filename*=UTF-8''${encoded}`;
}

export async function startFileServer({ host = '127.0.0.1', port = 0 }: FileServerOptions = {}): Promise<FileServer> {
  const sockets = new Set<Socket>();
  const stopping = new AbortController();
  // Every answer under way waits on it (a benchmark keeps a hundred throttled ones open).
  setMaxListeners(0, stopping.signal);
  let connections = 0;
  const requests: FixtureRequest[] = [];
  const gates = new Map<string, { opened: Promise<void>; open: () => void }>();
  const gate = (name: string) => {
    if (!gates.has(name)) {
      let open = () => {};
      const opened = new Promise<void>((resolve) => (open = resolve));
      gates.set(name, { opened, open });
    }
    return gates.get(name)!;
  };

  const server = createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://fixture');
    const q = url.searchParams;
    const [, route, a, b] = url.pathname.split('/');
    const num = (value: string | null) => (value ? Number(value) : undefined);
    requests.push({ path: `${url.pathname}${url.search}`, range: req.headers.range, ifRange: req.headers['if-range']?.toString() });

    if (route === 'file' && Number.isInteger(Number(a))) {
      const size = Number(a);
      const seed = q.get('seed') ?? 'seed';
      const etag = `"${q.get('etag') ?? `${seed}-${size}`}"`;
      const ranges = q.get('norange') !== '1';
      const range = ranges ? /^bytes=(\d+)-$/.exec(req.headers.range ?? '') : null;
      const ifRange = req.headers['if-range'];
      const start = range && (!ifRange || ifRange === etag) ? Number(range[1]) : 0;
      if (start > 0 && start >= size) return res.writeHead(416, { 'Content-Range': `bytes */${size}` }).end();
      if (q.get('noetag') !== '1') res.setHeader('ETag', etag);
      if (ranges) res.setHeader('Accept-Ranges', 'bytes');
      if (q.get('name')) res.setHeader('Content-Disposition', dispositionFor(q.get('name')!));
      if (q.get('nolength') !== '1') res.setHeader('Content-Length', size - start);
      if (start > 0) res.setHeader('Content-Range', `bytes ${start}-${size - 1}/${size}`);
      res.writeHead(start > 0 ? 206 : 200, { 'Content-Type': 'application/octet-stream' });
      const dropAfter = start === 0 ? num(q.get('dropafter')) : undefined;
      const gateName = q.get('gate');
      const hold = gateName ? { after: num(q.get('holdafter')) ?? 0, until: gate(gateName).opened } : undefined;
      void send(res, stopping.signal, { size, seed, start, rate: num(q.get('rate')), chunk: num(q.get('chunk')), dropAfter, hold });
    } else if (route === 'status') {
      res.writeHead(Number(a) || 500).end();
    } else if (route === 'redirect' && Number(a) >= 1) {
      const to = q.get('to') ?? '/file/16';
      const next = Number(a) === 1 ? to : `/redirect/${Number(a) - 1}?${q}`;
      res.writeHead(num(q.get('status')) ?? 302, { Location: next }).end();
    } else if (route === 'lie') {
      res.writeHead(200, { 'Content-Length': Number(a), Connection: 'close' });
      res.end(fixtureBytes(Number(b), 'lie'));
    } else if (route === 'stall') {
      res.writeHead(200, { 'Content-Type': 'application/octet-stream' });
      res.write(fixtureBytes(Number(a), 'stall')); // then nothing: close() or the client ends it
    } else if (route === 'disposition') {
      res.writeHead(200, { 'Content-Disposition': q.get('header') ?? 'attachment' }).end('ok');
    } else {
      res.writeHead(404).end();
    }
  });
  server.on('connection', (socket) => {
    connections++;
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject).listen(port, host, () => resolve());
  });
  const bound = (server.address() as AddressInfo).port;
  let closing: Promise<void> | undefined;
  return {
    url: `http://${host.includes(':') ? `[${host}]` : host}:${bound}`,
    port: bound,
    get connections() {
      return connections;
    },
    requests,
    release: (name) => gate(name).open(),
    close() {
      closing ??= new Promise<void>((resolve) => {
        stopping.abort();
        server.close(() => resolve());
        for (const socket of sockets) socket.destroy();
      });
      return closing;
    },
  };
}
