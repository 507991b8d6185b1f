/** The size and time limits and what a write failure does, against the local fixture server on loopback. */
import type { LookupFunction } from 'node:net';
import { readdir, statfs, symlink } from 'node:fs/promises';
import path from 'node:path';
import { describe, expect, it } from '@jest/globals';
import { failure, useDownloadSandbox } from '../utils/download-sandbox';
import { fixtureSha256 } from '../utils/file-server';

const sandbox = useDownloadSandbox();
const { download } = sandbox;

describe('when the file is larger than the limit', () => {
  it('refuses it from Content-Length before writing anything', async () => {
    let progressCalls = 0;
    const err = await failure(download('/file/200000', { limits: { maxBytes: 100_000 }, onProgress: () => void progressCalls++ }));
    expect(err.code).toBe('too_large');
    expect(err.retryable).toBe(false);
    expect(progressCalls).toBe(0);
    expect(await readdir(sandbox.directory)).toEqual([]);
  });

  it('stops counting bytes when there is no Content-Length, and removes the partial file', async () => {
    const err = await failure(download('/file/300000?nolength=1', { limits: { maxBytes: 100_000 } }));
    expect(err.code).toBe('too_large');
    expect(await readdir(sandbox.directory)).toEqual([]);
  });

  it('lets a file of exactly the limit through', async () => {
    const result = await download('/file/100000', { limits: { maxBytes: 100_000 } });
    expect(result.sha256).toBe(fixtureSha256(100_000));
  });
});

describe('when the server sends more slowly than the minimum speed', () => {
  const minimum = { minSpeedBytesPerS: 20_000, minSpeedWindowMs: 1000 };

  it('fails with too_slow after a whole window, keeping what arrived for the next attempt', async () => {
    // 2,000 bytes a second: a tenth of the minimum.
    const err = await failure(download('/file/100000?rate=2000&seed=trickle', { limits: minimum }));
    expect(err.code).toBe('too_slow');
    expect(err.retryable).toBe(true);
    expect(err.message).toMatch(/less than 19\.5 KB\/s for 1 s/);
    expect(await readdir(sandbox.directory)).toEqual(expect.arrayContaining(['100000.part']));
  });

  it('lets a transfer above the minimum through, however long it takes', async () => {
    // 80,000 bytes a second for a second and a half: four times the minimum in every window.
    const result = await download('/file/120000?rate=80000&seed=steady-enough', { limits: minimum });
    expect(result.sha256).toBe(fixtureSha256(120_000, 'steady-enough'));
  });
});

describe('when the time limits are hit', () => {
  it('fails with connect_timeout when no connection is made in time', async () => {
    const before = sandbox.server.connections;
    // A name that never resolves: the connection can never start, and nothing is dialled.
    const silentLookup: LookupFunction = () => undefined;
    const started = Date.now();
    const err = await failure(download('http://never.test/file/10', { lookup: silentLookup, limits: { connectTimeoutMs: 200 } }));
    expect(err).toMatchObject({ code: 'connect_timeout', retryable: true });
    expect(Date.now() - started).toBeLessThan(2_000);
    expect(sandbox.server.connections).toBe(before);
  });

  it('fails with idle_timeout when the body stalls', async () => {
    const err = await failure(download('/stall/1000', { limits: { idleTimeoutMs: 200 } }));
    expect(err).toMatchObject({ code: 'idle_timeout', retryable: true });
  });

  it('fails with total_timeout when bytes keep coming but too slowly, keeping the resumable part', async () => {
    const started = Date.now();
    const err = await failure(download('/file/1000000?rate=100000&seed=slow', { limits: { totalTimeoutMs: 400, idleTimeoutMs: 5_000 } }));
    expect(err).toMatchObject({ code: 'total_timeout', retryable: true });
    expect(Date.now() - started).toBeLessThan(2_000);
    expect((await readdir(sandbox.directory)).sort()).toEqual(['.partial.json', '1000000.part']);
  });

  it('leaves a download that ends in time alone', async () => {
    const result = await download('/file/20000', { limits: { totalTimeoutMs: 5_000 } });
    expect(result.bytes).toBe(20_000);
  });
});

describe('when a download would eat into the disk reserve (MIN_FREE_BYTES)', () => {
  const freeNow = async () => {
    const { bavail, bsize } = await statfs(sandbox.directory);
    return bavail * bsize;
  };

  it('refuses at once a file whose announced size would cross it', async () => {
    const minFreeBytes = (await freeNow()) - 1_000_000; // about a megabyte left to use
    const err = await failure(download('/file/5000000', { limits: { minFreeBytes } }));
    expect(err).toMatchObject({ code: 'disk_full', retryable: false });
    expect(err.message).toMatch(/the file needs .+, .+ are free, .+ are kept in reserve\.$/);
    expect(await readdir(sandbox.directory)).toEqual([]);
  });

  it('lets through a file that leaves it free', async () => {
    const minFreeBytes = (await freeNow()) - 50_000_000;
    expect((await download('/file/100000?seed=fits', { limits: { minFreeBytes } })).sha256).toBe(fixtureSha256(100_000, 'fits'));
  });

  it('stops a download whose size was not announced once the free space reaches it', async () => {
    const minFreeBytes = (await freeNow()) - 1_000_000;
    // 3 MB, then nothing until released: only the reserve can end this download.
    const pending = failure(download('/file/6000000?nolength=1&seed=reserve&gate=reserve&holdafter=3000000', { limits: { minFreeBytes } }));
    try {
      const err = await pending;
      expect(err).toMatchObject({ code: 'disk_full', retryable: false });
      expect(err.message).toMatch(/are kept in reserve\.$/);
    } finally {
      sandbox.server.release('reserve');
    }
    expect(await readdir(sandbox.directory)).toEqual([]);
  });
});

describe('when the file cannot be written', () => {
  it('refuses at once with disk_full a file larger than the free space, before writing anything', async () => {
    // Announces a petabyte (no disk here has that much free), then sends 10 bytes.
    const err = await failure(download(`/lie/${10 ** 15}/10`));
    expect(err).toMatchObject({ code: 'disk_full', retryable: false });
    expect(err.message).toMatch(/^Not enough free disk space: the file needs .+, .+ are free\.$/);
    expect(await readdir(sandbox.directory)).toEqual([]);
  });

  it('fails with disk_full on ENOSPC and removes the partial file', async () => {
    // Writes to /dev/full fail with ENOSPC, exactly as on a full disk.
    await symlink('/dev/full', path.join(sandbox.directory, '300000.part'));
    const err = await failure(download('/file/300000'));
    expect(err).toMatchObject({ code: 'disk_full', retryable: false });
    expect(err.message).toBe('The file could not be written: the disk is full.');
    expect(await readdir(sandbox.directory)).toEqual([]);
  });
});
