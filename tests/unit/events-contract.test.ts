import { describe, expect, it } from '@jest/globals';
import type { Socket as ClientSocket } from 'socket.io-client';
import type { Server } from 'socket.io';
import { jobRoom, type ClientToServerEvents, type ServerToClientEvents } from '../../lib/domain/events';
import { newJob } from '../../lib/server/job-service';

/**
 * The event map is enforced by the compiler: `npm test` type-checks this file, and each
 * `@ts-expect-error` fails the type check if the wrong payload it marks ever compiles.
 */
export function typeChecks(server: Server<ClientToServerEvents, ServerToClientEvents>, client: ClientSocket<ServerToClientEvents, ClientToServerEvents>) {
  const job = newJob('https://files.invalid/a');
  server.to(jobRoom(job.id)).emit('job:update', job);
  // @ts-expect-error: an update carries the whole job, not a part of it
  server.to(jobRoom(job.id)).emit('job:update', { id: job.id, progress: 5 });
  // @ts-expect-error: no such event
  server.emit('job:progress', job);
  server.to(jobRoom(job.id)).emit('job:deleted', job.id);
  // @ts-expect-error: a deletion names the job by its id, not its state
  server.to(jobRoom(job.id)).emit('job:deleted', job);
  client.on('job:deleted', (jobId) => jobId.toUpperCase());
  client.emit('job:subscribe', job.id, (ack) => (ack.ok ? ack.job.version : ack.error.code));
  // @ts-expect-error: a subscription takes the id as a string
  client.emit('job:subscribe', { id: job.id }, () => undefined);
  client.emit('job:unsubscribe', job.id);
}

describe('rooms', () => {
  it('are named after the job, one per job', () => {
    expect(jobRoom('3b241101-e2bb-4255-8caf-4136c566a962')).toBe('job:3b241101-e2bb-4255-8caf-4136c566a962');
    expect(jobRoom('a')).not.toBe(jobRoom('b'));
  });
});
