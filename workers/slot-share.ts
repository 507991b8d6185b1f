/**
 * The owner's share of the worker slots: one owner may hold at most
 * max(1, floor(OWNER_SLOT_SHARE × slots)) running downloads while another owner's job waits,
 * where the slots are the WORKER_CONCURRENCY of every live worker added up. A worker that takes
 * a job of an owner already at that share, while some other owner below it has a job waiting,
 * hands the job back to the head of the queue untouched and puts that other job in front of it,
 * so the freed slot goes to the other owner. With no such job waiting it runs the job: one
 * owner alone may use every slot, and no slot stays idle while only capped owners wait.
 *
 * The bookkeeping lives in Redis (keys in lib/infra/slot-share-keys.ts) and is read against
 * BullMQ's own keys, so a worker that dies leaves nothing that counts for long:
 * - the slots: each worker keeps its concurrency under a key that expires unless renewed;
 * - an owner's running jobs: the ids admitted here, each counted only while its BullMQ lock
 *   lives (a dead worker's lock expires within LOCK_DURATION_MS);
 * - an owner's waiting jobs: the ids noted when queued, each checked in BullMQ (not ended, not
 *   locked, not delayed, in the wait list) before it counts; ended or removed ones are dropped.
 * Each check is one script on Redis. Below its share (the usual case) it reads only the
 * worker list and that owner's running jobs; at its share it also looks through the other
 * owners until one has a job waiting, never through the whole queue.
 */
import { randomUUID } from 'node:crypto';
import type { Redis } from 'ioredis';
import type { Logger } from '../lib/infra/logger';
import { DOWNLOAD_QUEUE, type DownloadWorker, type QueuedDownload } from '../lib/infra/queue';
import { ownerKey, slotShareBase } from '../lib/infra/slot-share-keys';

/** How often a worker renews its entry in the slot count, and how long the entry outlives it. */
const HEARTBEAT_MS = 5_000;
const WORKER_TTL_MS = 3 * HEARTBEAT_MS;
/**
 * A noted job whose BullMQ record does not exist (yet) is dropped only after this long: the
 * note is written just before the job is queued, and clocks of machines may differ a little.
 */
const NOTE_GRACE_MS = 60_000;

/** Shared by the scripts: the time on Redis, and whether a noted job has ended or is gone. */
const LUA_COMMON = `
local call = redis.call
local function nowMs()
  local t = call('TIME')
  return tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end
local function gone(queue, id, queuedAt, now)
  local job = queue .. id
  if call('EXISTS', job) == 0 then return queuedAt < now - ${NOTE_GRACE_MS} end
  return call('HEXISTS', job, 'finishedOn') == 1
end
`;

/**
 * ARGV: 1 key base, 2 queue key base, 3 job id, 4 owner key, 5 share, 6 worker id,
 * 7 this worker's concurrency, 8 '1' to admit without the check.
 * Returns { 1 = run it | 0 = hand it back, slots, the share in slots, the owner's running jobs,
 * [the other owner's job to put first] }.
 */
