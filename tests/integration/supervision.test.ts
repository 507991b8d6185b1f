/**
 * `npm start` keeps the app up: a server or worker child that dies is started again, and the
 * app goes on serving and downloading; Ctrl-C (SIGTERM here) stops everything it started.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { freePort } from '../../scripts/services/process';
import { createTestSettings, type TestSettings } from '../utils/app-processes';
import { fixtureSha256, startFileServer, type FileServer } from '../utils/file-server';
import { api, postJob, removeTestData } from '../utils/test-app';
import { waitFor } from '../utils/wait-for';

const ROOT = path.resolve(import.meta.dirname, '../..');
let settings: TestSettings;
let files: FileServer;
let app: ChildProcess;
let url: string;
let output = '';

/** The pid of the newest copy of a child, from the supervisor's "started" lines. */
function newestPid(name: string): number | null {
  const pids = [...output.matchAll(new RegExp(`The ${name} started \\(pid (\\d+)\\)`, 'g'))].map((m) => Number(m[1]));
  return pids.at(-1) ?? null;
}

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

async function downloads(seed: string): Promise<void> {
  const size = 200_000;
  const { status, body: job } = await postJob(url, `${files.url}/file/${size}?seed=${seed}`);
  expect(status).toBe(201);
  const done = await waitFor(`job ${seed} to complete`, async () => {
    const { body } = await api(url, `/api/jobs/${job.id}`);
    return body.status === 'completed' ? body : null;
  }, 30_000);
  expect(done.sha256).toBe(fixtureSha256(size, seed));
}

beforeAll(async () => {
  settings = await createTestSettings({ LOG_LEVEL: 'warn' });
  files = await startFileServer();
  const port = await freePort();
  url = `http://127.0.0.1:${port}`;
  // Not jest's NODE_ENV (`test`): start.ts sets production itself, as for a user.
  const env = { ...process.env, ...settings.env, PORT: String(port), HOST: '127.0.0.1', NODE_ENV: 'production' as const };
  app = spawn(process.execPath, ['--import', 'tsx', 'scripts/start.ts'], {
    cwd: ROOT,
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  app.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  app.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  await waitFor('npm start to be ready', () => {
    if (app.exitCode !== null) throw new Error(`npm start exited (${app.exitCode})`);
    return output.includes('Ready:') && newestPid('download worker');
  }, 90_000).catch((err: Error) => {
    throw new Error(`${err.message}; its output:\n${output.slice(-4000)}`);
  });
}, 120_000);

afterAll(async () => {
  if (app && app.exitCode === null && app.signalCode === null) {
    app.kill('SIGTERM');
    await new Promise((resolve) => app.once('exit', resolve));
  }
  await files?.close();
  await removeTestData(settings);
}, 30_000);

describe('npm start', () => {
  it('starts a killed worker again, which takes the next download', async () => {
    const first = newestPid('download worker')!;
    process.kill(first, 'SIGKILL');
    await waitFor('a new worker', () => newestPid('download worker') !== first, 20_000);
    expect(output).toMatch(/The download worker stopped \(signal SIGKILL\) after [\d.]+ s\. Restarting it in/);
    await downloads('after-worker-restart');
  }, 60_000);

  it('starts a killed web server again, on the same address', async () => {
    const first = newestPid('web server')!;
    process.kill(first, 'SIGKILL');
    await waitFor('a new web server', () => newestPid('web server') !== first, 20_000);
    await waitFor('the app to answer again', async () => (await fetch(`${url}/api/health`)).ok, 30_000);
    await downloads('after-server-restart');
  }, 90_000);

  it('stops everything it started on SIGTERM, and exits 0', async () => {
    const children = [newestPid('web server')!, newestPid('download worker')!];
    const exited = new Promise<number | null>((resolve) => app.once('exit', (code) => resolve(code)));
    app.kill('SIGTERM');
    expect(await exited).toBe(0);
    expect(children.filter(alive)).toEqual([]);
    expect(output).not.toMatch(/Restarting it in[^\n]*\n[^\n]*Stopping/);
  }, 30_000);
});
