/**
 * How an attempt starts when an earlier one may have left a partial file: it asks for the
 * missing bytes only, and the server's answer decides. A 206 whose Content-Range starts where
 * the file ends continues it; a 200 (the file changed, so If-Range did not match, or the server
 * ignores Range) starts over with that body; a 416 or a range that does not fit starts over
 * with a plain request. Starting over always comes with a reason the user can read.
 */
import { createHash, type Hash } from 'node:crypto';
import path from 'node:path';
import { DownloadError } from './errors';
import type { Exchange } from './exchange';
import { fenced, type Fence } from './fence';
import { findPartial, hashPrefix, PART_SUFFIX, removePartial, type PartialFile } from './partial';

export interface Start {
  exchange: Exchange;
  finalUrl: URL;
  /** The partial file this response continues and the whole file's size, or null if it fills a new one. */
  continued: { partial: PartialFile; bytesTotal: number | null } | null;
  /** Why bytes received earlier were dropped, or null if none were. */
  restartReason: string | null;
  /** SHA-256 under way: fed with the partial file's bytes when continuing it, else fresh. */
  hash: Hash;
}

type Open = (headers?: Record<string, string>) => Promise<{ exchange: Exchange; finalUrl: URL }>;

const CANNOT_CONTINUE = 'The server could not continue where the download stopped, so it started again from the beginning.';
/** Said when bytes received earlier are dropped with nothing more known about why. */
export const STARTED_OVER = 'The download started again from the beginning after an interruption.';

/** Opens the response that continues the partial file in `directory`, or starts over. */
export async function openResumable(directory: string, open: Open, signal?: AbortSignal, fence: Fence | null = null): Promise<Start> {
  const partial = await findPartial(directory);
  if (!partial) {
    const restartReason = (await fenced(fence, () => removePartial(directory))) ? STARTED_OVER : null;
    return { ...(await open()), continued: null, restartReason, hash: createHash('sha256') };
  }
  // Hashed before asking: the connection would otherwise sit idle while a large file is read.
  const hash = createHash('sha256');
  await hashPrefix(path.join(directory, `${partial.fileName}${PART_SUFFIX}`), partial.size, hash, signal);
  const answer = await open({ Range: `bytes=${partial.size}-`, 'If-Range': partial.validator }).catch((err: unknown) => {
    if (err instanceof DownloadError && err.httpStatus === 416) return null;
    throw err;
  });
  const continuation = answer && continuationOf(answer.exchange, partial);
  if (answer && continuation) return { ...answer, continued: { partial, ...continuation }, restartReason: null, hash };
  const whole = answer && answer.exchange.status !== 206 ? answer : null;
  if (answer && !whole) answer.exchange.close();
  await fenced(fence, () => removePartial(directory));
  return { ...(whole ?? (await open())), continued: null, restartReason: CANNOT_CONTINUE, hash: createHash('sha256') };
}

/**
 * The whole file's size if `response` is a 206 carrying exactly the bytes after `partial`
 * (`Content-Range: bytes <size>-<last>/<total>`), else null.
 */
function continuationOf(response: Pick<Exchange, 'status' | 'headers'>, partial: PartialFile): { bytesTotal: number | null } | null {
  if (response.status !== 206) return null;
  const range = /^bytes (\d+)-(\d+)\/(\d+|\*)$/.exec(response.headers['content-range']?.trim() ?? '');
  if (!range || Number(range[1]) !== partial.size) return null;
  const total = range[3] === '*' ? null : Number(range[3]);
  if (total !== null && (Number(range[2]) !== total - 1 || (partial.bytesTotal !== null && total !== partial.bytesTotal))) return null;
  return { bytesTotal: total ?? partial.bytesTotal };
}
