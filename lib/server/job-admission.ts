/**
 * Whether new jobs may start, asked of Redis in one script before anything is stored: one
 * round trip whatever the number of URLs, atomic across every server node. In order:
 *
 * 1. JOBS_PER_MINUTE per owner, then JOBS_PER_MINUTE_PER_IP per address, counted as
 *    rate-limiter-flexible counts them and on its keys (`<prefix>:limit:jobs-owner:<owner>`,
 *    `…:jobs-ip:<address>`): each URL is a point, a window runs a minute from its first point,
 *    refused points count too, and `Retry-After` is what is left of the window. A refusal by
 *    the owner's limit does not count against the address.
 * 2. MAX_OPEN_JOBS per owner, counted from the slot-share notes (lib/infra/slot-share-keys.ts),
 *    the sorted set of the owner's unfinished job ids that producers and workers keep already.
 *    Each note is checked against BullMQ's own record of its job: one that has ended
 *    (`finishedOn`) or is gone is dropped, so the count cannot drift from the queue; one not
 *    queued yet counts for NOTE_GRACE_MS (it is being stored right now). A job cancelled while
 *    it waits loses its note at once (`forgetQueuedDownloads`). No MongoDB count is needed.
 * 3. Admitted: the new jobs' notes are written, with Redis's clock, so the queue add that
 *    follows needs no write of its own for the slot share.
 *
 * A batch is admitted or refused whole. Jobs without an owner count only against their address.
 */
import { AppError } from '../domain/errors';
import type { Config } from '../infra/config';
import type { DownloadQueue } from '../infra/queue';
import { ownerKey, slotShareBase } from '../infra/slot-share-keys';

export type AdmissionSettings = Pick<Config, 'redisPrefix'> & {
  quotas: Pick<Config['quotas'], 'jobsPerMinute' | 'jobsPerMinutePerIp' | 'maxOpenJobs'>;
};

/** New jobs asking to start. */
export interface Admission {
  jobIds: readonly string[];
  owner: string | null;
  /** The client's address, for JOBS_PER_MINUTE_PER_IP. */
  address: string;
  /** False for the access token's holder: its jobs are noted, never limited. */
  limited: boolean;
}

const WINDOW_S = 60;
/** As in workers/slot-share.ts: how long a note may name a job BullMQ does not hold (yet). */
const NOTE_GRACE_MS = 60_000;
/** How long an owner at MAX_OPEN_JOBS is told to wait: about as long as a download slot takes to free. */
const OPEN_JOBS_RETRY_AFTER_S = 30;

/**
 * ARGV: 1 limit key base, 2 slot-share key base, 3 queue key base, 4 owner ('' for none),
 * 5 its slot-share owner key, 6 address, 7 jobs per minute per owner, 8 per address,
 * 9 open jobs per owner (0: off), 10 '1' to check the limits, 11… the new jobs' ids.
 * Returns { 'ok' } or { 'owner' | 'address', ms left in the window } or { 'open', open jobs }.
 */
const ADMIT = `
local call = redis.call
local limits, base, queue = ARGV[1], ARGV[2], ARGV[3]
local owner, noteOwner, address = ARGV[4], ARGV[5], ARGV[6]
local perOwner, perAddress, maxOpen = tonumber(ARGV[7]), tonumber(ARGV[8]), tonumber(ARGV[9])
local first = 11
local n = #ARGV - first + 1
local t = call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local notes = base .. 'jobs:' .. noteOwner

-- rate-limiter-flexible's own script, consuming n points; returns the ms left when over.
local function over(key, points)
  call('SET', key, 0, 'EX', ${WINDOW_S}, 'NX')
  local consumed = call('INCRBY', key, n)
  local ttl = call('PTTL', key)
  if ttl == -1 then
    call('EXPIRE', key, ${WINDOW_S})
    ttl = ${WINDOW_S * 1000}
  end
  if consumed > points then return ttl end
  return nil
end

-- The owner's noted jobs that are still queued or running; ended or vanished ones are dropped.
local function open()
  local count = 0
  local page = call('ZRANGE', notes, 0, -1, 'WITHSCORES')
  for i = 1, #page, 2 do
    local id, job = page[i], queue .. page[i]
    local ended
    if call('EXISTS', job) == 0 then ended = tonumber(page[i + 1]) < now - ${NOTE_GRACE_MS}
    else ended = call('HEXISTS', job, 'finishedOn') == 1 end
    if ended then call('ZREM', notes, id) else count = count + 1 end
  end
  return count
end

if ARGV[10] == '1' then
  if owner ~= '' and perOwner > 0 then
    local wait = over(limits .. 'jobs-owner:' .. owner, perOwner)
    if wait then return { 'owner', wait } end
  end
  if perAddress > 0 then
    local wait = over(limits .. 'jobs-ip:' .. address, perAddress)
    if wait then return { 'address', wait } end
  end
  if owner ~= '' and maxOpen > 0 then
    local count = open()
    if count + n > maxOpen then return { 'open', count } end
  end
end
for i = first, #ARGV do call('ZADD', notes, now, ARGV[i]) end
call('SADD', base .. 'owners', noteOwner)
return { 'ok', 0 }
`;
const ADMIT_COMMAND = 'admitJobs';