const CLAIM = `${LUA_COMMON}
local base, queue, jobId, me = ARGV[1], ARGV[2], ARGV[3], ARGV[4]
local now = nowMs()

local slots, counted = 0, false
for _, id in ipairs(call('SMEMBERS', base .. 'workers')) do
  local n = call('GET', base .. 'worker:' .. id)
  if n then
    slots = slots + tonumber(n)
    if id == ARGV[6] then counted = true end
  else
    call('SREM', base .. 'workers', id)
  end
end
if not counted then slots = slots + tonumber(ARGV[7]) end
local cap = math.max(1, math.floor(tonumber(ARGV[5]) * slots + 1e-9))

-- An owner's admitted jobs that still run: a worker holds a job's lock for as long as it runs it.
local function running(owner)
  local key = base .. 'active:' .. owner
  local n = 0
  for _, id in ipairs(call('SMEMBERS', key)) do
    if id ~= jobId then
      if call('EXISTS', queue .. id .. ':lock') == 1 then n = n + 1 else call('SREM', key, id) end
    end
  end
  return n
end

-- The oldest of an owner's jobs that waits in the queue's list now, if any.
local function waiting(owner)
  local key = base .. 'jobs:' .. owner
  local from = 0
  while true do
    local page = call('ZRANGE', key, from, from + 99, 'WITHSCORES')
    if #page == 0 then break end
    for i = 1, #page, 2 do
      local id = page[i]
      if gone(queue, id, tonumber(page[i + 1]), now) then
        call('ZREM', key, id)
        from = from - 1
      elseif call('EXISTS', queue .. id .. ':lock') == 0 and not call('ZSCORE', queue .. 'delayed', id)
        and call('LPOS', queue .. 'wait', id, 'RANK', -1) then
        return id
      end
    end
    from = from + #page / 2
  end
  if call('ZCARD', key) == 0 then call('SREM', base .. 'owners', owner) end
  return nil
end

local mine = running(me)
local function admit()
  call('SADD', base .. 'active:' .. me, jobId)
  -- A job queued without a note (by an older producer) is noted now, in case it waits again.
  call('ZADD', base .. 'jobs:' .. me, 'NX', now, jobId)
  call('SADD', base .. 'owners', me)
  return { 1, slots, cap, mine }
end
if ARGV[8] == '1' or mine < cap then return admit() end
for _, owner in ipairs(call('SMEMBERS', base .. 'owners')) do
  if owner ~= me and running(owner) < cap then
    local other = waiting(owner)
    if other then return { 0, slots, cap, mine, other } end
  end
end
return admit()
`;

/** ARGV: 1 queue key base, 2 job id. Moves a waiting job to the head of the list, taken next. */
const PUT_FIRST = `
if redis.call('LREM', ARGV[1] .. 'wait', -1, ARGV[2]) == 1 then
  redis.call('RPUSH', ARGV[1] .. 'wait', ARGV[2])
  return 1
end
return 0
`;

/** ARGV: 1 key base, 2 owner key, 3 job id. The job has ended: it neither runs nor waits. */
const FORGET = `
local base, owner, id = ARGV[1], ARGV[2], ARGV[3]
redis.call('SREM', base .. 'active:' .. owner, id)
redis.call('ZREM', base .. 'jobs:' .. owner, id)
if redis.call('ZCARD', base .. 'jobs:' .. owner) == 0 then redis.call('SREM', base .. 'owners', owner) end
return 0
`;

/**
 * ARGV: 1 key base, 2 queue key base, 3 worker id, 4 concurrency, 5 ttl. Renews this worker's
 * slots, and drops a few notes of one owner picked at random whose jobs ended or were removed
 * without a worker seeing it (cancelled or deleted while waiting), so none pile up.
 */
const HEARTBEAT = `${LUA_COMMON}
local base, queue = ARGV[1], ARGV[2]
call('SET', base .. 'worker:' .. ARGV[3], ARGV[4], 'PX', ARGV[5])
call('SADD', base .. 'workers', ARGV[3])
local owner = call('SRANDMEMBER', base .. 'owners')
if not owner then return 0 end
local now = nowMs()
local key = base .. 'jobs:' .. owner
local sample = call('ZRANDMEMBER', key, 20, 'WITHSCORES')
for i = 1, #sample, 2 do
  if gone(queue, sample[i], tonumber(sample[i + 1]), now) then call('ZREM', key, sample[i]) end
end
if call('ZCARD', key) == 0 then call('SREM', base .. 'owners', owner) end
local active = base .. 'active:' .. owner
for _, id in ipairs(call('SMEMBERS', active)) do
  if call('EXISTS', queue .. id .. ':lock') == 0 then call('SREM', active, id) end
end
return 0
`;

export interface SlotShareSettings {
  redis: Redis;
  /** REDIS_PREFIX: BullMQ's prefix too. */
  prefix: string;
  /** This worker's WORKER_CONCURRENCY. */
  concurrency: number;
  /** OWNER_SLOT_SHARE. */
  share: number;
  logger: Logger;
}

export interface SlotShare {
  /**
   * Called once a job is taken, before it runs: true to run it now (it counts among its
   * owner's running jobs until `release`); false once it has been handed back to the queue,
   * and the processor must then throw BullMQ's WaitingError (not a failed attempt). A job that
   * `resumes` (its worker died while it ran) runs at once: it held a slot already.
   */
  take(queued: QueuedDownload, token: string | undefined, resumes: boolean): Promise<boolean>;
  /** The attempt `take` let run has ended. */
  release(queued: QueuedDownload): Promise<void>;
  /** Forgets jobs the worker finishes (completed, or failed for good). */
  follow(worker: DownloadWorker): void;
  /** Leaves the slot count; after the worker has closed. */
  close(): Promise<void>;
}

