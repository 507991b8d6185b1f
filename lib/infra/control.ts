/**
 * The control channel from server nodes to workers: one Redis pub/sub channel under the app's
 * prefix. BullMQ's `worker.cancelJob` reaches only its own process; a request published here
 * reaches every worker process on every machine, and the one that runs the job acts on it.
 * Messages are JSON, checked against the schema on receipt like any other input.
 */
import type { Redis } from 'ioredis';
import { z } from 'zod';
import type { Logger } from './logger';
import { patientDuplicate } from './redis';
import { jobIdSchema } from '../domain/job-input';

export const controlMessageSchema = z.discriminatedUnion('type', [
  /** Stop the job now: it has been cancelled (or deleted) and must not go on. `run`: the run cancelled. */
  z.object({ type: z.literal('cancel'), jobId: jobIdSchema, run: z.number().int().positive() }),
]);
export type ControlMessage = z.infer<typeof controlMessageSchema>;

/** The channel's name; every server node and worker of one app derives the same one. */
export function controlChannel(redisPrefix: string): string {
  return `${redisPrefix}:control`;
}

/** The message, or null for anything that is not one (malformed JSON, unknown type, bad id). */
export function parseControlMessage(raw: string): ControlMessage | null {
  let data: unknown;
  try {
    data = JSON.parse(raw);
  } catch {
    return null; // Not JSON: the caller logs it as a message it cannot read.
  }
  const parsed = controlMessageSchema.safeParse(data);
  return parsed.success ? parsed.data : null;
}

export interface ControlPublisher {
  /** Publishes to every worker; resolves once Redis has taken it. */
  send(message: ControlMessage): Promise<void>;
}

/**
 * Where a cancel is also recorded, as the run it cancelled: a worker whose subscription was
 * reconnecting when the message went out would miss it, so each worker also reads the records
 * of its running jobs twice a second (workers/lock-watch.ts). Kept an hour: far longer than
 * any reconnect, and a retry is a newer run that the record does not stop.
 */
export function cancelRecordKey(redisPrefix: string, jobId: string): string {
  return `${redisPrefix}:cancelled:${jobId}`;
}

const CANCEL_RECORD_S = 3600;

export function createControlPublisher(redis: Redis, redisPrefix: string): ControlPublisher {
  return {
    async send(message) {
      const { jobId, run } = controlMessageSchema.parse(message);
      // One transaction: the record is there by the time any worker hears the message.
      await redis
        .multi()
        .set(cancelRecordKey(redisPrefix, jobId), String(run), 'EX', CANCEL_RECORD_S)
        .publish(controlChannel(redisPrefix), JSON.stringify(message))
        .exec();
    },
  };
}

export interface ControlSubscription {
  /** Unsubscribes and closes the connection; safe to call twice. */
  close(): Promise<void>;
}

/**
 * Listens on the channel with a connection of its own (a subscribed connection can do nothing
 * else); ioredis subscribes again by itself after a reconnect. Resolves once subscribed.
 */
export async function subscribeControl(
  redis: Redis,
  redisPrefix: string,
  onMessage: (message: ControlMessage) => void,
  logger: Logger,
): Promise<ControlSubscription> {
  const channel = controlChannel(redisPrefix);
  const subscriber = patientDuplicate(redis);
  subscriber.on('error', (err: unknown) => logger.warn({ err }, 'control channel connection error'));
  subscriber.on('message', (from: string, raw: string) => {
    if (from !== channel) return;
    const message = parseControlMessage(raw);
    if (message) onMessage(message);
    else logger.warn({ length: raw.length }, 'ignored a control message that is not one');
  });
  await subscriber.subscribe(channel);

  let closing: Promise<void> | undefined;
  return {
    close: () =>
      (closing ??= (async () => {
        subscriber.disconnect();
      })()),
  };
}
