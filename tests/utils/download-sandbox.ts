/**
 * The setting every download-engine test shares: one fixture server for the file, a fresh
 * directory per test, and the engine pointed at both.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, beforeEach, expect } from '@jest/globals';
import { downloadToFile, type DownloadOptions, type DownloadResult } from '../../lib/engine/download';
import { DownloadError } from '../../lib/engine/errors';
import { startFileServer, type FileServer } from './file-server';

export interface DownloadSandbox {
  readonly server: FileServer;
  /** This test's own directory, removed after it. */
  readonly directory: string;
  /** Downloads `url` (absolute, or a path on the fixture server) into `directory`, private addresses allowed. */
  download(url: string, options?: Partial<DownloadOptions>): Promise<DownloadResult>;
}

/** Registers the hooks; call at the top of a test file. */
export function useDownloadSandbox(): DownloadSandbox {
  let server: FileServer | undefined;
  let directory: string | undefined;
  beforeAll(async () => {
    server = await startFileServer();
  });
  afterAll(() => server?.close());
  beforeEach(async () => {
    directory = await mkdtemp(path.join(os.tmpdir(), 'download-test-'));
  });
  afterEach(() => (directory ? rm(directory, { recursive: true, force: true }) : undefined));

  const sandbox: DownloadSandbox = {
    get server() {
      if (!server) throw new Error('the fixture server starts in beforeAll');
      return server;
    },
    get directory() {
      if (!directory) throw new Error('the directory is made in beforeEach');
      return directory;
    },
    download: (url, options = {}) =>
      downloadToFile({
        url: url.startsWith('/') ? `${sandbox.server.url}${url}` : url,
        directory: sandbox.directory,
        allowPrivateAddresses: true,
        ...options,
      }),
  };
  return sandbox;
}

/** The DownloadError `promise` rejects with; fails the test if it resolves or rejects with anything else. */
export async function failure(promise: Promise<unknown>): Promise<DownloadError> {
  const err = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(DownloadError);
  return err as DownloadError;
}
