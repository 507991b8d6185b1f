/**
 * What an interrupted attempt leaves behind so the next one can continue: the bytes so far in
 * `<name>.part`, and beside them `.partial.json` naming that file and the validator (a strong
 * ETag or Last-Modified) of the response they came from. The next attempt asks for the rest with
 * `Range` + `If-Range: <validator>`, so a file that changed on the server is sent whole again
 * instead of being spliced onto old bytes.
 */
import type { Hash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { readdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import type { IncomingHttpHeaders } from 'node:http';
import path from 'node:path';
import { z } from 'zod';

export const PART_SUFFIX = '.part';
const STATE_FILE = '.partial.json';

const partialStateSchema = z.object({
  fileName: z.string().min(1).max(255),
  validator: z.string().min(1).max(1024),
  /** The whole file's size, when the server said. */
  bytesTotal: z.number().int().nonnegative().nullable(),
});

export type PartialState = z.infer<typeof partialStateSchema>;

export interface PartialFile extends PartialState {
  /** Bytes on disk in `<fileName>.part`. */
  size: number;
}

/** Where `fileName` lives in `directory`, or null if the name would lead anywhere else. */
export function pathInside(directory: string, fileName: string): string | null {
  const filePath = path.join(directory, fileName);
  return path.dirname(filePath) === directory && path.basename(filePath) === fileName ? filePath : null;
}

/**
 * The validator that makes a response resumable: a strong ETag, else Last-Modified. Weak ETags
 * (`W/"…"`) may not be used in If-Range (RFC 9110, 13.1.5); without any, no resume.
 */
export function resumeValidator(headers: IncomingHttpHeaders): string | null {
  const etag = headers.etag?.trim();
  if (etag && /^"[^"]*"$/.test(etag)) return etag;
  const lastModified = headers['last-modified']?.trim();
  return lastModified && !Number.isNaN(Date.parse(lastModified)) ? lastModified : null;
}

/** The partial file an earlier attempt left in `directory` with what it takes to continue it, if any. */
export async function findPartial(directory: string): Promise<PartialFile | null> {
  const raw = await readFile(path.join(directory, STATE_FILE), 'utf8').catch(() => null);
  if (raw === null) return null;
  let parsed: unknown;
  try {
    parsed = JSON.parse(raw);
  } catch {
    return null; // cut short by a crash while it was written: start over
  }
  const state = partialStateSchema.safeParse(parsed);
  if (!state.success) return null;
  const partPath = pathInside(directory, `${state.data.fileName}${PART_SUFFIX}`);
  if (!partPath) return null;
  const size = await stat(partPath).then((s) => (s.isFile() ? s.size : null), () => null);
  if (size === null || size === 0) return null;
  if (state.data.bytesTotal !== null && size >= state.data.bytesTotal) return null;
  return { ...state.data, size };
}

/** Notes how to continue the partial file now being written; written whole or not at all. */
export async function recordPartial(directory: string, state: PartialState): Promise<void> {
  const target = path.join(directory, STATE_FILE);
  await writeFile(`${target}.tmp`, JSON.stringify(state));
  await rename(`${target}.tmp`, target);
}

/** Drops the note once the file it describes is complete (the file itself may end in `.part`). */
export async function forgetPartial(directory: string): Promise<void> {
  await rm(path.join(directory, STATE_FILE), { force: true });
}

/**
 * Removes every partial file and the note on how to continue them (on cancel, delete or
 * failure); resolves whether there was anything to remove.
 */
export async function removePartial(directory: string): Promise<boolean> {
  const entries = await readdir(directory).catch((err: NodeJS.ErrnoException) => {
    if (err.code === 'ENOENT') return [];
    throw err;
  });
  const leftovers = entries.filter((name) => name.endsWith(PART_SUFFIX) || name.startsWith(STATE_FILE));
  await Promise.all(leftovers.map((name) => rm(path.join(directory, name), { force: true })));
  return leftovers.length > 0;
}

/**
 * Feeds the first `bytes` bytes of `filePath` into `hash`, so a continued file hashes whole.
 * Stops (rejects) as soon as `signal` does: reading many GB must not hold up a cancel.
 */
export async function hashPrefix(filePath: string, bytes: number, hash: Hash, signal?: AbortSignal): Promise<void> {
  if (bytes === 0) return;
  for await (const chunk of createReadStream(filePath, { start: 0, end: bytes - 1, signal })) hash.update(chunk as Buffer);
}
