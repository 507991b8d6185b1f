/**
 * The socket.io side of a server node: rooms per job, a snapshot on every subscribe, and the
 * Redis adapter so that an update emitted anywhere (a worker, another node) reaches every tab.
 */
import type { Server as HttpServer } from 'node:http';
import { createAdapter } from '@socket.io/redis-adapter';
import type { Redis } from 'ioredis';
import { Server, type Socket } from 'socket.io';
import { AppError } from '../domain/errors';
import type { JobStore } from '../infra/job-store';
import type { Logger } from '../infra/logger';
import { socketIoKey } from '../infra/redis';
import { isJobId } from '../domain/job-input';
import { jobRoom, type ClientToServerEvents, type ServerToClientEvents, type SubscribeAck } from '../domain/events';
import type { LiveStates } from '../job-events/live-state';

export type RealtimeServer = Server<ClientToServerEvents, ServerToClientEvents>;
type RealtimeSocket = Socket<ClientToServerEvents, ServerToClientEvents>;

export interface RealtimeDeps {
  jobs: JobStore;
  live: LiveStates;
  redis: Redis;
  redisPrefix: string;
  logger: Logger;
}

export interface Realtime {
  io: RealtimeServer;
  /** Disconnects every socket and closes the HTTP server; safe to call twice. */
  close(): Promise<void>;
}

export function attachRealtime(httpServer: HttpServer, deps: RealtimeDeps): Realtime {
  const pub = deps.redis.duplicate();
  const sub = deps.redis.duplicate();
  const io: RealtimeServer = new Server(httpServer, {
    serveClient: false,
    adapter: createAdapter(pub, sub, { key: socketIoKey(deps.redisPrefix) }),
  });
  io.on('connection', (socket) => registerJobHandlers(socket, deps));

  let closing: Promise<void> | undefined;
  const close = () =>
    (closing ??= (async () => {
      // Also closes the HTTP server it is attached to: nothing is served after this.
      await io.close();
      pub.disconnect();
      sub.disconnect();
    })());
  return { io, close };
}

const invalidId = (): SubscribeAck => ({
  ok: false,
  error: { code: 'not_found', message: 'No job with that id.' },
});

function registerJobHandlers(socket: RealtimeSocket, { jobs, live, logger }: RealtimeDeps): void {
  socket.on('job:subscribe', async (jobId: unknown, ack: unknown) => {
    // Payloads come from anyone: check their shape before trusting the types.
    if (typeof ack !== 'function') return;
    const reply = ack as (result: SubscribeAck) => void;
    if (!isJobId(jobId)) return reply(invalidId());
    // Join first, read second: an update emitted in between reaches the socket and, being
    // newer than the snapshot, wins on the client.
    await socket.join(jobRoom(jobId));
    try {
      const stored = await jobs.find(jobId);
      if (!stored) {
        await socket.leave(jobRoom(jobId));
        return reply(invalidId());
      }
      reply({ ok: true, job: await live.newest(stored) });
    } catch (err) {
      logger.error({ err, jobId }, 'could not read a job for a subscriber');
      reply({ ok: false, error: new AppError('unavailable', 'The job could not be read. Try again.').toJSON() });
    }
  });

  socket.on('job:unsubscribe', async (jobId: unknown) => {
    if (isJobId(jobId)) await socket.leave(jobRoom(jobId));
  });
}
