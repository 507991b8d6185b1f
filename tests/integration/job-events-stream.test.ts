import { execFile } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import type { JobView } from '../../lib/domain/job';
import { startServer, type ServerProcess } from '../utils/app-processes';
import { fixtureSha256, startFileServer, type FileServer } from '../utils/file-server';
import { connectClient, isNewer, latest, recordUpdates, subscribe, type JobSocket } from '../utils/job-client';
import { openEventStream, statesOf, type SseStream } from '../utils/sse-client';
import { api, jobAction, postJob, startTestApp, type TestApp } from '../utils/test-app';
import { waitFor } from '../utils/wait-for';

const MB = 1024 * 1024;

let app: TestApp;
/** A second server node: a stream there follows a job that a worker reports through Redis. */
let otherNode: ServerProcess;
let files: FileServer;
const sockets: JobSocket[] = [];
const streams: SseStream[] = [];

beforeAll(async () => {
  files = await startFileServer();
  // A short heartbeat, so that the test can wait for several of them.
  app = await startTestApp({ env: { SSE_HEARTBEAT_MS: '200' } });
  otherNode = await startServer(app.settings.env);
}, 60_000);

afterAll(async () => {
  for (const stream of streams) stream.close();
  for (const socket of sockets) socket.disconnect();
  await otherNode?.stop();
  await app?.stop();
  await files?.close();
}, 30_000);

async function watch(baseUrl: string, jobId: string): Promise<SseStream> {
  const stream = await openEventStream(baseUrl, jobId);
  streams.push(stream);
  return stream;
}

describe('GET /api/jobs/:id/events', () => {
  it.each([
    ['an unknown id', randomUUID()],
    ['a malformed id', 'not-a-job'],
  ])('answers %s with 404 not_found as JSON, before any stream starts', async (_what, id) => {
    const stream = await watch(app.server.url, id);
    expect(stream.status).toBe(404);
    expect(stream.contentType).toMatch(/^application\/json/);
    expect(stream.json).toEqual({ error: { code: 'not_found', message: expect.any(String) } });
  });

  describe('when a stream and a socket.io tab on another node watch a throttled download', () => {
    const size = 4 * MB;
    let job: JobView;
    let stream: SseStream;
    let tab: JobView[];

    beforeAll(async () => {
      const created = await postJob(app.server.url, `${files.url}/file/${size}?rate=${2 * MB}&seed=sse`);
      expect(created.status).toBe(201);
      job = created.body;
      const socket = await connectClient(otherNode.url);
      sockets.push(socket);
      tab = recordUpdates(socket, job.id);
      await subscribe(socket, job.id);
      stream = await watch(otherNode.url, job.id);
      await stream.ended;
    }, 60_000);

    it('is an event stream that proxies may not buffer or compress', () => {
      expect(stream.status).toBe(200);
      expect(stream.contentType).toBe('text/event-stream; charset=utf-8');
    });

    it('sends the current state first, then only newer ones, and ends after the final state', () => {
      const states = statesOf(stream);
      expect(states.length).toBeGreaterThan(2);
      expect(states[0].id).toBe(job.id);
      for (let i = 1; i < states.length; i++) expect(isNewer(states[i], states[i - 1])).toBe(true);
      expect(states.at(-1)).toMatchObject({ status: 'completed', sha256: fixtureSha256(size, 'sse'), bytesReceived: size });
      expect(states.slice(0, -1).every((s) => s.status !== 'completed')).toBe(true);
    });

    it('ends on the same final state as socket.io and the API', async () => {
      await waitFor('the tab to see the end', () => latest(tab)?.status === 'completed');
      const { body } = await api(app.server.url, `/api/jobs/${job.id}`);
      // The stream is the owner's own, so it also says it may control the job and gives the
      // whole URL; a room's states say nothing of the viewer and hide the URL's query.
      expect(statesOf(stream).at(-1)).toEqual({ ...latest(tab), url: job.url, canControl: true });
      expect(statesOf(stream).at(-1)).toEqual(body);
    });

    it('sends a finished job its final state alone and ends at once', async () => {
      const again = await watch(app.server.url, job.id);
      await again.ended;
      expect(statesOf(again)).toEqual([statesOf(stream).at(-1)]);
    });
  });

  describe('when a download stalls', () => {
    /** A job whose source sends a few bytes, then nothing: it stays active, and its stream quiet. */
    async function stalledJob(): Promise<JobView> {
      const { body } = await postJob(app.server.url, `${files.url}/stall/1000`);
      await waitFor('the download to start', async () => (await api(app.server.url, `/api/jobs/${body.id}`)).body.stage === 'downloading', 30_000);
      return body;
    }

    it('keeps the stream open with comment lines, then ends it when the job is cancelled', async () => {
      const job = await stalledJob();
      const stream = await watch(app.server.url, job.id);
      await waitFor('three heartbeats', () => stream.comments >= 3);
      expect(statesOf(stream)).toHaveLength(1);
      expect((await jobAction(app.server.url, job.id, 'cancel')).status).toBe(200);
      await stream.ended;
      expect(statesOf(stream).at(-1)?.status).toBe('cancelled');
    }, 40_000);

    it('ends on `cancelled` when the running job is deleted (deleting stops it first)', async () => {
      const job = await stalledJob();
      const stream = await watch(otherNode.url, job.id);
      await waitFor('the first state', () => stream.events.length > 0);
      expect((await jobAction(app.server.url, job.id, 'delete')).status).toBe(204);
      await stream.ended;
      expect(statesOf(stream).map((s) => s.status)).toEqual(['active', 'cancelled']);
    }, 40_000);
  });

  it('lets `curl -N` watch a job to its end', async () => {
    const size = 1 * MB;
    const { body: job } = await postJob(app.server.url, `${files.url}/file/${size}?rate=${MB}&seed=curl`);
    const output = await new Promise<string>((resolve, reject) =>
      execFile('curl', ['-N', '-sS', '--max-time', '60', `${app.server.url}/api/jobs/${job.id}/events`], (err, stdout) => (err ? reject(err) : resolve(stdout))),
    );
    const states = output.split('\n').filter((line) => line.startsWith('data: ')).map((line) => JSON.parse(line.slice(6)) as JobView);
    expect(output.startsWith('event: update\n')).toBe(true);
    expect(states.at(-1)).toMatchObject({ id: job.id, status: 'completed', sha256: fixtureSha256(size, 'curl') });
  }, 70_000);
});