type ScriptRun = (...args: Array<string | number>) => Promise<unknown>;

/**
 * The script as a command of the connection: sent by its SHA (EVALSHA), and as a whole only
 * when Redis does not have it yet, rather than kilobytes of Lua with every job.
 */
function script(redis: Redis, name: string, lua: string): ScriptRun {
  const commands = redis as unknown as Record<string, ScriptRun | undefined>;
  if (!commands[name]) redis.defineCommand(name, { numberOfKeys: 0, lua });
  return (...args) => commands[name]!.apply(redis, args);
}

export async function startSlotShare({ redis, prefix, concurrency, share, logger }: SlotShareSettings): Promise<SlotShare> {
  const base = slotShareBase(prefix);
  const queue = `${prefix}:${DOWNLOAD_QUEUE}:`;
  const workerId = randomUUID();
  const [claim, putFirst, forgetJob, renew] = [
    script(redis, 'slotShareClaim', CLAIM),
    script(redis, 'slotSharePutFirst', PUT_FIRST),
    script(redis, 'slotShareForget', FORGET),
    script(redis, 'slotShareHeartbeat', HEARTBEAT),
  ];

  const heartbeat = () => renew(base, queue, workerId, concurrency, WORKER_TTL_MS);
  // Counted before the worker takes its first job.
  await heartbeat();
  const timer = setInterval(() => {
    heartbeat().catch((err: unknown) => logger.warn({ err }, 'could not renew the slot count'));
  }, HEARTBEAT_MS);
  timer.unref();

  const forget = (queued: QueuedDownload) =>
    forgetJob(base, ownerKey(queued.data.owner), queued.data.jobId).catch((err: unknown) => {
      // Dropped later by a check or a heartbeat, once it sees the job has ended.
      logger.warn({ err, jobId: queued.data.jobId }, 'could not forget a finished job in the slot share');
    });

  return {
    async take(queued, token, resumes) {
      const { jobId } = queued.data;
      const owner = ownerKey(queued.data.owner);
      let verdict: [number, number, number, number, string?];
      try {
        verdict = (await claim(base, queue, jobId, owner, share, workerId, concurrency, resumes ? '1' : '0')) as typeof verdict;
      } catch (err) {
        // The share is fairness, not safety: better a job run over it than one not run at all.
        logger.warn({ err, jobId }, 'could not check the owner share of the slots; running the job');
        return true;
      }
      const [admitted, slots, cap, running, instead] = verdict;
      if (admitted === 1) return true;
      try {
        // Back to the head of the list, where it keeps its place among its owner's jobs...
        await queued.moveToWait(token);
      } catch (err) {
        // Its lock is lost, or Redis failed: either way another worker gets it (the lock
        // expires, and the stalled-job check queues it again), as after a worker's death.
        logger.warn({ err, jobId }, 'could not hand a job back to the queue');
      }
      // ...and the other owner's job in front of it, so the slot goes there, not to it again.
      await putFirst(queue, instead!).catch((err: unknown) => logger.warn({ err, jobId: instead }, 'could not put a waiting job first'));
      logger.info({ jobId, running, cap, slots, instead }, 'owner at its share of the slots; job handed back');
      return false;
    },

    async release(queued) {
      await redis.srem(`${base}active:${ownerKey(queued.data.owner)}`, queued.data.jobId).catch((err: unknown) => {
        // Its lock goes when the attempt ends; a check then stops counting it anyway.
        logger.warn({ err, jobId: queued.data.jobId }, 'could not release a slot');
      });
    },

    follow(worker) {
      worker.on('completed', (queued) => void forget(queued));
      // Only a final failure: one that BullMQ retries still waits for a slot.
      worker.on('failed', (queued) => {
        if (queued?.finishedOn) void forget(queued);
      });
    },

    async close() {
      clearInterval(timer);
      await redis
        .multi()
        .del(`${base}worker:${workerId}`)
        .srem(`${base}workers`, workerId)
        .exec()
        .catch((err: unknown) => logger.warn({ err }, 'could not leave the slot count'));
    },
  };
}
