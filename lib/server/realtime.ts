/**
 * The socket.io side of a server node, one consumer of the job events: rooms per job, a
 * snapshot on every subscribe, and the Redis adapter, which reads the events off the wire the
 * job-events port publishes on (see ../job-events/wire), so an update published anywhere (a
 * worker, another node) reaches every tab in the job's room.
 */
import type { Server as HttpServer } from 'node:http';
import { createAdapter } from '@socket.io/redis-adapter';
import type { Redis } from 'ioredis';
import { Server, type Socket } from 'socket.io';
import { AppError, notFound } from '../domain/errors';
import type { JobStore } from '../infra/job-store';
import type { Logger } from '../infra/logger';
import { socketIoKey, wireParser } from '../job-events/wire';
import { isJobId } from '../domain/job-input';
import { jobRoom, type ClientToServerEvents, type ServerToClientEvents, type SubscribeAck } from '../domain/events';
import type { LiveStates } from '../job-events/live-state';
import { getJob } from './job-service';
import type { RequestPipeline } from './pipeline';

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

export function attachRealtime(httpServer: HttpServer, deps: RealtimeDeps, pipeline: RequestPipeline): Realtime {
  const pub = deps.redis.duplicate();
  const sub = deps.redis.duplicate();
  const io: RealtimeServer = new Server(httpServer, {
    serveClient: false,
    adapter: createAdapter(pub, sub, { key: socketIoKey(deps.redisPrefix), parser: wireParser }),
  });
  // A handshake passes the same checks as any HTTP request before it becomes a connection.
  io.use(pipeline.socket);
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

const invalidId = (): SubscribeAck => ({ ok: false, error: notFound().toJSON() });

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
      reply({ ok: true, job: await getJob({ jobs, live }, jobId) });
    } catch (err) {
      if (err instanceof AppError && err.code === 'not_found') {
        await socket.leave(jobRoom(jobId));
        return reply(invalidId());
      }
      logger.error({ err, jobId }, 'could not read a job for a subscriber');
      reply({ ok: false, error: new AppError('unavailable', 'The job could not be read. Try again.').toJSON() });
    }
  });

  socket.on('job:unsubscribe', async (jobId: unknown) => {
    if (isJobId(jobId)) await socket.leave(jobRoom(jobId));
  });
}
