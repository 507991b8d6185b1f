/**
 * Continuing a partial file: with Range + If-Range when the server allows, from zero with a
 * reason otherwise, and the right SHA-256 either way. The first attempt is cut off by the
 * fixture server (`dropafter`), the way a dying server or network cuts it.
 */
import { createHash } from 'node:crypto';
import { readdir, readFile, rm, stat, truncate, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from '@jest/globals';
import { removePartial, type DownloadOptions } from '../../lib/engine/download';
import { failure, useDownloadSandbox } from '../utils/download-sandbox';
import { fixtureSha256 } from '../utils/file-server';

const sandbox = useDownloadSandbox();
const { download } = sandbox;
const SIZE = 300_000;
const CUT = 120_000;

/** Downloads with resume on, recording what onResponse said. */
async function resumed(pathname: string, extra: Partial<DownloadOptions> = {}) {
  const responses: Array<{ resumedFrom: number; restartReason: string | null; bytesTotal: number | null }> = [];
  const progress: number[] = [];
  const result = await download(pathname, {
    resume: true,
    onResponse: ({ resumedFrom, restartReason, bytesTotal }) => void responses.push({ resumedFrom, restartReason, bytesTotal }),
    onProgress: (bytes) => void progress.push(bytes),
    ...extra,
  });
  return { result, response: responses[0], progress };
}

const requestsSince = (count: number) => sandbox.server.requests.slice(count);

/**
 * Reads the stored file back and checks it against the fixture. The engine's own sha256 is not
 * enough: it hashes the kept bytes as read before continuing, plus the new ones as received, so
 * it stays right even when the bytes on disk were clobbered or spliced at the wrong offset.
 */
async function expectStoredFile(fileName: string, size: number, seed?: string): Promise<void> {
  const stored = await readFile(path.join(sandbox.directory, fileName));
  expect(stored.length).toBe(size);
  expect(createHash('sha256').update(stored).digest('hex')).toBe(fixtureSha256(size, seed));
}

/**
 * A first attempt that the server cuts off after CUT bytes, sent at a pace that lets them reach
 * the disk; resolves with the size of the partial file it leaves (what did reach the disk).
 */
async function cutOff(query = '', fileName = String(SIZE)): Promise<number> {
  await failure(download(`/file/${SIZE}?dropafter=${CUT}&rate=2000000${query}`));
  return (await stat(path.join(sandbox.directory, `${fileName}.part`)).catch(() => ({ size: 0 }))).size;
}

describe('when the connection breaks mid-body', () => {
  it('fails retryably and keeps the partial file with how to continue it', async () => {
    const err = await failure(download(`/file/${SIZE}?dropafter=${CUT}&rate=2000000`));
    expect(err.retryable).toBe(true);
    expect((await readdir(sandbox.directory)).sort()).toEqual(['.partial.json', `${SIZE}.part`]);
    const { size } = await stat(path.join(sandbox.directory, `${SIZE}.part`));
    expect(size).toBeGreaterThan(0);
    expect(size).toBeLessThanOrEqual(CUT);
  });

  it('continues with Range + If-Range and ends with the right SHA-256', async () => {
    const kept = await cutOff();
    const before = sandbox.server.requests.length;
    const { result, response, progress } = await resumed(`/file/${SIZE}`);
    expect(requestsSince(before)).toEqual([{ path: `/file/${SIZE}`, range: `bytes=${kept}-`, ifRange: `"seed-${SIZE}"` }]);
    expect(response).toEqual({ resumedFrom: kept, restartReason: null, bytesTotal: SIZE });
    expect(progress[0]).toBeGreaterThan(kept);
    expect(result).toMatchObject({ bytes: SIZE, bytesTotal: SIZE, resumedFrom: kept, sha256: fixtureSha256(SIZE) });
    expect(await readdir(sandbox.directory)).toEqual([String(SIZE)]);
    await expectStoredFile(String(SIZE), SIZE);
  });

  it('keeps the name the first response gave, which a 206 need not repeat', async () => {
    const kept = await cutOff('&name=report.pdf', 'report.pdf');
    const { result } = await resumed(`/file/${SIZE}`);
    expect(result).toMatchObject({ fileName: 'report.pdf', resumedFrom: kept, sha256: fixtureSha256(SIZE) });
    expect(kept).toBeGreaterThan(0);
    await expectStoredFile('report.pdf', SIZE);
  });
});

describe('when the partial file cannot be continued', () => {
  it('starts over when the file changed on the server (If-Range no longer matches)', async () => {
    await cutOff('&etag=v1');
    const { result, response } = await resumed(`/file/${SIZE}?etag=v2&seed=changed`);
    expect(response).toEqual({ resumedFrom: 0, restartReason: expect.stringMatching(/started again from the beginning/), bytesTotal: SIZE });
    expect(result).toMatchObject({ resumedFrom: 0, sha256: fixtureSha256(SIZE, 'changed') });
    await expectStoredFile(String(SIZE), SIZE, 'changed');
  });

  it('starts over when the server ignores Range', async () => {
    await cutOff();
    const { result, response } = await resumed(`/file/${SIZE}?norange=1`);
    expect(response.restartReason).toMatch(/could not continue/);
    expect(result).toMatchObject({ resumedFrom: 0, sha256: fixtureSha256(SIZE) });
    await expectStoredFile(String(SIZE), SIZE);
  });

  it('starts over with a plain request after 416 Range Not Satisfiable', async () => {
    const kept = await cutOff('&etag=same');
    const before = sandbox.server.requests.length;
    // Shorter than what is already on disk: nothing left to send.
    const { result, response } = await resumed(`/file/${kept}?etag=same&seed=short`);
    expect(requestsSince(before).map((r) => r.range)).toEqual([`bytes=${kept}-`, undefined]);
    expect(response.restartReason).toMatch(/could not continue/);
    expect(result).toMatchObject({ bytes: kept, sha256: fixtureSha256(kept, 'short') });
    await expectStoredFile(String(kept), kept, 'short');
  });

  it('keeps nothing to continue when the server gave no validator', async () => {
    const err = await failure(download(`/file/${SIZE}?dropafter=${CUT}&noetag=1`));
    expect(err.retryable).toBe(true);
    expect(await readdir(sandbox.directory)).toEqual([]);
  });

  it('starts over and says why when the note on how to continue is gone', async () => {
    await cutOff();
    await rm(path.join(sandbox.directory, '.partial.json'));
    const before = sandbox.server.requests.length;
    const { result, response } = await resumed(`/file/${SIZE}`);
    expect(requestsSince(before).map((r) => r.range)).toEqual([undefined]);
    expect(response.restartReason).toMatch(/from the beginning/);
    expect(result.sha256).toBe(fixtureSha256(SIZE));
  });

  it('starts over when the note is damaged', async () => {
    await cutOff();
    await writeFile(path.join(sandbox.directory, '.partial.json'), '{"fileName":"../../etc/passwd","validator":"x","bytesTotal":1');
    const { result } = await resumed(`/file/${SIZE}`);
    expect(result).toMatchObject({ resumedFrom: 0, sha256: fixtureSha256(SIZE) });
    expect(await readdir(sandbox.directory)).toEqual([String(SIZE)]);
  });

  it('says nothing when there was nothing to resume', async () => {
    const { response } = await resumed('/file/1000');
    expect(response.restartReason).toBeNull();
  });
});

describe('when the job is stopped', () => {
  it('stops reading a large partial file at once, before asking the server for anything', async () => {
    const size = 1024 * 1024 * 1024; // sparse: no disk is used, but hashing it takes seconds
    await writeFile(path.join(sandbox.directory, 'big.part'), '');
    await truncate(path.join(sandbox.directory, 'big.part'), size);
    await writeFile(path.join(sandbox.directory, '.partial.json'), JSON.stringify({ fileName: 'big', validator: '"v"', bytesTotal: 2 * size }));
    const before = sandbox.server.requests.length;
    const started = Date.now();
    const err = await failure(download(`/file/${SIZE}`, { resume: true, signal: AbortSignal.timeout(50) }));
    expect(err.code).toBe('aborted');
    expect(Date.now() - started).toBeLessThan(1_000);
    expect(sandbox.server.requests.length).toBe(before);
  });

  it('removes the partial file and its note even though it could be continued', async () => {
    const controller = new AbortController();
    const err = await failure(
      download(`/file/${SIZE}?rate=200000`, { signal: controller.signal, onProgress: (bytes) => bytes > 20_000 && controller.abort() }),
    );
    expect(err.code).toBe('aborted');
    expect(await readdir(sandbox.directory)).toEqual([]);
  });
});

describe('when the file itself is named like a partial file', () => {
  it('keeps it once complete', async () => {
    const result = await resumed(`/file/1000?name=notes.part`);
    expect(result.result.fileName).toBe('notes.part');
    expect(await readdir(sandbox.directory)).toEqual(['notes.part']);
  });
});

describe('removePartial', () => {
  it('removes the partial file and its note, and is quiet when there is nothing', async () => {
    await cutOff();
    await removePartial(sandbox.directory);
    expect(await readdir(sandbox.directory)).toEqual([]);
    await removePartial(path.join(sandbox.directory, 'missing'));
  });
});
