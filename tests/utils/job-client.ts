/**
 * A third-party client of the realtime contract, as the README documents it: a socket.io
 * client that subscribes to a job and records every state it is sent.
 */
import { io, type Socket } from 'socket.io-client';
import type { ClientToServerEvents, ServerToClientEvents, SubscribeAck } from '../../lib/domain/events';
import type { JobView } from '../../lib/domain/job';
import { clientCookies } from './test-app';

export type JobSocket = Socket<ServerToClientEvents, ClientToServerEvents>;

/**
 * A socket of this test file's one client (it sends the cookies `api()` keeps, as a tab of the
 * same browser would), or of another one: `cookie` replaces them, `token` is sent as `auth.token`.
 */
export async function connectClient(baseUrl: string, as: { cookie?: string; token?: string } = {}): Promise<JobSocket> {
  const cookie = as.cookie ?? clientCookies();
  const socket: JobSocket = io(baseUrl, {
    transports: ['websocket'],
    reconnection: false,
    forceNew: true,
    extraHeaders: cookie ? { Cookie: cookie } : {},
    auth: as.token === undefined ? {} : { token: as.token },
  });
  await new Promise<void>((resolve, reject) => {
    socket.once('connect', () => resolve());
    socket.once('connect_error', reject);
  });
  return socket;
}

/**
 * How a socket.io handshake ends: `connected` (then closed again), or the `connect_error`'s
 * message, which is the code the server refused it with.
 */
export function handshakeOutcome(baseUrl: string, options: { headers?: Record<string, string>; token?: string } = {}): Promise<string> {
  const socket = io(baseUrl, {
    transports: ['websocket'],
    reconnection: false,
    forceNew: true,
    extraHeaders: options.headers ?? {},
    auth: options.token === undefined ? {} : { token: options.token },
  });
  return new Promise((resolve) => {
    socket.once('connect', () => {
      socket.disconnect();
      resolve('connected');
    });
    socket.once('connect_error', (err) => resolve(err.message));
  });
}

export function subscribe(socket: JobSocket, jobId: unknown): Promise<SubscribeAck> {
  return socket.timeout(10_000).emitWithAck('job:subscribe', jobId as string);
}

/** Every `job:update` for `jobId` this socket receives, in arrival order. */
export function recordUpdates(socket: JobSocket, jobId: string): JobView[] {
  const updates: JobView[] = [];
  socket.on('job:update', (job) => {
    if (job.id === jobId) updates.push(job);
  });
  return updates;
}

const FINISHED = new Set(['completed', 'failed', 'cancelled']);

/** The README's rule, written out as a third party would: whether `a` is newer than `b`. */
export function isNewer(a: JobView, b: JobView): boolean {
  if (a.run !== b.run) return a.run > b.run;
  if (FINISHED.has(a.status) !== FINISHED.has(b.status)) return FINISHED.has(a.status);
  return a.version > b.version;
}

/** The state a tab shows: the newest among what it was sent. */
export function latest(updates: JobView[]): JobView | undefined {
  return updates.reduce<JobView | undefined>((shown, u) => (!shown || isNewer(u, shown) ? u : shown), undefined);
}

/** The ids of the `job:deleted` events this socket receives. */
export function recordDeletions(socket: JobSocket): string[] {
  const deleted: string[] = [];
  socket.on('job:deleted', (jobId) => deleted.push(jobId));
  return deleted;
}
