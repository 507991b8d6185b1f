/**
 * Two downloads into one folder, as when an attempt froze past its lock and another took the
 * job over: the later one claims the folder with its fence and owns the files from then on;
 * the earlier stops at its next write with HandsOff, touching nothing, and the file the later
 * one finishes matches its hash on disk.
 */
import { createHash } from 'node:crypto';
import { readdir, readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from '@jest/globals';
import { HandsOff } from '../../lib/engine/download';
import { useDownloadSandbox } from '../utils/download-sandbox';
import { fixtureSha256 } from '../utils/file-server';
import { waitFor } from '../utils/wait-for';

const sandbox = useDownloadSandbox();
const SIZE = 1024 * 1024;
const HELD_AFTER = 256 * 1024;

describe('when a later download claims the folder of one still running', () => {
  it('the earlier stops at its next write and leaves the files; the later finishes the right file', async () => {
    const url = `/file/${SIZE}?seed=fence&gate=fence&holdafter=${HELD_AFTER}`;
    const partFile = path.join(sandbox.directory, `${SIZE}.part`);
    const earlier = sandbox.download(url, { resume: true, fence: 'earlier' });
    const earlierOutcome = earlier.then(
      () => null,
      (err: unknown) => err,
    );
    // Its first bytes are on disk; the rest waits at the gate.
    await waitFor('the first bytes on disk', async () => (await stat(partFile).catch(() => null))?.size === HELD_AFTER, 10_000);

    const resumedFrom: number[] = [];
    const later = sandbox.download(url, { resume: true, fence: 'later', onResponse: (info) => void resumedFrom.push(info.resumedFrom) });
    await waitFor('the later download to continue the partial file', () => resumedFrom.length > 0, 10_000);
    expect(resumedFrom).toEqual([HELD_AFTER]);
    sandbox.server.release('fence');

    const stopped = await earlierOutcome;
    expect(stopped).toBeInstanceOf(HandsOff);
    const result = await later;
    expect(result.sha256).toBe(fixtureSha256(SIZE, 'fence'));
    const stored = await readFile(path.join(sandbox.directory, String(SIZE)));
    expect(createHash('sha256').update(stored).digest('hex')).toBe(fixtureSha256(SIZE, 'fence'));
    expect((await readdir(sandbox.directory)).filter((name) => name.endsWith('.part') || name === '.partial.json')).toEqual([]);
  }, 30_000);
});
