/**
 * The download engine the worker calls: follows redirects (checking every hop against the
 * address guard), streams the body through SHA-256 into `<name>.part`, and renames it to
 * `<name>` only when every promised byte has arrived. When asked to resume, it continues the
 * partial file an earlier attempt left with `Range` + `If-Range`, or starts over and says why.
 * On a failure that a later attempt may get past, a resumable partial file is kept; otherwise
 * it is removed. Rejects only with a DownloadError.
 */
import { createHash } from 'node:crypto';
import { mkdir, rename, statfs } from 'node:fs/promises';
import type { IncomingHttpHeaders } from 'node:http';
import type { LookupFunction } from 'node:net';
import path from 'node:path';
import { formatBytes } from '../util/format';
import { addressPolicy, createGuardedLookup, resolverFrom, type AddressPolicy } from './address-guard';
import { DownloadError, toDownloadError } from './errors';
import { CONNECT_TIMEOUT_MS, IDLE_TIMEOUT_MS, stopReason, type BodySink, type Exchange, type ExchangeSettings } from './exchange';
import { FileSink } from './file-sink';
import { fileNameFrom } from './file-name';
import { DEFAULT_MAX_REDIRECTS, openFinalResponse, parseDownloadUrl } from './follow';
import { openResumable, type Start } from './resume';
import { Fence, fenced } from './fence';
import { HandsOff, isHandsOff } from './hands-off';
import { forgetPartial, pathInside, PART_SUFFIX, recordPartial, removePartial, resumeValidator } from './partial';

export { removePartial } from './partial';
export { HandsOff } from './hands-off';
export { STARTED_OVER } from './resume';
export { DEFAULT_MAX_REDIRECTS } from './follow';

/** Bounds on one download; each has its own error code when it is hit. */
export interface DownloadLimits {
  maxBytes: number;
  connectTimeoutMs: number;
  /** Longest wait for the next byte. */
  idleTimeoutMs: number;
  /** Longest a whole attempt may take. */
  totalTimeoutMs: number;
  maxRedirects: number;
  /** Free disk space never used (MIN_FREE_BYTES): a download that would go below it fails `disk_full`. */
  minFreeBytes: number;
  /** Slower than this over a whole `minSpeedWindowMs` fails `too_slow` (curl's --speed-limit); 0: no minimum. */
  minSpeedBytesPerS: number;
  minSpeedWindowMs: number;
}

export interface DownloadOptions {
  url: string;
  /** Created if missing; the file is written inside it only. One directory per job avoids name clashes. */
  directory: string;
  /** Lets the download reach loopback, private and other non-public addresses (local testing only). */
  allowPrivateAddresses: boolean;
  /** Aborting rejects with DownloadError 'aborted' (or the signal's own DownloadError) and removes the partial file. */
  signal?: AbortSignal;
  /** Default 5. Overridden by `limits.maxRedirects`. */
  maxRedirects?: number;
  /** Bounds from the settings; each field overrides the option of the same meaning. */
  limits?: Partial<DownloadLimits>;
  /** Continue the partial file an earlier attempt left in `directory`, if the server allows. */
  resume?: boolean;
  /**
   * A token of this download's own: it claims `directory` with it, and stops with HandsOff,
   * touching nothing more, once another download has claimed it (see ./fence). Default: no claim.
   */
  fence?: string;
  /** Resolves host names instead of the system resolver; its answers still pass the guard. */
  lookup?: LookupFunction;
  /** Which addresses may be dialled when private ones are not allowed; default: public ones only. */
  isAllowedAddress?: AddressPolicy;
  /** Default 10 s. */
  connectTimeoutMs?: number;
  /** Longest silence, headers included, before giving up. Default 30 s. */
  idleTimeoutMs?: number;
  /** Longest the whole call may take; default: no limit. */
  totalTimeoutMs?: number;
  /** Called once, when the final response's headers have arrived. */
  onResponse?(info: { fileName: string; bytesTotal: number | null; resumedFrom: number; restartReason: string | null }): void;
  /** Called per read from the socket with the running total (resumed bytes included); the caller throttles. Must not throw. */
  onProgress?(bytesReceived: number): void;
}

export interface DownloadResult {
  fileName: string;
  /** `<directory>/<fileName>`, absolute. */
  filePath: string;
  bytes: number;
  /** The whole file's size as the server announced it; null when it did not. */
  bytesTotal: number | null;
  /** Hex SHA-256 of the stored bytes, resumed ones included. */
  sha256: string;
  /** Bytes taken over from an earlier attempt's partial file. */
  resumedFrom: number;
}

