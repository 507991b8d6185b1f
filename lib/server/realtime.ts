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
import { patientDuplicate } from '../infra/redis';
import { socketIoKey, wireParser } from '../job-events/wire';
import { isJobId } from '../domain/job-input';
import { jobRoom, type ClientToServerEvents, type ServerToClientEvents, type SubscribeAck } from '../domain/events';
import type { LiveStates } from '../job-events/live-state';
import type { Config } from '../infra/config';
import { toAppError } from './http';
import type { Caller, Identity } from './identity';
import { viewJob } from './job-service';
import type { Limits } from './limits';
import type { RequestPipeline } from './pipeline';
import { createSlowClientGuard } from './slow-clients';

export type RealtimeServer = Server<ClientToServerEvents, ServerToClientEvents>;
type RealtimeSocket = Socket<ClientToServerEvents, ServerToClientEvents>;

export interface RealtimeDeps {
  jobs: JobStore;
  live: LiveStates;
  redis: Redis;
  redisPrefix: string;
  logger: Logger;
  identity: Pick<Identity, 'identify'>;
  limits: Pick<Limits, 'subscribed'>;
  quotas: Pick<Config['quotas'], 'socketMaxSubscriptions' | 'socketConnectionsPerIp'>;
  /** How long a socket whose writes do not drain may stay behind (see ./slow-clients). */
  slowClientMs: number;
}

/**
 * The largest message a client may send. Clients only send job ids; socket.io's default
 * (1 MB) would let each socket make the server buffer a megabyte.
 */
const MAX_MESSAGE_BYTES = 4 * 1024;

export interface Realtime {
  io: RealtimeServer;
  /** Disconnects every socket and closes the HTTP server; safe to call twice. */
  close(): Promise<void>;
}

/**
 * Tells this node's sockets when it stops and starts hearing the workers: the adapter's
 * subscriber is the node's ear, and ioredis subscribes it again by itself once Redis is back.
 */
function followLink(io: RealtimeServer, sub: Redis, logger: Logger): { readonly up: boolean } {
  const link = { up: true };
  sub.on('close', () => {
    if (!link.up) return;
    link.up = false;
    logger.warn('lost the link to Redis: live updates paused');
    io.local.emit('live:paused');
  });
  sub.on('ready', () => {
    if (link.up) return;
    link.up = true;
    logger.info('the link to Redis is back: live updates resumed');
    io.local.emit('live:resumed');
  });
  return link;
}

export function attachRealtime(httpServer: HttpServer, deps: RealtimeDeps, pipeline: RequestPipeline): Realtime {
  const pub = patientDuplicate(deps.redis);
  const sub = patientDuplicate(deps.redis);
  const io: RealtimeServer = new Server(httpServer, {
    serveClient: false,
    maxHttpBufferSize: MAX_MESSAGE_BYTES,
    adapter: createAdapter(pub, sub, { key: socketIoKey(deps.redisPrefix), parser: wireParser }),
  });
  // A handshake passes the same checks as any HTTP request before it becomes a connection.
  io.use(pipeline.socket);
  io.use(limitConnectionsPerAddress(deps.quotas.socketConnectionsPerIp));
  const guard = createSlowClientGuard(deps);
  const handle = jobHandlers(deps);
  const live = followLink(io, sub, deps.logger);
  io.on('connection', (socket) => {
    guard(socket);
    handle(socket);
    if (!live.up) socket.emit('live:paused');
  });

  let closing: Promise<void> | undefined;
  const close = () =>
    (closing ??= (async () => {
      // Stops listening first, so that tabs whose connections close below reconnect to another
      // node rather than this one. io.close() closes each connection (it sends no `disconnect`,
      // which would tell a client to stay away), so every tab reconnects by itself; it also
      // closes the HTTP server: nothing is served after this.
      httpServer.close();
      await io.close();
      pub.disconnect();
      sub.disconnect();
    })());
  return { io, close };
}

const invalidId = (): SubscribeAck => ({ ok: false, error: notFound().toJSON() });

/**
 * At most `max` sockets per client address on this node (0: no limit). A socket lives on one
 * node, so the count does too; more are refused with `rate_limited`.
 */
function limitConnectionsPerAddress(max: number) {
  const open = new Map<string, number>();
  if (max === 0) return (_socket: RealtimeSocket, next: (err?: Error) => void) => next();
  return (socket: RealtimeSocket, next: (err?: Error) => void) => {
    const address = socket.handshake.address;
    const count = open.get(address) ?? 0;
    if (count >= max) {
      const refused = new AppError('rate_limited', 'Too many connections from this address.', { retryAfterS: 10 });
      return next(Object.assign(new Error(refused.code), { data: refused.toJSON() }));
    }
    open.set(address, count + 1);
    socket.once('disconnect', () => {
      const left = (open.get(address) ?? 1) - 1;
      if (left > 0) open.set(address, left);
      else open.delete(address);
    });
    next();
  };
}

/**
 * The job handlers of one server, shared by every socket (socket.io calls them with the socket
 * as `this`): an idle socket holds no closures of its own.
 */
function jobHandlers({ jobs, live, logger, identity, limits, quotas }: RealtimeDeps) {
  const refuse = (reply: (result: SubscribeAck) => void, err: unknown) => reply({ ok: false, error: toAppError(err, logger, 'a subscribe').toJSON() });

  async function subscribe(this: RealtimeSocket, jobId: unknown, ack: unknown) {
    // Payloads come from anyone: check their shape before trusting the types.
    if (typeof ack !== 'function') return;
    const reply = ack as (result: SubscribeAck) => void;
    if (!isJobId(jobId)) return reply(invalidId());
    try {
      await limits.subscribed(this.id);
    } catch (err) {
      return refuse(reply, err);
    }
    // Every socket is also in its own room, which is not a job's.
    if (!this.rooms.has(jobRoom(jobId)) && this.rooms.size - 1 >= quotas.socketMaxSubscriptions) {
      return refuse(reply, new AppError('too_many_subscriptions', `A connection may follow at most ${quotas.socketMaxSubscriptions} jobs.`));
    }
    // Join first, read second: an update emitted in between reaches the socket and, being
    // newer than the snapshot, wins on the client.
    await this.join(jobRoom(jobId));
    try {
      // Who asks, read from the handshake each time rather than kept for the socket's life.
      const caller: Caller = identity.identify(this.handshake.headers, (this.handshake.auth as Record<string, unknown>).token);
      reply({ ok: true, job: await viewJob({ jobs, live }, jobId, caller) });
    } catch (err) {
      if (err instanceof AppError && err.code === 'not_found') {
        await this.leave(jobRoom(jobId));
        return reply(invalidId());
      }
      logger.error({ err, jobId }, 'could not read a job for a subscriber');
      reply({ ok: false, error: new AppError('unavailable', 'The job could not be read. Try again.').toJSON() });
    }
  }

  async function unsubscribe(this: RealtimeSocket, jobId: unknown) {
    if (isJobId(jobId)) await this.leave(jobRoom(jobId));
  }

  return (socket: RealtimeSocket) => {
    socket.on('job:subscribe', subscribe);
    socket.on('job:unsubscribe', unsubscribe);
  };
}
