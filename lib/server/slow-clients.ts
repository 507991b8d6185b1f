/**
 * Slow clients never cost the server memory. Job states reach sockets as volatile packets (see
 * ../job-events/redis): socket.io drops one, instead of queueing it, for a socket whose
 * transport is still writing what it was sent before. This guard keeps what was dropped, only
 * the newest state of each job, and sends it once the transport can write again. A socket that
 * stays behind longer than `slowClientMs` is closed; it gets the current state through its
 * next subscribe, which every client makes after a reconnect.
 *
 * Most sockets are idle or keep up, so an idle socket carries only its outgoing listener: the
 * rest (the states that wait, the timer, the listeners that wait for the transport) exists
 * only while the socket is behind.
 */
import type { Socket } from 'socket.io';
import { jobRoom, type ClientToServerEvents, type ServerToClientEvents } from '../domain/events';
import type { JobView } from '../domain/job';
import { newerJob } from '../domain/job-state';
import type { Logger } from '../infra/logger';

type GuardedSocket = Socket<ClientToServerEvents, ServerToClientEvents>;
type Transport = GuardedSocket['conn']['transport'];

export interface SlowClientOptions {
  /** How long a socket may have states waiting for its transport before it is closed. */
  slowClientMs: number;
  logger: Pick<Logger, 'info'>;
}

/**
 * Makes the guard of one server: `guard(socket)` watches that socket's outgoing job states for
 * as long as it is connected. One listener serves every socket (socket.io calls it with the
 * socket as `this`), so that an idle socket pays for nothing of its own.
 */
export function createSlowClientGuard(options: SlowClientOptions): (socket: GuardedSocket) => void {
  const behind = new WeakMap<GuardedSocket, Behind>();
  // Called for room broadcasts and own emits alike, just before socket.io writes the packet,
  // so `writable` here is what decides whether a volatile packet is dropped.
  function onOutgoing(this: GuardedSocket, event: string, arg: unknown) {
    const late = behind.get(this);
    if (late?.resending) return; // its own sends: queued by engine.io, not missed
    if (event === 'job:update' && !this.conn.transport.writable) {
      if (late) return late.missed(arg as JobView);
      const started = new Behind(this, options, () => behind.delete(this));
      behind.set(this, started);
      started.missed(arg as JobView);
    } else {
      late?.sent(event, arg);
    }
  }
  return (socket) => socket.onAnyOutgoing(onOutgoing);
}

/** One socket's guard, for a socket alone (the server makes one guard for all of them). */
export function guardSlowClient(socket: GuardedSocket, options: SlowClientOptions): void {
  createSlowClientGuard(options)(socket);
}

/** A socket while it is behind: what it missed, and until when it may stay so. */
class Behind {
  private readonly waiting = new Map<string, JobView>(); // by job id: the newest state missed
  private readonly timer: NodeJS.Timeout;
  private transport: Transport;
  /** While it sends what waited. */
  resending = false;

  constructor(
    private readonly socket: GuardedSocket,
    private readonly options: SlowClientOptions,
    private readonly onCaughtUp: () => void,
  ) {
    this.timer = setTimeout(this.close, options.slowClientMs);
    this.transport = socket.conn.transport;
    // `ready` is the transport saying it can write again (a WebSocket frame written, the next
    // long-polling request). The transport changes when the connection upgrades.
    this.transport.on('ready', this.resend);
    socket.conn.on('upgrade', this.upgraded);
    socket.once('disconnect', this.stop);
  }

  missed(job: JobView): void {
    this.waiting.set(job.id, newerJob(this.waiting.get(job.id) ?? null, job));
  }

  /** A packet that goes out now: it may make a waiting state needless. */
  sent(event: string, arg: unknown): void {
    if (event === 'job:deleted') {
      this.waiting.delete(arg as string); // nothing more of that job is worth sending
    } else if (event === 'job:update') {
      const job = arg as JobView;
      const missed = this.waiting.get(job.id);
      // Goes out now, and replaces the one that waited unless that one is newer.
      if (missed && newerJob(missed, job) === job) this.waiting.delete(job.id);
    }
    if (this.waiting.size === 0) this.stop();
  }

  private readonly resend = () => {
    // A transport that became writable may have been handed engine.io's own buffer at once
    // (acknowledgements, deletions); then its next `ready` comes when that is written.
    if (!this.transport.writable) return;
    // Not for a job the socket has stopped following meanwhile.
    const states = [...this.waiting.values()].filter((job) => this.socket.rooms.has(jobRoom(job.id)));
    // These pass the outgoing listener too, and all but the first find the transport busy:
    // they are queued by engine.io (one per job at most), not missed.
    this.resending = true;
    try {
      for (const job of states) this.socket.emit('job:update', job);
    } finally {
      this.resending = false;
      this.stop();
    }
  };

  private readonly upgraded = (next: Transport) => {
    this.transport.off('ready', this.resend);
    this.transport = next;
    this.transport.on('ready', this.resend);
    this.resend();
  };

  private readonly close = () => {
    this.options.logger.info({ socketId: this.socket.id, waitingJobs: this.waiting.size, slowClientMs: this.options.slowClientMs }, 'closed a socket that stayed behind');
    this.stop();
    // The engine.io connection, not `socket.disconnect()`: that would queue a disconnect
    // packet behind the data that does not drain, and tell the client not to reconnect.
    // Discarding the buffer closes it now; the client sees a lost transport and comes back.
    this.socket.conn.close(true);
  };

  /** Caught up (or gone): nothing waits any more. */
  private readonly stop = () => {
    clearTimeout(this.timer);
    this.waiting.clear();
    this.transport.off('ready', this.resend);
    this.socket.conn.off('upgrade', this.upgraded);
    this.socket.off('disconnect', this.stop);
    this.onCaughtUp();
  };
}
