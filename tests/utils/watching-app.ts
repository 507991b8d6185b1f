/**
 * The setting most integration tests share: a fixture file server, the app (server and
 * workers as real processes) and one socket.io client, the "tab", connected to it. Started
 * before the file's tests and stopped after them.
 */
import { afterAll, beforeAll } from '@jest/globals';
import type { Env } from './app-processes';
import { startFileServer, type FileServer } from './file-server';
import { connectClient, type JobSocket } from './job-client';
import { startTestApp, type TestApp } from './test-app';

export interface WatchingApp {
  readonly files: FileServer;
  /** Mutable: a test may replace its server or workers (a restart, a killed worker). */
  readonly app: TestApp;
  readonly tab: JobSocket;
}

/** Registers the hooks; call at the top of a test file, before its own beforeAll. */
export function useWatchingApp(options: { workers?: number; env?: Env } = {}): WatchingApp {
  let started: Partial<WatchingApp> = {};
  beforeAll(async () => {
    const files = await startFileServer();
    started = { files };
    const app = await startTestApp(options);
    started = { files, app, tab: await connectClient(app.server.url) };
  }, 60_000);
  afterAll(async () => {
    started.tab?.disconnect();
    await started.app?.stop();
    await started.files?.close();
  }, 30_000);

  const get = <K extends keyof WatchingApp>(key: K): WatchingApp[K] => {
    const value = started[key];
    if (!value) throw new Error(`${key} is started in beforeAll`);
    return value as WatchingApp[K];
  };
  return {
    get files() {
      return get('files');
    },
    get app() {
      return get('app');
    },
    get tab() {
      return get('tab');
    },
  };
}