type Verdict = ['ok' | 'owner' | 'address' | 'open', number];
type QueueClient = Awaited<ReturnType<DownloadQueue['getBackend']>['client']>;
const withAdmit = new WeakSet<QueueClient>();

/**
 * Admits the jobs (and notes them for the slot share) or refuses them all: 429 `rate_limited`
 * or `too_many_jobs` with `Retry-After`, or 503 `unavailable` when Redis does not answer.
 * Runs on the queue's own Redis client, where the queue add that follows goes too.
 */
export async function admitJobs(queue: DownloadQueue, { redisPrefix, quotas }: AdmissionSettings, admission: Admission): Promise<void> {
  const { jobIds, owner, address, limited } = admission;
  let verdict: Verdict;
  try {
    const client = await queue.getBackend().client;
    if (!withAdmit.has(client)) {
      client.defineCommand(ADMIT_COMMAND, { numberOfKeys: 0, lua: ADMIT });
      withAdmit.add(client);
    }
    verdict = await client.runCommand(ADMIT_COMMAND, [
      `${redisPrefix}:limit:`,
      slotShareBase(queue.opts.prefix ?? 'bull'),
      `${queue.qualifiedName}:`,
      owner ?? '',
      ownerKey(owner),
      address,
      quotas.jobsPerMinute,
      quotas.jobsPerMinutePerIp,
      quotas.maxOpenJobs,
      limited ? '1' : '0',
      ...jobIds,
    ]);
  } catch (cause) {
    throw new AppError('unavailable', 'The limits could not be checked. Try again in a moment.', { cause });
  }
  const [outcome, value] = verdict;
  if (outcome !== 'ok') throw refusal(outcome, value, jobIds.length, quotas);
}

function refusal(outcome: Exclude<Verdict[0], 'ok'>, value: number, count: number, quotas: AdmissionSettings['quotas']): AppError {
  const one = count === 1;
  switch (outcome) {
    case 'owner':
      return new AppError(
        'rate_limited',
        one
          ? 'You started too many downloads in the last minute. Wait a moment.'
          : `You started too many downloads in the last minute: these ${count} would pass the ${quotas.jobsPerMinute} a minute this server allows. Wait a moment, or send fewer.`,
        { retryAfterS: value / 1000 },
      );
    case 'address':
      return new AppError(
        'rate_limited',
        one
          ? 'Too many downloads were started from this address in the last minute. Wait a moment.'
          : `Too many downloads were started from this address in the last minute: these ${count} would pass the ${quotas.jobsPerMinutePerIp} a minute this server allows. Wait a moment, or send fewer.`,
        { retryAfterS: value / 1000 },
      );
    case 'open':
      return new AppError(
        'too_many_jobs',
        one
          ? `You have ${quotas.maxOpenJobs} downloads queued or running, the most this server allows. Wait for some of them to finish.`
          : `You have ${value} downloads queued or running: these ${count} more would pass the ${quotas.maxOpenJobs} this server allows. Wait for some of them to finish, or send fewer.`,
        { retryAfterS: OPEN_JOBS_RETRY_AFTER_S },
      );
  }
}