/** Downloads `options.url` into `options.directory`. */
export async function downloadToFile(options: DownloadOptions): Promise<DownloadResult> {
  const url = parseDownloadUrl(options.url);
  if (options.signal?.aborted) throw stopReason(options.signal);
  const deadline = new AbortController();
  const totalMs = options.limits?.totalTimeoutMs ?? options.totalTimeoutMs;
  const timer = totalMs === undefined ? undefined : setTimeout(() => deadline.abort(totalTimeout(totalMs)), totalMs);
  const signal = options.signal ? AbortSignal.any([options.signal, deadline.signal]) : deadline.signal;
  const settings: ExchangeSettings = {
    policy: addressPolicy(options.allowPrivateAddresses, options.isAllowedAddress),
    lookup: createGuardedLookup({
      allowPrivate: options.allowPrivateAddresses,
      isAllowed: options.isAllowedAddress,
      resolve: options.lookup && resolverFrom(options.lookup),
    }),
    connectTimeoutMs: options.limits?.connectTimeoutMs ?? options.connectTimeoutMs ?? CONNECT_TIMEOUT_MS,
    idleTimeoutMs: options.limits?.idleTimeoutMs ?? options.idleTimeoutMs ?? IDLE_TIMEOUT_MS,
    signal,
  };
  const maxRedirects = options.limits?.maxRedirects ?? options.maxRedirects ?? DEFAULT_MAX_REDIRECTS;
  const directory = path.resolve(options.directory);
  try {
    await mkdir(directory, { recursive: true }).catch((err: unknown) => {
      throw toDownloadError(err);
    });
    // Asked before connecting: the answer's size is checked against it as soon as it is known.
    const fence = options.fence === undefined ? null : await Fence.claim(directory, options.fence);
    const freeSpace = await freeSpaceIn(directory);
    const open = (headers?: Record<string, string>) => openFinalResponse(url, settings, maxRedirects, headers);
    const start = options.resume
      ? await openResumable(directory, open, signal, fence)
      : { ...(await open()), continued: null, restartReason: null, hash: createHash('sha256') };
    try {
      return await saveBody(start, directory, freeSpace, options, fence);
    } finally {
      start.exchange.close();
    }
  } catch (err) {
    throw signal.aborted ? stopReason(signal) : toDownloadError(err, url.host);
  } finally {
    clearTimeout(timer);
  }
}

function totalTimeout(ms: number): DownloadError {
  return new DownloadError('total_timeout', `The download took longer than the limit of ${ms / 1000} s.`);
}

function contentLength(headers: IncomingHttpHeaders): number | null {
  const value = headers['content-length'];
  return value !== undefined && /^\d+$/.test(value) ? Number(value) : null;
}

function tooLarge(maxBytes: number): DownloadError {
  return new DownloadError('too_large', `The file is larger than the limit of ${maxBytes} bytes.`);
}

function sizeMismatch(expected: number, received: number): DownloadError {
  return new DownloadError('size_mismatch', `The server announced ${expected} bytes but sent ${received}.`);
}

/** Name, size and starting point of the file this response fills. */
function planFile({ exchange, finalUrl, continued }: Start) {
  const { headers } = exchange;
  if (continued) {
    const { partial, bytesTotal } = continued;
    return { fileName: partial.fileName, resumeFrom: partial.size, bytesTotal, validator: partial.validator };
  }
  const fileName = fileNameFrom({ contentDisposition: headers['content-disposition'], url: finalUrl });
  return { fileName, resumeFrom: 0, bytesTotal: contentLength(headers), validator: resumeValidator(headers) };
}

