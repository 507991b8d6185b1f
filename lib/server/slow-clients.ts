/**
 * Slow clients never cost the server memory. Job states reach sockets as volatile packets (see
 * ../job-events/redis): socket.io drops one, instead of queueing it, for a socket whose
 * transport is still writing what it was sent before. This guard keeps what was dropped, only
 * the newest state of each job, and sends it once the transport can write again. A socket that
 * stays behind longer than `slowClientMs` is closed; it gets the current state through its
 * next subscribe, which every client makes after a reconnect.
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

/** Watches one socket's outgoing job states for as long as it is connected. */
export function guardSlowClient(socket: GuardedSocket, { slowClientMs, logger }: SlowClientOptions): void {
  const waiting = new Map<string, JobView>(); // by job id: the newest state the socket missed
  let behind: NodeJS.Timeout | undefined; // runs while anything waits
  let resending = false;
  let transport: Transport = socket.conn.transport;

  const caughtUp = () => {
    clearTimeout(behind);
    behind = undefined;
  };

  const resend = () => {
    // A transport that became writable may have been handed engine.io's own buffer at once
    // (acknowledgements, deletions); then its next `ready` comes when that is written.
    if (waiting.size === 0 || !transport.writable) return;
    // Not for a job the socket has stopped following meanwhile.
    const states = [...waiting.values()].filter((job) => socket.rooms.has(jobRoom(job.id)));
    waiting.clear();
    caughtUp();
    // These pass the outgoing listener too, and all but the first find the transport busy:
    // they are queued by engine.io (one per job at most), not missed.
    resending = true;
    try {
      for (const job of states) socket.emit('job:update', job);
    } finally {
      resending = false;
    }
  };

  // Called for room broadcasts and own emits alike, just before socket.io writes the packet,
  // so `writable` here is what decides whether a volatile packet is dropped.
  socket.onAnyOutgoing((event: string, arg: unknown) => {
    if (resending) return;
    if (event === 'job:deleted') {
      waiting.delete(arg as string); // nothing more of that job is worth sending
    } else if (event === 'job:update') {
      const job = arg as JobView;
      const missed = waiting.get(job.id);
      if (!transport.writable) {
        waiting.set(job.id, newerJob(missed ?? null, job));
        behind ??= setTimeout(closeSlowSocket, slowClientMs);
        return;
      }
      // Goes out now, and replaces the one that waited unless that one is newer.
      if (missed && newerJob(missed, job) === job) waiting.delete(job.id);
    }
    if (waiting.size === 0) caughtUp();
  });

  function closeSlowSocket() {
    logger.info({ socketId: socket.id, waitingJobs: waiting.size, slowClientMs }, 'closed a socket that stayed behind');
    // The engine.io connection, not `socket.disconnect()`: that would queue a disconnect
    // packet behind the data that does not drain, and tell the client not to reconnect.
    // Discarding the buffer closes it now; the client sees a lost transport and comes back.
    socket.conn.close(true);
  }

  // `ready` is the transport saying it can write again (a WebSocket frame written, the next
  // long-polling request). The transport changes when the connection upgrades.
  transport.on('ready', resend);
  const onUpgrade = (next: Transport) => {
    transport.off('ready', resend);
    transport = next;
    transport.on('ready', resend);
    resend();
  };
  socket.conn.on('upgrade', onUpgrade);
  socket.once('disconnect', () => {
    caughtUp();
    waiting.clear();
    transport.off('ready', resend);
    socket.conn.off('upgrade', onUpgrade);
  });
}
