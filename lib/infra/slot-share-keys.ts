/**
 * The Redis keys by which workers share their download slots out among owners (the rule itself
 * is in workers/slot-share.ts), and the one write a producer makes for it: each queued job is
 * noted under its owner, so a worker that must know whether another owner's job waits finds
 * one without reading the whole queue. (`POST /api/jobs` writes its notes inside the script
 * that checks its limits, lib/server/job-admission.ts, which also counts open jobs by them.)
 * The note is only an index: workers check every entry against BullMQ's own keys before they
 * trust it, and drop the ones whose job has ended or gone.
 *
 *   <prefix>:slot-share:owners           set of owner keys that may have unfinished jobs
 *   <prefix>:slot-share:jobs:<owner>     sorted set of that owner's unfinished job ids, by when queued
 *   <prefix>:slot-share:active:<owner>   set of that owner's job ids a worker runs now
 *   <prefix>:slot-share:workers          set of worker ids
 *   <prefix>:slot-share:worker:<id>      that worker's concurrency, expiring unless it renews it
 */
import type { RedisClient } from 'bullmq';

/**
 * Jobs without an owner share one: they cannot be told apart, and grouped they can neither
 * crowd out the owners who can be told apart nor be crowded out by them.
 */
export const ANONYMOUS_OWNER = 'anonymous';

/** The key part of an owner; real ids get a prefix, so none can pass for the anonymous one. */
export function ownerKey(owner: string | null | undefined): string {
  return owner == null ? ANONYMOUS_OWNER : `owner=${owner}`;
}

/** Every key name starts with this; the scripts in workers/slot-share.ts add the suffixes above. */
export function slotShareBase(prefix: string): string {
  return `${prefix}:slot-share:`;
}

/** Both writes at once; through BullMQ's own client of the queue, whatever Redis client it wraps. */
const NOTE = "redis.call('ZADD', KEYS[1], ARGV[1], ARGV[2]) redis.call('SADD', KEYS[2], ARGV[3]) return 0";
const NOTE_COMMAND = 'slotShareNote';
const withNote = new WeakSet<RedisClient>();

/** Drops the notes named in ARGV from one owner's sorted set. */
const FORGET = "redis.call('ZREM', KEYS[1], unpack(ARGV)) return 0";
const FORGET_COMMAND = 'slotShareForget';

function defineCommands(client: RedisClient): void {
  if (withNote.has(client)) return;
  client.defineCommand(NOTE_COMMAND, { numberOfKeys: 2, lua: NOTE });
  client.defineCommand(FORGET_COMMAND, { numberOfKeys: 1, lua: FORGET });
  withNote.add(client);
}

/** Notes a job about to be queued under its owner (a job queued again gets its new time). */
export async function noteQueuedJob(client: RedisClient, prefix: string, jobId: string, owner: string | null): Promise<void> {
  defineCommands(client);
  const base = slotShareBase(prefix);
  const key = ownerKey(owner);
  await client.runCommand(NOTE_COMMAND, [`${base}jobs:${key}`, `${base}owners`, Date.now(), jobId, key]);
}

/**
 * Drops the notes of jobs that will not run: taken out of the queue (cancelled while they
 * waited) or never queued. Left alone, such a note would still count as an open job of its
 * owner (lib/server/job-admission.ts) for up to a minute, until a check finds its job gone.
 */
export async function forgetQueuedJobs(client: RedisClient, prefix: string, jobIds: readonly string[], owner: string | null): Promise<void> {
  if (jobIds.length === 0) return;
  defineCommands(client);
  await client.runCommand(FORGET_COMMAND, [`${slotShareBase(prefix)}jobs:${ownerKey(owner)}`, ...jobIds]);
}