async function saveBody(start: Start, directory: string, freeSpace: number, options: DownloadOptions, fence: Fence | null): Promise<DownloadResult> {
  const { exchange } = start;
  const { fileName, resumeFrom, bytesTotal, validator } = planFile(start);
  const filePath = pathInside(directory, fileName);
  if (!filePath) throw new DownloadError('write_failed', 'The file name is not usable.');
  const partPath = `${filePath}${PART_SUFFIX}`;
  const maxBytes = options.limits?.maxBytes ?? Number.POSITIVE_INFINITY;
  if (bytesTotal !== null && bytesTotal > maxBytes) throw tooLarge(maxBytes);
  const reserve = options.limits?.minFreeBytes ?? 0;
  const needed = bytesTotal === null ? 0 : bytesTotal - resumeFrom;
  if (needed > freeSpace - reserve) throw noRoom(needed, freeSpace, reserve);
  // Written alongside the body; a failure to write it only means the next attempt starts over.
  const noted =
    validator && resumeFrom === 0 ? fenced(fence, () => recordPartial(directory, { fileName, validator, bytesTotal })).then(() => true, () => false) : Promise.resolve(true);
  options.onResponse?.({ fileName, bytesTotal, resumedFrom: resumeFrom, restartReason: start.restartReason });

  const { hash } = start;
  let bytes = resumeFrom;
  // At the offset, not appended: whatever lies beyond it was never counted.
  const file = await fenced(fence, () => FileSink.open(partPath, resumeFrom, (err) => exchange.fail(err), fence ? () => fence.check() : undefined)).catch(
    async (err: unknown) => {
      await noted;
      if (!(err instanceof HandsOff)) await fenced(fence, () => removePartial(directory));
      throw toDownloadError(err);
    },
  );
  const body: BodySink = {
    room: () => file.room(),
    whenRoom: (callback) => file.whenRoom(callback),
    take(length) {
      bytes += length;
      // Content-Length may be absent or lie: the limit holds on the bytes themselves.
      if (bytes > maxBytes) throw tooLarge(maxBytes);
      hash.update(file.take(length));
      options.onProgress?.(bytes);
    },
  };
  const stopWatching = [watchSpeed(exchange, options.limits, () => bytes), watchReserve(exchange, directory, reserve)];
  try {
    await exchange.readBody(body);
    await file.finish();
    if (bytesTotal !== null && bytes !== bytesTotal) throw sizeMismatch(bytesTotal, bytes);
    await fenced(fence, () => rename(partPath, filePath));
    await noted;
    await fenced(fence, () => forgetPartial(directory));
  } catch (err) {
    // The connection ending before the announced length is a size mismatch, whatever closed it.
    const truncated = bytesTotal !== null && !exchange.complete && (err as { code?: string }).code === 'ECONNRESET';
    const error = exchange.failure ?? (truncated ? sizeMismatch(bytesTotal, bytes) : toDownloadError(err, start.finalUrl.host));
    // Kept only where a later attempt can pick it up: the failure may pass and the server can resume.
    const noteWritten = await noted; // also: nothing may write the note after it is removed
    const keep = error.retryable && validator !== null && noteWritten;
    if (err instanceof HandsOff || isHandsOff(options.signal)) {
      await file.discard(); // the bytes not yet written are dropped, and the file is someone else's
    } else if (keep) {
      await file.finish().catch(() => undefined); // what arrived waits on disk for the next attempt
    } else {
      await file.discard(); // closed first, so that a removed .part cannot come back
      await fenced(fence, () => removePartial(directory));
    }
    throw error;
  } finally {
    for (const stop of stopWatching) stop();
  }
  return { fileName, filePath, bytes, bytesTotal, sha256: hash.digest('hex'), resumedFrom: resumeFrom };
}

/**
 * Cuts the body when fewer bytes than the minimum speed allows arrive in a whole window, so a
 * server that trickles a byte now and then cannot hold a download slot for hours. Returns the
 * function that stops watching.
 */
function watchSpeed(exchange: Exchange, limits: Partial<DownloadLimits> | undefined, bytes: () => number): () => void {
  const { minSpeedBytesPerS: perSecond = 0, minSpeedWindowMs: windowMs = 0 } = limits ?? {};
  if (perSecond <= 0 || windowMs <= 0) return () => {};
  let atWindowStart = bytes();
  const timer = setInterval(() => {
    if (bytes() - atWindowStart < (perSecond * windowMs) / 1000) {
      exchange.fail(new DownloadError('too_slow', `The server sent less than ${formatBytes(perSecond)}/s for ${windowMs / 1000} s.`));
    }
    atWindowStart = bytes();
  }, windowMs);
  return () => clearInterval(timer);
}

/** How often the free space is read again while a body is written. */
const RESERVE_CHECK_MS = 1000;

async function freeSpaceIn(directory: string): Promise<number> {
  return statfs(directory).then(({ bavail, bsize }) => bavail * bsize, () => Number.POSITIVE_INFINITY);
}

/**
 * Keeps `reserve` bytes free on the disk while the body is written (a size that was not
 * announced, a server that sends more than it said, other downloads beside this one): once the
 * free space falls to it, the body is cut with `disk_full`.
 */
function watchReserve(exchange: Exchange, directory: string, reserve: number): () => void {
  if (reserve <= 0) return () => {};
  const timer = setInterval(() => {
    void freeSpaceIn(directory).then((free) => {
      if (free <= reserve) exchange.fail(noRoom(0, free, reserve));
    });
  }, RESERVE_CHECK_MS);
  return () => clearInterval(timer);
}

/** A file the disk cannot hold, refused at once rather than after filling the disk. */
function noRoom(needed: number, free: number, reserve: number): DownloadError {
  const facts = [needed > 0 ? `the file needs ${formatBytes(needed)}` : '', `${formatBytes(Math.max(0, free))} are free`];
  if (reserve > 0) facts.push(`${formatBytes(reserve)} are kept in reserve`);
  return new DownloadError('disk_full', `Not enough free disk space: ${facts.filter(Boolean).join(', ')}.`);
}
